// WebhookClient: pushes each delivery as an HTTPS POST of the adapter's bytes
// to a member's webhook (PushEndpoint.webhook).
//
//   POST /path HTTP/1.1
//   Content-Type: <the adapter's content type>
//   X-Switchboard-Message-Id: <the source's message id>
//   X-Switchboard-Delivery-Id: <Delivery.id>
//
// 2xx is kDelivered; 4xx but 408 and 429 is kRefused (the partner will never
// take this request); anything else, and every connection or TLS error, is
// kFailed. TLS only, with the gateway's client certificate; the server's
// certificate must chain to the CA and name the URL's host (IP SAN for an IP
// address). One keep-alive connection, reused across sends; a send that fails
// on a reused connection (the server closed it while idle) is tried once more
// on a new one before it counts as failed.
//
// Thread-safety: as PushTransport (Send from one thread at a time).
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_WEBHOOK_CLIENT_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_WEBHOOK_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "boost/beast/core/flat_buffer.hpp"
#include "gateway/connectors/push_stream.h"
#include "gateway/connectors/push_transport.h"

namespace switchboard::gateway::connectors {

struct WebhookUrl {
  std::string host;  // IPv6 without brackets
  uint16_t port = 443;
  std::string target;  // path and query, "/" at least
};

// Parses `https://HOST[:PORT][/PATH][?QUERY]` (scheme case-insensitive).
// INVALID_ARGUMENT "<field>: 'url' ..." for any other scheme (http:// is
// refused: deliveries carry health and care records), user info, a fragment,
// an empty host or a bad port.
absl::StatusOr<WebhookUrl> ParseWebhookUrl(absl::string_view url, absl::string_view field);

// The outcome of an HTTP status code, as above.
PushOutcome WebhookOutcome(int http_status);

class WebhookClient final : public PushTransport {
 public:
  // INVALID_ARGUMENT `<field_prefix>.webhook.url: ...` for a bad URL, or naming
  // the TLS field whose PEM OpenSSL refuses (`<field_prefix>.webhook.ca_cert_file`
  // when tls.webhook_ca_pem is set). Does not connect.
  static absl::StatusOr<std::unique_ptr<WebhookClient>> Create(const v1::WebhookEndpoint& endpoint,
                                                               uint32_t timeout_ms,
                                                               const PushTls& tls,
                                                               const std::string& field_prefix);

  PushResult Send(const PushRequest& request) override;
  void Cancel() override { stream_->Cancel(); }
  std::string Describe() const override;

 private:
  WebhookClient(std::string url, WebhookUrl parsed, uint32_t timeout_ms,
                std::unique_ptr<PushStream> stream);

  // Constant after construction.
  const std::string url_;
  const WebhookUrl parsed_;
  const std::string host_header_;
  const uint32_t timeout_ms_;

  // Send thread only.
  std::unique_ptr<PushStream> stream_;
  boost::beast::flat_buffer buffer_;  // bytes read past the last response
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_WEBHOOK_CLIENT_H_
