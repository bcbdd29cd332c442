#include "gateway/delivery/delivery_ops.h"

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_chain.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::delivery {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using store::Cf;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MemberCaller;

constexpr char kHousing[] = "harbour-housing";
constexpr char kCoord[] = "care-coord";
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

const absl::Time kT1 = absl::FromUnixSeconds(1'800'000'000);
const absl::Time kT2 = kT1 + absl::Minutes(5);

std::vector<uint64_t> Seqs(const std::vector<QueuedDelivery>& queue) {
  std::vector<uint64_t> out;
  for (const QueuedDelivery& q : queue) out.push_back(q.seq);
  return out;
}

// Five discharges from st-marys, each delivered to harbour-housing (care team) and
// care-coord (subscriber; the open sharing policy lets it receive them).
class DeliveryOpsTest : public testing::GatewayTest {
 protected:
  DeliveryOpsTest() { sharing_policy_ = testing::OpenSharingPolicy(); }
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    auto publisher = MakePublisher();
    for (int i = 0; i < 5; ++i) {
      const std::string id = absl::StrCat("d-", i);
      ASSERT_OK_AND_ASSIGN(v1::Receipt r, PublishAndWait(*publisher, MemberCaller("st-marys"),
                                                         testing::Discharge(id)));
      receipts_.push_back(r);
      for (const auto& recipient : r.recipients()) {
        seqs_[recipient.organisation_id()].push_back(
            *store::ParseDeliveryId(recipient.delivery_id()));
      }
    }
    ASSERT_EQ(seqs_[kHousing].size(), 5u);
    ASSERT_EQ(seqs_[kCoord].size(), 5u);
  }

  // The queue up to what is durable, as a subscriber reads it.
  absl::StatusOr<std::vector<QueuedDelivery>> Read(const std::string& recipient, uint64_t after,
                                                   size_t limit, std::set<uint64_t> skip = {}) {
    return ReadUntil(recipient, after, committer_->durable_seq(), limit, std::move(skip));
  }

  absl::StatusOr<std::vector<QueuedDelivery>> ReadUntil(const std::string& recipient,
                                                        uint64_t after, uint64_t until,
                                                        size_t limit,
                                                        std::set<uint64_t> skip = {}) {
    return ReadQueue(*store_, recipient, after, until, limit,
                     [&skip](uint64_t seq) { return skip.contains(seq); });
  }

  absl::Status Ack(const std::string& caller, const std::vector<SentDelivery>& acked) {
    return committer_->Run(
        [&](store::Transaction& txn) { return Acknowledge(txn, MemberCaller(caller), acked); });
  }

  absl::Status Attempt(const std::string& recipient, const std::vector<SentDelivery>& sent) {
    return committer_->Run(
        [&](store::Transaction& txn) { return RecordAttempts(txn, recipient, sent); });
  }

  // Acknowledgements / attempts of `seqs` with no attempt information.
  static std::vector<SentDelivery> Plain(const std::vector<uint64_t>& seqs) {
    std::vector<SentDelivery> out;
    for (uint64_t seq : seqs) out.push_back(SentDelivery{seq});
    return out;
  }

  // The outbox and delivery records of one recipient.
  std::map<std::string, std::string> StateOf(const std::string& recipient) const {
    std::map<std::string, std::string> out;
    const std::string prefix = store::keys::RecipientPrefix(recipient);
    for (Cf cf : {Cf::kOutbox, Cf::kDeliveries}) {
      for (const auto& [k, v] : Contents(cf)) {
        if (k.compare(0, prefix.size(), prefix) == 0) out[absl::StrCat(CfName(cf), "/", k)] = v;
      }
    }
    return out;
  }

  // The record of (recipient, seq) in `cf`; nullopt when there is none.
  std::optional<v1::StoredDelivery> Find(Cf cf, const std::string& recipient, uint64_t seq) const {
    v1::StoredDelivery d;
    auto found = store_->GetProto(cf, store::keys::RecipientSeq(recipient, seq), &d);
    EXPECT_THAT(found, IsOk());
    if (!found.ok() || !*found) return std::nullopt;
    return d;
  }

  void CheckMerges(bool acknowledge);

  std::vector<v1::Receipt> receipts_;
  std::map<std::string, std::vector<uint64_t>> seqs_;  // recipient -> delivery seqs, publish order
};

TEST_F(DeliveryOpsTest, ReadQueueReturnsOldestFirstWithTheStoredDeliveryOfEach) {
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 100));
  ASSERT_THAT(Seqs(queue), ElementsAreArray(seqs_[kHousing]));
  for (size_t i = 0; i < queue.size(); ++i) {
    const v1::StoredDelivery& s = queue[i].stored;
    EXPECT_EQ(store::GatewayMessageId(s.message_seq()), receipts_[i].gateway_message_id());
    EXPECT_EQ(s.client_id(), "client-0001");
    EXPECT_EQ(s.delivery().id(), store::DeliveryId(queue[i].seq));
    EXPECT_EQ(s.delivery().state(), v1::Delivery::PENDING);
    EXPECT_EQ(s.delivery().recipient(), kHousing);
    EXPECT_EQ(s.delivery().message_id(), absl::StrCat("d-", i));
    EXPECT_FALSE(s.delivery().has_message());  // stored once, under `messages`
  }
}

struct QueueCase {
  std::string name;
  size_t after_index;  // read after seqs[after_index - 1]; 0 means after 0
  size_t limit;
  std::set<size_t> skip_indices;
  std::vector<size_t> expected_indices;
};

TEST_F(DeliveryOpsTest, ReadQueueHonoursAfterLimitAndSkip) {
  const std::vector<uint64_t>& all = seqs_[kHousing];
  const std::vector<QueueCase> cases = {
      {"everything", 0, 100, {}, {0, 1, 2, 3, 4}},
      {"after the second", 2, 100, {}, {2, 3, 4}},
      {"after the last", 5, 100, {}, {}},
      {"limit", 0, 2, {}, {0, 1}},
      {"limit zero", 0, 0, {}, {}},
      {"after and limit", 1, 3, {}, {1, 2, 3}},
      {"skipped ones do not count against the limit", 0, 2, {0, 2}, {1, 3}},
      {"skip everything", 0, 100, {0, 1, 2, 3, 4}, {}},
      {"after, skip and limit", 1, 2, {1}, {2, 3}},
  };
  for (const QueueCase& c : cases) {
    const uint64_t after = c.after_index == 0 ? 0 : all[c.after_index - 1];
    std::set<uint64_t> skip;
    for (size_t i : c.skip_indices) skip.insert(all[i]);
    std::vector<uint64_t> expected;
    for (size_t i : c.expected_indices) expected.push_back(all[i]);
    auto queue = Read(kHousing, after, c.limit, skip);
    ASSERT_THAT(queue, IsOk()) << c.name;
    EXPECT_THAT(Seqs(*queue), ElementsAreArray(expected)) << c.name;
  }
}

TEST_F(DeliveryOpsTest, ReadQueueReturnsNothingPastUntil) {
  const std::vector<uint64_t>& all = seqs_[kHousing];
  ASSERT_OK_AND_ASSIGN(auto up_to_third, ReadUntil(kHousing, 0, all[2], 100));
  EXPECT_THAT(Seqs(up_to_third), ElementsAreArray({all[0], all[1], all[2]}));
  // `until` between two of harbour-housing's sequences (on care-coord's delivery).
  ASSERT_GT(all[3] - 1, all[2]);
  ASSERT_OK_AND_ASSIGN(auto before_fourth, ReadUntil(kHousing, all[0], all[3] - 1, 100));
  EXPECT_THAT(Seqs(before_fourth), ElementsAreArray({all[1], all[2]}));
  ASSERT_OK_AND_ASSIGN(auto before_first, ReadUntil(kHousing, 0, all[0] - 1, 100));
  EXPECT_THAT(Seqs(before_first), IsEmpty());
  // The committer's durable sequence covers everything published and waited for.
  ASSERT_GE(committer_->durable_seq(), all.back());
  ASSERT_OK_AND_ASSIGN(auto durable, Read(kHousing, 0, 100));
  EXPECT_THAT(Seqs(durable), ElementsAreArray(all));
}

TEST_F(DeliveryOpsTest, ReadQueueWithAfterAtOrPastUntilIsEmpty) {
  const std::vector<uint64_t>& all = seqs_[kHousing];
  for (const auto& [after, until] : std::vector<std::pair<uint64_t, uint64_t>>{
           {all[2], all[2]}, {all[3], all[1]}, {0, 0}, {kMax, kMax}, {kMax, 0}}) {
    auto queue = ReadUntil(kHousing, after, until, 100);
    ASSERT_THAT(queue, IsOk());
    EXPECT_THAT(Seqs(*queue), IsEmpty()) << "after " << after << " until " << until;
  }
}

TEST_F(DeliveryOpsTest, ReadQueueAfterTheLargestSequenceIsEmpty) {
  ASSERT_OK_AND_ASSIGN(auto queue, ReadUntil(kHousing, kMax - 1, kMax, 100));
  EXPECT_THAT(Seqs(queue), IsEmpty());
}

TEST_F(DeliveryOpsTest, ReadQueueNeverReturnsEntriesOfARecipientWhoseIdExtendsAnother) {
  // "ab" and "a-b" start with "a"; raw outbox entries interleaved by sequence.
  ASSERT_THAT(committer_->Run([](store::Transaction& txn) {
    v1::StoredDelivery entry;
    uint64_t seq = 1000;
    for (const char* r : {"a", "ab", "a-b", "a", "ab", "a", "a-b"}) {
      entry.set_message_seq(seq);
      entry.mutable_delivery()->set_recipient(r);
      txn.PutProto(Cf::kOutbox, store::keys::RecipientSeq(r, seq++), entry);
    }
    return absl::OkStatus();
  }),
              IsOk());
  ASSERT_OK_AND_ASSIGN(auto queue, ReadUntil("a", 0, kMax, 100));
  EXPECT_THAT(Seqs(queue), ElementsAreArray({1000u, 1003u, 1005u}));
  for (const QueuedDelivery& q : queue) EXPECT_EQ(q.stored.delivery().recipient(), "a");
  ASSERT_OK_AND_ASSIGN(auto ab, ReadUntil("ab", 1001, kMax, 100));
  EXPECT_THAT(Seqs(ab), ElementsAreArray({1004u}));
}

TEST_F(DeliveryOpsTest, ReadMessageReturnsTheAcceptedMessage) {
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 1));
  ASSERT_EQ(queue.size(), 1u);
  const uint64_t message_seq = queue[0].stored.message_seq();
  ASSERT_OK_AND_ASSIGN(auto message, ReadMessage(*store_, message_seq));
  ASSERT_NE(message, nullptr);
  v1::StoredMessage stored;
  ASSERT_TRUE(*store_->GetProto(Cf::kMessages, store::keys::Sequence(message_seq), &stored));
  EXPECT_TRUE(MessageDifferencer::Equals(*message, stored.message()));
  EXPECT_TRUE(MessageDifferencer::Equals(*message, testing::Discharge("d-0")))
      << message->DebugString();
}

TEST_F(DeliveryOpsTest, ReadMessageOfAMissingSequenceIsDataLoss) {
  // A delivery sequence names no message.
  for (uint64_t seq : {seqs_[kHousing][0], uint64_t{999999}}) {
    EXPECT_THAT(ReadMessage(*store_, seq),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(store::GatewayMessageId(seq))));
  }
}

TEST_F(DeliveryOpsTest, MakeDeliveryIsTheStoredDeliveryInFlightWithoutItsMessage) {
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 1));
  ASSERT_EQ(queue.size(), 1u);
  const v1::StoredDelivery& stored = queue[0].stored;
  const v1::Delivery d = MakeDelivery(stored, 3, kT1);
  EXPECT_EQ(d.state(), v1::Delivery::IN_FLIGHT);
  EXPECT_EQ(d.attempts(), 3u);
  EXPECT_EQ(FromProtoTime(d.last_attempt_at()), kT1);
  EXPECT_FALSE(d.has_message());
  // Everything else is the stored delivery.
  v1::Delivery expected = stored.delivery();
  expected.set_state(v1::Delivery::IN_FLIGHT);
  expected.set_attempts(3);
  *expected.mutable_last_attempt_at() = ToProtoTime(kT1);
  EXPECT_TRUE(MessageDifferencer::Equals(d, expected)) << d.DebugString();
}

TEST_F(DeliveryOpsTest, AcknowledgeMovesTheDeliveryFromTheQueueToDelivered) {
  const uint64_t seq = seqs_[kHousing][1];
  const std::optional<v1::StoredDelivery> queued = Find(Cf::kOutbox, kHousing, seq);
  ASSERT_TRUE(queued.has_value());
  ASSERT_FALSE(Find(Cf::kDeliveries, kHousing, seq).has_value());
  ASSERT_THAT(Ack(kHousing, Plain({seq})), IsOk());

  EXPECT_FALSE(Find(Cf::kOutbox, kHousing, seq).has_value());
  const std::optional<v1::StoredDelivery> delivered = Find(Cf::kDeliveries, kHousing, seq);
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->delivery().state(), v1::Delivery::DELIVERED);
  EXPECT_TRUE(delivered->delivery().has_delivered_at());
  // Apart from state and delivered_at, the record is the queued one.
  v1::StoredDelivery expected = *queued;
  expected.mutable_delivery()->set_state(v1::Delivery::DELIVERED);
  *expected.mutable_delivery()->mutable_delivered_at() = delivered->delivery().delivered_at();
  EXPECT_TRUE(MessageDifferencer::Equals(*delivered, expected)) << delivered->DebugString();

  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 100));
  EXPECT_THAT(Seqs(queue), ElementsAreArray({seqs_[kHousing][0], seqs_[kHousing][2],
                                             seqs_[kHousing][3], seqs_[kHousing][4]}));
}

TEST_F(DeliveryOpsTest, AcknowledgeAuditsOneDeliverRecordPerDelivery) {
  const std::vector<uint64_t>& all = seqs_[kHousing];
  const size_t audit_before = AuditRecords().size();
  // all[1] listed twice: acknowledged (and audited) once.
  ASSERT_THAT(Ack(kHousing, Plain({all[1], all[3], all[1], all[4]})), IsOk());
  const auto records = AuditRecords();
  ASSERT_EQ(records.size(), audit_before + 3);
  const std::vector<size_t> acked = {1, 3, 4};
  for (size_t i = 0; i < acked.size(); ++i) {
    const v1::AuditRecord& r = records[audit_before + i];
    SCOPED_TRACE(r.DebugString());
    EXPECT_EQ(r.action(), v1::AuditRecord::DELIVER);
    EXPECT_EQ(r.actor_organisation(), kHousing);
    EXPECT_EQ(r.delivery_id(), store::DeliveryId(all[acked[i]]));
    EXPECT_EQ(r.gateway_message_id(), receipts_[acked[i]].gateway_message_id());
    EXPECT_EQ(r.message_id(), absl::StrCat("d-", acked[i]));
    EXPECT_EQ(r.client_id(), "client-0001");
    EXPECT_EQ(r.subject_organisation(), "st-marys");
  }
  const v1::AuditVerification v = audit::VerifyChain(*store_);
  EXPECT_TRUE(v.ok()) << v.problem();
}

TEST_F(DeliveryOpsTest, AcknowledgeIsIdempotent) {
  const uint64_t seq = seqs_[kHousing][0];
  ASSERT_THAT(Ack(kHousing, Plain({seq})), IsOk());
  const auto state = StateOf(kHousing);
  const size_t audit = AuditRecords().size();
  ASSERT_THAT(Ack(kHousing, {SentDelivery{seq, 7, kT2}}), IsOk());
  EXPECT_EQ(StateOf(kHousing), state);
  EXPECT_EQ(AuditRecords().size(), audit);
}

TEST_F(DeliveryOpsTest, AcknowledgeIgnoresSequencesOfAnotherRecipient) {
  const auto coord_state = StateOf(kCoord);
  const size_t audit = AuditRecords().size();
  // harbour-housing acknowledges care-coord's deliveries, and one of its own.
  std::vector<uint64_t> seqs = seqs_[kCoord];
  seqs.push_back(seqs_[kHousing][4]);
  ASSERT_THAT(Ack(kHousing, Plain(seqs)), IsOk());
  EXPECT_EQ(StateOf(kCoord), coord_state);
  EXPECT_EQ(AuditRecords().size(), audit + 1);
  const auto delivered = Find(Cf::kDeliveries, kHousing, seqs_[kHousing][4]);
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->delivery().state(), v1::Delivery::DELIVERED);
  ASSERT_OK_AND_ASSIGN(auto coord_queue, Read(kCoord, 0, 100));
  EXPECT_THAT(Seqs(coord_queue), ElementsAreArray(seqs_[kCoord]));
}

TEST_F(DeliveryOpsTest, AcknowledgeIgnoresUnknownSequences) {
  const auto state = StateOf(kHousing);
  ASSERT_THAT(Ack(kHousing, Plain({0, 999999, kMax})), IsOk());
  EXPECT_EQ(StateOf(kHousing), state);
}

// How a stream's SentDelivery merges with the stored attempt count, for
// RecordAttempts and Acknowledge alike: `stored` is recorded first (if any), then
// `sent` is applied; the record ends with `attempts` and `last_attempt_at`.
struct MergeCase {
  std::string name;
  std::optional<std::pair<uint32_t, absl::Time>> stored;
  std::pair<uint32_t, absl::Time> sent;
  uint32_t attempts;
  std::optional<absl::Time> last_attempt_at;
};

std::vector<MergeCase> MergeCases() {
  return {
      {"not sent by this stream, nothing stored", std::nullopt, {0, kT1}, 0, std::nullopt},
      {"sent, nothing stored", std::nullopt, {2, kT1}, 2, kT1},
      {"stored counts more: the max, with this send's time", {{3, kT1}}, {1, kT2}, 3, kT2},
      {"this stream counts more", {{1, kT1}}, {4, kT2}, 4, kT2},
      {"not sent by this stream: the stored counts stand", {{2, kT1}}, {0, kT2}, 2, kT1},
  };
}

// Runs MergeCases() on housing's deliveries (one each), applying `sent` by
// acknowledging or by recording attempts, and checks the resulting record.
void DeliveryOpsTest::CheckMerges(bool acknowledge) {
  const std::vector<MergeCase> cases = MergeCases();
  ASSERT_LE(cases.size(), seqs_[kHousing].size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const MergeCase& c = cases[i];
    SCOPED_TRACE(c.name);
    const uint64_t seq = seqs_[kHousing][i];
    if (c.stored.has_value()) {
      ASSERT_THAT(Attempt(kHousing, {SentDelivery{seq, c.stored->first, c.stored->second}}),
                  IsOk());
    }
    const SentDelivery sent{seq, c.sent.first, c.sent.second};
    ASSERT_THAT(acknowledge ? Ack(kHousing, {sent}) : Attempt(kHousing, {sent}), IsOk());
    const auto d = Find(acknowledge ? Cf::kDeliveries : Cf::kOutbox, kHousing, seq);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->delivery().state(), acknowledge ? v1::Delivery::DELIVERED : v1::Delivery::PENDING);
    EXPECT_EQ(d->delivery().attempts(), c.attempts);
    ASSERT_EQ(d->delivery().has_last_attempt_at(), c.last_attempt_at.has_value());
    if (c.last_attempt_at.has_value()) {
      EXPECT_EQ(FromProtoTime(d->delivery().last_attempt_at()), *c.last_attempt_at);
    }
  }
}

TEST_F(DeliveryOpsTest, RecordAttemptsMergesWithTheStoredCount) {
  CheckMerges(/*acknowledge=*/false);
}

TEST_F(DeliveryOpsTest, AcknowledgeMergesTheStreamsAttemptsIntoTheDeliveredRecord) {
  CheckMerges(/*acknowledge=*/true);
}

TEST_F(DeliveryOpsTest, RecordAttemptsAfterAcknowledgementDoesNotResurrectTheDelivery) {
  const uint64_t seq = seqs_[kHousing][3];
  ASSERT_THAT(Attempt(kHousing, {SentDelivery{seq, 1, kT1}}), IsOk());
  ASSERT_THAT(Ack(kHousing, Plain({seq})), IsOk());
  const auto state = StateOf(kHousing);
  ASSERT_THAT(Attempt(kHousing, {SentDelivery{seq, 5, kT2}}), IsOk());
  EXPECT_EQ(StateOf(kHousing), state);
  EXPECT_FALSE(Find(Cf::kOutbox, kHousing, seq).has_value());
  const auto d = Find(Cf::kDeliveries, kHousing, seq);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->delivery().state(), v1::Delivery::DELIVERED);
  EXPECT_EQ(d->delivery().attempts(), 1u);
}

TEST_F(DeliveryOpsTest, RecordAttemptsOfAnotherRecipientsSequenceChangesNothing) {
  const auto coord_state = StateOf(kCoord);
  const auto housing_state = StateOf(kHousing);
  std::vector<SentDelivery> sent;
  for (uint64_t seq : seqs_[kCoord]) sent.push_back(SentDelivery{seq, 2, kT1});
  ASSERT_THAT(Attempt(kHousing, sent), IsOk());
  EXPECT_EQ(StateOf(kCoord), coord_state);
  EXPECT_EQ(StateOf(kHousing), housing_state);
}

// Push delivery: retries, dead letters and replay.

TEST_F(DeliveryOpsTest, RecordRetryKeepsTheDeliveryQueuedWithItsErrorAndNextAttempt) {
  const uint64_t seq = seqs_[kHousing][0];
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return RecordRetry(txn, kHousing, seq, 2, kT1, kT2, "HTTP 503: busy");
  }),
              IsOk());
  const auto d = Find(Cf::kOutbox, kHousing, seq);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->delivery().state(), v1::Delivery::RETRYING);
  EXPECT_EQ(d->delivery().attempts(), 2u);
  EXPECT_EQ(d->delivery().last_error(), "HTTP 503: busy");
  EXPECT_EQ(FromProtoTime(d->delivery().next_attempt_at()), kT2);
  EXPECT_EQ(FromProtoTime(d->delivery().last_attempt_at()), kT1);
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 10));
  EXPECT_THAT(Seqs(queue), ElementsAreArray(seqs_[kHousing]));
}

TEST_F(DeliveryOpsTest, DeadLetterTakesItOffTheQueueKeepsTheErrorAndAudits) {
  const uint64_t seq = seqs_[kHousing][1];
  const size_t audits = AuditRecords().size();
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return DeadLetter(txn, kHousing, seq, 10, kT1, "gave up after 10 attempts: x", "Push/webhook");
  }),
              IsOk());
  EXPECT_FALSE(Find(Cf::kOutbox, kHousing, seq).has_value());
  const auto d = Find(Cf::kDeliveries, kHousing, seq);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->delivery().state(), v1::Delivery::DEAD_LETTERED);
  EXPECT_EQ(d->delivery().attempts(), 10u);
  EXPECT_EQ(d->delivery().last_error(), "gave up after 10 attempts: x");
  ASSERT_OK_AND_ASSIGN(auto dead, DeadLetters(*store_, kHousing));
  EXPECT_THAT(dead, ElementsAreArray({seq}));
  ASSERT_OK_AND_ASSIGN(auto none, DeadLetters(*store_, kCoord));
  EXPECT_THAT(none, IsEmpty());
  const auto records = AuditRecords();
  ASSERT_EQ(records.size(), audits + 1);
  EXPECT_EQ(records.back().action(), v1::AuditRecord::DEAD_LETTER);
  EXPECT_EQ(records.back().operation(), "Push/webhook");
  EXPECT_EQ(records.back().subject_organisation(), kHousing);
  EXPECT_THAT(records.back().detail(), HasSubstr("gave up after 10 attempts"));
  EXPECT_THAT(audit::VerifyChain(*store_).ok(), true);
}

TEST_F(DeliveryOpsTest, ReplayPutsADeadLetterBackInItsPlaceAndAudits) {
  const uint64_t seq = seqs_[kHousing][1];
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return DeadLetter(txn, kHousing, seq, 3, kT1, "refused", "Push/mllp");
  }),
              IsOk());
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return Replay(txn, MemberCaller(kHousing), kHousing, {seq});
  }),
              IsOk());
  const auto d = Find(Cf::kOutbox, kHousing, seq);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(Find(Cf::kDeliveries, kHousing, seq).has_value());
  EXPECT_EQ(d->delivery().state(), v1::Delivery::PENDING);
  EXPECT_EQ(d->delivery().attempts(), 0u);
  EXPECT_EQ(d->delivery().last_error(), "refused");  // kept for the record
  EXPECT_TRUE(d->has_replayed_at());
  // Back in sequence order, ahead of the later deliveries.
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 10));
  EXPECT_THAT(Seqs(queue), ElementsAreArray(seqs_[kHousing]));
  EXPECT_EQ(AuditRecords().back().action(), v1::AuditRecord::REPLAY);
  EXPECT_EQ(AuditRecords().back().actor_organisation(), kHousing);
}

TEST_F(DeliveryOpsTest, ReplayRefusesWhatIsNotADeadLetterOfTheRecipientAndChangesNothing) {
  const uint64_t dead = seqs_[kHousing][0];
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return DeadLetter(txn, kHousing, dead, 3, kT1, "refused", "Push/mllp");
  }),
              IsOk());
  ASSERT_THAT(Ack(kHousing, Plain({seqs_[kHousing][2]})), IsOk());
  const auto before = StateOf(kHousing);
  auto replay = [&](std::vector<uint64_t> seqs) {
    return committer_->Run([&](store::Transaction& txn) {
      return Replay(txn, MemberCaller(kHousing), kHousing, seqs);
    });
  };
  // Still queued, delivered, another member's, unknown: each alongside a real dead letter.
  EXPECT_THAT(replay({dead, seqs_[kHousing][1]}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("still queued")));
  EXPECT_THAT(replay({dead, seqs_[kHousing][2]}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("DELIVERED")));
  EXPECT_THAT(replay({dead, seqs_[kCoord][0]}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no delivery")));
  EXPECT_THAT(replay({dead, kMax - 1}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no delivery")));
  EXPECT_EQ(StateOf(kHousing), before);
}

}  // namespace
}  // namespace switchboard::gateway::delivery
