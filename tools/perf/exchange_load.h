// The load on the real gateway: one publisher thread per publishing member, each
// calling Exchange.Publish with one call in flight (so concurrency = publishers,
// as in the RocksDB baseline), and one Subscribe stream per recipient that
// acknowledges every delivery. A phase is a warm-up, a measured window, then a
// drain until every published message has reached all its recipients.
//
// Measured, for the window: receipts returned (publishes/s), deliveries read and
// acknowledged (deliveries/s), messages read by all their recipients (messages
// delivered/s), and per delivery the time from the start of its Publish call to
// its read by the subscriber.
//
// Thread-compatible: one thread runs phases; the publishers and subscribers are
// internal threads.
#ifndef SWITCHBOARD_TOOLS_PERF_EXCHANGE_LOAD_H_
#define SWITCHBOARD_TOOLS_PERF_EXCHANGE_LOAD_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "switchboard/v1/exchange.grpc.pb.h"
#include "tools/perf/bench_setup.h"
#include "tools/perf/message_tracker.h"
#include "tools/perf/subscriber.h"

namespace switchboard::tools::perf {

struct ExchangeLoadOptions {
  std::string address;    // the gateway, HOST:PORT
  std::string certs_dir;  // ca.pem and ORG.pem/.key of every member
  Topology topology;
  int publishers = 1;      // threads, one Publish in flight each, round robin over members
  int size = 1024;         // serialised bytes of each published message
  uint32_t window = 1024;  // unacknowledged deliveries each subscriber accepts
  absl::Time occurred_at;  // header.occurred_at of every message
  pid_t gateway_pid = 0;   // for its CPU use (0: not measured)
};

struct PhaseOptions {
  char tag = 'a';  // first character of this phase's message ids; unique per phase
  absl::Duration warmup;
  absl::Duration measure;
  double rate = 0;  // publishes/s over all publishers; 0: each as fast as it can
  absl::Duration drain_timeout;
};

struct PhaseResult {
  double seconds = 0;               // length of the measured window
  double rate_cap = 0;              // PhaseOptions::rate
  uint64_t publishes = 0;           // receipts returned in the window
  uint64_t deliveries = 0;          // deliveries read (and acknowledged) in the window
  uint64_t messages_delivered = 0;  // messages whose last recipient read them in the window
  double publishes_per_s = 0;
  double deliveries_per_s = 0;
  double messages_delivered_per_s = 0;
  double latency_p50_ms = 0;  // Publish start -> delivery read (window's deliveries)
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  double receipt_p50_ms = 0;  // Publish start -> receipt (window's receipts)
  double receipt_p99_ms = 0;
  int64_t backlog_at_end = 0;  // deliveries published but unread when the window closed
  double drain_seconds = 0;    // after the publishers stopped, until all were read
  int64_t undelivered = 0;     // still unread when the drain timed out (0: all arrived)
  uint64_t duplicates = 0;     // deliveries read twice by one recipient (window)
  uint64_t unknown = 0;        // deliveries matching no pending message (window)
  double gateway_cores = 0;    // CPU used in the window by the gateway,
  double loadgen_cores = 0;    // by loadgen (publishers and subscribers),
  double other_cores = 0;      // and by everything else on the machine
};

class ExchangeLoad {
 public:
  // Connects every member (waiting up to 10 s for each TLS connection) and opens
  // the subscriptions. UNAVAILABLE names the member that could not connect.
  static absl::StatusOr<std::unique_ptr<ExchangeLoad>> Start(ExchangeLoadOptions options);
  ExchangeLoad(const ExchangeLoad&) = delete;
  ExchangeLoad& operator=(const ExchangeLoad&) = delete;
  ~ExchangeLoad();  // Close()s.

  // Runs one phase. Errors: the first failed Publish (naming publisher, message
  // and status), a receipt routed to the wrong number of recipients, or a
  // subscription the gateway ended. A drain that times out is not an error
  // here: it is PhaseResult::undelivered.
  absl::StatusOr<PhaseResult> RunPhase(const PhaseOptions& phase);

  // Closes every subscription (see Subscriber::Close); the first error, if any.
  absl::Status Close();

 private:
  explicit ExchangeLoad(ExchangeLoadOptions options);

  struct Publisher {
    std::string organisation;
    std::unique_ptr<v1::Exchange::Stub> stub;
    std::unique_ptr<MessageFactory> factory;
    uint64_t next_seq = 1;
  };

  // Constant after construction.
  const ExchangeLoadOptions options_;

  MessageTracker tracker_;
  MeasuredWindow measured_;
  std::vector<Publisher> publishers_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
};

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_EXCHANGE_LOAD_H_
