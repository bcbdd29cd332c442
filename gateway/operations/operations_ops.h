// Operations' queries, without gRPC. Every lookup is keyed by the caller, so a
// member asking about another member's message or deliveries finds nothing:
// NOT_FOUND with the same message as for an id that does not exist.
// Thread-safe (reads only).
#ifndef SWITCHBOARD_GATEWAY_OPERATIONS_OPERATIONS_OPS_H_
#define SWITCHBOARD_GATEWAY_OPERATIONS_OPERATIONS_OPS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/delivery/delivery_ops.h"
#include "gateway/store/store.h"
#include "switchboard/v1/operations.pb.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::operations {

// What the recipient's stream knows of (recipient, delivery seq) when it is sent
// and awaits its ack (nullopt otherwise): the store says PENDING for both "queued"
// and "sent, not yet acknowledged", and keeps attempt counts only when a stream
// ends.
using InFlightFn =
    std::function<std::optional<delivery::SentDelivery>(const std::string& recipient, uint64_t seq)>;

// Status of the message `message_id` published by `caller_id`. Only what is on
// disk counts (sequences up to `durable`, the committer's durable sequence):
// a message still being synced is NOT_FOUND for a moment.
absl::StatusOr<v1::MessageStatus> GetMessageStatus(const store::Store& store,
                                                   const InFlightFn& in_flight,
                                                   uint64_t durable,
                                                   const std::string& caller_id,
                                                   const std::string& message_id);

// Deliveries addressed to `caller_id` with sequences up to `durable`, oldest
// first, except withheld ones (never shown to their recipient). INVALID_ARGUMENT
// for a malformed page token.
absl::StatusOr<v1::ListDeliveriesResponse> ListDeliveries(const store::Store& store,
                                                          const InFlightFn& in_flight,
                                                          uint64_t durable,
                                                          const std::string& caller_id,
                                                          const v1::ListDeliveriesRequest& request);

// The delivery `delivery_id` of `recipient` (queued, delivered or dead-lettered;
// without its message). NOT_FOUND for an id that is malformed, unknown, another
// member's, not yet durable or withheld; INVALID_ARGUMENT when empty.
absl::StatusOr<v1::StoredDelivery> GetDelivery(const store::Store& store,
                                               const InFlightFn& in_flight, uint64_t durable,
                                               const std::string& recipient,
                                               const std::string& delivery_id);

// Audit records with seq > after_seq, at most `page_size` (default 100, max 1000).
absl::StatusOr<v1::ListAuditRecordsResponse> ListAuditRecords(
    const store::Store& store, const v1::ListAuditRecordsRequest& request);

}  // namespace switchboard::gateway::operations

#endif  // SWITCHBOARD_GATEWAY_OPERATIONS_OPERATIONS_OPS_H_
