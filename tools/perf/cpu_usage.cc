#include "tools/perf/cpu_usage.h"

#include <algorithm>

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace switchboard::tools::perf {

CpuSample SampleCpu(pid_t pid) {
  CpuSample sample;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (tick <= 0) return sample;
  // /proc/PID/stat: "pid (comm) state ..." with utime and stime the 14th and 15th
  // fields; comm may hold spaces, so count from the closing parenthesis.
  std::ifstream stat(pid == 0 ? std::string("/proc/self/stat")
                              : absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return sample;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return sample;
  std::istringstream fields(line.substr(paren + 2));
  std::string skip;
  for (int i = 3; i <= 13; ++i) fields >> skip;  // state .. cmajflt
  unsigned long long utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return sample;
  sample.process_seconds = static_cast<double>(utime + stime) / tick;

  // /proc/stat: "cpu user nice system idle iowait irq softirq steal ..."
  std::ifstream all("/proc/stat");
  std::string cpu;
  unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
  if (!(all >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return sample;
  }
  sample.machine_busy_seconds =
      static_cast<double>(user + nice + system + irq + softirq + steal) / tick;
  sample.ok = true;
  return sample;
}

CpuUse CpuBetween(const CpuSample& from, const CpuSample& to, double seconds) {
  CpuUse use;
  if (!from.ok || !to.ok || seconds <= 0) return use;
  use.process_cores = (to.process_seconds - from.process_seconds) / seconds;
  use.machine_cores = (to.machine_busy_seconds - from.machine_busy_seconds) / seconds;
  return use;
}

RateResult SummariseRate(uint64_t operations, LatencySamples& latency, double seconds,
                         const CpuSample& cpu_begin, const CpuSample& cpu_end) {
  RateResult result;
  result.operations = operations;
  result.seconds = seconds;
  const CpuUse cpu = CpuBetween(cpu_begin, cpu_end, seconds);
  result.loadgen_cores = cpu.process_cores;
  result.other_cores = std::max(0.0, cpu.machine_cores - cpu.process_cores);
  result.per_second = static_cast<double>(operations) / seconds;
  result.p50_ms = latency.QuantileMs(0.50);
  result.p99_ms = latency.QuantileMs(0.99);
  return result;
}

}  // namespace switchboard::tools::perf
