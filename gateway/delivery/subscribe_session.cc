#include "gateway/delivery/subscribe_session.h"

#include <algorithm>

#include "gateway/common/grpc_status.h"
#include "gateway/common/log.h"
#include "gateway/store/keys.h"
#include "policy/consent_policy.h"

namespace switchboard::gateway::delivery {
namespace {

// The delivery's partner copy; an adapter that cannot express the message sets
// `error` (the canonical message still goes, so the member can act on it).
void EncodePartner(const adapters::Adapter& adapter, const v1::Message& message,
                   v1::PartnerPayload* partner) {
  absl::StatusOr<adapters::PartnerPayload> encoded = adapter.Encode(message);
  if (!encoded.ok()) {
    partner->set_error(std::string(encoded.status().message()));
    LogWarning("delivery_encode_failed",
               {{"code", absl::StatusCodeToString(encoded.status().code())}});
    return;
  }
  partner->set_content_type(std::move(encoded->content_type));
  partner->set_bytes(std::move(encoded->bytes));
}

}  // namespace

SubscribeSession::SubscribeSession(Dispatcher* dispatcher, identity::Caller caller,
                                   std::shared_ptr<RecipientState> recipient, uint32_t window)
    : dispatcher_(dispatcher),
      caller_(std::move(caller)),
      recipient_(std::move(recipient)),
      window_(window) {}

SubscribeSession::~SubscribeSession() {
  // current_ never owns its message.
  (void)current_.unsafe_arena_release_message();
}

void SubscribeSession::Begin() {
  {
    absl::MutexLock lock(&mu_);
    self_ = shared_from_this();
  }
  StartRead(&ack_);
  SchedulePump();
}

void SubscribeSession::Notify() {
  {
    absl::MutexLock lock(&mu_);
    ++notify_gen_;
  }
  // Inline (this runs on the committer's completion thread, right after the
  // sync): handing it to another thread would cost a wake-up per recipient.
  Pump();
}

void SubscribeSession::SchedulePump() {
  {
    absl::MutexLock lock(&mu_);
    if (pump_scheduled_ || finishing_) return;
    pump_scheduled_ = true;
  }
  dispatcher_->executor()->Schedule([self = shared_from_this()] {
    {
      absl::MutexLock lock(&self->mu_);
      self->pump_scheduled_ = false;
    }
    self->Pump();
  });
}

absl::Status SubscribeSession::RefillLocked() {
  const size_t busy = in_flight_.size() + queue_.size();
  if (busy >= window_ || clean_gen_ == notify_gen_) return absl::OkStatus();
  const size_t want = window_ - busy;
  const uint64_t gen = notify_gen_;
  auto batch = ReadQueue(*dispatcher_->store(), caller_.organisation_id, cursor_,
                         dispatcher_->committer()->durable_seq(), want,
                         [this](uint64_t seq) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                           return in_flight_.contains(seq) || recipient_->IsAckPending(seq);
                         });
  if (!batch.ok()) return batch.status();
  for (QueuedDelivery& q : *batch) {
    cursor_ = std::max(cursor_, q.seq);
    queue_.push_back(std::move(q));
  }
  if (batch->size() < want) clean_gen_ = gen;
  return absl::OkStatus();
}

void SubscribeSession::Pump() {
  {
    absl::ReleasableMutexLock lock(&mu_);
    if (finishing_ || writing_) return;
    if (absl::Status s = RefillLocked(); !s.ok()) {
      LogError("delivery_read_failed", {{"org", caller_.organisation_id}, {"error", s.ToString()}});
      lock.Release();
      Close(absl::UnavailableError("the gateway cannot read the delivery queue"));
      return;
    }
    const absl::Time now = absl::Now();
    while (!writing_ && (!resend_.empty() || !queue_.empty())) {
      uint64_t seq;
      Sent* sent;
      if (!resend_.empty()) {
        seq = resend_.front();
        resend_.pop_front();
        auto it = in_flight_.find(seq);
        if (it == in_flight_.end()) continue;  // acknowledged meanwhile
        sent = &it->second;
        sent->resend_queued = false;
        sent->attempts++;
        sent->sent_at = now;
      } else {
        QueuedDelivery& q = queue_.front();
        seq = q.seq;
        const uint32_t attempts = q.stored.delivery().attempts() + 1;
        sent = &(in_flight_[seq] = Sent{now, attempts, false, std::move(q.stored), "", false});
        queue_.pop_front();
      }
      const uint64_t message_seq = sent->stored.message_seq();
      std::shared_ptr<const v1::Message> message = dispatcher_->messages()->Get(message_seq);
      if (message == nullptr) {
        auto read = ReadMessage(*dispatcher_->store(), message_seq);
        if (!read.ok()) {
          LogError("delivery_build_failed",
                   {{"org", caller_.organisation_id}, {"error", read.status().ToString()}});
          in_flight_.erase(seq);
          continue;
        }
        message = *std::move(read);
        dispatcher_->messages()->Put(message_seq, message);
      }
      // The consent decision, with the consents of this moment.
      auto client = dispatcher_->decider()->Load(sent->stored.client_id());
      auto decision = client.ok() ? dispatcher_->decider()->Decide(
                                        **client, caller_.organisation_id, *message, now)
                                  : absl::StatusOr<v1::AccessDecision>(client.status());
      if (!decision.ok()) {
        LogError("delivery_decision_failed",
                 {{"org", caller_.organisation_id}, {"error", decision.status().ToString()}});
        lock.Release();
        Close(absl::UnavailableError("the gateway cannot decide what may be delivered"));
        return;
      }
      if (decision->effect() == v1::AccessDecision::DENY) {
        WithholdLocked(seq, decision->reason());
        continue;
      }
      sent->decision = decision->reason();
      sent->redacted = decision->effect() == v1::AccessDecision::PERMIT_REDACTED;
      if (sent->redacted) {
        message = std::make_shared<const v1::Message>(policy::Redact(*message, *decision));
      }
      // The client as this member knows it.
      if (auto localised = dispatcher_->ForRecipient(caller_.organisation_id, **client, *message)) {
        message = std::move(localised);
      }
      // The message is not copied: current_ borrows the cached, immutable one
      // (kept alive by current_message_) and gives it back before it changes.
      (void)current_.unsafe_arena_release_message();
      current_ = MakeDelivery(sent->stored, sent->attempts, now);  // partner cleared too
      // Outbound translation for a member with an adapter binding, from the
      // message it may see (after the decision and redaction). Canonical-only
      // members pay nothing beyond the lookup.
      if (const auto adapter = dispatcher_->AdapterFor(caller_.organisation_id)) {
        EncodePartner(*adapter, *message, current_.mutable_partner());
      }
      current_message_ = std::move(message);
      current_.unsafe_arena_set_allocated_message(const_cast<v1::Message*>(current_message_.get()));
      writing_ = true;
    }
    if (!writing_) return;
  }
  StartWrite(&current_);
}

void SubscribeSession::OnWriteDone(bool ok) {
  absl::Status finish;
  bool finish_now = false;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok && !finishing_) {
      finishing_ = true;
      finish_status_ = absl::UnavailableError("the stream broke while sending");
    }
    finish_now = TakeFinishLocked(&finish);
  }
  if (finish_now) {
    Finish(ToGrpcStatus(finish));
    return;
  }
  Pump();
}

bool SubscribeSession::TakeFinishLocked(absl::Status* status) {
  if (!finishing_ || finish_called_ || writing_ || ack_commit_running_) return false;
  finish_called_ = true;
  *status = finish_status_;
  return true;
}

void SubscribeSession::OnReadDone(bool ok) {
  if (!ok) {
    // The subscriber closed its side, or the stream broke.
    Close(absl::OkStatus());
    return;
  }
  std::vector<uint64_t> acked;
  std::vector<SentDelivery> to_commit;
  bool read_again = false;
  {
    absl::MutexLock lock(&mu_);
    if (ack_.window() > 0) {
      window_ = std::min(ack_.window(), dispatcher_->options().max_window);
    }
    for (const std::string& id : ack_.delivery_ids()) {
      auto seq = store::ParseDeliveryId(id);
      if (!seq.has_value()) continue;  // not one of ours: ignored, as documented
      SentDelivery done{*seq};
      if (auto it = in_flight_.find(*seq); it != in_flight_.end()) {
        done.attempts = it->second.attempts;
        done.last_attempt_at = it->second.sent_at;
        done.decision = std::move(it->second.decision);
        done.redacted = it->second.redacted;
        in_flight_.erase(it);
      }
      acked.push_back(*seq);
      pending_acks_.push_back(done);
    }
    recipient_->AddAckPending(acked);
    if (!ack_commit_running_ && !pending_acks_.empty()) {
      ack_commit_running_ = true;
      to_commit.swap(pending_acks_);
    }
    read_again = !finishing_;
  }
  if (!to_commit.empty()) CommitAcks(std::move(to_commit));
  if (read_again) StartRead(&ack_);
  Pump();
}

void SubscribeSession::CommitAcks(std::vector<SentDelivery> acked) {
  auto self = shared_from_this();
  std::vector<uint64_t> seqs;
  seqs.reserve(acked.size());
  for (const SentDelivery& a : acked) seqs.push_back(a.seq);
  dispatcher_->committer()->Submit(
      [caller = caller_, acked = std::move(acked)](store::Transaction& txn) {
        return Acknowledge(txn, caller, acked);
      },
      [self, seqs = std::move(seqs)](const absl::Status& status) {
        if (!status.ok()) {
          LogError("ack_commit_failed",
                   {{"org", self->caller_.organisation_id}, {"error", status.ToString()}});
        }
        // Durable (or failed, and then still queued to be sent again): either way
        // no longer "acknowledged but pending".
        self->recipient_->RemoveAckPending(seqs);
        std::vector<SentDelivery> next;
        absl::Status finish;
        bool finish_now = false;
        {
          absl::MutexLock lock(&self->mu_);
          if (self->pending_acks_.empty()) {
            self->ack_commit_running_ = false;
            // A stream that is ending waited for its acks to be durable.
            finish_now = self->TakeFinishLocked(&finish);
          } else {
            next.swap(self->pending_acks_);
          }
        }
        if (finish_now) self->Finish(ToGrpcStatus(finish));
        if (!next.empty()) self->CommitAcks(std::move(next));
      });
}

void SubscribeSession::WithholdLocked(uint64_t seq, const std::string& reason) {
  in_flight_.erase(seq);
  // Like an acknowledgement: no stream sends it while the withholding commits.
  recipient_->AddAckPending({seq});
  dispatcher_->committer()->Submit(
      [org = caller_.organisation_id, seq, reason](store::Transaction& txn) {
        return Withhold(txn, org, seq, reason);
      },
      [recipient = recipient_, org = caller_.organisation_id, seq](const absl::Status& status) {
        if (!status.ok()) {
          LogError("withhold_commit_failed", {{"org", org}, {"error", status.ToString()}});
        }
        recipient->RemoveAckPending({seq});
      });
}

void SubscribeSession::CheckTimeouts(absl::Time now) {
  bool any = false;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    const absl::Duration timeout = dispatcher_->options().ack_timeout;
    for (auto& [seq, f] : in_flight_) {
      if (!f.resend_queued && now - f.sent_at >= timeout) {
        f.resend_queued = true;
        resend_.push_back(seq);
        any = true;
      }
    }
    if (any) std::sort(resend_.begin(), resend_.end());
  }
  if (any) SchedulePump();
}

void SubscribeSession::Close(const absl::Status& status) {
  absl::Status finish;
  bool finish_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    finishing_ = true;
    finish_status_ = status;
    finish_now = TakeFinishLocked(&finish);
  }
  if (finish_now) Finish(ToGrpcStatus(finish));
}

void SubscribeSession::OnCancel() { Close(absl::CancelledError("the subscriber went away")); }

std::optional<SentDelivery> SubscribeSession::InFlight(uint64_t seq) const {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(seq);
  if (it == in_flight_.end()) return std::nullopt;
  return SentDelivery{seq, it->second.attempts, it->second.sent_at};
}

void SubscribeSession::OnDone() {
  dispatcher_->Detach(this);
  std::shared_ptr<SubscribeSession> self;
  std::vector<SentDelivery> unacknowledged;
  {
    absl::MutexLock lock(&mu_);
    self.swap(self_);
    for (const auto& [seq, sent] : in_flight_) {
      unacknowledged.push_back(
          SentDelivery{seq, sent.attempts, sent.sent_at, sent.decision, sent.redacted});
    }
    in_flight_.clear();
  }
  // Bookkeeping only (a lost count is harmless): no sync.
  if (!unacknowledged.empty()) {
    dispatcher_->committer()->Submit(
        [org = caller_.organisation_id, unacknowledged](store::Transaction& txn) {
          return RecordAttempts(txn, org, unacknowledged);
        },
        nullptr, store::Durability::kNoSync);
  }
  // `self` may be the last reference: nothing touches members after this.
}

}  // namespace switchboard::gateway::delivery
