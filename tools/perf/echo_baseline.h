// Baseline 2: what gRPC with mutual TLS costs on this machine without the
// gateway. An in-process server (callback API) with the gateway's certificate,
// requiring and verifying client certificates from the same dev CA, answers a
// unary Echo; `callers` threads, each on its own connection with its own member
// certificate, call it back to back with a request of `size` serialised bytes.
// Client and server share the machine's cores, as loadgen and the gateway do.
//
// Thread-compatible (one call at a time).
#ifndef SWITCHBOARD_TOOLS_PERF_ECHO_BASELINE_H_
#define SWITCHBOARD_TOOLS_PERF_ECHO_BASELINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/perf/latency_samples.h"

namespace switchboard::tools::perf {

struct EchoBaselineOptions {
  std::string certs_dir;             // ca.pem, gateway.pem/.key, ORG.pem/.key
  std::vector<std::string> callers;  // one member per calling thread
  int size = 1024;
  absl::Duration warmup;
  absl::Duration measure;
};

// Calls per second (and per-call latency) in the measured window. UNAVAILABLE
// when the server cannot start or a caller cannot connect; the first failed call
// otherwise.
absl::StatusOr<RateResult> RunEchoBaseline(const EchoBaselineOptions& options);

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_ECHO_BASELINE_H_
