// The remote adapter: a member's own translator, written in any language and run
// as a gRPC service (switchboard.v1.Adapter, schemas/switchboard/v1/
// adapter_service.proto), called over mutual TLS with a deadline for every Decode
// and Encode. Config: switchboard.v1.adapters.RemoteAdapterConfig.
//
// This is the one adapter that does network I/O (DESIGN.md puts it here, in
// adapters/remote/): each call is a blocking RPC of at most timeout_ms on the
// caller's thread. It still only translates: it stores nothing and routes
// nothing, and the remote service is required to be side-effect free.
//
// Thread-safe for concurrent const calls (one gRPC channel, shared).
#ifndef SWITCHBOARD_ADAPTERS_REMOTE_REMOTE_ADAPTER_H_
#define SWITCHBOARD_ADAPTERS_REMOTE_REMOTE_ADAPTER_H_

#include <memory>
#include <string>

#include "adapters/adapter.h"
#include "grpcpp/grpcpp.h"
#include "switchboard/v1/adapter_service.grpc.pb.h"
#include "switchboard/v1/adapters/remote.pb.h"

namespace switchboard::adapters::remote {

inline constexpr uint32_t kDefaultTimeoutMs = 2000;
inline constexpr uint32_t kMaxTimeoutMs = 30000;

class RemoteAdapter final : public Adapter {
 public:
  // Validates `config`, reads its PEM files and makes the channel. Does not
  // connect: the gateway starts while the adapter is down, and calls fail until
  // it is up. INVALID_ARGUMENT naming the field:
  //   `address: 'x' is not host:port` (also a port outside 1..65535),
  //   `timeout_ms: 40000 is over the maximum of 30000`,
  //   `content_type: required`,
  //   `ca_cert_file: required` / `cert_file: cannot read '/p'` /
  //   `key_file: '/p' is not a PEM file` (same for each of the three files).
  static absl::StatusOr<std::unique_ptr<RemoteAdapter>> Create(
      v1::adapters::RemoteAdapterConfig config);

  // Decode through the remote service. Errors (no error is retried here):
  //   INVALID_ARGUMENT  a content type other than the configured one (checked
  //                     before calling), or the remote's own refusal with its
  //                     message unchanged (so its location is kept:
  //                     `line 3 (client): required`);
  //   UNIMPLEMENTED     the remote has no Decode;
  //   UNAVAILABLE       naming the address: no answer within timeout_ms
  //                     (`remote adapter at HOST:PORT did not answer within N ms`),
  //                     not reachable or TLS refused (`... is unavailable: ...`),
  //                     any other remote status, or an answer without a message.
  absl::StatusOr<v1::Message> Decode(absl::string_view content_type,
                                     absl::string_view bytes) const override;
  // As Decode, plus the elements the remote reports it did not map.
  absl::StatusOr<DecodeResult> DecodeWithReport(absl::string_view content_type,
                                                absl::string_view bytes) const override;

  // Encode through the remote service; errors as Decode (INVALID_ARGUMENT when
  // the remote cannot express the message). An answer without a content type
  // gets the configured one.
  absl::StatusOr<PartnerPayload> Encode(const v1::Message& message) const override;

  const std::string& address() const { return config_.address(); }
  uint32_t timeout_ms() const { return config_.timeout_ms(); }

 private:
  RemoteAdapter(v1::adapters::RemoteAdapterConfig config, std::shared_ptr<grpc::Channel> channel);

  // A context whose deadline is timeout_ms from now.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // The remote's non-OK `status` of `method` as this adapter's error (see Decode).
  absl::Status FromRemote(const grpc::Status& status, absl::string_view method) const;

  // Constant after construction (timeout_ms defaulted).
  const v1::adapters::RemoteAdapterConfig config_;
  const std::unique_ptr<v1::Adapter::Stub> stub_;
};

}  // namespace switchboard::adapters::remote

#endif  // SWITCHBOARD_ADAPTERS_REMOTE_REMOTE_ADAPTER_H_
