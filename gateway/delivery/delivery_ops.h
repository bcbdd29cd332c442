// The store side of pull delivery, without gRPC: reading a recipient's queue,
// building the Delivery to send, and the transactions that acknowledge deliveries
// and record attempts. A pending delivery lives in column family `outbox` (the
// recipient's queue, in sequence order); acknowledged, it moves to `deliveries`.
// Everything is keyed by the recipient, so one member can never read or
// acknowledge another's deliveries. Thread-safe (reads from any thread; the
// transactions run on the committer).
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_DELIVERY_OPS_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_DELIVERY_OPS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/identity/authenticator.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/delivery.pb.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::delivery {

// One queued delivery.
struct QueuedDelivery {
  uint64_t seq;
  v1::StoredDelivery stored;
};

// What a stream knows about a delivery it sent: how often, and when last.
// attempts 0 means "not sent by this stream" (the stored counts stand).
struct SentDelivery {
  uint64_t seq;
  uint32_t attempts = 0;
  absl::Time last_attempt_at = absl::InfinitePast();
  // The disclosure decision of the last send (its reason) and whether that send
  // had elements removed. Empty when this stream did not send it.
  std::string decision = {};
  bool redacted = false;
};

// Up to `limit` queued deliveries of `recipient` with `after` < seq <= `until`,
// oldest first, skipping those for which `skip(seq)` is true. `until` is the
// committer's durable sequence: what is not on disk yet is not sent.
absl::StatusOr<std::vector<QueuedDelivery>> ReadQueue(const store::Store& store,
                                                      const std::string& recipient, uint64_t after,
                                                      uint64_t until, size_t limit,
                                                      absl::FunctionRef<bool(uint64_t)> skip);

// The message with sequence `message_seq`. DATA_LOSS when it is missing.
absl::StatusOr<std::shared_ptr<const v1::Message>> ReadMessage(const store::Store& store,
                                                               uint64_t message_seq);

// The Delivery to send, without its message: `stored` with state IN_FLIGHT,
// `attempts` (counting this send) and last_attempt_at `now`.
v1::Delivery MakeDelivery(const v1::StoredDelivery& stored, uint32_t attempts, absl::Time now);

// Transaction: stores the attempt counts and last disclosure decisions of
// deliveries still queued (a stream that ends without their acknowledgement).
// Safe in any order with Acknowledge.
absl::Status RecordAttempts(store::Transaction& txn, const std::string& recipient,
                            const std::vector<SentDelivery>& sent);

// Transaction: moves each still-queued delivery of `caller` to DELIVERED (with
// the stream's attempt count), off the queue, and audits a DELIVER record.
// Sequences not queued for the caller (already acknowledged, or not its own) are
// ignored.
// The DELIVER record carries the disclosure decision of the acknowledged send;
// a redacted one is also put in the withheld index (a break-glass re-sends it
// whole).
absl::Status Acknowledge(store::Transaction& txn, const identity::Caller& caller,
                         const std::vector<SentDelivery>& acked,
                         absl::string_view operation = "Exchange/Subscribe");

// Transaction: the queued delivery `seq` of `recipient` is denied at delivery
// time: moves it off the queue to WITHHELD with `reason`, indexes it for a
// break-glass and audits WITHHOLD. A delivery no longer queued is left alone.
absl::Status Withhold(store::Transaction& txn, const std::string& recipient, uint64_t seq,
                      const std::string& reason,
                      absl::string_view operation = "Exchange/Subscribe");

// Push delivery (see pusher.h). Each is a transaction on a delivery still queued
// for `recipient` (one no longer queued is left alone).

// A failed attempt: RETRYING with the attempt count, its time, `error`, and when
// the next attempt is due.
absl::Status RecordRetry(store::Transaction& txn, const std::string& recipient, uint64_t seq,
                         uint32_t attempts, absl::Time attempted_at, absl::Time next_attempt_at,
                         const std::string& error);

// Gives up on it: moves it off the queue to DEAD_LETTERED with `error` kept as
// last_error (and the attempt count), and audits DEAD_LETTER with `operation`.
absl::Status DeadLetter(store::Transaction& txn, const std::string& recipient, uint64_t seq,
                        uint32_t attempts, absl::Time attempted_at, const std::string& error,
                        absl::string_view operation);

// Queues dead-lettered deliveries of `recipient` again, in their original place
// (their sequence), PENDING with no attempts (last_error kept), and audits a
// REPLAY by `caller` for each. NOT_FOUND naming an id that is not a delivery of
// the recipient (withheld ones included); FAILED_PRECONDITION naming one that is
// not dead-lettered. Nothing changes unless every id qualifies.
absl::Status Replay(store::Transaction& txn, const identity::Caller& caller,
                    const std::string& recipient, const std::vector<uint64_t>& seqs);

// Sequences of every dead-lettered delivery of `recipient`, oldest first.
absl::StatusOr<std::vector<uint64_t>> DeadLetters(const store::Store& store,
                                                  const std::string& recipient);

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_DELIVERY_OPS_H_
