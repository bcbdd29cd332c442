// How sbctl reaches the gateway: mutual TLS with a member's certificate, picked by
// --as ORG (var/certs/ORG.pem/.key and ca.pem) or given by --cert/--key/--ca.
#ifndef SWITCHBOARD_TOOLS_CLI_CONNECTION_H_
#define SWITCHBOARD_TOOLS_CLI_CONNECTION_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace switchboard::tools::sbctl {

struct ConnectionOptions {
  std::string addr;       // host:port
  std::string as;         // organisation id, selects files under certs_dir
  std::string certs_dir;  // where --as looks
  std::string ca;         // explicit files override --as
  std::string cert;
  std::string key;
  std::string user;       // sent as metadata sb-user (recorded in audit)
  int timeout_ms = 30000;
};

// A channel with the caller's certificate. INVALID_ARGUMENT when no identity is
// given, NOT_FOUND when a file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const ConnectionOptions& options);

// A context with the deadline (unless `streaming`) and the sb-user metadata.
std::unique_ptr<grpc::ClientContext> NewContext(const ConnectionOptions& options,
                                                bool streaming = false);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_CONNECTION_H_
