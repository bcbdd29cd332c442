#include "gateway/delivery/delivery_ops.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
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
                         const std::vector<SentDelivery>& acked) {
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

    v1::AuditRecord record =
        identity::AuditFor(caller, "Exchange/Subscribe", v1::AuditRecord::DELIVER);
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
                      const std::string& reason) {
  const std::string key = keys::RecipientSeq(recipient, seq);
  v1::StoredDelivery stored;
  SB_ASSIGN_OR_RETURN(bool queued, txn.GetProto(Cf::kOutbox, key, &stored));
  if (!queued) return absl::OkStatus();
  stored.mutable_delivery()->set_state(v1::Delivery::WITHHELD);
  stored.set_decision(reason);
  txn.Delete(Cf::kOutbox, key);
  txn.PutProto(Cf::kDeliveries, key, stored);
  txn.Put(Cf::kConsents, keys::Withheld(recipient, stored.client_id(), seq), "");
  txn.Audit(consent::WithholdRecord(stored, "Exchange/Subscribe"));
  return absl::OkStatus();
}

}  // namespace switchboard::gateway::delivery
