// CPU time from /proc: of one process (loadgen itself, the gateway) and of the
// whole machine, so a report can say how busy each was during a measured window
// and whether other work on the machine competed for its cores.
//
// Thread-safe (reads /proc only).
#ifndef SWITCHBOARD_TOOLS_PERF_CPU_USAGE_H_
#define SWITCHBOARD_TOOLS_PERF_CPU_USAGE_H_

#include <sys/types.h>

#include <cstdint>

#include "tools/perf/latency_samples.h"

namespace switchboard::tools::perf {

struct CpuSample {
  double process_seconds = 0;       // user + system time of the process so far
  double machine_busy_seconds = 0;  // all CPUs, everything but idle and iowait
  bool ok = false;                  // false when /proc could not be read (then all figures are 0)
};

// `pid` 0 means loadgen itself.
CpuSample SampleCpu(pid_t pid);

// Cores used between two samples over `seconds` of wall time.
struct CpuUse {
  double process_cores = 0;
  double machine_cores = 0;
};
CpuUse CpuBetween(const CpuSample& from, const CpuSample& to, double seconds);

// A baseline's figures: `operations` done in `seconds`, their latencies, and the
// CPU used by loadgen (both ends of the baseline) and by the rest of the machine.
// Sorts `latency` (for its quantiles).
RateResult SummariseRate(uint64_t operations, LatencySamples& latency, double seconds,
                         const CpuSample& cpu_begin, const CpuSample& cpu_end);

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_CPU_USAGE_H_
