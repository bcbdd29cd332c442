#include "gateway/delivery/pusher.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gateway/common/log.h"
#include "gateway/store/committer.h"
#include "google/protobuf/util/json_util.h"
#include "policy/consent_policy.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::delivery {

PushPolicy PushPolicy::From(const v1::PushEndpoint& e) {
  PushPolicy p;
  if (e.initial_backoff_ms() > 0) p.initial_backoff = absl::Milliseconds(e.initial_backoff_ms());
  if (e.max_backoff_ms() > 0) p.max_backoff = absl::Milliseconds(e.max_backoff_ms());
  if (e.max_attempts() > 0) p.max_attempts = e.max_attempts();
  if (e.max_age_ms() > 0) p.max_age = absl::Milliseconds(static_cast<int64_t>(e.max_age_ms()));
  if (e.breaker_failures() > 0) p.breaker_failures = e.breaker_failures();
  if (e.breaker_open_ms() > 0) p.breaker_open = absl::Milliseconds(e.breaker_open_ms());
  return p;
}

absl::Duration Backoff(const PushPolicy& policy, uint32_t retry, double unit) {
  const int exponent = static_cast<int>(std::min<uint32_t>(retry == 0 ? 0 : retry - 1, 40));
  const double ceiling_ms =
      std::min(absl::ToDoubleMilliseconds(policy.max_backoff),
               absl::ToDoubleMilliseconds(policy.initial_backoff) * std::ldexp(1.0, exponent));
  return absl::Milliseconds(ceiling_ms * std::clamp(unit, 0.0, 1.0));
}

class Pusher::Worker {
 public:
  Worker(Dispatcher* dispatcher, std::string organisation_id, PushPolicy policy,
         std::unique_ptr<connectors::PushTransport> transport)
      : dispatcher_(dispatcher),
        org_(std::move(organisation_id)),
        policy_(policy),
        transport_(std::move(transport)),
        describe_(transport_->Describe()),
        operation_(absl::StrCat("Push/", describe_.substr(0, describe_.find(' ')))) {}

  ~Worker() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ && !thread_.joinable()) return;
      stopping_ = true;
    }
    transport_->Cancel();
    if (thread_.joinable()) thread_.join();
  }

  void Notify() {
    absl::MutexLock lock(&mu_);
    notified_ = true;
  }

  v1::EndpointStatus Status() const {
    absl::MutexLock lock(&mu_);
    v1::EndpointStatus s;
    s.set_organisation_id(org_);
    s.set_endpoint(describe_);
    const bool open = open_until_ != absl::InfinitePast();
    s.set_breaker(!open                       ? v1::EndpointStatus::CLOSED
                  : absl::Now() < open_until_ ? v1::EndpointStatus::OPEN
                                              : v1::EndpointStatus::HALF_OPEN);
    if (open) *s.mutable_open_until() = ToProtoTime(open_until_);
    s.set_consecutive_failures(consecutive_failures_);
    s.set_last_error(last_error_);
    if (last_error_at_ != absl::InfinitePast())
      *s.mutable_last_error_at() = ToProtoTime(last_error_at_);
    if (last_success_at_ != absl::InfinitePast()) {
      *s.mutable_last_success_at() = ToProtoTime(last_success_at_);
    }
    s.set_delivered(delivered_);
    s.set_failed_attempts(failed_attempts_);
    s.set_dead_lettered(dead_lettered_);
    return s;
  }

 private:
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || notified_; }

  void Run() {
    absl::Time wake = absl::InfinitePast();
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (wake == absl::InfiniteFuture()) {
          mu_.Await(absl::Condition(this, &Worker::Woken));
        } else if (wake > absl::Now()) {
          mu_.AwaitWithDeadline(absl::Condition(this, &Worker::Woken), wake);
        }
        if (stopping_) return;
        notified_ = false;
      }
      wake = Step();
    }
  }

  // Submits a transaction and waits for it to be durable.
  absl::Status Commit(store::Committer::ApplyFn apply) {
    absl::Notification done;
    absl::Status result;
    dispatcher_->committer()->Submit(std::move(apply), [&](absl::Status s) {
      result = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  // Handles the head of the queue once. Returns when to look again:
  // InfinitePast at once, InfiniteFuture when notified.
  absl::Time Step() {
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      if (open_until_ != absl::InfinitePast() && now < open_until_) return open_until_;
    }
    auto head = ReadQueue(*dispatcher_->store(), org_, 0, dispatcher_->committer()->durable_seq(),
                          1, [](uint64_t) { return false; });
    if (!head.ok()) {
      LogError("push_read_failed", {{"org", org_}, {"error", head.status().ToString()}});
      return now + absl::Seconds(1);
    }
    if (head->empty()) return absl::InfiniteFuture();
    const uint64_t seq = head->front().seq;
    const v1::StoredDelivery& stored = head->front().stored;
    const v1::Delivery& queued = stored.delivery();
    if (queued.has_next_attempt_at()) {
      const absl::Time due = FromProtoTime(queued.next_attempt_at());
      if (now < due) return due;
    }
    const uint32_t attempts = queued.attempts() + 1;  // counting this one

    const absl::Time queued_since =
        std::max(FromProtoTime(queued.created_at()), FromProtoTime(stored.replayed_at()));
    if (now - queued_since > policy_.max_age) {
      std::string why =
          absl::StrCat("not delivered within ", absl::FormatDuration(policy_.max_age));
      if (!queued.last_error().empty())
        absl::StrAppend(&why, "; last error: ", queued.last_error());
      return GiveUp(seq, queued.attempts(), FromProtoTime(queued.last_attempt_at()), why);
    }

    std::shared_ptr<const v1::Message> message = dispatcher_->messages()->Get(stored.message_seq());
    if (message == nullptr) {
      auto read = ReadMessage(*dispatcher_->store(), stored.message_seq());
      if (!read.ok()) {
        LogError("push_read_failed", {{"org", org_}, {"error", read.status().ToString()}});
        return now + absl::Seconds(1);
      }
      message = *std::move(read);
      dispatcher_->messages()->Put(stored.message_seq(), message);
    }

    // The consent decision, with the consents of this moment (a retry or a
    // replay of something revoked since is not sent).
    auto client = dispatcher_->decider()->Load(stored.client_id());
    auto decision = client.ok() ? dispatcher_->decider()->Decide(**client, org_, *message, now)
                                : absl::StatusOr<v1::AccessDecision>(client.status());
    if (!decision.ok()) {
      LogError("push_decision_failed", {{"org", org_}, {"error", decision.status().ToString()}});
      return now + absl::Seconds(1);
    }
    if (decision->effect() == v1::AccessDecision::DENY) {
      const std::string reason = decision->reason();
      if (absl::Status s = Commit([&](store::Transaction& txn) {
            return Withhold(txn, org_, seq, reason, operation_);
          });
          !s.ok()) {
        LogError("push_commit_failed", {{"org", org_}, {"error", s.ToString()}});
        return now + absl::Seconds(1);
      }
      return absl::InfinitePast();
    }
    const bool redacted = decision->effect() == v1::AccessDecision::PERMIT_REDACTED;
    if (redacted)
      message = std::make_shared<const v1::Message>(policy::Redact(*message, *decision));
    // The client as this member knows it.
    if (auto localised = dispatcher_->ForRecipient(org_, **client, *message)) {
      message = std::move(localised);
    }

    v1::Delivery delivery = MakeDelivery(stored, attempts, now);
    *delivery.mutable_message() = *message;
    connectors::PushRequest request;
    request.delivery_id = delivery.id();
    request.message_id = delivery.message_id();
    if (const auto adapter = dispatcher_->AdapterFor(org_)) {
      absl::StatusOr<adapters::PartnerPayload> encoded = adapter->Encode(*message);
      if (!encoded.ok()) {
        // This message only: the adapter cannot express it, however often we try.
        return GiveUp(seq, queued.attempts(), FromProtoTime(queued.last_attempt_at()),
                      absl::StrCat("the member's adapter cannot encode this message: ",
                                   encoded.status().message()));
      }
      delivery.mutable_partner()->set_content_type(encoded->content_type);
      delivery.mutable_partner()->set_bytes(encoded->bytes);
      request.content_type = std::move(encoded->content_type);
      request.bytes = std::move(encoded->bytes);
    } else {
      request.content_type = "application/json";
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = false;
      if (!google::protobuf::util::MessageToJsonString(delivery, &request.bytes, options).ok()) {
        return GiveUp(seq, queued.attempts(), FromProtoTime(queued.last_attempt_at()),
                      "the delivery cannot be written as JSON");
      }
    }
    request.delivery = &delivery;

    const connectors::PushResult result = transport_->Send(request);
    const absl::Time after = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      // A send cut short by shutdown is not a failure of the endpoint.
      if (stopping_ && result.outcome != connectors::PushOutcome::kDelivered) {
        return absl::InfiniteFuture();
      }
    }
    switch (result.outcome) {
      case connectors::PushOutcome::kDelivered: {
        SentDelivery sent{seq, attempts, now, decision->reason(), redacted};
        identity::Caller recipient{org_, false, ""};
        if (absl::Status s = Commit([&](store::Transaction& txn) {
              return Acknowledge(txn, recipient, {sent}, operation_);
            });
            !s.ok()) {
          // Sent but not recorded: it goes again (at least once).
          LogError("push_commit_failed", {{"org", org_}, {"error", s.ToString()}});
          return after + absl::Seconds(1);
        }
        absl::MutexLock lock(&mu_);
        consecutive_failures_ = 0;
        open_until_ = absl::InfinitePast();
        last_success_at_ = after;
        ++delivered_;
        return absl::InfinitePast();
      }
      case connectors::PushOutcome::kRefused: {
        {
          absl::MutexLock lock(&mu_);
          // The endpoint answered: it is up.
          consecutive_failures_ = 0;
          open_until_ = absl::InfinitePast();
          last_error_ = result.detail;
          last_error_at_ = after;
        }
        return GiveUp(seq, attempts, now,
                      absl::StrCat("refused by ", describe_, ": ", result.detail));
      }
      case connectors::PushOutcome::kFailed:
        break;
    }
    LogWarning("push_failed", {{"org", org_},
                               {"delivery", delivery.id()},
                               {"attempt", absl::StrCat(attempts)},
                               {"error", result.detail}});
    absl::Time breaker_until = absl::InfinitePast();
    {
      absl::MutexLock lock(&mu_);
      ++failed_attempts_;
      ++consecutive_failures_;
      last_error_ = result.detail;
      last_error_at_ = after;
      // Half-open (the open period is over) and failed again, or too many in a row.
      if (open_until_ != absl::InfinitePast() ||
          consecutive_failures_ >= policy_.breaker_failures) {
        open_until_ = after + policy_.breaker_open;
        breaker_until = open_until_;
        LogWarning("push_breaker_open", {{"org", org_},
                                         {"failures", absl::StrCat(consecutive_failures_)},
                                         {"until", absl::FormatTime(open_until_)}});
      }
    }
    if (attempts >= policy_.max_attempts) {
      return GiveUp(seq, attempts, now,
                    absl::StrCat("gave up after ", attempts, " attempts: ", result.detail));
    }
    const absl::Time next = after + Backoff(policy_, attempts, absl::Uniform(bitgen_, 0.0, 1.0));
    if (absl::Status s = Commit([&](store::Transaction& txn) {
          return RecordRetry(txn, org_, seq, attempts, now, next, result.detail);
        });
        !s.ok()) {
      LogError("push_commit_failed", {{"org", org_}, {"error", s.ToString()}});
    }
    return std::max(next, breaker_until);
  }

  // Dead-letters `seq` and moves on to the next delivery.
  absl::Time GiveUp(uint64_t seq, uint32_t attempts, absl::Time attempted_at,
                    const std::string& error) {
    LogWarning("push_dead_letter",
               {{"org", org_}, {"delivery", store::DeliveryId(seq)}, {"error", error}});
    if (absl::Status s = Commit([&](store::Transaction& txn) {
          return DeadLetter(txn, org_, seq, attempts, attempted_at, error, operation_);
        });
        !s.ok()) {
      LogError("push_commit_failed", {{"org", org_}, {"error", s.ToString()}});
      return absl::Now() + absl::Seconds(1);
    }
    absl::MutexLock lock(&mu_);
    ++dead_lettered_;
    return absl::InfinitePast();
  }

  // Constant after construction.
  Dispatcher* const dispatcher_;
  const std::string org_;
  const PushPolicy policy_;
  const std::unique_ptr<connectors::PushTransport> transport_;
  const std::string describe_;
  const std::string operation_;  // audit operation, e.g. Push/webhook

  std::thread thread_;
  absl::BitGen bitgen_;  // worker thread only

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  // InfinitePast when the breaker is closed; else open until then, half-open after.
  absl::Time open_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint32_t consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_error_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_success_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dead_lettered_ ABSL_GUARDED_BY(mu_) = 0;
};

Pusher::Pusher(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

Pusher::~Pusher() { Stop(); }

void Pusher::Add(const std::string& organisation_id, PushPolicy policy,
                 std::unique_ptr<connectors::PushTransport> transport) {
  workers_[organisation_id] =
      std::make_unique<Worker>(dispatcher_, organisation_id, policy, std::move(transport));
}

bool Pusher::Handles(const std::string& organisation_id) const {
  return workers_.contains(organisation_id);
}

void Pusher::Start() {
  for (auto& [org, worker] : workers_) worker->Start();
}

void Pusher::Stop() {
  for (auto& [org, worker] : workers_) worker->Stop();
}

void Pusher::Notify(const std::vector<std::string>& recipients) {
  if (workers_.empty()) return;
  for (const std::string& r : recipients) {
    auto it = workers_.find(r);
    if (it != workers_.end()) it->second->Notify();
  }
}

std::optional<v1::EndpointStatus> Pusher::Status(const std::string& organisation_id) const {
  auto it = workers_.find(organisation_id);
  if (it == workers_.end()) return std::nullopt;
  return it->second->Status();
}

}  // namespace switchboard::gateway::delivery
