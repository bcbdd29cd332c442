// The store side of pull delivery, without gRPC: reading a recipient's queue,
// building the Delivery to send, recording an attempt, and acknowledging.
// Everything is keyed by the recipient, so one member can never read or
// acknowledge another's deliveries. Thread-safe (reads from any thread; the
// transactions run on the committer).
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_DELIVERY_OPS_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_DELIVERY_OPS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/identity/authenticator.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/delivery.pb.h"

namespace switchboard::gateway::delivery {

// One queued delivery: its sequence and the message it carries.
struct QueuedDelivery {
  uint64_t seq;
  uint64_t message_seq;
};

// Up to `limit` queued deliveries of `recipient` with seq > `after`, oldest first,
// skipping those for which `skip(seq)` is true.
absl::StatusOr<std::vector<QueuedDelivery>> ReadQueue(const store::Store& store,
                                                      const std::string& recipient, uint64_t after,
                                                      size_t limit,
                                                      absl::FunctionRef<bool(uint64_t)> skip);

// The Delivery to send for `seq` (message included, attempts counting this one,
// state IN_FLIGHT), or nullopt when it is no longer queued (acknowledged).
absl::StatusOr<std::optional<v1::Delivery>> BuildDelivery(const store::Store& store,
                                                          const std::string& recipient,
                                                          uint64_t seq, absl::Time now);

// Transaction: counts an attempt (attempts+1, last_attempt_at) on each delivery
// still queued. Safe in any order with acknowledgements.
absl::Status RecordAttempts(store::Transaction& txn, const std::string& recipient,
                            const std::vector<uint64_t>& seqs);

// Transaction: marks each still-queued delivery of `caller` DELIVERED, removes it
// from the queue and audits a DELIVER record. Sequences not queued for the
// caller (already acknowledged, or not its own) are ignored.
absl::Status Acknowledge(store::Transaction& txn, const identity::Caller& caller,
                         const std::vector<uint64_t>& seqs);

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_DELIVERY_OPS_H_
