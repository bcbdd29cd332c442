#include "gateway/connectors/webhook_client.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"

namespace switchboard::gateway::connectors {
namespace {

namespace http = boost::beast::http;

// Enough for any answer a webhook should give; the detail keeps 200 bytes.
constexpr uint64_t kMaxResponseBody = 1 << 20;
constexpr size_t kDetailBodyBytes = 200;

// A body excerpt fit for a one-line error: control bytes become spaces.
std::string Excerpt(absl::string_view body) {
  std::string out(body.substr(0, kDetailBodyBytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string HostHeader(const WebhookUrl& url) {
  std::string host =
      url.host.find(':') != std::string::npos ? absl::StrCat("[", url.host, "]") : url.host;
  if (url.port != 443) absl::StrAppend(&host, ":", url.port);
  return host;
}

}  // namespace

absl::StatusOr<WebhookUrl> ParseWebhookUrl(absl::string_view url, absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", url, "' ", why));
  };
  constexpr absl::string_view kScheme = "https://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    if (absl::StartsWithIgnoreCase(url, "http://")) {
      return bad(
          "is not https:// (webhooks are sent over TLS only: deliveries carry care records)");
    }
    return bad("is not an https:// URL");
  }
  absl::string_view rest = url.substr(kScheme.size());
  if (rest.find('#') != absl::string_view::npos) return bad("has a fragment (#...)");
  const size_t slash = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, slash);
  WebhookUrl out;
  out.target = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != absl::string_view::npos) {
    return bad("has user info (user@): the gateway authenticates with its certificate");
  }
  if (authority.empty()) return bad("has no host");
  // The port is whatever follows the last ':' outside an IPv6 [literal].
  const size_t close = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != absl::string_view::npos && (close == absl::string_view::npos || colon > close)) {
    absl::StatusOr<HostPort> host_port = ParseHostPort(authority, field);
    if (!host_port.ok()) return host_port.status();
    out.host = host_port->host;
    out.port = host_port->port;
  } else if (authority.front() == '[') {
    if (authority.back() != ']' || authority.size() < 3) return bad("has a malformed IPv6 host");
    out.host = std::string(authority.substr(1, authority.size() - 2));
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty()) return bad("has no host");
  return out;
}

PushOutcome WebhookOutcome(int http_status) {
  if (http_status >= 200 && http_status < 300) return PushOutcome::kDelivered;
  if (http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429) {
    return PushOutcome::kRefused;
  }
  return PushOutcome::kFailed;
}

WebhookClient::WebhookClient(std::string url, WebhookUrl parsed, uint32_t timeout_ms,
                             std::unique_ptr<PushStream> stream)
    : url_(std::move(url)),
      parsed_(std::move(parsed)),
      host_header_(HostHeader(parsed_)),
      timeout_ms_(timeout_ms),
      stream_(std::move(stream)) {}

absl::StatusOr<std::unique_ptr<WebhookClient>> WebhookClient::Create(
    const v1::WebhookEndpoint& endpoint, uint32_t timeout_ms, const PushTls& tls,
    const std::string& field_prefix) {
  absl::StatusOr<WebhookUrl> url =
      ParseWebhookUrl(endpoint.url(), absl::StrCat(field_prefix, ".webhook.url"));
  if (!url.ok()) return url.status();
  PushStreamOptions options;
  options.host = url->host;
  options.port = url->port;
  options.tls = true;
  options.timeout_ms = timeout_ms;
  if (tls.webhook_ca_pem.empty()) {
    options.ca_pem = tls.ca_pem;
  } else {
    options.ca_pem = tls.webhook_ca_pem;
    options.ca_field = absl::StrCat(field_prefix, ".webhook.ca_cert_file");
  }
  options.cert_pem = tls.cert_pem;
  options.key_pem = tls.key_pem;
  absl::StatusOr<std::unique_ptr<PushStream>> stream = PushStream::Create(options);
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<WebhookClient>(
      new WebhookClient(endpoint.url(), *std::move(url), timeout_ms, *std::move(stream)));
}

std::string WebhookClient::Describe() const { return absl::StrCat("webhook ", url_); }

PushResult WebhookClient::Send(const PushRequest& request) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms_);
  http::request<http::string_body> post{http::verb::post, parsed_.target, 11};
  post.set(http::field::host, host_header_);
  post.set(http::field::user_agent, "switchboard-gateway");
  post.set(http::field::content_type,
           request.content_type.empty() ? "application/octet-stream" : request.content_type);
  post.set("X-Switchboard-Message-Id", request.message_id);
  post.set("X-Switchboard-Delivery-Id", request.delivery_id);
  post.keep_alive(true);
  post.body() = request.bytes;
  post.prepare_payload();

  const std::string& at = stream_->authority();
  for (int attempt = 1;; ++attempt) {
    const bool reused = stream_->connected();
    if (!reused) buffer_.clear();
    absl::Status status = stream_->Connect(deadline);
    if (!status.ok()) return {PushOutcome::kFailed, std::string(status.message())};

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    status = stream_->Run(absl::StrCat("send HTTP request to ", at), deadline,
                          [&post](auto& stream, auto handler) {
                            http::async_write(stream, post, std::move(handler));
                          });
    if (status.ok()) {
      status = stream_->Run(absl::StrCat("read HTTP answer from ", at), deadline,
                            [this, &parser](auto& stream, auto handler) {
                              http::async_read(stream, buffer_, parser, std::move(handler));
                            });
    }
    if (absl::IsUnavailable(status) && reused && attempt == 1) continue;  // closed while idle
    if (!status.ok()) return {PushOutcome::kFailed, std::string(status.message())};

    const http::response<http::string_body>& response = parser.get();
    const int code = static_cast<int>(response.result_int());
    // After an interim (1xx) answer the final one is still to come: it must not
    // be read as the next request's.
    if (!response.keep_alive() || code < 200) stream_->Close();
    std::string detail = absl::StrCat("HTTP ", code);
    const std::string excerpt = Excerpt(response.body());
    if (!excerpt.empty()) absl::StrAppend(&detail, ": ", excerpt);
    return {WebhookOutcome(code), std::move(detail)};
  }
}

}  // namespace switchboard::gateway::connectors
