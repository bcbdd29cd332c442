// Loading the gateway's config: a textproto of switchboard.v1.GatewayConfig.
// Thread-safe (pure functions plus file reads).
#ifndef SWITCHBOARD_GATEWAY_CONFIG_CONFIG_LOADER_H_
#define SWITCHBOARD_GATEWAY_CONFIG_CONFIG_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "switchboard/v1/config.pb.h"

namespace switchboard::gateway::config {

// Parses `text` (errors name `origin`, line and column), applies defaults and
// resolves relative paths against `base_dir`. INVALID_ARGUMENT for a parse error.
absl::StatusOr<v1::GatewayConfig> ParseConfig(const std::string& text, const std::string& origin,
                                              const std::string& base_dir);

// Reads and parses the file at `path` (relative paths resolved against its
// directory). NOT_FOUND if it cannot be read.
absl::StatusOr<v1::GatewayConfig> LoadConfig(const std::string& path);

// Checks what the gateway needs to start; INVALID_ARGUMENT naming the field
// (`listen.grpc_address: required`, `event_types[2].code: listed twice`, ...).
// Does not touch the files it names.
absl::Status ValidateConfig(const v1::GatewayConfig& config);

// Reads a whole file. NOT_FOUND naming `what` and the path when it cannot.
absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what);

}  // namespace switchboard::gateway::config

#endif  // SWITCHBOARD_GATEWAY_CONFIG_CONFIG_LOADER_H_
