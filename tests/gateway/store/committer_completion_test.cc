// The Committer's completion side: when hooks and done callbacks run, on which
// thread, what durable_seq() says by then, and submits without a done callback.
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/store/committer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"
#include "tests/gateway/store/committer_test_util.h"

namespace switchboard::gateway::store {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::Optional;
using testing::Waiter;
using testing::WriterGate;

class CommitterCompletionTest : public testing::GatewayTest {};

TEST_F(CommitterCompletionTest, WritesAreInTheStoreWhenDoneRuns) {
  std::promise<std::optional<std::string>> seen;
  committer_->Submit(
      [](Transaction& txn) {
        txn.Put(Cf::kDedup, "key", "value");
        return absl::OkStatus();
      },
      [&](absl::Status s) {
        EXPECT_THAT(s, IsOk());
        auto value = store_->Get(Cf::kDedup, "key");
        seen.set_value(value.ok() ? *value : std::nullopt);
      });
  EXPECT_THAT(seen.get_future().get(), Optional(std::string("value")));
}

TEST_F(CommitterCompletionTest, CommitHooksRunOnlyOnSuccessInCommitOrderBeforeDone) {
  absl::Mutex mu;
  std::vector<std::string> events;
  auto log = [&](std::string e) {
    absl::MutexLock lock(&mu);
    events.push_back(std::move(e));
  };
  auto txn_fn = [&](std::string name, bool ok) {
    return [&, name, ok](Transaction& txn) -> absl::Status {
      txn.Put(Cf::kRegistry, name, name);
      txn.OnCommit([&, name] {
        // Durable before the hook runs.
        auto value = store_->Get(Cf::kRegistry, name);
        log(absl::StrCat("hook ", name,
                         value.ok() && value->has_value() ? " visible" : " missing"));
      });
      return ok ? absl::OkStatus() : absl::InternalError("refused");
    };
  };
  Waiter waiter;
  {
    WriterGate gate(committer_.get());  // all three in one group
    committer_->Submit(txn_fn("t1", true), waiter.Done([&] { log("done t1"); }));
    committer_->Submit(txn_fn("t2", false), waiter.Done([&] { log("done t2"); }));
    committer_->Submit(txn_fn("t3", true), waiter.Done([&] { log("done t3"); }));
    gate.Release();
  }
  waiter.Wait();
  // A fourth in a group of its own.
  committer_->Submit(txn_fn("t4", true), waiter.Done([&] { log("done t4"); }));
  waiter.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_THAT(events, ElementsAre("hook t1 visible", "done t1", "done t2", "hook t3 visible",
                                  "done t3", "hook t4 visible", "done t4"));
}

TEST_F(CommitterCompletionTest, HooksAndDoneRunOffTheWriterThread) {
  std::promise<std::thread::id> applied_on, hook_on, done_on;
  committer_->Submit(
      [&](Transaction& txn) {
        applied_on.set_value(std::this_thread::get_id());
        txn.OnCommit([&] { hook_on.set_value(std::this_thread::get_id()); });
        return absl::OkStatus();
      },
      [&](absl::Status) { done_on.set_value(std::this_thread::get_id()); });
  const std::thread::id writer = applied_on.get_future().get();
  const std::thread::id hook = hook_on.get_future().get();
  const std::thread::id done = done_on.get_future().get();
  EXPECT_NE(hook, writer);
  EXPECT_EQ(done, hook);
  EXPECT_NE(hook, std::this_thread::get_id());
}

TEST_F(CommitterCompletionTest, DurableSeqCoversATransactionsSequencesWhenItsHookAndDoneRun) {
  struct Seen {
    uint64_t last_seq = 0;
    uint64_t durable_at_hook = 0;
    uint64_t durable_at_done = 0;
  };
  std::vector<Seen> seen(4);
  auto txn_fn = [&](size_t i, int seqs) {
    return [&, i, seqs](Transaction& txn) {
      for (int n = 0; n < seqs; ++n) seen[i].last_seq = txn.NextSeq();
      txn.Put(Cf::kMessages, keys::Sequence(seen[i].last_seq), "m");
      txn.OnCommit([&, i] { seen[i].durable_at_hook = committer_->durable_seq(); });
      return absl::OkStatus();
    };
  };
  auto at_done = [&](size_t i) {
    return [&, i] { seen[i].durable_at_done = committer_->durable_seq(); };
  };
  Waiter waiter;
  {
    WriterGate gate(committer_.get());  // three in one group
    for (size_t i = 0; i < 3; ++i) {
      committer_->Submit(txn_fn(i, static_cast<int>(i) + 1), waiter.Done(at_done(i)));
    }
    gate.Release();
  }
  waiter.Wait();
  committer_->Submit(txn_fn(3, 2), waiter.Done(at_done(3)));  // a group of its own
  for (const absl::Status& s : waiter.Wait()) EXPECT_THAT(s, IsOk());
  EXPECT_EQ(seen[3].last_seq, 8u);  // 1, 2+3, 4+5+6, 7+8
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].durable_at_hook, seen[i].last_seq) << i;
    EXPECT_GE(seen[i].durable_at_done, seen[i].last_seq) << i;
  }
  EXPECT_EQ(committer_->durable_seq(), 8u);
}

TEST_F(CommitterCompletionTest, DurableSeqStartsAtWhatTheStoreHolds) {
  EXPECT_EQ(committer_->durable_seq(), 0u);
  ASSERT_THAT(committer_->Run([](Transaction& txn) {
    for (int i = 0; i < 3; ++i) txn.NextSeq();
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(committer_->durable_seq(), 3u);
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(committer_->durable_seq(), 3u);
}

TEST_F(CommitterCompletionTest, SubmitWithoutDoneIsAppliedAndItsHooksRun) {
  std::promise<void> hook_ran;
  committer_->Submit(
      [&](Transaction& txn) {
        txn.Put(Cf::kRegistry, "no-done", "x");
        txn.OnCommit([&] { hook_ran.set_value(); });
        return absl::OkStatus();
      },
      nullptr);
  hook_ran.get_future().wait();
  EXPECT_THAT(store_->Get(Cf::kRegistry, "no-done"), IsOkAndHolds(Optional(std::string("x"))));
  // The committer goes on as usual.
  EXPECT_THAT(committer_->Run([](Transaction& txn) {
    txn.Put(Cf::kRegistry, "after", "y");
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(CountKeys(Cf::kRegistry), 2u);
}

TEST_F(CommitterCompletionTest, RefusedSubmitWithoutDoneWritesNothing) {
  committer_->Submit(
      [](Transaction& txn) {
        txn.Put(Cf::kRegistry, "refused", "x");
        return absl::AbortedError("conflict");
      },
      nullptr);
  // Commit order: once this one is done, the refused one has been applied.
  ASSERT_THAT(committer_->Run([](Transaction&) { return absl::OkStatus(); }), IsOk());
  EXPECT_EQ(CountKeys(Cf::kRegistry), 0u);
}

TEST_F(CommitterCompletionTest, SubmitWithoutDoneAfterStopIsNotApplied) {
  committer_->Stop();
  bool applied = false;
  committer_->Submit(
      [&](Transaction&) {
        applied = true;
        return absl::OkStatus();
      },
      nullptr);
  EXPECT_FALSE(applied);
}

TEST_F(CommitterCompletionTest, NoSyncTransactionsAreAppliedInCommitOrder) {
  std::vector<std::string> order;  // written by done callbacks, in commit order
  Waiter waiter;
  committer_->Submit(
      [](Transaction& txn) {
        txn.Put(Cf::kOutbox, "bookkeeping", "x");
        return absl::OkStatus();
      },
      waiter.Done([&] { order.push_back("no-sync"); }), Durability::kNoSync);
  committer_->Submit(
      [](Transaction& txn) {
        txn.Put(Cf::kRegistry, "synced", "y");
        return absl::OkStatus();
      },
      waiter.Done([&] { order.push_back("sync"); }));
  for (const absl::Status& s : waiter.Wait()) EXPECT_THAT(s, IsOk());
  EXPECT_THAT(order, ElementsAre("no-sync", "sync"));
  EXPECT_EQ(CountKeys(Cf::kOutbox), 1u);
  EXPECT_EQ(CountKeys(Cf::kRegistry), 1u);
}

}  // namespace
}  // namespace switchboard::gateway::store
