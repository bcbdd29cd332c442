#include "gateway/connectors/push_transport.h"

#include "absl/strings/str_cat.h"
#include "gateway/connectors/grpc_push_client.h"
#include "gateway/connectors/mllp_client.h"
#include "gateway/connectors/webhook_client.h"

namespace switchboard::gateway::connectors {
namespace {

// PushEndpoint.timeout_ms when unset.
constexpr uint32_t kDefaultTimeoutMs = 10000;

// Wraps a concrete transport's StatusOr into the interface's.
template <typename T>
absl::StatusOr<std::unique_ptr<PushTransport>> Upcast(absl::StatusOr<std::unique_ptr<T>> made) {
  if (!made.ok()) return made.status();
  return std::unique_ptr<PushTransport>(*std::move(made));
}

}  // namespace

absl::string_view PushOutcomeName(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::kDelivered:
      return "DELIVERED";
    case PushOutcome::kRefused:
      return "REFUSED";
    case PushOutcome::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

absl::StatusOr<std::unique_ptr<PushTransport>> MakePushTransport(const v1::PushEndpoint& endpoint,
                                                                 const PushTls& tls,
                                                                 const std::string& field_prefix) {
  const uint32_t timeout_ms =
      endpoint.timeout_ms() != 0 ? endpoint.timeout_ms() : kDefaultTimeoutMs;
  switch (endpoint.transport_case()) {
    case v1::PushEndpoint::kWebhook:
      return Upcast(WebhookClient::Create(endpoint.webhook(), timeout_ms, tls, field_prefix));
    case v1::PushEndpoint::kMllp:
      return Upcast(MllpClient::Create(endpoint.mllp(), timeout_ms, tls, field_prefix));
    case v1::PushEndpoint::kGrpc:
      return Upcast(GrpcPushClient::Create(endpoint.grpc(), timeout_ms, tls, field_prefix));
    case v1::PushEndpoint::TRANSPORT_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field_prefix, ": one of webhook, mllp or grpc is required"));
}

}  // namespace switchboard::gateway::connectors
