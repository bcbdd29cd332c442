#include "gateway/delivery/delivery_ops.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::testing::ElementsAreArray;
using testing::MemberCaller;

constexpr char kHousing[] = "harbour-housing";
constexpr char kCoord[] = "care-coord";

std::vector<uint64_t> Seqs(const std::vector<QueuedDelivery>& queue) {
  std::vector<uint64_t> out;
  for (const QueuedDelivery& q : queue) out.push_back(q.seq);
  return out;
}

// Five discharges from st-marys, each delivered to harbour-housing (care team) and
// care-coord (subscriber).
class DeliveryOpsTest : public testing::GatewayTest {
 protected:
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

  absl::StatusOr<std::vector<QueuedDelivery>> Read(const std::string& recipient, uint64_t after,
                                                   size_t limit, std::set<uint64_t> skip = {}) {
    return ReadQueue(*store_, recipient, after, limit,
                     [&skip](uint64_t seq) { return skip.contains(seq); });
  }

  absl::Status Ack(const std::string& caller, const std::vector<uint64_t>& seqs) {
    return committer_->Run(
        [&](store::Transaction& txn) { return Acknowledge(txn, MemberCaller(caller), seqs); });
  }

  absl::Status Attempt(const std::string& recipient, const std::vector<uint64_t>& seqs) {
    return committer_->Run(
        [&](store::Transaction& txn) { return RecordAttempts(txn, recipient, seqs); });
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

  v1::StoredDelivery StoredOf(const std::string& recipient, uint64_t seq) const {
    v1::StoredDelivery d;
    EXPECT_TRUE(*store_->GetProto(Cf::kDeliveries, store::keys::RecipientSeq(recipient, seq), &d));
    return d;
  }

  std::vector<v1::Receipt> receipts_;
  std::map<std::string, std::vector<uint64_t>> seqs_;  // recipient -> delivery seqs, publish order
};

TEST_F(DeliveryOpsTest, ReadQueueReturnsOldestFirstWithTheMessageOfEach) {
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 100));
  EXPECT_THAT(Seqs(queue), ElementsAreArray(seqs_[kHousing]));
  for (size_t i = 1; i < queue.size(); ++i) EXPECT_LT(queue[i - 1].seq, queue[i].seq);
  for (size_t i = 0; i < queue.size(); ++i) {
    EXPECT_EQ(store::GatewayMessageId(queue[i].message_seq), receipts_[i].gateway_message_id());
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

TEST_F(DeliveryOpsTest, ReadQueueAfterTheLargestSequenceIsEmpty) {
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, std::numeric_limits<uint64_t>::max(), 100));
  EXPECT_THAT(Seqs(queue), ::testing::IsEmpty());
}

TEST_F(DeliveryOpsTest, ReadQueueNeverReturnsEntriesOfARecipientWhoseIdExtendsAnother) {
  // "ab" and "a-b" start with "a"; raw outbox entries interleaved by sequence.
  ASSERT_THAT(committer_->Run([](store::Transaction& txn) {
    v1::OutboxEntry entry;
    uint64_t seq = 1000;
    for (const char* r : {"a", "ab", "a-b", "a", "ab", "a", "a-b"}) {
      entry.set_message_seq(seq);
      txn.PutProto(Cf::kOutbox, store::keys::RecipientSeq(r, seq++), entry);
    }
    return absl::OkStatus();
  }),
              IsOk());
  ASSERT_OK_AND_ASSIGN(auto queue, Read("a", 0, 100));
  EXPECT_THAT(Seqs(queue), ElementsAreArray({1000u, 1003u, 1005u}));
  ASSERT_OK_AND_ASSIGN(auto ab, Read("ab", 1001, 100));
  EXPECT_THAT(Seqs(ab), ElementsAreArray({1004u}));
}

TEST_F(DeliveryOpsTest, AcknowledgeMarksDeliveredDequeuesAndAuditsOnce) {
  const uint64_t seq = seqs_[kHousing][1];
  const size_t audit_before = AuditRecords().size();
  ASSERT_THAT(Ack(kHousing, {seq, seq}), IsOk());  // listed twice: acknowledged once
  const v1::StoredDelivery d = StoredOf(kHousing, seq);
  EXPECT_EQ(d.delivery().state(), v1::Delivery::DELIVERED);
  EXPECT_TRUE(d.delivery().has_delivered_at());
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 100));
  const std::vector<uint64_t> queued = Seqs(queue);
  EXPECT_EQ(std::count(queued.begin(), queued.end(), seq), 0);
  EXPECT_EQ(queued.size(), 4u);
  const auto records = AuditRecords();
  ASSERT_EQ(records.size(), audit_before + 1);
  EXPECT_EQ(records.back().action(), v1::AuditRecord::DELIVER);
  EXPECT_EQ(records.back().actor_organisation(), kHousing);
  EXPECT_EQ(records.back().delivery_id(), store::DeliveryId(seq));
}

TEST_F(DeliveryOpsTest, AcknowledgeIsIdempotent) {
  const uint64_t seq = seqs_[kHousing][0];
  ASSERT_THAT(Ack(kHousing, {seq}), IsOk());
  const auto state = StateOf(kHousing);
  const size_t audit = AuditRecords().size();
  ASSERT_THAT(Ack(kHousing, {seq}), IsOk());
  EXPECT_EQ(StateOf(kHousing), state);
  EXPECT_EQ(AuditRecords().size(), audit);
}

TEST_F(DeliveryOpsTest, AcknowledgeIgnoresSequencesOfAnotherRecipient) {
  const auto coord_state = StateOf(kCoord);
  const size_t audit = AuditRecords().size();
  // harbour-housing acknowledges care-coord's deliveries, and one of its own.
  std::vector<uint64_t> seqs = seqs_[kCoord];
  seqs.push_back(seqs_[kHousing][4]);
  ASSERT_THAT(Ack(kHousing, seqs), IsOk());
  EXPECT_EQ(StateOf(kCoord), coord_state);
  EXPECT_EQ(AuditRecords().size(), audit + 1);
  EXPECT_EQ(StoredOf(kHousing, seqs_[kHousing][4]).delivery().state(), v1::Delivery::DELIVERED);
  ASSERT_OK_AND_ASSIGN(auto coord_queue, Read(kCoord, 0, 100));
  EXPECT_THAT(Seqs(coord_queue), ElementsAreArray(seqs_[kCoord]));
}

TEST_F(DeliveryOpsTest, AcknowledgeIgnoresUnknownSequences) {
  const auto state = StateOf(kHousing);
  ASSERT_THAT(Ack(kHousing, {0, 999999, std::numeric_limits<uint64_t>::max()}), IsOk());
  EXPECT_EQ(StateOf(kHousing), state);
}

TEST_F(DeliveryOpsTest, RecordAttemptsCountsOnQueuedDeliveries) {
  const uint64_t seq = seqs_[kHousing][2];
  ASSERT_THAT(Attempt(kHousing, {seq}), IsOk());
  ASSERT_THAT(Attempt(kHousing, {seq}), IsOk());
  const v1::StoredDelivery d = StoredOf(kHousing, seq);
  EXPECT_EQ(d.delivery().attempts(), 2u);
  EXPECT_TRUE(d.delivery().has_last_attempt_at());
  EXPECT_EQ(d.delivery().state(), v1::Delivery::PENDING);
}

TEST_F(DeliveryOpsTest, RecordAttemptsAfterAcknowledgementDoesNotResurrectTheDelivery) {
  const uint64_t seq = seqs_[kHousing][3];
  ASSERT_THAT(Attempt(kHousing, {seq}), IsOk());
  ASSERT_THAT(Ack(kHousing, {seq}), IsOk());
  const auto state = StateOf(kHousing);
  ASSERT_THAT(Attempt(kHousing, {seq}), IsOk());
  EXPECT_EQ(StateOf(kHousing), state);
  EXPECT_EQ(StoredOf(kHousing, seq).delivery().state(), v1::Delivery::DELIVERED);
  EXPECT_EQ(StoredOf(kHousing, seq).delivery().attempts(), 1u);
}

TEST_F(DeliveryOpsTest, RecordAttemptsOfAnotherRecipientsSequenceChangesNothing) {
  const auto coord_state = StateOf(kCoord);
  const auto housing_state = StateOf(kHousing);
  ASSERT_THAT(Attempt(kHousing, seqs_[kCoord]), IsOk());
  EXPECT_EQ(StateOf(kCoord), coord_state);
  EXPECT_EQ(StateOf(kHousing), housing_state);
}

TEST_F(DeliveryOpsTest, BuildDeliveryCarriesTheMessageAndCountsThisAttempt) {
  const uint64_t seq = seqs_[kHousing][0];
  ASSERT_THAT(Attempt(kHousing, {seq}), IsOk());
  const absl::Time now = absl::Now();
  ASSERT_OK_AND_ASSIGN(auto built, BuildDelivery(*store_, kHousing, seq, now));
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->id(), store::DeliveryId(seq));
  EXPECT_EQ(built->state(), v1::Delivery::IN_FLIGHT);
  EXPECT_EQ(built->attempts(), 2u);
  EXPECT_EQ(FromProtoTime(built->last_attempt_at()), FromProtoTime(ToProtoTime(now)));
  EXPECT_EQ(built->recipient(), kHousing);
  EXPECT_EQ(built->gateway_message_id(), receipts_[0].gateway_message_id());
  ASSERT_OK_AND_ASSIGN(auto queue, Read(kHousing, 0, 1));
  ASSERT_EQ(queue.size(), 1u);
  v1::StoredMessage stored;
  ASSERT_TRUE(
      *store_->GetProto(Cf::kMessages, store::keys::Sequence(queue[0].message_seq), &stored));
  EXPECT_EQ(stored.message().header().id(), "d-0");
  EXPECT_TRUE(MessageDifferencer::Equals(built->message(), stored.message()));
  // Building does not write.
  EXPECT_EQ(StoredOf(kHousing, seq).delivery().attempts(), 1u);
}

TEST_F(DeliveryOpsTest, BuildDeliveryIsNulloptOnceAcknowledged) {
  const uint64_t seq = seqs_[kHousing][0];
  ASSERT_THAT(Ack(kHousing, {seq}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto built, BuildDelivery(*store_, kHousing, seq, absl::Now()));
  EXPECT_FALSE(built.has_value());
}

TEST_F(DeliveryOpsTest, BuildDeliveryIsNulloptForAnotherRecipientsOrAnUnknownSequence) {
  ASSERT_OK_AND_ASSIGN(auto other, BuildDelivery(*store_, kHousing, seqs_[kCoord][0], absl::Now()));
  EXPECT_FALSE(other.has_value());
  ASSERT_OK_AND_ASSIGN(auto unknown, BuildDelivery(*store_, kHousing, 999999, absl::Now()));
  EXPECT_FALSE(unknown.has_value());
}

}  // namespace
}  // namespace switchboard::gateway::delivery
