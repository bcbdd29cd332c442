#include "gateway/delivery/delivery_ops.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gateway/consent/access.h"
#include "gateway/consent/consent_ops.h"
#include "gateway/identity/rpc_guard.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::delivery {

using store::Cf;
namespace keys = store::keys;

absl::StatusOr<std::vector<QueuedDelivery>> ReadQueue(const store::Store& store,
                                                      const std::string& recipient, uint64_t after,
                                                      uint64_t until, size_t limit,
                                                      absl::FunctionRef<bool(uint64_t)> skip) {
  std::vector<QueuedDelivery> out;
  if (limit == 0 || after >= until) return out;
  const std::string prefix = keys::RecipientPrefix(recipient);
  auto it = store.NewIterator(Cf::kOutbox, store::PrefixUpperBound(prefix));
  const std::string start = keys::RecipientSeq(recipient, after + 1);
  for (it->Seek(rocksdb::Slice(start)); it->Valid() && out.size() < limit; it->Next()) {
    auto seq = keys::SeqOfRecipientKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq.has_value()) return absl::DataLossError("outbox: malformed key");
    if (*seq > until) break;
    if (skip(*seq)) continue;
    QueuedDelivery q{*seq, {}};
    if (!q.stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("outbox: unparseable delivery");
    }
    out.push_back(std::move(q));
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading outbox");
  return out;
}

absl::StatusOr<std::shared_ptr<const v1::Message>> ReadMessage(const store::Store& store,
                                                               uint64_t message_seq) {
  v1::StoredMessage stored;
  SB_ASSIGN_OR_RETURN(bool found,
                      store.GetProto(Cf::kMessages, keys::Sequence(message_seq), &stored));
  if (!found) {
    return absl::DataLossError(
        absl::StrCat("message ", store::GatewayMessageId(message_seq), " is missing"));
  }
  auto message = std::make_shared<v1::Message>();
  message->Swap(stored.mutable_message());
  return std::shared_ptr<const v1::Message>(std::move(message));
}

v1::Delivery MakeDelivery(const v1::StoredDelivery& stored, uint32_t attempts, absl::Time now) {
  v1::Delivery d = stored.delivery();
  d.set_state(v1::Delivery::IN_FLIGHT);
  d.set_attempts(attempts);
  *d.mutable_last_attempt_at() = ToProtoTime(now);
  return d;
}

namespace {

// Applies what a stream knows of its sends to a stored delivery: the attempt
// count and the disclosure decision of the last send (kept so that a later
// stream acknowledging it can audit what was disclosed).
void ApplySent(const SentDelivery& sent, v1::StoredDelivery* stored) {
  v1::Delivery* d = stored->mutable_delivery();
  if (sent.attempts > 0) {
    d->set_attempts(std::max(d->attempts(), sent.attempts));
    *d->mutable_last_attempt_at() = ToProtoTime(sent.last_attempt_at);
  }
  if (!sent.decision.empty()) {
    stored->set_decision(sent.decision);
    stored->set_redacted(sent.redacted);
  }
}

}  // namespace

absl::Status RecordAttempts(store::Transaction& txn, const std::string& recipient,
                            const std::vector<SentDelivery>& sent) {
  for (const SentDelivery& s : sent) {
    if (s.attempts == 0) continue;
    const std::string key = keys::RecipientSeq(recipient, s.seq);
    v1::StoredDelivery stored;
    SB_ASSIGN_OR_RETURN(bool queued, txn.GetProto(Cf::kOutbox, key, &stored));
    if (!queued) continue;  // acknowledged meanwhile
    ApplySent(s, &stored);
    txn.PutProto(Cf::kOutbox, key, stored);
  }
  return absl::OkStatus();
}

absl::Status Acknowledge(store::Transaction& txn, const identity::Caller& caller,
                         const std::vector<SentDelivery>& acked, absl::string_view operation) {
  for (const SentDelivery& a : acked) {
    const std::string key = keys::RecipientSeq(caller.organisation_id, a.seq);
    v1::StoredDelivery stored;
    SB_ASSIGN_OR_RETURN(bool queued, txn.GetProto(Cf::kOutbox, key, &stored));
    if (!queued) continue;
    ApplySent(a, &stored);
    v1::Delivery* d = stored.mutable_delivery();
    d->set_state(v1::Delivery::DELIVERED);
    *d->mutable_delivered_at() = ToProtoTime(txn.now());
    txn.Delete(Cf::kOutbox, key);
    txn.PutProto(Cf::kDeliveries, key, stored);

    v1::AuditRecord record = identity::AuditFor(caller, operation, v1::AuditRecord::DELIVER);
    record.set_client_id(stored.client_id());
    record.set_gateway_message_id(d->gateway_message_id());
    record.set_message_id(d->message_id());
    record.set_delivery_id(d->id());
    record.set_subject_organisation(d->source());
    if (stored.redacted()) {
      txn.Put(Cf::kConsents, keys::Withheld(caller.organisation_id, stored.client_id(), a.seq), "");
    }
    record.set_detail(absl::StrCat(
        "event=", d->event(), " acknowledged after ", d->attempts(), " attempt(s); disclosed ",
        stored.redacted() ? "redacted" : "whole", ": ",
        stored.decision().empty() ? "decision not known (sent before a restart)" : stored.decision()));
    txn.Audit(std::move(record));
  }
  return absl::OkStatus();
}

absl::Status Withhold(store::Transaction& txn, const std::string& recipient, uint64_t seq,
                      const std::string& reason, absl::string_view operation) {
  const std::string key = keys::RecipientSeq(recipient, seq);
  v1::StoredDelivery stored;
  SB_ASSIGN_OR_RETURN(bool queued, txn.GetProto(Cf::kOutbox, key, &stored));
  if (!queued) return absl::OkStatus();
  stored.mutable_delivery()->set_state(v1::Delivery::WITHHELD);
  stored.set_decision(reason);
  txn.Delete(Cf::kOutbox, key);
  txn.PutProto(Cf::kDeliveries, key, stored);
  txn.Put(Cf::kConsents, keys::Withheld(recipient, stored.client_id(), seq), "");
  txn.Audit(consent::WithholdRecord(stored, operation));
  return absl::OkStatus();
}

absl::Status RecordRetry(store::Transaction& txn, const std::string& recipient, uint64_t seq,
                         uint32_t attempts, absl::Time attempted_at, absl::Time next_attempt_at,
                         const std::string& error) {
  const std::string key = keys::RecipientSeq(recipient, seq);
  v1::StoredDelivery stored;
  SB_ASSIGN_OR_RETURN(bool queued, txn.GetProto(Cf::kOutbox, key, &stored));
  if (!queued) return absl::OkStatus();
  v1::Delivery* d = stored.mutable_delivery();
  d->set_state(v1::Delivery::RETRYING);
  d->set_attempts(attempts);
  *d->mutable_last_attempt_at() = ToProtoTime(attempted_at);
  *d->mutable_next_attempt_at() = ToProtoTime(next_attempt_at);
  d->set_last_error(error);
  txn.PutProto(Cf::kOutbox, key, stored);
  return absl::OkStatus();
}

absl::Status DeadLetter(store::Transaction& txn, const std::string& recipient, uint64_t seq,
                        uint32_t attempts, absl::Time attempted_at, const std::string& error,
                        absl::string_view operation) {
  const std::string key = keys::RecipientSeq(recipient, seq);
  v1::StoredDelivery stored;
  SB_ASSIGN_OR_RETURN(bool queued, txn.GetProto(Cf::kOutbox, key, &stored));
  if (!queued) return absl::OkStatus();
  v1::Delivery* d = stored.mutable_delivery();
  d->set_state(v1::Delivery::DEAD_LETTERED);
  d->set_attempts(attempts);
  if (attempts > 0) *d->mutable_last_attempt_at() = ToProtoTime(attempted_at);
  d->clear_next_attempt_at();
  d->set_last_error(error);
  txn.Delete(Cf::kOutbox, key);
  txn.PutProto(Cf::kDeliveries, key, stored);

  v1::AuditRecord record;
  record.set_actor_organisation(consent::kGatewaySource);
  record.set_action(v1::AuditRecord::DEAD_LETTER);
  record.set_outcome(v1::AuditRecord::SUCCESS);
  record.set_operation(std::string(operation));
  record.set_client_id(stored.client_id());
  record.set_gateway_message_id(d->gateway_message_id());
  record.set_message_id(d->message_id());
  record.set_delivery_id(d->id());
  record.set_subject_organisation(recipient);
  record.set_detail(absl::StrCat("event=", d->event(), " dead-lettered after ", attempts,
                                 " attempt(s): ", error));
  txn.Audit(std::move(record));
  return absl::OkStatus();
}

absl::Status Replay(store::Transaction& txn, const identity::Caller& caller,
                    const std::string& recipient, const std::vector<uint64_t>& seqs) {
  std::vector<v1::StoredDelivery> found(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    const std::string id = store::DeliveryId(seqs[i]);
    SB_ASSIGN_OR_RETURN(
        bool has, txn.GetProto(Cf::kDeliveries, keys::RecipientSeq(recipient, seqs[i]), &found[i]));
    if (!has) {
      SB_ASSIGN_OR_RETURN(
          bool queued,
          txn.GetProto(Cf::kOutbox, keys::RecipientSeq(recipient, seqs[i]), &found[i]));
      if (!queued) return absl::NotFoundError(absl::StrCat("no delivery '", id, "'"));
      return absl::FailedPreconditionError(absl::StrCat(
          "delivery ", id, " is ", v1::Delivery::State_Name(found[i].delivery().state()),
          ", not DEAD_LETTERED: it is still queued"));
    }
    const v1::Delivery::State state = found[i].delivery().state();
    if (state == v1::Delivery::WITHHELD) {
      return absl::NotFoundError(absl::StrCat("no delivery '", id, "'"));
    }
    if (state != v1::Delivery::DEAD_LETTERED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "delivery ", id, " is ", v1::Delivery::State_Name(state), ", not DEAD_LETTERED"));
    }
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    const std::string key = keys::RecipientSeq(recipient, seqs[i]);
    v1::StoredDelivery& stored = found[i];
    v1::Delivery* d = stored.mutable_delivery();
    d->set_state(v1::Delivery::PENDING);
    d->set_attempts(0);
    d->clear_next_attempt_at();
    *stored.mutable_replayed_at() = ToProtoTime(txn.now());
    txn.Delete(Cf::kDeliveries, key);
    txn.PutProto(Cf::kOutbox, key, stored);
    v1::AuditRecord record =
        identity::AuditFor(caller, "Operations/ReplayDeadLetter", v1::AuditRecord::REPLAY);
    record.set_client_id(stored.client_id());
    record.set_gateway_message_id(d->gateway_message_id());
    record.set_message_id(d->message_id());
    record.set_delivery_id(d->id());
    record.set_subject_organisation(recipient);
    record.set_detail(
        absl::StrCat("event=", d->event(), " queued again; last error: ", d->last_error()));
    txn.Audit(std::move(record));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> DeadLetters(const store::Store& store,
                                                  const std::string& recipient) {
  std::vector<uint64_t> out;
  const std::string prefix = keys::RecipientPrefix(recipient);
  auto it = store.NewIterator(Cf::kDeliveries, store::PrefixUpperBound(prefix));
  for (it->Seek(rocksdb::Slice(prefix)); it->Valid(); it->Next()) {
    v1::StoredDelivery stored;
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("deliveries: unparseable record");
    }
    if (stored.delivery().state() != v1::Delivery::DEAD_LETTERED) continue;
    auto seq = keys::SeqOfRecipientKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq.has_value()) return absl::DataLossError("deliveries: malformed key");
    out.push_back(*seq);
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "listing dead letters");
  return out;
}

}  // namespace switchboard::gateway::delivery
