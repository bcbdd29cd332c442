#include "tools/perf/gateway_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace switchboard::tools::perf {
namespace {

constexpr char kListening[] = "switchboard listening grpc=";

std::string Errno(absl::string_view what) { return absl::StrCat(what, ": ", std::strerror(errno)); }

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("ended with wait status ", status);
}

// fork + exec of argv with stdin from /dev/null and stdout/stderr on the given
// descriptors. Only async-signal-safe calls run between fork and exec (loadgen
// has threads by then).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd,
                            bool die_with_parent) {
  if (argv.empty()) return absl::InvalidArgumentError("spawn: empty command");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("'", argv[0], "' is not an executable file (", std::strerror(errno), ")"));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) return absl::UnavailableError(Errno("opening /dev/null"));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(devnull);
    return absl::UnavailableError(Errno("fork"));
  }
  if (pid == 0) {
    if (die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
    execv(args[0], args.data());
    _exit(127);
  }
  close(devnull);
  return pid;
}

std::string TailOf(const std::string& text, size_t lines) {
  std::deque<std::string> last;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    last.push_back(text.substr(start, end - start));
    if (last.size() > lines) last.pop_front();
    start = end + 1;
  }
  return absl::StrJoin(last, "\n");
}

}  // namespace

std::string FileTail(const std::string& path, size_t lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return TailOf(text, lines);
}

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::UnavailableError(Errno("pipe"));
  absl::StatusOr<pid_t> pid = Spawn(argv, fds[1], fds[1], /*die_with_parent=*/true);
  close(fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    return pid.status();
  }
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output;
  return absl::InternalError(absl::StrCat("'", absl::StrJoin(argv, " "), "' ",
                                          DescribeWaitStatus(status), "; its output ends:\n",
                                          TailOf(output, 15)));
}

absl::StatusOr<std::unique_ptr<GatewayProcess>> GatewayProcess::Start(const std::string& binary,
                                                                      const std::string& config,
                                                                      const std::string& log_dir,
                                                                      absl::Duration timeout) {
  auto gw = std::unique_ptr<GatewayProcess>(new GatewayProcess());
  gw->stderr_path_ = absl::StrCat(log_dir, "/gateway.stderr.log");
  gw->stdout_path_ = absl::StrCat(log_dir, "/gateway.stdout.log");
  const int err_fd = open(gw->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) return absl::UnavailableError(Errno(absl::StrCat("creating ", gw->stderr_path_)));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    close(err_fd);
    return absl::UnavailableError(Errno("pipe"));
  }
  absl::StatusOr<pid_t> pid =
      Spawn({binary, "--config", config}, fds[1], err_fd, /*die_with_parent=*/true);
  close(fds[1]);
  close(err_fd);
  if (!pid.ok()) {
    close(fds[0]);
    return absl::Status(pid.status().code(),
                        absl::StrCat("starting the gateway: ", pid.status().message()));
  }
  gw->pid_ = *pid;
  gw->stdout_fd_ = fds[0];

  // Read stdout until the listening line, watching for an early exit.
  const absl::Time deadline = absl::Now() + timeout;
  std::string seen;
  size_t line_end = std::string::npos;
  while (gw->address_.empty()) {
    if (gw->Reap(absl::ZeroDuration())) {
      return absl::UnavailableError(absl::StrCat("the gateway ", gw->Describe(),
                                                 " before it listened", gw->StderrTailText()));
    }
    if (absl::Now() > deadline) {
      return absl::UnavailableError(absl::StrCat("the gateway printed no listening line within ",
                                                 absl::FormatDuration(timeout),
                                                 gw->StderrTailText()));
    }
    pollfd p{gw->stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(gw->stdout_fd_, buf, sizeof(buf));
    if (n == 0) {  // stdout closed: it is exiting
      gw->Reap(absl::Seconds(5));
      return absl::UnavailableError(absl::StrCat("the gateway closed its stdout (",
                                                 gw->exited_ ? gw->Describe() : "still running",
                                                 ") before it listened", gw->StderrTailText()));
    }
    if (n < 0) continue;
    seen.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    while ((line_end = seen.find('\n', start)) != std::string::npos) {
      const std::string line = seen.substr(start, line_end - start);
      start = line_end + 1;
      if (absl::StartsWith(line, kListening)) {
        gw->address_ = line.substr(sizeof(kListening) - 1);
        break;
      }
    }
    seen.erase(0, start);
  }

  // The gateway may write more to stdout: keep draining it so it never blocks
  // (nor dies of SIGPIPE), into a file for the post-mortem.
  gw->stdout_copier_ = std::thread([fd = gw->stdout_fd_, path = gw->stdout_path_, rest = seen] {
    std::ofstream out(path, std::ios::binary);
    out << rest;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) {
        out.write(buf, n);
        out.flush();
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
  });
  return gw;
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    Reap(absl::Seconds(10));
  }
  if (stdout_copier_.joinable()) stdout_copier_.join();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool GatewayProcess::Reap(absl::Duration wait) {
  if (exited_) return true;
  const absl::Time deadline = absl::Now() + wait;
  for (;;) {
    const pid_t r = waitpid(pid_, &wait_status_, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return true;
    }
    if (r < 0 && errno != EINTR) {  // not our child any more: treat as gone
      exited_ = true;
      wait_status_ = 0;
      return true;
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

std::string GatewayProcess::Describe() const { return DescribeWaitStatus(wait_status_); }

std::string GatewayProcess::StderrTailText() const {
  return absl::StrCat("\n--- last lines of the gateway's stderr (", stderr_path_, ") ---\n",
                      FileTail(stderr_path_, 20));
}

absl::Status GatewayProcess::CheckRunning() {
  if (!Reap(absl::ZeroDuration())) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("the gateway (pid ", pid_, ") ", Describe(), StderrTailText()));
}

absl::Status GatewayProcess::Stop(absl::Duration timeout) {
  if (exited_ || Reap(absl::ZeroDuration())) {
    return absl::InternalError(
        absl::StrCat("the gateway had already ended: it ", Describe(), StderrTailText()));
  }
  if (kill(pid_, SIGTERM) != 0) return absl::InternalError(Errno("sending SIGTERM to the gateway"));
  if (!Reap(timeout)) {
    kill(pid_, SIGKILL);
    Reap(absl::Seconds(10));
    return absl::DeadlineExceededError(absl::StrCat("the gateway did not exit within ",
                                                    absl::FormatDuration(timeout),
                                                    " of SIGTERM; killed it", StderrTailText()));
  }
  if (WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("after SIGTERM the gateway ", Describe(), " (expected 0)", StderrTailText()));
}

}  // namespace switchboard::tools::perf
