// Baseline 1: what this machine's disk and RocksDB give without the gateway.
// `writers` threads each write, in a loop, a WriteBatch of `values_per_batch`
// values of `value_size` bytes with WriteOptions::sync (the WAL fsynced before
// Write returns), to a fresh database. RocksDB merges concurrent writers into one
// WAL write and sync (group commit), as the gateway's committer does.
//
// Thread-compatible (one call at a time).
#ifndef SWITCHBOARD_TOOLS_PERF_ROCKSDB_BASELINE_H_
#define SWITCHBOARD_TOOLS_PERF_ROCKSDB_BASELINE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/perf/latency_samples.h"

namespace switchboard::tools::perf {

struct RocksDbBaselineOptions {
  std::string dir;  // must not exist yet; left behind for the caller to remove
  int writers = 16;
  int values_per_batch = 4;
  int value_size = 1024;
  absl::Duration warmup;
  absl::Duration measure;
};

// Batches per second (and per-batch Write latency) in the measured window.
// UNAVAILABLE when the database cannot be opened or a write fails.
absl::StatusOr<RateResult> RunRocksDbBaseline(const RocksDbBaselineOptions& options);

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_ROCKSDB_BASELINE_H_
