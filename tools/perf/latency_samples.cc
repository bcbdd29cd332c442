#include "tools/perf/latency_samples.h"

#include <algorithm>
#include <cmath>

namespace switchboard::tools::perf {

void LatencySamples::Merge(const LatencySamples& other) {
  nanos_.insert(nanos_.end(), other.nanos_.begin(), other.nanos_.end());
  sorted_ = nanos_.empty();
}

double LatencySamples::QuantileMs(double q) {
  if (nanos_.empty()) return 0;
  if (!sorted_) {
    std::sort(nanos_.begin(), nanos_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least q of the samples at or below it.
  const double rank = std::ceil(q * static_cast<double>(nanos_.size()));
  const size_t index = std::clamp<size_t>(static_cast<size_t>(rank), 1, nanos_.size()) - 1;
  return static_cast<double>(nanos_[index]) / 1e6;
}

}  // namespace switchboard::tools::perf
