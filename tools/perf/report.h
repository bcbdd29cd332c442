// What loadgen prints: a Markdown table of the gateway against the machine's own
// baselines (the README's table is pasted from it), the ratio the design targets,
// and one JSON line with every figure so the table can be regenerated.
//
// Thread-safe (pure functions).
#ifndef SWITCHBOARD_TOOLS_PERF_REPORT_H_
#define SWITCHBOARD_TOOLS_PERF_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "tools/perf/exchange_load.h"
#include "tools/perf/latency_samples.h"

namespace switchboard::tools::perf {

// Targets of DESIGN.md ("Performance targets").
inline constexpr double kRatioTarget = 0.5;         // publish→deliver / synced RocksDB
inline constexpr double kHalfPeakP99TargetMs = 20;  // publish→delivery p99 at half peak

struct RunReport {
  std::string command;     // as typed
  std::string host;        // CPUs and model
  std::string started_at;  // UTC, RFC 3339
  int publishers = 0;
  int members = 0;  // publishing organisations (one connection each)
  int size = 0;
  int fanout = 0;
  double seconds = 0;
  double warmup_seconds = 0;
  uint32_t window = 0;
  std::optional<PhaseResult> peak;  // uncapped, or capped by --rate
  std::optional<PhaseResult> half;  // --half: at half of peak's delivered rate
  std::optional<RateResult> rocksdb;
  std::optional<RateResult> echo;
  std::vector<std::string> problems;  // anything that makes the run invalid
};

// publish→deliver messages/s over synced RocksDB batches/s; nullopt unless both ran.
std::optional<double> RocksDbRatio(const RunReport& report);

std::string MarkdownReport(const RunReport& report);
std::string JsonReport(const RunReport& report);  // one line, no newline

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_REPORT_H_
