// The real `switchboard` binary as a child process, for integration tests: its
// own temp directory (config + RocksDB), port 0 on loopback (the gateway prints
// the port it got), stderr kept in a file for failure messages.
#ifndef SWITCHBOARD_TESTS_INTEGRATION_GATEWAY_PROCESS_H_
#define SWITCHBOARD_TESTS_INTEGRATION_GATEWAY_PROCESS_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace switchboard::testing {

// A sharing policy under which, without a consent, TREAT content without a
// sensitive label goes to every recipient routing chose (care team and
// subscribers): the exchange tests are about routing and delivery, not consent.
inline constexpr char kOpenSharingPolicy[] = R"pb(
  roles { role: HOSPITAL events: "*" labels: "*" }
  roles { role: AGENCY events: "*" labels: "*" }
  roles { role: COORDINATOR events: "*" labels: "*" }
  roles { role: ADMIN events: "*" labels: "*" }
  defaults { purpose: "TREAT" unlabelled: ANY_RECIPIENT sensitive: NOBODY }
  sensitive_labels: [ "R", "V", "PSY", "MH", "SUD", "ETH", "HIV", "SDV", "SOC", "SEX" ]
)pb";

struct GatewayOptions {
  uint32_t ack_timeout_ms = 30000;
  uint32_t default_window = 64;
  uint32_t max_message_bytes = 1 << 20;
  // Appended inside `seed { ... }`.
  std::string extra_seed;
  // When set, written as the config instead of TestConfig().
  std::string config_text;
  // The sharing policy (SharingPolicy textproto), written next to the config;
  // empty means none is configured (the gateway's built-in policy).
  std::string sharing_policy = kOpenSharingPolicy;
  // Also listen for MLLP on 127.0.0.1, port 0.
  bool mllp = false;
  // listen.read_timeout_ms (0: the gateway's default).
  uint32_t read_timeout_ms = 0;
  // Also listen for HTTPS (FHIR $process-message) on 127.0.0.1, port 0.
  bool https = false;
  // Appended to the config (e.g. more event types).
  std::string extra_config;
};

// The test federation: members of TestMembers() with roles, event types
// discharge/case-note/referral, and three clients (see the .cc for identifiers).
std::string TestConfig(const std::string& data_dir, const GatewayOptions& options);

// deploy/demo/switchboard.textproto pointed at the test certificates, free
// ports (gRPC, MLLP, HTTPS) and `data_dir`; with the demo story (client-0004,
// docs/coordination.md) only when `story` (its deliveries would queue up ahead
// of what a test publishes).
std::string DemoConfig(const std::string& data_dir, bool story);

// Identifiers of the test clients.
inline constexpr char kMrnSystem[] = "https://st-marys.example.org/fhir/mrn";
inline constexpr char kHousingSystem[] = "https://harbour-housing.example.org/case";

class GatewayProcess {
 public:
  // `dir` holds the config and the data directory; it must exist.
  explicit GatewayProcess(std::string dir, GatewayOptions options = {});
  ~GatewayProcess();  // Kill()s if still running.
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Writes the config (first time only) and starts the binary; returns when it
  // prints its listening line (or fails with its stderr when it exits first or
  // after `timeout`).
  absl::Status Start(absl::Duration timeout = absl::Seconds(60));
  // SIGTERM, then waits; OK only if it exits 0.
  absl::Status Stop(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL, then waits.
  void Kill();

  bool running() const { return pid_ > 0; }
  std::string address() const;  // 127.0.0.1:PORT
  // HOST:PORT from ` mllp=` of the listening line; "" when MLLP is not configured.
  const std::string& mllp_address() const { return mllp_address_; }
  // HOST:PORT from ` https=` of the listening line; "" when HTTPS is not configured.
  const std::string& https_address() const { return https_address_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& config_path() const { return config_path_; }
  // The last lines the gateway wrote to stderr.
  std::string StderrTail(size_t bytes = 4000) const;

 private:
  absl::Status Wait(absl::Duration timeout, int* exit_status);

  const std::string dir_;
  const GatewayOptions options_;
  const std::string data_dir_;
  const std::string config_path_;
  const std::string stderr_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string mllp_address_;
  std::string https_address_;
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_GATEWAY_PROCESS_H_
