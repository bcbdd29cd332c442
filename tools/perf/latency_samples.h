// Latency samples of one measured window and the quantiles reported from them.
//
// Not thread-safe: each thread records into its own LatencySamples (or under its
// own lock), and the samples are merged once the window has closed.
#ifndef SWITCHBOARD_TOOLS_PERF_LATENCY_SAMPLES_H_
#define SWITCHBOARD_TOOLS_PERF_LATENCY_SAMPLES_H_

#include <chrono>
#include <cstdint>
#include <vector>

namespace switchboard::tools::perf {

// Every duration in loadgen is taken from this one monotonic clock, in-process,
// so a publish start and a delivery read are directly comparable.
using Clock = std::chrono::steady_clock;

// Seconds between two time points, as a double.
inline double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

class LatencySamples {
 public:
  void Add(Clock::duration d) {
    nanos_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    sorted_ = false;
  }
  void Merge(const LatencySamples& other);
  void Clear() {
    nanos_.clear();
    sorted_ = true;
  }
  size_t count() const { return nanos_.size(); }

  // The q-quantile (0 < q <= 1, nearest rank) in milliseconds; 0 when there are
  // no samples. Sorts the samples on first use.
  double QuantileMs(double q);

 private:
  std::vector<int64_t> nanos_;
  bool sorted_ = true;
};

// Throughput and latency of one measured window of a baseline.
struct RateResult {
  double seconds = 0;       // length of the measured window
  uint64_t operations = 0;  // completed in the window
  double per_second = 0;
  double p50_ms = 0;  // latency of one operation
  double p99_ms = 0;
  double loadgen_cores = 0;  // CPU used by loadgen (both ends of the baseline)
  double other_cores = 0;    // CPU used by everything else on the machine
};

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_LATENCY_SAMPLES_H_
