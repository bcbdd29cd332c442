#include "gateway/operations/operations_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gateway/store/keys.h"
#include "switchboard/common/status_macros.h"
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

// The state a member sees: PENDING splits into PENDING and IN_FLIGHT.
v1::Delivery::State Effective(const v1::Delivery& d, const InFlightFn& in_flight, uint64_t seq) {
  if (d.state() == v1::Delivery::PENDING && in_flight(d.recipient(), seq)) {
    return v1::Delivery::IN_FLIGHT;
  }
  return d.state();
}

}  // namespace

absl::StatusOr<v1::MessageStatus> GetMessageStatus(const store::Store& store,
                                                   const InFlightFn& in_flight,
                                                   const std::string& caller_id,
                                                   const std::string& message_id) {
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("no message '", message_id.substr(0, 128), "'"));
  if (message_id.empty()) return absl::InvalidArgumentError("message_id: required");
  SB_ASSIGN_OR_RETURN(auto seq, store.Get(Cf::kDedup, keys::Dedup(caller_id, message_id)));
  if (!seq.has_value()) return not_found;
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
    SB_ASSIGN_OR_RETURN(bool has,
                        store.GetProto(Cf::kDeliveries, keys::RecipientSeq(r.organisation_id(), *dseq), &d));
    if (!has) return absl::DataLossError(absl::StrCat("delivery ", r.delivery_id(), " is missing"));
    v1::Delivery* out = status.add_deliveries();
    *out = d.delivery();
    out->set_state(Effective(*out, in_flight, *dseq));
  }
  return status;
}

absl::StatusOr<v1::ListDeliveriesResponse> ListDeliveries(const store::Store& store,
                                                          const InFlightFn& in_flight,
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
  const uint32_t page = PageSize(request.page_size());
  // Pending and in-flight deliveries are exactly the outbox; walk it instead of
  // every delivery ever made.
  const bool queued_only = request.state() == v1::Delivery::PENDING ||
                           request.state() == v1::Delivery::IN_FLIGHT;
  const std::string prefix = keys::RecipientPrefix(caller_id);
  auto it = store.NewIterator(queued_only ? Cf::kOutbox : Cf::kDeliveries,
                              store::PrefixUpperBound(prefix));
  v1::ListDeliveriesResponse response;
  uint64_t last = 0;
  bool more = false;
  for (it->Seek(rocksdb::Slice(keys::RecipientSeq(caller_id, after + 1))); it->Valid(); it->Next()) {
    if (static_cast<uint32_t>(response.deliveries_size()) == page) {
      more = true;
      break;
    }
    auto seq = keys::SeqOfRecipientKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq.has_value()) return absl::DataLossError("deliveries: malformed key");
    v1::StoredDelivery d;
    if (queued_only) {
      SB_ASSIGN_OR_RETURN(bool has, store.GetProto(Cf::kDeliveries,
                                                   keys::RecipientSeq(caller_id, *seq), &d));
      if (!has) continue;
    } else if (!d.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("deliveries: unparseable record");
    }
    last = *seq;
    const v1::Delivery::State state = Effective(d.delivery(), in_flight, *seq);
    if (request.state() != v1::Delivery::STATE_UNSPECIFIED && state != request.state()) continue;
    v1::Delivery* out = response.add_deliveries();
    *out = d.delivery();
    out->set_state(state);
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "listing deliveries");
  if (more) response.set_next_page_token(store::DeliveryId(last));
  return response;
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
