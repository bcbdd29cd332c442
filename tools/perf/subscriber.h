// One recipient's pull subscription: an Exchange.Subscribe stream whose reader
// thread matches each delivery against the MessageTracker and whose writer thread
// acknowledges every delivery (the ids read while the previous Ack was being
// written go out together in the next one).
//
// Counts and latencies are kept only for deliveries read inside the current
// measured window (MeasuredWindow), so phases can run back to back on one stream.
//
// Thread-safe.
#ifndef SWITCHBOARD_TOOLS_PERF_SUBSCRIBER_H_
#define SWITCHBOARD_TOOLS_PERF_SUBSCRIBER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "switchboard/v1/exchange.grpc.pb.h"
#include "tools/perf/latency_samples.h"
#include "tools/perf/message_tracker.h"

namespace switchboard::tools::perf {

// The measured part of a phase, [begin, end) on Clock. Empty until Set().
class MeasuredWindow {
 public:
  void Set(Clock::time_point begin, Clock::time_point end) {
    begin_.store(begin.time_since_epoch().count());
    end_.store(end.time_since_epoch().count());
  }
  void Clear() { Set(Clock::time_point::max(), Clock::time_point::max()); }
  bool Contains(Clock::time_point t) const {
    const auto n = t.time_since_epoch().count();
    return n >= begin_.load(std::memory_order_relaxed) && n < end_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<Clock::rep> begin_{Clock::time_point::max().time_since_epoch().count()};
  std::atomic<Clock::rep> end_{Clock::time_point::max().time_since_epoch().count()};
};

// What one subscriber saw inside the measured window.
struct SubscriberStats {
  uint64_t deliveries = 0;          // expected deliveries read (each acknowledged)
  uint64_t messages_completed = 0;  // of which the last missing recipient of a message
  uint64_t duplicates = 0;          // read again by the same recipient
  uint64_t unknown = 0;             // matched no pending message, or addressed to another
  LatencySamples since_publish;     // Publish call start -> delivery read
};

class Subscriber {
 public:
  // `index` is the recipient's index in the tracker; `window` is asked of the
  // gateway with the call (metadata `sb-window`) and in the first Ack.
  Subscriber(int index, std::string organisation, std::shared_ptr<grpc::Channel> channel,
             MessageTracker* tracker, const MeasuredWindow* measured, uint32_t window);
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  ~Subscriber();  // Close()s.

  // Opens the stream and starts the reader and writer threads.
  void Start();

  // Zeroes the window's figures / returns them (call after the window closed).
  void ResetStats();
  SubscriberStats TakeStats();

  // True once the gateway ended the stream (expected only after Close()).
  bool ended() const { return ended_.load(); }

  // Sends the last acks, half-closes and waits (up to 30 s, then cancels) for the
  // gateway to end the stream, which it does only once the acks are durable. OK
  // iff the stream ended OK; otherwise the gRPC status, naming the recipient.
  // Idempotent.
  absl::Status Close();

  const std::string& organisation() const { return organisation_; }

 private:
  void ReadLoop();
  void AckLoop();
  bool AckReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const int index_;
  const std::string organisation_;
  const std::unique_ptr<v1::Exchange::Stub> stub_;
  MessageTracker* const tracker_;
  const MeasuredWindow* const measured_;
  const uint32_t window_;

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::Ack, v1::Delivery>> stream_;
  std::thread reader_;
  std::thread writer_;
  std::atomic<bool> ended_{false};

  absl::Mutex mu_;
  std::vector<std::string> to_ack_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish() has returned
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
  absl::Status close_status_ ABSL_GUARDED_BY(mu_);
  SubscriberStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_SUBSCRIBER_H_
