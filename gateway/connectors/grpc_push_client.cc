#include "gateway/connectors/grpc_push_client.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/connectors/push_stream.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace switchboard::gateway::connectors {
namespace {

// "UNAVAILABLE", as in grpc::Status (absl and gRPC share the numbering).
std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

PushOutcome GrpcPushOutcome(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return PushOutcome::kDelivered;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return PushOutcome::kRefused;
    default:
      return PushOutcome::kFailed;
  }
}

GrpcPushClient::GrpcPushClient(std::string address, uint32_t timeout_ms,
                               std::shared_ptr<grpc::ChannelCredentials> credentials)
    : address_(std::move(address)),
      timeout_ms_(timeout_ms),
      credentials_(std::move(credentials)),
      stub_(NewStub()) {}

absl::StatusOr<std::unique_ptr<GrpcPushClient>> GrpcPushClient::Create(
    const v1::GrpcPushEndpoint& endpoint, uint32_t timeout_ms, const PushTls& tls,
    const std::string& field_prefix) {
  absl::StatusOr<HostPort> address =
      ParseHostPort(endpoint.address(), absl::StrCat(field_prefix, ".grpc.address"));
  if (!address.ok()) return address.status();
  for (const auto& [pem, field] : {std::pair{&tls.ca_pem, "tls.ca_cert_file"},
                                   std::pair{&tls.cert_pem, "tls.server_cert_file"},
                                   std::pair{&tls.key_pem, "tls.server_key_file"}}) {
    if (pem->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": is empty (gRPC push needs the gateway's TLS material)"));
    }
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.ca_pem;
  ssl.pem_cert_chain = tls.cert_pem;
  ssl.pem_private_key = tls.key_pem;
  return std::unique_ptr<GrpcPushClient>(
      new GrpcPushClient(endpoint.address(), timeout_ms, grpc::SslCredentials(ssl)));
}

std::unique_ptr<v1::DeliveryReceiver::Stub> GrpcPushClient::NewStub() const {
  grpc::ChannelArguments args;
  // A channel of its own (not subchannels shared process-wide), so a new one
  // really connects anew; see the header.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::DeliveryReceiver::NewStub(grpc::CreateCustomChannel(address_, credentials_, args));
}

PushResult GrpcPushClient::Send(const PushRequest& request) {
  if (request.delivery == nullptr) return {PushOutcome::kRefused, "no delivery to send"};
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms_));
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return {PushOutcome::kFailed, "cancelled"};
    call_ = &context;
  }
  v1::DeliverResponse response;
  const grpc::Status status = stub_->Deliver(&context, *request.delivery, &response);
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
    if (cancelled_) return {PushOutcome::kFailed, "cancelled"};
  }
  const PushOutcome outcome = GrpcPushOutcome(status.error_code());
  if (outcome == PushOutcome::kDelivered) return {outcome, "OK"};
  if (outcome == PushOutcome::kFailed) stub_ = NewStub();
  return {outcome, absl::StrCat(CodeName(status.error_code()), ": ", status.error_message())};
}

void GrpcPushClient::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (call_ != nullptr) call_->TryCancel();
}

std::string GrpcPushClient::Describe() const { return absl::StrCat("grpc ", address_); }

}  // namespace switchboard::gateway::connectors
