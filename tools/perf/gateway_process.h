// Child processes of loadgen: running a helper (tools/dev-ca) to completion, and
// the real `switchboard` binary, started and stopped the way an operator would
// (its stdout line "switchboard listening grpc=HOST:PORT" says it serves; SIGTERM
// drains it and it must exit 0).
//
// Thread-compatible: one thread drives a GatewayProcess (an internal thread only
// copies the gateway's stdout to a file after the listening line).
#ifndef SWITCHBOARD_TOOLS_PERF_GATEWAY_PROCESS_H_
#define SWITCHBOARD_TOOLS_PERF_GATEWAY_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace switchboard::tools::perf {

// Runs argv[0] (a path) with argv[1..] and waits for it. Returns its combined
// stdout and stderr when it exits 0; otherwise UNAVAILABLE (it could not be
// started) or INTERNAL naming the exit status and quoting the output's tail.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv);

// The last `lines` lines of a text file ("" when it cannot be read).
std::string FileTail(const std::string& path, size_t lines);

class GatewayProcess {
 public:
  // Starts `binary --config config` with stderr to `log_dir`/gateway.stderr.log
  // and stdout after the listening line to `log_dir`/gateway.stdout.log, and
  // waits up to `timeout` for the listening line. The child is killed when
  // loadgen dies. Errors: NOT_FOUND (binary missing or not executable),
  // UNAVAILABLE (it exited or stayed silent; the message quotes its stderr).
  static absl::StatusOr<std::unique_ptr<GatewayProcess>> Start(const std::string& binary,
                                                               const std::string& config,
                                                               const std::string& log_dir,
                                                               absl::Duration timeout);
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;
  ~GatewayProcess();  // SIGKILLs a gateway that is still running.

  // Where it listens, as printed: "HOST:PORT".
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  const std::string& stderr_path() const { return stderr_path_; }

  // OK while it runs; UNAVAILABLE naming how it ended (with its stderr tail).
  absl::Status CheckRunning();

  // Sends SIGTERM and waits up to `timeout` for the exit. OK iff it exited 0;
  // otherwise INTERNAL with the exit status (or DEADLINE_EXCEEDED, after which
  // it is killed) and its stderr tail.
  absl::Status Stop(absl::Duration timeout);

 private:
  GatewayProcess() = default;
  // Reaps the child if it has exited (waiting up to `wait`); true when it has.
  bool Reap(absl::Duration wait);
  std::string Describe() const;        // "exited with status N" / "was killed by signal S"
  std::string StderrTailText() const;  // a heading and the last lines of stderr

  pid_t pid_ = -1;
  bool exited_ = false;
  int wait_status_ = 0;
  int stdout_fd_ = -1;
  std::string address_;
  std::string stderr_path_;
  std::string stdout_path_;
  std::thread stdout_copier_;
};

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_GATEWAY_PROCESS_H_
