// Outbound push transports: how the Pusher hands one encoded delivery to a
// member's endpoint (HTTPS webhook, HL7 v2 over MLLP, gRPC DeliveryReceiver)
// and learns what became of it. See PushEndpoint in config.proto for the
// success / refusal / retry semantics of each transport.
//
// Every transport keeps its connection (or channel) open across sends and
// reconnects after an error. Send is bounded by the endpoint's timeout_ms,
// connecting included: it never hangs.
//
// Thread-safety: Send is called from one thread at a time per transport (the
// member's worker); Cancel and Describe may be called from any thread.
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_PUSH_TRANSPORT_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_PUSH_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/delivery.pb.h"

namespace switchboard::gateway::connectors {

// One delivery to push.
struct PushRequest {
  std::string delivery_id;   // Delivery.id
  std::string message_id;    // the source's message id (header.id), for partner-side dedup
  std::string content_type;  // from the member's adapter
  std::string bytes;         // partner-format bytes (webhook body, MLLP frame content)
  // The canonical Delivery (with message and partner payload), sent as is by gRPC
  // push; unused by the byte transports. Must outlive Send.
  const v1::Delivery* delivery = nullptr;
};

enum class PushOutcome {
  kDelivered,  // the partner has it
  kRefused,    // permanent: the partner will never take it; dead-letter now
  kFailed,     // no decision (down, timeout, 5xx, broken answer): retry later
};

// "DELIVERED", "REFUSED", "FAILED" (for logs and errors).
absl::string_view PushOutcomeName(PushOutcome outcome);

struct PushResult {
  PushOutcome outcome = PushOutcome::kFailed;
  // Why, for the delivery's last error (never payload content beyond what the
  // partner answered): "HTTP 503: <first 200 bytes of body>", "ACK AE: PID-3 ...",
  // "connect 127.0.0.1:9: Connection refused", "no answer within 10000 ms".
  std::string detail;
};

// PEM text (not file names: the caller reads and resolves the files).
struct PushTls {
  std::string ca_pem;    // tls.ca_cert_file: the CA partner servers must chain to
  std::string cert_pem;  // the gateway's certificate chain, presented as client certificate
  std::string key_pem;   // and its key
  // webhook.ca_cert_file's text when the endpoint names one; empty: ca_pem.
  std::string webhook_ca_pem;
};

class PushTransport {
 public:
  virtual ~PushTransport() = default;

  // Pushes one delivery and waits for the partner's answer. Blocking; returns
  // within the endpoint's timeout_ms (connecting included). kFailed for every
  // error of the connection, which is then dropped and made again on the next
  // Send. Called from one thread at a time.
  virtual PushResult Send(const PushRequest& request) = 0;

  // Unblocks a Send in progress on another thread (shutdown): it returns kFailed
  // ("cancelled") promptly. Sticky: every later Send also returns kFailed at
  // once. Thread-safe.
  virtual void Cancel() = 0;

  // For logs: "webhook https://host:port/path", "mllp+tls host:port",
  // "grpc host:port".
  virtual std::string Describe() const = 0;
};

// The transport for `endpoint`. INVALID_ARGUMENT naming the field, with
// `field_prefix` (e.g. "push_endpoints[2]") in front:
//   `push_endpoints[2]: one of webhook, mllp or grpc is required`
//   `push_endpoints[2].webhook.url: 'http://x/y' is not https:// (webhooks ...)`
//   `push_endpoints[2].mllp.address: 'x' is not HOST:PORT`
//   `tls.ca_cert_file: ...` / `tls.server_cert_file: ...` / `tls.server_key_file: ...`
//   or `push_endpoints[2].webhook.ca_cert_file: ...` for PEM OpenSSL refuses.
// Does not connect: an unreachable endpoint is a failed Send, not an error here.
absl::StatusOr<std::unique_ptr<PushTransport>> MakePushTransport(const v1::PushEndpoint& endpoint,
                                                                 const PushTls& tls,
                                                                 const std::string& field_prefix);

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_PUSH_TRANSPORT_H_
