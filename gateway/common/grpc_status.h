// The one place where absl::Status becomes grpc::Status (codes share numbering).
#ifndef SWITCHBOARD_GATEWAY_COMMON_GRPC_STATUS_H_
#define SWITCHBOARD_GATEWAY_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace switchboard::gateway {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// A callback that finishes a unary call with an absl::Status.
inline auto FinishWith(grpc::ServerUnaryReactor* reactor) {
  return [reactor](const absl::Status& s) { reactor->Finish(ToGrpcStatus(s)); };
}

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_COMMON_GRPC_STATUS_H_
