#include "gateway/operations/operations_ops.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gateway/store/keys.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::operations {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr uint32_t kDefaultPage = 100;
constexpr uint32_t kMaxPage = 1000;

uint32_t PageSize(uint32_t requested) {
  return requested == 0 ? kDefaultPage : std::min(requested, kMaxPage);
}

// What a member sees of a queued delivery: PENDING, or IN_FLIGHT with the
// stream's attempt count and last send.
void Overlay(const InFlightFn& in_flight, uint64_t seq, v1::Delivery* d) {
  if (d->state() != v1::Delivery::PENDING) return;
  auto sent = in_flight(d->recipient(), seq);
  if (!sent.has_value()) return;
  d->set_state(v1::Delivery::IN_FLIGHT);
  d->set_attempts(std::max(d->attempts(), sent->attempts));
  *d->mutable_last_attempt_at() = ToProtoTime(sent->last_attempt_at);
}

// A delivery of `recipient`: queued (outbox) or acknowledged (deliveries).
absl::StatusOr<bool> ReadDelivery(const store::Store& store, const std::string& recipient,
                                  uint64_t seq, v1::StoredDelivery* out) {
  const std::string key = keys::RecipientSeq(recipient, seq);
  SB_ASSIGN_OR_RETURN(bool queued, store.GetProto(Cf::kOutbox, key, out));
  if (queued) return true;
  return store.GetProto(Cf::kDeliveries, key, out);
}

}  // namespace

absl::StatusOr<v1::MessageStatus> GetMessageStatus(const store::Store& store,
                                                   const InFlightFn& in_flight,
                                                   uint64_t durable,
                                                   const std::string& caller_id,
                                                   const std::string& message_id) {
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("no message '", message_id.substr(0, 128), "'"));
  if (message_id.empty()) return absl::InvalidArgumentError("message_id: required");
  SB_ASSIGN_OR_RETURN(auto seq, store.Get(Cf::kDedup, keys::Dedup(caller_id, message_id)));
  if (!seq.has_value() || store::DecodeSeq(*seq).value_or(UINT64_MAX) > durable) return not_found;
  v1::StoredMessage stored;
  SB_ASSIGN_OR_RETURN(bool found, store.GetProto(Cf::kMessages, *seq, &stored));
  if (!found) return not_found;

  v1::MessageStatus status;
  status.set_message_id(stored.receipt().message_id());
  status.set_gateway_message_id(stored.receipt().gateway_message_id());
  status.set_event(stored.message().header().event());
  *status.mutable_accepted_at() = stored.receipt().accepted_at();
  for (const auto& r : stored.receipt().recipients()) {
    auto dseq = store::ParseDeliveryId(r.delivery_id());
    if (!dseq.has_value()) return absl::DataLossError("receipt: malformed delivery id");
    v1::StoredDelivery d;
    SB_ASSIGN_OR_RETURN(bool has, ReadDelivery(store, r.organisation_id(), *dseq, &d));
    if (!has) return absl::DataLossError(absl::StrCat("delivery ", r.delivery_id(), " is missing"));
    v1::Delivery* out = status.add_deliveries();
    *out = d.delivery();
    Overlay(in_flight, *dseq, out);
  }
  return status;
}

absl::StatusOr<v1::ListDeliveriesResponse> ListDeliveries(const store::Store& store,
                                                          const InFlightFn& in_flight,
                                                          uint64_t durable,
                                                          const std::string& caller_id,
                                                          const v1::ListDeliveriesRequest& request) {
  uint64_t after = 0;
  if (!request.page_token().empty()) {
    auto parsed = store::ParseDeliveryId(request.page_token());
    if (!parsed.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token: '", request.page_token().substr(0, 64), "' is not a page token"));
    }
    after = *parsed;
  }
  if (after == std::numeric_limits<uint64_t>::max()) return v1::ListDeliveriesResponse();
  const uint32_t page = PageSize(request.page_size());
  // Queued deliveries are the outbox, acknowledged ones the deliveries family;
  // listing every state merges the two in sequence order.
  // (Dead letters and withheld deliveries live with the acknowledged ones.)
  const v1::Delivery::State want = request.state();
  const bool any = want == v1::Delivery::STATE_UNSPECIFIED;
  const bool want_queued = any || want == v1::Delivery::PENDING ||
                           want == v1::Delivery::IN_FLIGHT || want == v1::Delivery::RETRYING;
  const bool want_delivered =
      any || want == v1::Delivery::DELIVERED || want == v1::Delivery::DEAD_LETTERED;
  const std::string prefix = keys::RecipientPrefix(caller_id);
  const std::string start = keys::RecipientSeq(caller_id, after + 1);
  auto open = [&](Cf cf, bool wanted) -> std::unique_ptr<rocksdb::Iterator> {
    if (!wanted) return nullptr;
    auto it = store.NewIterator(cf, store::PrefixUpperBound(prefix));
    it->Seek(rocksdb::Slice(start));
    return it;
  };
  auto queued = open(Cf::kOutbox, want_queued);
  auto delivered = open(Cf::kDeliveries, want_delivered);
  auto seq_of = [](const std::unique_ptr<rocksdb::Iterator>& it) -> std::optional<uint64_t> {
    if (it == nullptr || !it->Valid()) return std::nullopt;
    return keys::SeqOfRecipientKey(absl::string_view(it->key().data(), it->key().size()));
  };
  v1::ListDeliveriesResponse response;
  uint64_t last = 0;
  for (;;) {
    auto q = seq_of(queued);
    auto d = seq_of(delivered);
    // Sequences grow with time: past `durable` there is nothing on disk yet.
    if (q.has_value() && *q > durable) q.reset();
    if (d.has_value() && *d > durable) d.reset();
    if (!q.has_value() && !d.has_value()) break;
    if (static_cast<uint32_t>(response.deliveries_size()) == page) {
      response.set_next_page_token(store::DeliveryId(last));
      break;
    }
    const bool take_queued = q.has_value() && (!d.has_value() || *q < *d);
    rocksdb::Iterator* it = take_queued ? queued.get() : delivered.get();
    const uint64_t seq = take_queued ? q.value_or(0) : d.value_or(0);
    v1::StoredDelivery stored;
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("deliveries: unparseable record");
    }
    it->Next();
    last = seq;
    v1::Delivery delivery = std::move(*stored.mutable_delivery());
    Overlay(in_flight, seq, &delivery);
    // A withheld delivery is not shown to its recipient: that a message about
    // the client exists at all is something the consent did not let it know.
    if (delivery.state() == v1::Delivery::WITHHELD) continue;
    if (request.state() != v1::Delivery::STATE_UNSPECIFIED && delivery.state() != request.state()) {
      continue;
    }
    *response.add_deliveries() = std::move(delivery);
  }
  for (const auto* it : {queued.get(), delivered.get()}) {
    if (it != nullptr && !it->status().ok()) {
      return store::FromRocks(it->status(), "listing deliveries");
    }
  }
  return response;
}

absl::StatusOr<v1::StoredDelivery> GetDelivery(const store::Store& store,
                                               const InFlightFn& in_flight, uint64_t durable,
                                               const std::string& recipient,
                                               const std::string& delivery_id) {
  if (delivery_id.empty()) return absl::InvalidArgumentError("delivery_id: required");
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("no delivery '", delivery_id.substr(0, 64), "'"));
  auto seq = store::ParseDeliveryId(delivery_id);
  if (!seq.has_value() || *seq > durable) return not_found;
  v1::StoredDelivery stored;
  SB_ASSIGN_OR_RETURN(bool found, ReadDelivery(store, recipient, *seq, &stored));
  // Withheld: as if absent, like in ListDeliveries.
  if (!found || stored.delivery().state() == v1::Delivery::WITHHELD) return not_found;
  Overlay(in_flight, *seq, stored.mutable_delivery());
  return stored;
}

absl::StatusOr<v1::ListAuditRecordsResponse> ListAuditRecords(
    const store::Store& store, const v1::ListAuditRecordsRequest& request) {
  const uint32_t page = PageSize(request.page_size());
  auto it = store.NewIterator(Cf::kAudit);
  v1::ListAuditRecordsResponse response;
  for (it->Seek(rocksdb::Slice(keys::Sequence(request.after_seq() + 1)));
       it->Valid() && static_cast<uint32_t>(response.records_size()) < page; it->Next()) {
    if (!response.add_records()->ParseFromArray(it->value().data(),
                                                static_cast<int>(it->value().size()))) {
      return absl::DataLossError("audit: unparseable record");
    }
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "listing audit records");
  return response;
}

}  // namespace switchboard::gateway::operations
