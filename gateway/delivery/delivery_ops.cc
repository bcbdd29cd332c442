#include "gateway/delivery/delivery_ops.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "gateway/identity/rpc_guard.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::delivery {

using store::Cf;
namespace keys = store::keys;

absl::StatusOr<std::vector<QueuedDelivery>> ReadQueue(const store::Store& store,
                                                      const std::string& recipient, uint64_t after,
                                                      size_t limit,
                                                      absl::FunctionRef<bool(uint64_t)> skip) {
  std::vector<QueuedDelivery> out;
  if (limit == 0 || after == std::numeric_limits<uint64_t>::max()) return out;
  const std::string prefix = keys::RecipientPrefix(recipient);
  auto it = store.NewIterator(Cf::kOutbox, store::PrefixUpperBound(prefix));
  const std::string start = keys::RecipientSeq(recipient, after + 1);
  for (it->Seek(rocksdb::Slice(start)); it->Valid() && out.size() < limit; it->Next()) {
    auto seq = keys::SeqOfRecipientKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq.has_value()) return absl::DataLossError("outbox: malformed key");
    if (skip(*seq)) continue;
    v1::OutboxEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("outbox: unparseable entry");
    }
    out.push_back(QueuedDelivery{*seq, entry.message_seq()});
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading outbox");
  return out;
}

absl::StatusOr<std::optional<v1::Delivery>> BuildDelivery(const store::Store& store,
                                                          const std::string& recipient,
                                                          uint64_t seq, absl::Time now) {
  v1::StoredDelivery stored;
  SB_ASSIGN_OR_RETURN(bool found,
                      store.GetProto(Cf::kDeliveries, keys::RecipientSeq(recipient, seq), &stored));
  if (!found || stored.delivery().state() == v1::Delivery::DELIVERED) {
    return std::optional<v1::Delivery>();
  }
  v1::StoredMessage message;
  SB_ASSIGN_OR_RETURN(bool has_message, store.GetProto(Cf::kMessages,
                                                       keys::Sequence(stored.message_seq()),
                                                       &message));
  if (!has_message) {
    return absl::DataLossError(absl::StrCat("message of delivery ", store::DeliveryId(seq),
                                            " is missing"));
  }
  v1::Delivery d = std::move(*stored.mutable_delivery());
  d.set_state(v1::Delivery::IN_FLIGHT);
  d.set_attempts(d.attempts() + 1);
  *d.mutable_last_attempt_at() = ToProtoTime(now);
  *d.mutable_message() = std::move(*message.mutable_message());
  return std::optional<v1::Delivery>(std::move(d));
}

absl::Status RecordAttempts(store::Transaction& txn, const std::string& recipient,
                            const std::vector<uint64_t>& seqs) {
  for (uint64_t seq : seqs) {
    const std::string key = keys::RecipientSeq(recipient, seq);
    SB_ASSIGN_OR_RETURN(auto queued, txn.Get(Cf::kOutbox, key));
    if (!queued.has_value()) continue;  // acknowledged meanwhile
    v1::StoredDelivery stored;
    SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kDeliveries, key, &stored));
    if (!found) continue;
    v1::Delivery* d = stored.mutable_delivery();
    d->set_attempts(d->attempts() + 1);
    *d->mutable_last_attempt_at() = ToProtoTime(txn.now());
    txn.PutProto(Cf::kDeliveries, key, stored);
  }
  return absl::OkStatus();
}

absl::Status Acknowledge(store::Transaction& txn, const identity::Caller& caller,
                         const std::vector<uint64_t>& seqs) {
  for (uint64_t seq : seqs) {
    const std::string key = keys::RecipientSeq(caller.organisation_id, seq);
    SB_ASSIGN_OR_RETURN(auto queued, txn.Get(Cf::kOutbox, key));
    if (!queued.has_value()) continue;
    v1::StoredDelivery stored;
    SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kDeliveries, key, &stored));
    if (!found) return absl::DataLossError(absl::StrCat("delivery ", store::DeliveryId(seq), " is missing"));
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
    record.set_detail(absl::StrCat("event=", d->event(), " acknowledged after ", d->attempts(),
                                   " attempt(s)"));
    txn.Audit(std::move(record));
  }
  return absl::OkStatus();
}

}  // namespace switchboard::gateway::delivery
