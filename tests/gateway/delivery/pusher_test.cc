// The Pusher's delivery logic over a real store, committer and consent decider,
// with a scripted transport standing in for the partner's endpoint (the real
// transports are tested in tests/gateway/connectors/, and end to end in
// tests/integration/push_test.cc).
#include "gateway/delivery/pusher.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/audit_chain.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::delivery {
namespace {

using connectors::PushOutcome;
using connectors::PushResult;
using store::Cf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MemberCaller;

constexpr char kHousing[] = "harbour-housing";

TEST(BackoffTest, GrowsExponentiallyUpToTheCapWithFullJitter) {
  PushPolicy p;
  p.initial_backoff = absl::Milliseconds(100);
  p.max_backoff = absl::Seconds(1);
  EXPECT_EQ(Backoff(p, 1, 1.0), absl::Milliseconds(100));
  EXPECT_EQ(Backoff(p, 2, 1.0), absl::Milliseconds(200));
  EXPECT_EQ(Backoff(p, 4, 1.0), absl::Milliseconds(800));
  EXPECT_EQ(Backoff(p, 5, 1.0), absl::Seconds(1));
  EXPECT_EQ(Backoff(p, 1000, 1.0), absl::Seconds(1));
  EXPECT_EQ(Backoff(p, 3, 0.0), absl::ZeroDuration());
  EXPECT_EQ(Backoff(p, 3, 0.5), absl::Milliseconds(200));
}

TEST(PushPolicyTest, DefaultsApplyToUnsetFields) {
  v1::PushEndpoint e;
  e.set_max_attempts(3);
  const PushPolicy p = PushPolicy::From(e);
  EXPECT_EQ(p.max_attempts, 3u);
  EXPECT_EQ(p.initial_backoff, absl::Milliseconds(500));
  EXPECT_EQ(p.max_backoff, absl::Seconds(60));
  EXPECT_EQ(p.max_age, absl::Hours(24));
  EXPECT_EQ(p.breaker_failures, 5u);
  EXPECT_EQ(p.breaker_open, absl::Seconds(30));
}

// Answers each Send from a script; past its end, blocks until Cancel (so a test
// can stop the pusher at a known point).
class ScriptedTransport : public connectors::PushTransport {
 public:
  struct Sent {
    std::string delivery_id;
    std::string message_id;
    std::string content_type;
    std::string bytes;
    absl::Time at;
  };

  explicit ScriptedTransport(std::deque<PushResult> script) : script_(std::move(script)) {}

  PushResult Send(const connectors::PushRequest& request) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back({request.delivery_id, request.message_id, request.content_type, request.bytes,
                     absl::Now()});
    if (script_.empty()) {
      mu_.Await(absl::Condition(&cancelled_));
      return {PushOutcome::kFailed, "cancelled"};
    }
    PushResult r = script_.front();
    script_.pop_front();
    return r;
  }
  void Cancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  std::string Describe() const override { return "script test"; }

  // Waits until `n` sends were made; returns the first `n` (the pusher may
  // already be in the next one, blocked past the script).
  std::vector<Sent> WaitForSends(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sent_.size() >= n; };
    EXPECT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30)))
        << "only " << sent_.size() << " sends of " << n;
    return std::vector<Sent>(sent_.begin(), sent_.begin() + std::min(n, sent_.size()));
  }

 private:
  absl::Mutex mu_;
  std::deque<PushResult> script_ ABSL_GUARDED_BY(mu_);
  std::vector<Sent> sent_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class PusherTest : public testing::GatewayTest {
 protected:
  PusherTest() { sharing_policy_ = testing::OpenSharingPolicy(); }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    dispatcher_ = std::make_unique<Dispatcher>(store_.get(), committer_.get(), decider_.get(),
                                               DispatcherOptions{});
    auto publisher = MakePublisher();
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK_AND_ASSIGN(v1::Receipt r,
                           PublishAndWait(*publisher, MemberCaller("st-marys"),
                                          testing::Discharge(absl::StrCat("d-", i))));
      for (const auto& recipient : r.recipients()) {
        if (recipient.organisation_id() == kHousing) ids_.push_back(recipient.delivery_id());
      }
    }
    ASSERT_EQ(ids_.size(), 3u);
  }

  void TearDown() override {
    if (pusher_ != nullptr) pusher_->Stop();
    pusher_.reset();
    dispatcher_.reset();
    GatewayTest::TearDown();
  }

  ScriptedTransport* StartPusher(std::deque<PushResult> script, PushPolicy policy) {
    auto transport = std::make_unique<ScriptedTransport>(std::move(script));
    ScriptedTransport* raw = transport.get();
    pusher_ = std::make_unique<Pusher>(dispatcher_.get());
    pusher_->Add(kHousing, policy, std::move(transport));
    pusher_->Start();
    return raw;
  }

  static PushPolicy Fast() {
    PushPolicy p;
    p.initial_backoff = absl::Milliseconds(1);
    p.max_backoff = absl::Milliseconds(2);
    return p;
  }

  v1::Delivery Stored(const std::string& id) {
    const std::string key = store::keys::RecipientSeq(kHousing, *store::ParseDeliveryId(id));
    v1::StoredDelivery d;
    for (Cf cf : {Cf::kOutbox, Cf::kDeliveries}) {
      auto found = store_->GetProto(cf, key, &d);
      EXPECT_TRUE(found.ok());
      if (found.ok() && *found) return d.delivery();
    }
    ADD_FAILURE() << "no delivery " << id;
    return {};
  }

  static std::vector<std::string> Ids(const std::vector<ScriptedTransport::Sent>& sent) {
    std::vector<std::string> out;
    for (const auto& s : sent) out.push_back(s.delivery_id);
    return out;
  }

  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Pusher> pusher_;
  std::vector<std::string> ids_;
};

const PushResult kOk{PushOutcome::kDelivered, ""};
const PushResult kDown{PushOutcome::kFailed, "connect 127.0.0.1:9: Connection refused"};

TEST_F(PusherTest, DeliversTheQueueInOrderAsCanonicalJsonWithoutAnAdapter) {
  ScriptedTransport* t = StartPusher({kOk, kOk, kOk}, Fast());
  const auto sent = t->WaitForSends(3);
  pusher_->Stop();
  EXPECT_THAT(Ids(sent), ElementsAre(ids_[0], ids_[1], ids_[2]));
  EXPECT_EQ(sent[0].message_id, "d-0");
  EXPECT_EQ(sent[0].content_type, "application/json");
  EXPECT_THAT(sent[0].bytes, HasSubstr("\"messageId\":\"d-0\""));
  for (const std::string& id : ids_) {
    EXPECT_EQ(Stored(id).state(), v1::Delivery::DELIVERED);
    EXPECT_EQ(Stored(id).attempts(), 1u);
  }
  const auto records = AuditRecords();
  EXPECT_EQ(records.back().action(), v1::AuditRecord::DELIVER);
  EXPECT_EQ(records.back().operation(), "Push/script");
  EXPECT_THAT(records.back().detail(), HasSubstr("disclosed whole"));
  EXPECT_EQ(pusher_->Status(kHousing)->delivered(), 3u);
}

TEST_F(PusherTest, RetriesTheHeadUntilItGoesAndKeepsTheOrder) {
  ScriptedTransport* t = StartPusher({kDown, kDown, kOk, kOk}, Fast());
  const auto sent = t->WaitForSends(4);
  pusher_->Stop();
  // The second delivery waits behind the first.
  EXPECT_THAT(Ids(sent), ElementsAre(ids_[0], ids_[0], ids_[0], ids_[1]));
  EXPECT_EQ(Stored(ids_[0]).state(), v1::Delivery::DELIVERED);
  EXPECT_EQ(Stored(ids_[0]).attempts(), 3u);
  EXPECT_EQ(Stored(ids_[1]).state(), v1::Delivery::DELIVERED);
  const v1::EndpointStatus status = *pusher_->Status(kHousing);
  EXPECT_EQ(status.failed_attempts(), 2u);
  EXPECT_EQ(status.consecutive_failures(), 0u);
  EXPECT_EQ(status.last_error(), kDown.detail);
}

TEST_F(PusherTest, DeadLettersAfterMaxAttemptsWithTheLastErrorThenMovesOn) {
  PushPolicy p = Fast();
  p.max_attempts = 2;
  ScriptedTransport* t = StartPusher({kDown, kDown, kOk}, p);
  const auto sent = t->WaitForSends(3);
  pusher_->Stop();
  EXPECT_THAT(Ids(sent), ElementsAre(ids_[0], ids_[0], ids_[1]));
  const v1::Delivery dead = Stored(ids_[0]);
  EXPECT_EQ(dead.state(), v1::Delivery::DEAD_LETTERED);
  EXPECT_EQ(dead.attempts(), 2u);
  EXPECT_THAT(dead.last_error(), HasSubstr("gave up after 2 attempts: connect 127.0.0.1:9"));
  EXPECT_EQ(Stored(ids_[1]).state(), v1::Delivery::DELIVERED);
  bool audited = false;
  for (const auto& r : AuditRecords()) {
    audited |= r.action() == v1::AuditRecord::DEAD_LETTER && r.delivery_id() == ids_[0];
  }
  EXPECT_TRUE(audited);
  EXPECT_TRUE(audit::VerifyChain(*store_).ok());
}

TEST_F(PusherTest, ARefusalDeadLettersAtOnceAndDoesNotCountAgainstTheEndpoint) {
  ScriptedTransport* t =
      StartPusher({PushResult{PushOutcome::kRefused, "HTTP 422: unknown case"}, kOk}, Fast());
  const auto sent = t->WaitForSends(2);
  pusher_->Stop();
  EXPECT_THAT(Ids(sent), ElementsAre(ids_[0], ids_[1]));
  EXPECT_EQ(Stored(ids_[0]).state(), v1::Delivery::DEAD_LETTERED);
  EXPECT_EQ(Stored(ids_[0]).attempts(), 1u);
  EXPECT_THAT(Stored(ids_[0]).last_error(), HasSubstr("refused by script test: HTTP 422"));
  EXPECT_EQ(pusher_->Status(kHousing)->consecutive_failures(), 0u);
}

TEST_F(PusherTest, TheBreakerHoldsTheEndpointAfterConsecutiveFailuresThenOneAttemptDecides) {
  PushPolicy p = Fast();
  p.breaker_failures = 2;
  p.breaker_open = absl::Milliseconds(300);
  ScriptedTransport* t = StartPusher({kDown, kDown, kOk}, p);
  const auto sent = t->WaitForSends(3);
  pusher_->Stop();
  EXPECT_THAT(Ids(sent), ElementsAre(ids_[0], ids_[0], ids_[0]));
  // The retry after the second failure waited for the breaker, not the 2 ms backoff.
  EXPECT_GE(sent[2].at - sent[1].at, p.breaker_open);
  EXPECT_LT(sent[1].at - sent[0].at, p.breaker_open);
  const v1::EndpointStatus status = *pusher_->Status(kHousing);
  EXPECT_EQ(status.breaker(), v1::EndpointStatus::CLOSED);
  EXPECT_EQ(status.consecutive_failures(), 0u);
  EXPECT_EQ(Stored(ids_[0]).state(), v1::Delivery::DELIVERED);
  EXPECT_EQ(Stored(ids_[0]).attempts(), 3u);
}

}  // namespace
}  // namespace switchboard::gateway::delivery
