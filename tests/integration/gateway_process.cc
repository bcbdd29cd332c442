#include "tests/integration/gateway_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tests/integration/test_pki.h"

extern char** environ;

namespace switchboard::testing {

std::string TestConfig(const std::string& data_dir, const GatewayOptions& o) {
  const TestPki& pki = TestPki::Get();
  std::string seed;
  auto org = [&](const char* id, const char* role) {
    absl::StrAppend(&seed, "  organisations { id: \"", id, "\" display_name: \"", id,
                    "\" roles: ", role, " certificate_san: \"", TestPki::San(id), "\" }\n");
  };
  org("st-marys", "HOSPITAL");
  org("harbour-housing", "AGENCY");
  org("northside-family", "AGENCY");
  org("care-coord", "COORDINATOR");
  org("admin", "ADMIN");
  org("eastside-mh", "AGENCY");  // a member involved with nobody
  absl::StrAppend(&seed, R"(
  subscriptions { organisation_id: "care-coord" event_codes: "discharge" }
  clients {
    id: "client-a"
    identifiers { system: "https://st-marys.example.org/fhir/mrn" value: "MRN-1" }
    identifiers { system: "https://harbour-housing.example.org/case" value: "HH-1" }
  }
  clients {
    id: "client-b"
    identifiers { system: "https://st-marys.example.org/fhir/mrn" value: "MRN-2" }
  }
  clients {
    id: "client-c"
    identifiers { system: "https://st-marys.example.org/fhir/mrn" value: "MRN-3" }
  }
  care_teams {
    client_id: "client-a"
    members { organisation_id: "st-marys" role: "hospital" }
    members { organisation_id: "harbour-housing" role: "housing-support" }
    members { organisation_id: "northside-family" role: "family-support" }
  }
  care_teams {
    client_id: "client-b"
    members { organisation_id: "st-marys" role: "hospital" }
    members { organisation_id: "harbour-housing" role: "housing-support" }
  }
)",
                  o.extra_seed);
  return absl::StrFormat(
      R"(listen { grpc_address: "127.0.0.1:0" %s%s%s}
tls { ca_cert_file: "%s" server_cert_file: "%s" server_key_file: "%s" }
data_dir: "%s"
limits { max_message_bytes: %d max_destinations: 8 }
delivery { default_window: %d max_window: 1024 ack_timeout_ms: %d }
shutdown_grace_ms: 3000
event_types { code: "discharge" payload: DISCHARGE_NOTE }
event_types { code: "case-note" payload: CASE_NOTE }
event_types { code: "referral" payload: REFERRAL }
event_types { code: "care-plan-change" payload: CARE_PLAN_CHANGE }
event_types { code: "consent-change" payload: CONSENT_CHANGE }
%s
%s
seed {
%s}
)",
      o.mllp ? R"(mllp_address: "127.0.0.1:0" )" : "",
      o.https ? R"(https_address: "127.0.0.1:0" )" : "",
      o.read_timeout_ms == 0 ? "" : absl::StrCat("read_timeout_ms: ", o.read_timeout_ms, " "),
      pki.ca(), pki.gateway_cert(),
      pki.gateway_key(), data_dir, o.max_message_bytes, o.default_window, o.ack_timeout_ms,
      o.sharing_policy.empty() ? "" : "sharing_policy_file: \"sharing-policy.textproto\"",
      o.extra_config, seed);
}

GatewayProcess::GatewayProcess(std::string dir, GatewayOptions options)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      data_dir_(dir_ + "/data"),
      config_path_(dir_ + "/switchboard.textproto"),
      stderr_path_(dir_ + "/switchboard.stderr") {}

GatewayProcess::~GatewayProcess() {
  if (running()) Kill();
}

std::string GatewayProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string GatewayProcess::StderrTail(size_t bytes) const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

absl::Status GatewayProcess::Start(absl::Duration timeout) {
  if (running()) return absl::FailedPreconditionError("already running");
  if (access(config_path_.c_str(), F_OK) != 0) {
    std::ofstream(config_path_) << (options_.config_text.empty() ? TestConfig(data_dir_, options_)
                                                                 : options_.config_text);
    if (!options_.sharing_policy.empty()) {
      std::ofstream(dir_ + "/sharing-policy.textproto") << options_.sharing_policy;
    }
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  const int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const std::string binary = BinaryDir() + "/gateway/switchboard";
  std::string config_flag = "--config=" + config_path_;
  char* argv[] = {const_cast<char*>(binary.c_str()), config_flag.data(), nullptr};
  const pid_t parent = getpid();
  // fork + exec rather than posix_spawn: the child must die with the test
  // (PR_SET_PDEATHSIG), or a crashed test would leave gateways running. Only
  // async-signal-safe calls between fork and exec.
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(out[1], STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execve(binary.c_str(), argv, environ);
    _exit(127);
  }
  close(out[1]);
  close(err);
  if (pid_ < 0) {
    close(out[0]);
    pid_ = -1;
    return absl::InternalError(absl::StrCat("cannot start ", binary));
  }
  stdout_fd_ = out[0];

  // Wait for "switchboard listening grpc=HOST:PORT".
  std::string line;
  const absl::Time deadline = absl::Now() + timeout;
  while (line.find('\n') == std::string::npos) {
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{stdout_fd_, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) {
      Kill();
      return absl::DeadlineExceededError(
          absl::StrCat("gateway did not start in time; stderr:\n", StderrTail()));
    }
    char buf[256];
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) {
      int status = 0;
      (void)Wait(absl::Seconds(10), &status);
      return absl::UnavailableError(absl::StrCat("gateway exited (status ", status,
                                                 ") before listening; stderr:\n", StderrTail()));
    }
    line.append(buf, static_cast<size_t>(n));
  }
  line = line.substr(0, line.find('\n'));
  // "switchboard listening grpc=HOST:PORT[ mllp=HOST:PORT][ https=HOST:PORT]"
  auto value_of = [&line](const std::string& key) -> std::string {
    const size_t at = line.find(key);
    if (at == std::string::npos) return "";
    const size_t start = at + key.size();
    return line.substr(start, line.find(' ', start) - start);
  };
  const std::string grpc = value_of(" grpc=");
  const size_t at = grpc.rfind(':');
  port_ = at == std::string::npos ? 0 : std::atoi(grpc.c_str() + at + 1);
  mllp_address_ = value_of(" mllp=");
  https_address_ = value_of(" https=");
  if (line.find("switchboard listening") == std::string::npos || port_ <= 0) {
    Kill();
    return absl::InternalError(absl::StrCat("unexpected first line: ", line));
  }
  return absl::OkStatus();
}

absl::Status GatewayProcess::Wait(absl::Duration timeout, int* exit_status) {
  // A pidfd becomes readable when the process exits: wait on it with a deadline.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    const int ready = poll(&p, 1, ms);
    close(pidfd);
    if (ready <= 0) return absl::DeadlineExceededError("gateway did not exit in time");
  }
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return absl::InternalError("waitpid failed");
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return absl::OkStatus();
}

absl::Status GatewayProcess::Stop(absl::Duration timeout) {
  if (!running()) return absl::OkStatus();
  kill(pid_, SIGTERM);
  int status = 0;
  absl::Status waited = Wait(timeout, &status);
  if (!waited.ok()) {
    Kill();
    return absl::DeadlineExceededError(
        absl::StrCat("gateway did not drain within the timeout; stderr:\n", StderrTail()));
  }
  if (status != 0) {
    return absl::InternalError(
        absl::StrCat("gateway exited with status ", status, "; stderr:\n", StderrTail()));
  }
  return absl::OkStatus();
}

void GatewayProcess::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  (void)Wait(absl::Seconds(30), &status);
}

std::string DemoConfig(const std::string& data_dir, bool story) {
  const TestPki& pki = TestPki::Get();
  auto quoted = [](const std::string& text) { return absl::StrCat("\"", text, "\""); };
  return absl::StrReplaceAll(
      ReadSource("deploy/demo/switchboard.textproto"),
      {{"127.0.0.1:7443", "127.0.0.1:0"},
       {"127.0.0.1:2575", "127.0.0.1:0"},
       {"127.0.0.1:8443", "127.0.0.1:0"},
       {quoted("certs/ca.pem"), quoted(pki.ca())},
       {quoted("certs/gateway.pem"), quoted(pki.gateway_cert())},
       {quoted("certs/gateway.key"), quoted(pki.gateway_key())},
       {"data_dir: \"data\"", absl::StrCat("data_dir: ", quoted(data_dir))},
       {"messages_file: \"demo-story.json\"",
        story ? absl::StrCat("messages_file: ", quoted(SourceDir() + "/deploy/demo/demo-story.json"))
              : std::string()}});
}

}  // namespace switchboard::testing
