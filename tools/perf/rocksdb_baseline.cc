#include "tools/perf/rocksdb_baseline.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "tools/perf/cpu_usage.h"

namespace switchboard::tools::perf {

absl::StatusOr<RateResult> RunRocksDbBaseline(const RocksDbBaselineOptions& o) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  // As the gateway's store (gateway/store/store.cc) sets them, so that only the
  // gateway's own work separates the two.
  options.compression = rocksdb::kNoCompression;
  options.write_buffer_size = 32 << 20;
  options.max_background_jobs = 2;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, o.dir, &raw);
  if (!opened.ok()) {
    return absl::UnavailableError(
        absl::StrCat("opening RocksDB in '", o.dir, "': ", opened.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);

  const Clock::time_point begin = Clock::now() + absl::ToChronoNanoseconds(o.warmup);
  const Clock::time_point end = begin + absl::ToChronoNanoseconds(o.measure);
  struct Outcome {
    uint64_t batches = 0;
    LatencySamples latency;
    std::string error;
  };
  std::vector<Outcome> outcomes(static_cast<size_t>(o.writers));
  std::atomic<bool> abort{false};
  auto write_loop = [&](int w) {
    Outcome& out = outcomes[static_cast<size_t>(w)];
    std::string value(static_cast<size_t>(o.value_size), 'v');
    for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + (i * 7 + w) % 26);
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    rocksdb::WriteBatch batch;
    for (uint64_t seq = 0; !abort.load(std::memory_order_relaxed); ++seq) {
      const Clock::time_point started = Clock::now();
      if (started >= end) break;
      batch.Clear();
      for (int v = 0; v < o.values_per_batch; ++v) {
        value[0] = static_cast<char>('a' + seq % 26);  // no two values alike
        batch.Put(absl::StrFormat("w%03d/%012d/%02d", w, seq, v), value);
      }
      const rocksdb::Status s = db->Write(write_options, &batch);
      const Clock::time_point done = Clock::now();
      if (!s.ok()) {
        out.error = s.ToString();
        abort.store(true);
        break;
      }
      if (done >= begin && done < end) {
        ++out.batches;
        out.latency.Add(done - started);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < o.writers; ++w) threads.emplace_back(write_loop, w);
  std::this_thread::sleep_until(begin);
  const CpuSample cpu_begin = SampleCpu(0);
  std::this_thread::sleep_until(end);
  const CpuSample cpu_end = SampleCpu(0);
  for (std::thread& t : threads) t.join();

  uint64_t operations = 0;
  LatencySamples latency;
  for (const Outcome& out : outcomes) {
    if (!out.error.empty()) {
      return absl::UnavailableError(absl::StrCat("synced RocksDB write failed: ", out.error));
    }
    operations += out.batches;
    latency.Merge(out.latency);
  }
  rocksdb::Status closed = db->Close();
  if (!closed.ok()) {
    return absl::UnavailableError(absl::StrCat("closing RocksDB: ", closed.ToString()));
  }
  return SummariseRate(operations, latency, SecondsBetween(begin, end), cpu_begin, cpu_end);
}

}  // namespace switchboard::tools::perf
