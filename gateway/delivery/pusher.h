// Push delivery: for each member with a push endpoint (GatewayConfig.push_endpoints),
// one worker thread that sends the member's queued deliveries to its endpoint
// (HTTPS webhook, MLLP or gRPC DeliveryReceiver) one at a time, oldest first.
//
// For each delivery, at every attempt: the consent decision of that moment
// (denied: withheld, never sent; partly denied: redacted), then the member's
// bound adapter encodes what it may see, then the transport sends it.
//   - delivered: DELIVERED and a DELIVER audit record, in one transaction;
//   - refused for good by the endpoint (HTTP 4xx, ACK AE/AR, INVALID_ARGUMENT),
//     or the adapter cannot express the message: dead-lettered at once;
//   - failed (unreachable, 5xx, timeout): RETRYING, the next attempt after an
//     exponential backoff with full jitter; dead-lettered after max_attempts
//     or once older than max_age.
// The head of the queue blocks the rest while it is retried, so order is kept
// per member (hence per client). Dead letters leave the queue; a replay puts
// them back in their original place.
//
// Per endpoint, a circuit breaker: after breaker_failures consecutive failures
// the endpoint is left alone for breaker_open_ms, then one attempt decides. Each
// member has its own thread and transport, so a slow or failing endpoint never
// holds up another member.
//
// Retry state lives in the store (attempts, last error, next attempt), so a
// restart resumes where it was; a delivery sent but not yet recorded as
// delivered when the gateway dies is sent again (at least once: the partner
// dedups on the message id).
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_PUSHER_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_PUSHER_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/connectors/push_transport.h"
#include "gateway/delivery/dispatcher.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/operations.pb.h"

namespace switchboard::gateway::delivery {

// PushEndpoint's retry and breaker settings with defaults applied.
struct PushPolicy {
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(60);
  uint32_t max_attempts = 10;
  absl::Duration max_age = absl::Hours(24);
  uint32_t breaker_failures = 5;
  absl::Duration breaker_open = absl::Seconds(30);

  static PushPolicy From(const v1::PushEndpoint& endpoint);
};

// The wait before retry number `retry` (1 for the first retry): uniform in
// [0, min(max_backoff, initial_backoff * 2^(retry-1))] ("full jitter"), for
// `unit` uniform in [0, 1].
absl::Duration Backoff(const PushPolicy& policy, uint32_t retry, double unit);

class Pusher {
 public:
  // `dispatcher` gives the store, committer, decider, message cache and the
  // members' adapters; it must outlive the Pusher.
  explicit Pusher(Dispatcher* dispatcher);
  Pusher(const Pusher&) = delete;
  Pusher& operator=(const Pusher&) = delete;
  ~Pusher();  // Stop()s.

  // Before Start: pushes `organisation_id`'s deliveries through `transport`.
  void Add(const std::string& organisation_id, PushPolicy policy,
           std::unique_ptr<connectors::PushTransport> transport);
  bool Handles(const std::string& organisation_id) const;

  // Starts one thread per member; each first looks at what is already queued.
  void Start();
  // Cancels sends in progress and joins the threads. Idempotent.
  void Stop();

  // Publish / replay commit hook: these members may have new deliveries.
  void Notify(const std::vector<std::string>& recipients);

  // The member's endpoint status; nullopt when it has no push endpoint.
  std::optional<v1::EndpointStatus> Status(const std::string& organisation_id) const;

 private:
  class Worker;
  // Fixed after Start (only Add writes it).
  absl::flat_hash_map<std::string, std::unique_ptr<Worker>> workers_;
  Dispatcher* const dispatcher_;
};

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_PUSHER_H_
