// Which published messages still await deliveries, and when each Publish call
// started: the matching of deliveries to publishes by message id.
//
// A message id is "<tag><publisher:4>-<seq:12>" (MessageTracker::Id), fixed
// length so that every message has the same size. The tag changes per phase, so
// a late delivery from an earlier phase is never mistaken for a current one.
//
// Thread-safe: publishers and subscribers call in concurrently (one lock per
// publisher, so they rarely contend).
#ifndef SWITCHBOARD_TOOLS_PERF_MESSAGE_TRACKER_H_
#define SWITCHBOARD_TOOLS_PERF_MESSAGE_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "tools/perf/latency_samples.h"

namespace switchboard::tools::perf {

class MessageTracker {
 public:
  // What a delivery read by a subscriber was.
  enum class Outcome {
    kDelivered,      // expected; other recipients still missing
    kLastDelivered,  // expected, and the message is now delivered to all recipients
    kDuplicate,      // this recipient already had it (a redelivery)
    kUnknown,        // no such pending message (finished, failed, or another phase)
  };
  struct Seen {
    Outcome outcome;
    Clock::duration since_publish{};  // set for kDelivered and kLastDelivered
  };

  MessageTracker(int publishers, int recipients);

  // The id of message `seq` of publisher `publisher` (0-based) in phase `tag`.
  static std::string Id(char tag, int publisher, uint64_t seq);

  // Starts a new phase: forgets every pending message.
  void Reset(char tag);
  // A Publish call of (publisher, seq) starts at `at`; all recipients are missing.
  void Started(int publisher, uint64_t seq, Clock::time_point at);
  // The Publish call failed: nothing will be delivered.
  void Abandon(int publisher, uint64_t seq);
  // Recipient `recipient` (0-based) read the delivery of `message_id` at `at`.
  Seen Delivered(const std::string& message_id, int recipient, Clock::time_point at);
  // Deliveries expected but not read yet.
  int64_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    Clock::time_point started;
    uint64_t missing;  // bit r set: recipient r has not read it yet
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<uint64_t, Pending> pending ABSL_GUARDED_BY(mu);
  };

  // Constant after construction.
  const int recipients_;
  const uint64_t all_missing_;
  std::vector<std::unique_ptr<Shard>> shards_;  // one per publisher

  std::atomic<char> tag_{'?'};
  std::atomic<int64_t> outstanding_{0};
};

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_MESSAGE_TRACKER_H_
