#include "gateway/store/committer.h"

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_chain.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"
#include "tests/gateway/store/committer_test_util.h"

namespace switchboard::gateway::store {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Record;
using testing::Waiter;
using testing::WriterGate;

class CommitterTest : public testing::GatewayTest {};

TEST_F(CommitterTest, RefusedTransactionKeepsOnlyItsAuditRecord) {
  absl::Status s = committer_->Run([](Transaction& txn) {
    txn.Put(Cf::kMessages, keys::Sequence(txn.NextSeq()), "message");
    txn.Put(Cf::kOutbox, keys::RecipientSeq("a", 2), "entry");
    txn.Audit(Record("would have been accepted"));
    txn.AuditOnRefusal(Record("refused"));
    return absl::InvalidArgumentError("no");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "no"));
  EXPECT_EQ(CountKeys(Cf::kMessages), 0u);
  EXPECT_EQ(CountKeys(Cf::kOutbox), 0u);
  EXPECT_FALSE(Contents(Cf::kMeta).contains(std::string(keys::kNextSeq)));
  const auto records = AuditRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].seq(), 1u);
  EXPECT_EQ(records[0].detail(), "refused");
  EXPECT_TRUE(audit::VerifyChain(*store_).ok());
}

TEST_F(CommitterTest, RefusalWithoutAuditRecordWritesNothing) {
  EXPECT_THAT(committer_->Run([](Transaction& txn) {
    txn.Put(Cf::kRegistry, "k", "v");
    return absl::NotFoundError("gone");
  }),
              StatusIs(absl::StatusCode::kNotFound, "gone"));
  for (int cf = 0; cf < static_cast<int>(Cf::kCount); ++cf) {
    EXPECT_EQ(CountKeys(static_cast<Cf>(cf)), 0u) << CfName(static_cast<Cf>(cf));
  }
}

TEST_F(CommitterTest, RefusalInsideAGroupUndoesOnlyItsOwnWrites) {
  Waiter waiter;
  std::optional<std::string> seen_by_third_a, seen_by_third_b;
  {
    WriterGate gate(committer_.get());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Put(Cf::kRegistry, "a", "1");
          return absl::OkStatus();
        },
        waiter.Done());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Put(Cf::kRegistry, "b", "2");
          txn.Put(Cf::kRegistry, "a", "overwritten by a refused transaction");
          return absl::AbortedError("conflict");
        },
        waiter.Done());
    committer_->Submit(
        [&](Transaction& txn) {
          // Sees the first transaction's write, not the refused one's.
          seen_by_third_a = *txn.Get(Cf::kRegistry, "a");
          seen_by_third_b = *txn.Get(Cf::kRegistry, "b");
          txn.Put(Cf::kRegistry, "c", "3");
          return absl::OkStatus();
        },
        waiter.Done());
    gate.Release();
  }
  const auto statuses = waiter.Wait();
  EXPECT_THAT(statuses[0], IsOk());
  EXPECT_THAT(statuses[1], StatusIs(absl::StatusCode::kAborted, "conflict"));
  EXPECT_THAT(statuses[2], IsOk());
  EXPECT_EQ(seen_by_third_a, "1");
  EXPECT_EQ(seen_by_third_b, std::nullopt);
  EXPECT_EQ(Contents(Cf::kRegistry), (std::map<std::string, std::string>{{"a", "1"}, {"c", "3"}}));
}

TEST_F(CommitterTest, RefusedTransactionsGiveTheirSequencesBack) {
  std::vector<uint64_t> taken(4);
  Waiter waiter;
  {
    WriterGate gate(committer_.get());
    for (int i = 0; i < 4; ++i) {
      committer_->Submit(
          [&, i](Transaction& txn) -> absl::Status {
            taken[i] = txn.NextSeq();
            txn.Put(Cf::kMessages, keys::Sequence(taken[i]), "m");
            return i == 1 ? absl::InvalidArgumentError("refused") : absl::OkStatus();
          },
          waiter.Done());
    }
    gate.Release();
  }
  waiter.Wait();
  // A refused transaction in a group of its own, then one more.
  EXPECT_THAT(committer_->Run([](Transaction& txn) {
    txn.NextSeq();
    txn.NextSeq();
    return absl::UnavailableError("refused");
  }),
              StatusIs(absl::StatusCode::kUnavailable, "refused"));
  uint64_t last = 0;
  ASSERT_THAT(committer_->Run([&](Transaction& txn) {
    last = txn.NextSeq();
    txn.Put(Cf::kMessages, keys::Sequence(last), "m");
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(taken[0], 1u);
  EXPECT_EQ(taken[2], 2u);
  EXPECT_EQ(taken[3], 3u);
  EXPECT_EQ(last, 4u);
  EXPECT_EQ(CountKeys(Cf::kMessages), 4u);

  // The counter that survives a restart does not count the refused ones either.
  ASSERT_NO_FATAL_FAILURE(Restart());
  ASSERT_THAT(committer_->Run([&](Transaction& txn) {
    last = txn.NextSeq();
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(last, 5u);
}

TEST_F(CommitterTest, RefusalAuditTakesThePlaceOfTheRolledBackRecords) {
  Waiter waiter;
  {
    WriterGate gate(committer_.get());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Audit(Record("first"));
          return absl::OkStatus();
        },
        waiter.Done());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Audit(Record("rolled back"));
          txn.Audit(Record("rolled back too"));
          txn.AuditOnRefusal(Record("refusal"));
          return absl::PermissionDeniedError("no");
        },
        waiter.Done());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Audit(Record("third"));
          return absl::OkStatus();
        },
        waiter.Done());
    gate.Release();
  }
  waiter.Wait();
  std::vector<std::string> details;
  for (const auto& r : AuditRecords()) details.push_back(absl::StrCat(r.seq(), ":", r.detail()));
  EXPECT_THAT(details, ElementsAre("1:first", "2:refusal", "3:third"));
  const v1::AuditVerification v = audit::VerifyChain(*store_);
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(v.records_checked(), 3u);
  EXPECT_EQ(committer_->AuditHeadForTest().seq(), 3u);
  EXPECT_EQ(committer_->AuditHeadForTest().hash(), AuditRecords().back().hash());
}

TEST_F(CommitterTest, ConcurrentSubmitsAllCompleteWithGapFreeSequencesAndAValidChain) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  struct Outcome {
    uint64_t seq = 0;
    absl::Status status;
  };
  std::vector<std::vector<Outcome>> outcomes(kThreads, std::vector<Outcome>(kPerThread));
  std::atomic<int> dones{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Waiter waiter;
      for (int i = 0; i < kPerThread; ++i) {
        Outcome* out = &outcomes[t][i];
        const bool refuse = i % 5 == 4;
        committer_->Submit(
            [out, refuse, t, i](Transaction& txn) -> absl::Status {
              out->seq = txn.NextSeq();
              txn.Put(Cf::kMessages, keys::Sequence(out->seq), absl::StrCat(t, "/", i));
              if (refuse) {
                txn.AuditOnRefusal(Record(absl::StrCat("refused ", t, "/", i)));
                return absl::FailedPreconditionError("refused");
              }
              txn.Audit(Record(absl::StrCat("accepted ", t, "/", i)));
              return absl::OkStatus();
            },
            waiter.Done([&dones] { dones.fetch_add(1); }));
      }
      const auto statuses = waiter.Wait();
      for (int i = 0; i < kPerThread; ++i) outcomes[t][i].status = statuses[i];
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(dones.load(), kThreads * kPerThread);

  std::set<uint64_t> accepted_seqs;
  int accepted = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const Outcome& o = outcomes[t][i];
      if (i % 5 == 4) {
        EXPECT_THAT(o.status, StatusIs(absl::StatusCode::kFailedPrecondition, "refused"));
      } else {
        EXPECT_THAT(o.status, IsOk());
        accepted_seqs.insert(o.seq);
        ++accepted;
      }
    }
  }
  // Every accepted transaction got its own sequence, and they are exactly 1..N.
  ASSERT_EQ(accepted_seqs.size(), static_cast<size_t>(accepted));
  EXPECT_EQ(*accepted_seqs.begin(), 1u);
  EXPECT_EQ(*accepted_seqs.rbegin(), static_cast<uint64_t>(accepted));
  EXPECT_EQ(CountKeys(Cf::kMessages), static_cast<size_t>(accepted));
  const v1::AuditVerification v = audit::VerifyChain(*store_);
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(v.records_checked(), static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(CommitterTest, RestartContinuesSequencesAndTheAuditChain) {
  auto append = [&](const std::string& what) -> uint64_t {
    uint64_t seq = 0;
    EXPECT_THAT(committer_->Run([&](Transaction& txn) {
      seq = txn.NextSeq();
      txn.Put(Cf::kMessages, keys::Sequence(seq), what);
      txn.Audit(Record(what));
      return absl::OkStatus();
    }),
                IsOk());
    return seq;
  };
  EXPECT_EQ(append("one"), 1u);
  EXPECT_EQ(append("two"), 2u);
  const v1::AuditHead head_before = committer_->AuditHeadForTest();
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(committer_->AuditHeadForTest().seq(), head_before.seq());
  EXPECT_EQ(committer_->AuditHeadForTest().hash(), head_before.hash());
  EXPECT_EQ(append("three"), 3u);
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(append("four"), 4u);

  const auto records = AuditRecords();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[2].prev_hash(), records[1].hash());
  const v1::AuditVerification v = audit::VerifyChain(*store_);
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(v.records_checked(), 4u);
}

TEST_F(CommitterTest, StopAppliesWhatIsQueuedThenRefusesNewWork) {
  Waiter waiter;
  std::thread stopper;
  {
    WriterGate gate(committer_.get());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Put(Cf::kRegistry, "queued-1", "x");
          return absl::OkStatus();
        },
        waiter.Done());
    committer_->Submit(
        [](Transaction& txn) {
          txn.Put(Cf::kRegistry, "queued-2", "x");
          return absl::OkStatus();
        },
        waiter.Done());
    stopper = std::thread([this] { committer_->Stop(); });
    gate.Release();
  }
  stopper.join();
  for (const absl::Status& s : waiter.Wait()) EXPECT_THAT(s, IsOk());
  EXPECT_EQ(CountKeys(Cf::kRegistry), 2u);

  bool applied = false;
  EXPECT_THAT(committer_->Run([&](Transaction&) {
    applied = true;
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
  EXPECT_FALSE(applied);
  committer_->Stop();  // idempotent
}

}  // namespace
}  // namespace switchboard::gateway::store
