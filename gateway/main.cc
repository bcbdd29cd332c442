// switchboard: the gateway server.
//
//   switchboard --config var/switchboard.textproto [--grpc_address HOST:PORT]
//               [--data_dir DIR]
//
// Runs in the foreground; SIGINT/SIGTERM drain and stop it cleanly. Prints one
// line "switchboard listening grpc=HOST:PORT" on stdout once it serves, followed
// by " mllp=HOST:PORT" when listen.mllp_address is configured and
// " https=HOST:PORT" when listen.https_address is.
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "gateway/config/config_loader.h"
#include "gateway/server/gateway.h"

ABSL_FLAG(std::string, config, "", "Path of the GatewayConfig textproto (required).");
ABSL_FLAG(std::string, grpc_address, "", "Overrides listen.grpc_address (port 0: any free port).");
ABSL_FLAG(std::string, data_dir, "", "Overrides data_dir (the RocksDB directory).");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("switchboard --config FILE [--grpc_address HOST:PORT] [--data_dir DIR]");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (3-5% of
  // the gateway's CPU under load); lock order is by design here, not by checking.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string path = absl::GetFlag(FLAGS_config);
  if (path.empty()) {
    std::cerr << "switchboard: --config is required\n";
    return 2;
  }
  auto config = switchboard::gateway::config::LoadConfig(path);
  if (!config.ok()) {
    std::cerr << "switchboard: " << config.status().message() << "\n";
    return 2;
  }
  if (!absl::GetFlag(FLAGS_grpc_address).empty()) {
    config->mutable_listen()->set_grpc_address(absl::GetFlag(FLAGS_grpc_address));
  }
  if (!absl::GetFlag(FLAGS_data_dir).empty()) config->set_data_dir(absl::GetFlag(FLAGS_data_dir));

  // Signals are taken by sigwait below, not by handlers: block them before any
  // thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto gateway = switchboard::gateway::Gateway::Start(*config);
  if (!gateway.ok()) {
    std::cerr << "switchboard: " << gateway.status().message() << "\n";
    return gateway.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  const std::string mllp = (*gateway)->mllp_address();
  const std::string https = (*gateway)->https_address();
  std::printf("switchboard listening grpc=%s:%d%s%s%s%s\n", (*gateway)->grpc_host().c_str(),
              (*gateway)->grpc_port(), mllp.empty() ? "" : " mllp=", mllp.c_str(),
              https.empty() ? "" : " https=", https.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "switchboard: %s received, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  absl::Status closed = (*gateway)->Shutdown();
  if (!closed.ok()) {
    std::cerr << "switchboard: " << closed.message() << "\n";
    return 1;
  }
  return 0;
}
