// kill -9 the gateway repeatedly while several publishers and subscribers run.
// After each restart: every message whose receipt was returned reaches every
// recipient named in its receipt, first arrivals per (recipient, client) follow
// the gateway's order, and the audit chain verifies. Rounds come from
// SB_CRASH_ROUNDS (default 20); the test prints what it checked.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/temp_dir.h"
#include "tests/integration/gateway_process.h"
#include "tests/integration/test_client.h"

namespace switchboard::testing {
namespace {

// One stream of messages: who publishes, about whom, which event.
struct Lane {
  std::string name;    // id prefix
  std::string org;
  std::string system;
  std::string value;
  std::string client;  // enterprise id, for the order check
  bool case_note;
};

uint64_t SeqOf(const std::string& gateway_message_id) {
  uint64_t seq = 0;
  if (gateway_message_id.size() > 4) {
    (void)absl::SimpleHexAtoi(gateway_message_id.substr(4), &seq);
  }
  return seq;
}

class CrashTest : public ::testing::Test {
 protected:
  struct Receipted {
    std::set<std::string> recipients;
  };
  struct Arrival {
    std::string client;
    uint64_t seq;
  };

  // The gateway's current address and how many times it has been started.
  std::pair<std::string, uint64_t> Current() {
    absl::MutexLock lock(&mu_);
    return {address_, generation_};
  }

  // Waits (without spinning) for a restart or for a short back-off.
  void AwaitRestart(uint64_t seen_generation) {
    absl::MutexLock lock(&mu_);
    auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return generation_ != seen_generation || stop_publishers_ || stop_subscribers_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Milliseconds(50));
  }

  void Publish(const Lane& lane) {
    const auto occurred = ToProtoTime(absl::Now() - absl::Hours(1));
    std::unique_ptr<Member> member;
    uint64_t member_generation = 0;
    for (int n = 0;; ++n) {
      v1::Message m = lane.case_note
                          ? CaseNote(absl::StrCat(lane.name, "-", n), lane.org, lane.system, lane.value)
                          : Discharge(absl::StrCat(lane.name, "-", n), lane.value, lane.org, lane.system);
      *m.mutable_header()->mutable_occurred_at() = occurred;  // resends are identical
      bool retried = false;
      for (;;) {
        {
          absl::MutexLock lock(&mu_);
          if (stop_publishers_) return;
        }
        auto [address, generation] = Current();
        if (!member || member_generation != generation) {
          member = std::make_unique<Member>(address, TestPki::Get().Member(lane.org));
          member_generation = generation;
        }
        v1::Receipt receipt;
        grpc::Status s = member->exchange->Publish(Ctx(absl::Seconds(5)).get(), m, &receipt);
        if (s.ok()) {
          absl::MutexLock lock(&mu_);
          Receipted& r = receipted_[m.header().id()];
          for (const auto& rec : receipt.recipients()) r.recipients.insert(rec.organisation_id());
          if (retried) ++republished_;
          break;
        }
        // Only the crash may refuse: anything else is a failure of the test.
        if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
            s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
            s.error_code() != grpc::StatusCode::CANCELLED &&
            s.error_code() != grpc::StatusCode::UNKNOWN) {
          ADD_FAILURE() << "publish " << m.header().id() << ": " << s.error_code() << " "
                        << s.error_message();
          return;
        }
        retried = true;
        AwaitRestart(generation);
      }
    }
  }

  void Subscribe(const std::string& org) {
    for (;;) {
      auto [address, generation] = Current();
      auto channel = MakeChannel(address, TestPki::Get().Member(org));
      grpc::ClientContext ctx;
      ctx.AddMetadata("sb-window", "64");
      {
        absl::MutexLock lock(&mu_);
        if (stop_subscribers_) return;
        contexts_[org] = &ctx;
      }
      auto stub = v1::Exchange::NewStub(channel);
      auto stream = stub->Subscribe(&ctx);
      v1::Delivery d;
      while (stream->Read(&d)) {
        {
          absl::MutexLock lock(&mu_);
          if (arrived_.insert({org, d.message_id()}).second) {
            const std::string& value = d.message().header().client().value();
            arrivals_[org].push_back(
                Arrival{value == "MRN-2" ? "client-b" : "client-a", SeqOf(d.gateway_message_id())});
          }
          ++deliveries_seen_;
        }
        v1::Ack ack;
        ack.add_delivery_ids(d.id());
        stream->Write(ack);
      }
      (void)stream->Finish();
      {
        absl::MutexLock lock(&mu_);
        contexts_.erase(org);
      }
      AwaitRestart(generation);
    }
  }

  // True when every receipted message reached every recipient in its receipt.
  bool AllDelivered(const std::set<std::string>& ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const std::string& id : ids) {
      for (const std::string& r : receipted_[id].recipients) {
        if (!arrived_.contains({r, id})) return false;
      }
    }
    return true;
  }

  std::string Missing(const std::set<std::string>& ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string out;
    for (const std::string& id : ids) {
      for (const std::string& r : receipted_[id].recipients) {
        if (!arrived_.contains({r, id})) absl::StrAppend(&out, " ", id, "->", r);
      }
    }
    return out.substr(0, 2000);
  }

  absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_publishers_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_subscribers_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, Receipted> receipted_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> arrived_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Arrival>> arrivals_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
  size_t deliveries_seen_ ABSL_GUARDED_BY(mu_) = 0;
  size_t republished_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(CrashTest, AcknowledgedMessagesSurviveKillNineInOrderWithAnIntactAuditChain) {
  int rounds = 20;
  if (const char* env = std::getenv("SB_CRASH_ROUNDS")) (void)absl::SimpleAtoi(env, &rounds);
  constexpr size_t kReceiptsPerRound = 150;

  TempDir dir;
  GatewayOptions options;
  options.ack_timeout_ms = 2000;
  GatewayProcess gateway(dir.path(), options);
  ASSERT_TRUE(gateway.Start().ok());
  {
    absl::MutexLock lock(&mu_);
    address_ = gateway.address();
    generation_ = 1;
  }

  const std::vector<Lane> lanes = {
      {"smA", "st-marys", kMrnSystem, "MRN-1", "client-a", false},
      {"smB", "st-marys", kMrnSystem, "MRN-2", "client-b", false},
      {"hhA", "harbour-housing", kHousingSystem, "HH-1", "client-a", true},
  };
  std::vector<std::thread> threads;
  for (const Lane& lane : lanes) threads.emplace_back([this, lane] { Publish(lane); });
  for (const char* org : {"st-marys", "harbour-housing", "northside-family", "care-coord"}) {
    threads.emplace_back([this, org = std::string(org)] { Subscribe(org); });
  }

  for (int round = 1; round <= rounds; ++round) {
    std::set<std::string> before_kill;
    {
      absl::MutexLock lock(&mu_);
      const size_t target = receipted_.size() + kReceiptsPerRound;
      auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return receipted_.size() >= target; };
      ASSERT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(120)))
          << "round " << round << ": publishers made no progress; gateway stderr:\n"
          << gateway.StderrTail();
      gateway.Kill();  // mid-flight: publishers and subscribers are busy right now
      for (const auto& [id, r] : receipted_) before_kill.insert(id);
    }
    ASSERT_TRUE(gateway.Start().ok()) << gateway.StderrTail();
    {
      absl::MutexLock lock(&mu_);
      address_ = gateway.address();
      ++generation_;
    }
    {
      absl::MutexLock lock(&mu_);
      auto delivered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return AllDelivered(before_kill); };
      ASSERT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&delivered), absl::Seconds(120)))
          << "round " << round << ": receipted but never delivered:" << Missing(before_kill);
    }
    v1::AuditVerification verification;
    Member admin(gateway.address(), TestPki::Get().Member("admin"));
    ASSERT_TRUE(admin.operations->VerifyAudit(Ctx(absl::Seconds(60)).get(), {}, &verification).ok());
    ASSERT_TRUE(verification.ok()) << "round " << round << ": " << verification.problem();
  }

  // Let everything settle: stop publishing, wait for the last deliveries.
  {
    absl::MutexLock lock(&mu_);
    stop_publishers_ = true;
  }
  for (size_t i = 0; i < lanes.size(); ++i) threads[i].join();
  std::set<std::string> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, r] : receipted_) all.insert(id);
    auto delivered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return AllDelivered(all); };
    ASSERT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&delivered), absl::Seconds(120)))
        << "receipted but never delivered:" << Missing(all);
    stop_subscribers_ = true;
    for (auto& [org, ctx] : contexts_) ctx->TryCancel();
  }
  for (size_t i = lanes.size(); i < threads.size(); ++i) threads[i].join();

  // First arrivals per (recipient, client) in the gateway's order.
  size_t deliveries_checked = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [org, arrivals] : arrivals_) {
      std::map<std::string, uint64_t> last;
      for (const Arrival& a : arrivals) {
        EXPECT_GT(a.seq, last[a.client]) << org << " got " << a.client << " out of order";
        last[a.client] = a.seq;
        ++deliveries_checked;
      }
    }
    std::printf(
        "crash test: %d rounds of kill -9; %zu messages with receipts checked; %zu first "
        "deliveries checked for order (%zu deliveries received in all, duplicates included); "
        "%zu publishes retried across a crash\n",
        rounds, receipted_.size(), deliveries_checked, deliveries_seen_, republished_);
  }
  ASSERT_TRUE(gateway.Stop().ok()) << gateway.StderrTail();
  std::string out;
  EXPECT_EQ(RunCommand(absl::StrCat(BinaryDir(), "/tools/cli/sbctl audit verify --data ",
                                    gateway.data_dir(), " 2>&1"),
                       &out),
            0)
      << out;
  std::printf("crash test: offline audit verification: %s", out.c_str());
}

}  // namespace
}  // namespace switchboard::testing
