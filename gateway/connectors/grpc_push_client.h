// GrpcPushClient: pushes each delivery with switchboard.v1.DeliveryReceiver.Deliver
// (push.proto) to a member's server (PushEndpoint.grpc), over mutual TLS: the
// server must chain to the CA and name the address's host; the gateway presents
// its own certificate.
//
//   OK                                      kDelivered
//   INVALID_ARGUMENT, FAILED_PRECONDITION   kRefused, detail "INVALID_ARGUMENT: <message>"
//   anything else (deadline included)       kFailed
//
// One channel, reused across sends. After a failure that may be the
// connection's (UNAVAILABLE, DEADLINE_EXCEEDED, ...) the channel is replaced,
// so the next Send connects afresh at once rather than after gRPC's own
// reconnect backoff (which the Pusher's backoff already covers).
//
// Thread-safety: as PushTransport (Send from one thread at a time).
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_GRPC_PUSH_CLIENT_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_GRPC_PUSH_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/connectors/push_transport.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "switchboard/v1/push.grpc.pb.h"

namespace switchboard::gateway::connectors {

// The outcome of a Deliver status code, as above.
PushOutcome GrpcPushOutcome(grpc::StatusCode code);

class GrpcPushClient final : public PushTransport {
 public:
  // INVALID_ARGUMENT `<field_prefix>.grpc.address: ...` for an address that is
  // not HOST:PORT, `tls.*: ... is empty` for missing PEM (gRPC itself checks
  // the PEM only when it connects: bad PEM is then a failed Send). Does not
  // connect.
  static absl::StatusOr<std::unique_ptr<GrpcPushClient>> Create(
      const v1::GrpcPushEndpoint& endpoint, uint32_t timeout_ms, const PushTls& tls,
      const std::string& field_prefix);

  // request.delivery must be set (kRefused "no delivery to send" otherwise: a
  // caller's bug, which retrying would not fix).
  PushResult Send(const PushRequest& request) override;
  void Cancel() override;
  std::string Describe() const override;

 private:
  GrpcPushClient(std::string address, uint32_t timeout_ms,
                 std::shared_ptr<grpc::ChannelCredentials> credentials);
  std::unique_ptr<v1::DeliveryReceiver::Stub> NewStub() const;

  // Constant after construction.
  const std::string address_;
  const uint32_t timeout_ms_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;

  // Send thread only.
  std::unique_ptr<v1::DeliveryReceiver::Stub> stub_;

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // The call in progress, for Cancel.
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_GRPC_PUSH_CLIENT_H_
