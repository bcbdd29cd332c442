// loadgen: drives the real `switchboard` binary over mutual TLS and measures, in
// the same run and on the same machine, the baselines it is judged against.
//
//   tools/loadgen [--publishers 16] [--size 1024] [--fanout 3] [--seconds 10]
//                 [--warmup_seconds 2] [--rate R | --half] [--baselines=false] ...
//
// Steps: a work directory; certificates from tools/dev-ca; a gateway config whose
// seed makes every message fan out to exactly --fanout recipients; the gateway
// started (port 0) and load run (publishers + acknowledging pull subscribers);
// the gateway stopped with SIGTERM (it must exit 0); then bare synced RocksDB
// writes and a bare gRPC TLS echo with the same concurrency and size. Prints a
// Markdown table and one JSON line (see README.md). Exit status: 0 when every
// step worked (whether or not the targets are met), 1 when one failed, 2 for bad
// flags.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "switchboard/common/status_macros.h"
#include "tools/perf/bench_setup.h"
#include "tools/perf/echo_baseline.h"
#include "tools/perf/exchange_load.h"
#include "tools/perf/gateway_process.h"
#include "tools/perf/report.h"
#include "tools/perf/rocksdb_baseline.h"

ABSL_FLAG(int, publishers, 16,
          "Publishing members, one thread and one Publish in flight each (1..256).");
ABSL_FLAG(int, size, 1024,
          "Serialised bytes of each published message (and of each baseline value/request).");
ABSL_FLAG(int, fanout, 3, "Recipients of each message, one pull subscriber each (1..32).");
ABSL_FLAG(double, seconds, 10, "Length of each measured window.");
ABSL_FLAG(double, warmup_seconds, 2, "Load before each measured window that is not counted.");
ABSL_FLAG(int, members, 0,
          "Publishing members (organisations), each with one connection shared by its "
          "publishers (round robin; 0: one member per publisher).");
ABSL_FLAG(double, rate, 0, "Cap on publishes/s over all publishers (0: as fast as they go).");
ABSL_FLAG(bool, half, false,
          "Measure the peak, then run again at half of its delivered rate (latency target).");
ABSL_FLAG(int, window, 1024, "Unacknowledged deliveries each subscriber accepts (1..4096).");
ABSL_FLAG(double, drain_seconds, 60,
          "How long to wait after a phase for every published message to be delivered.");
ABSL_FLAG(bool, baselines, true, "Also measure bare synced RocksDB and bare gRPC TLS echo.");
ABSL_FLAG(std::string, switchboard, "", "The gateway binary (default: the one of this build).");
ABSL_FLAG(std::string, dev_ca, "", "tools/dev-ca (default: the one of this source tree).");
ABSL_FLAG(std::string, work_dir, "",
          "Directory for certificates, config, data and logs; must not exist or be empty "
          "(default: a new one under $TMPDIR). Its filesystem is what fsync is measured on.");
ABSL_FLAG(bool, keep, false, "Keep the work directory (it is always kept when a step fails).");
ABSL_FLAG(std::string, json_out, "", "Also write the JSON line to this file.");

namespace switchboard::tools::perf {
namespace {

namespace fs = std::filesystem;

struct Settings {
  int publishers, members, size, fanout, window;
  double seconds, warmup, rate, drain;
  bool half, baselines, keep;
  std::string switchboard, dev_ca, work_dir, json_out;
};

void Log(const std::string& line) { std::cerr << "loadgen: " << line << std::endl; }

bool IsExecutable(const std::string& path) {
  return !path.empty() && fs::is_regular_file(path) && access(path.c_str(), X_OK) == 0;
}

std::string SelfDir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

// The first executable candidate, or INVALID_ARGUMENT naming the flag.
absl::StatusOr<std::string> Locate(const std::string& flag, const std::string& given,
                                   const std::vector<std::string>& candidates) {
  if (!given.empty()) {
    if (IsExecutable(given)) return fs::absolute(given).string();
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": '", given, "' is not an executable file"));
  }
  for (const std::string& c : candidates) {
    if (IsExecutable(c)) return fs::absolute(c).lexically_normal().string();
  }
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not given, and none of ",
                                                 absl::StrJoin(candidates, ", "),
                                                 " is an executable file"));
}

absl::StatusOr<Settings> ReadFlags() {
  Settings s;
  s.publishers = absl::GetFlag(FLAGS_publishers);
  s.members = absl::GetFlag(FLAGS_members);
  if (s.members == 0) s.members = s.publishers;
  s.size = absl::GetFlag(FLAGS_size);
  s.fanout = absl::GetFlag(FLAGS_fanout);
  s.window = absl::GetFlag(FLAGS_window);
  s.seconds = absl::GetFlag(FLAGS_seconds);
  s.warmup = absl::GetFlag(FLAGS_warmup_seconds);
  s.rate = absl::GetFlag(FLAGS_rate);
  s.drain = absl::GetFlag(FLAGS_drain_seconds);
  s.half = absl::GetFlag(FLAGS_half);
  s.baselines = absl::GetFlag(FLAGS_baselines);
  s.keep = absl::GetFlag(FLAGS_keep);
  s.work_dir = absl::GetFlag(FLAGS_work_dir);
  s.json_out = absl::GetFlag(FLAGS_json_out);
  auto bad = [](const std::string& m) { return absl::InvalidArgumentError(m); };
  if (s.publishers < 1 || s.publishers > 256) {
    return bad(absl::StrCat("--publishers: ", s.publishers, " is outside 1..256"));
  }
  if (s.members < 1 || s.members > s.publishers) {
    return bad(absl::StrCat("--members: ", s.members, " is outside 1..--publishers"));
  }
  if (s.fanout < 1 || s.fanout > 32) {
    return bad(absl::StrCat("--fanout: ", s.fanout, " is outside 1..32"));
  }
  if (s.size < 1 || s.size > (1 << 20)) {
    return bad(absl::StrCat("--size: ", s.size, " is outside 1..1048576 bytes"));
  }
  if (s.window < 1 || s.window > 4096) {
    return bad(absl::StrCat("--window: ", s.window, " is outside 1..4096"));
  }
  if (!(s.seconds > 0 && s.seconds <= 3600)) {
    return bad(absl::StrCat("--seconds: ", s.seconds, " is outside (0, 3600]"));
  }
  if (!(s.warmup >= 0 && s.warmup <= 600)) {
    return bad(absl::StrCat("--warmup_seconds: ", s.warmup, " is outside [0, 600]"));
  }
  if (!(s.rate >= 0 && s.rate <= 1e7)) {
    return bad(absl::StrCat("--rate: ", s.rate, " is outside [0, 1e7]"));
  }
  if (!(s.drain >= 1 && s.drain <= 3600)) {
    return bad(absl::StrCat("--drain_seconds: ", s.drain, " is outside [1, 3600]"));
  }
  if (s.half && s.rate > 0) {
    return bad(
        "--half measures the peak and then runs at half of it; it cannot be combined with --rate");
  }
  // The message size is checked before anything is made.
  auto factory =
      MessageFactory::Create(MakeTopology(s.members, 1).publishers.back(), s.size, absl::Now());
  if (!factory.ok()) return factory.status();

  const std::string self = SelfDir();
  auto switchboard = Locate("switchboard", absl::GetFlag(FLAGS_switchboard),
                            {self + "/../../gateway/switchboard", SB_SWITCHBOARD_BINARY});
  if (!switchboard.ok()) return switchboard.status();
  s.switchboard = *switchboard;
  auto dev_ca =
      Locate("dev_ca", absl::GetFlag(FLAGS_dev_ca),
             {std::string(SB_SOURCE_DIR) + "/tools/dev-ca", self + "/../../../tools/dev-ca"});
  if (!dev_ca.ok()) return dev_ca.status();
  s.dev_ca = *dev_ca;
  return s;
}

absl::StatusOr<std::string> MakeWorkDir(const std::string& given) {
  if (given.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/loadgen-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(absl::StrCat("cannot create a directory like '", pattern, "'"));
    }
    return pattern;
  }
  std::error_code ec;
  if (fs::exists(given, ec) && !(fs::is_directory(given, ec) && fs::is_empty(given, ec))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--work_dir: '", given, "' exists and is not an empty directory"));
  }
  fs::create_directories(given, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("--work_dir: cannot create '", given, "': ", ec.message()));
  }
  return fs::absolute(given).string();
}

std::string HostDescription() {
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return absl::StrCat(std::thread::hardware_concurrency(), " CPUs", model.empty() ? "" : " (",
                      model, model.empty() ? "" : ")");
}

std::string CommandLine(int argc, char** argv) {
  const char* shown = getenv("SB_LOADGEN_ARGV0");  // set by tools/loadgen
  std::vector<std::string> words = {shown != nullptr && *shown != '\0' ? shown : argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string w = argv[i];
    if (w.find_first_of(" \t'\"$\\") != std::string::npos) w = absl::StrCat("'", w, "'");
    words.push_back(w);
  }
  return absl::StrJoin(words, " ");
}

// A failed step: the message says which one.
absl::Status Step(const std::string& step, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(step, ": ", s.message()));
}

// The gateway part: start, load, stop. Fills report.peak/half/problems.
absl::Status RunGateway(const Settings& s, const std::string& work, const Topology& topology,
                        RunReport& report) {
  const std::string config_path = work + "/switchboard.textproto";
  std::string config_text;
  const uint32_t max_bytes = std::max<uint32_t>(1 << 20, static_cast<uint32_t>(s.size) * 2);
  google::protobuf::TextFormat::PrintToString(MakeGatewayConfig(topology, max_bytes), &config_text);
  SB_RETURN_IF_ERROR(
      Step("writing the gateway config",
           WriteTextFile(config_path, absl::StrCat("# written by loadgen\n", config_text))));

  Log(absl::StrCat("starting ", s.switchboard, " --config ", config_path));
  auto gateway = GatewayProcess::Start(s.switchboard, config_path, work, absl::Seconds(60));
  if (!gateway.ok()) return Step("starting the gateway", gateway.status());
  Log(absl::StrCat("gateway pid ", (*gateway)->pid(), " listening at ", (*gateway)->address()));

  // When something fails with the gateway gone, its end is the real news.
  auto with_gateway = [&](const std::string& step, const absl::Status& st) {
    absl::Status running = (*gateway)->CheckRunning();
    if (running.ok()) return Step(step, st);
    return Step(step, absl::Status(st.code(), absl::StrCat(st.message(), "\n", running.message())));
  };

  ExchangeLoadOptions options;
  options.address = (*gateway)->address();
  options.certs_dir = work + "/certs";
  options.topology = topology;
  options.publishers = s.publishers;
  options.size = s.size;
  options.window = static_cast<uint32_t>(s.window);
  options.occurred_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) - 60);
  options.gateway_pid = (*gateway)->pid();
  auto load = ExchangeLoad::Start(options);
  if (!load.ok()) return with_gateway("connecting publishers and subscribers", load.status());

  PhaseOptions phase;
  phase.tag = 'a';
  phase.warmup = absl::Seconds(s.warmup);
  phase.measure = absl::Seconds(s.seconds);
  phase.rate = s.rate;
  phase.drain_timeout = absl::Seconds(s.drain);
  Log(absl::StrFormat("phase %s: %d publishers, warm-up %g s, measuring %g s%s",
                      s.rate > 0 ? "capped" : "peak", s.publishers, s.warmup, s.seconds,
                      s.rate > 0 ? absl::StrFormat(", at most %g publishes/s", s.rate) : ""));
  auto peak = (*load)->RunPhase(phase);
  if (!peak.ok()) return with_gateway("running the load", peak.status());
  report.peak = *peak;
  if (peak->undelivered > 0) {
    report.problems.push_back(absl::StrCat(peak->undelivered, " deliveries had not arrived ",
                                           s.drain, " s after the publishers stopped"));
  }
  if (s.half) {
    phase.tag = 'b';
    phase.rate = peak->messages_delivered_per_s / 2;
    if (phase.rate <= 0) {
      return Step("half of peak", absl::FailedPreconditionError("the peak delivered nothing"));
    }
    Log(absl::StrFormat("phase half: %.0f publishes/s (half of the peak's %.0f msgs/s delivered)",
                        phase.rate, peak->messages_delivered_per_s));
    auto half = (*load)->RunPhase(phase);
    if (!half.ok()) return with_gateway("running the load at half of peak", half.status());
    report.half = *half;
    if (half->undelivered > 0) {
      report.problems.push_back(absl::StrCat(half->undelivered,
                                             " deliveries (half of peak) had not arrived ", s.drain,
                                             " s after the publishers stopped"));
    }
  }
  SB_RETURN_IF_ERROR(with_gateway("closing the subscriptions", (*load)->Close()));
  load->reset();
  Log("stopping the gateway (SIGTERM)");
  return Step("stopping the gateway", (*gateway)->Stop(absl::Seconds(60)));
}

absl::Status RunBaselines(const Settings& s, const std::string& work, const Topology& topology,
                          RunReport& report) {
  Log(absl::StrFormat("baseline: bare RocksDB, %d writers, WriteBatch of %d x %d B, sync",
                      s.publishers, s.fanout + 1, s.size));
  RocksDbBaselineOptions db;
  db.dir = work + "/rocksdb-baseline";
  db.writers = s.publishers;
  db.values_per_batch = s.fanout + 1;
  db.value_size = s.size;
  db.warmup = absl::Seconds(s.warmup);
  db.measure = absl::Seconds(s.seconds);
  auto rocksdb = RunRocksDbBaseline(db);
  if (!rocksdb.ok()) return Step("bare RocksDB baseline", rocksdb.status());
  report.rocksdb = *rocksdb;

  Log(absl::StrFormat("baseline: bare gRPC TLS unary echo, %d callers, %d B", s.publishers,
                      s.size));
  EchoBaselineOptions echo;
  echo.certs_dir = work + "/certs";
  for (int i = 0; i < s.publishers; ++i) {
    echo.callers.push_back(topology.publishers[static_cast<size_t>(i) % topology.publishers.size()]);
  }
  echo.size = s.size;
  echo.warmup = absl::Seconds(s.warmup);
  echo.measure = absl::Seconds(s.seconds);
  auto echoed = RunEchoBaseline(echo);
  if (!echoed.ok()) return Step("bare gRPC TLS echo baseline", echoed.status());
  report.echo = *echoed;
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "tools/loadgen [--publishers N] [--size BYTES] [--fanout F] [--seconds S] [--rate R | "
      "--half]\n"
      "Drives the real switchboard binary over TLS and compares it with bare synced RocksDB\n"
      "writes and a bare gRPC TLS echo measured in the same run (tools/perf/README.md).");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "loadgen: unexpected argument '" << rest[1] << "' (flags are --name value)\n";
    return 2;
  }
  auto settings = ReadFlags();
  if (!settings.ok()) {
    std::cerr << "loadgen: " << settings.status().message() << "\n";
    return 2;
  }
  const Settings& s = *settings;

  RunReport report;
  report.command = CommandLine(argc, argv);
  report.host = HostDescription();
  report.started_at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  report.publishers = s.publishers;
  report.members = s.members;
  report.size = s.size;
  report.fanout = s.fanout;
  report.seconds = s.seconds;
  report.warmup_seconds = s.warmup;
  report.window = static_cast<uint32_t>(s.window);

  auto work = MakeWorkDir(s.work_dir);
  if (!work.ok()) {
    std::cerr << "loadgen: " << work.status().message() << "\n";
    return work.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  Log(absl::StrCat("work directory ", *work));
  const Topology topology = MakeTopology(s.members, s.fanout);

  absl::Status status = [&]() -> absl::Status {
    Log(absl::StrCat("making certificates with ", s.dev_ca, " (",
                     topology.publishers.size() + topology.recipients.size() + 1, " members)"));
    SB_RETURN_IF_ERROR(MakeCertificates(s.dev_ca, *work + "/certs", topology));
    SB_RETURN_IF_ERROR(RunGateway(s, *work, topology, report));
    if (s.baselines) SB_RETURN_IF_ERROR(RunBaselines(s, *work, topology, report));
    return absl::OkStatus();
  }();
  if (!status.ok()) report.problems.push_back(std::string(status.message()));

  std::cout << MarkdownReport(report) << "\n" << JsonReport(report) << std::endl;
  if (!s.json_out.empty()) {
    absl::Status written = WriteTextFile(s.json_out, JsonReport(report) + "\n");
    if (!written.ok()) {
      Log(absl::StrCat("--json_out: ", written.message()));
      report.problems.push_back(std::string(written.message()));
    }
  }
  if (!report.problems.empty()) {
    Log(absl::StrCat("FAILED: ", report.problems.front()));
    Log(absl::StrCat("the work directory is kept for inspection: ", *work));
    return 1;
  }
  if (s.keep) {
    Log(absl::StrCat("work directory kept: ", *work));
  } else {
    std::error_code ec;
    fs::remove_all(*work, ec);
  }
  return 0;
}

}  // namespace
}  // namespace switchboard::tools::perf

int main(int argc, char** argv) { return switchboard::tools::perf::Main(argc, argv); }
