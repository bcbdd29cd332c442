#include "gateway/connectors/push_stream.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/post.hpp"

namespace switchboard::gateway::connectors {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

absl::Status PemError(absl::string_view field, const error_code& ec) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", ec.message()));
}

std::string Authority(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return v6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address, absl::string_view field) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", address, "' is not HOST:PORT (e.g. 10.0.0.5:2575)"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", address, "' is not HOST:PORT (an IPv6 host goes in [])"));
  }
  const absl::string_view port_text = address.substr(colon + 1);
  uint32_t port = 0;
  const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                      port_text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits || !absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": port '", port_text, "' of '", address, "' is not 1..65535"));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

// A name resolution in progress. Its handler owns it: an abandoned resolution
// (timeout, cancel) may complete later, harmlessly, into this object only.
struct PushStream::Resolve {
  explicit Resolve(asio::io_context& io) : resolver(io) {}
  tcp::resolver resolver;
  tcp::resolver::results_type results;
  bool finished = false;
  error_code ec;
};

PushStream::PushStream(const PushStreamOptions& options)
    : options_(options),
      authority_(Authority(options.host, options.port)),
      ssl_(ssl::context::tls_client) {}

PushStream::~PushStream() = default;

absl::StatusOr<std::unique_ptr<PushStream>> PushStream::Create(const PushStreamOptions& options) {
  auto stream = std::unique_ptr<PushStream>(new PushStream(options));
  if (!options.tls) return stream;
  ssl::context& ctx = stream->ssl_;
  error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                  ec);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (ctx.add_certificate_authority(asio::buffer(options.ca_pem), ec)) {
    return PemError(options.ca_field, ec);
  }
  if (ctx.use_certificate_chain(asio::buffer(options.cert_pem), ec)) {
    return PemError(options.cert_field, ec);
  }
  if (ctx.use_private_key(asio::buffer(options.key_pem), ssl::context::pem, ec)) {
    return PemError(options.key_field, ec);
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.key_field, ": the key does not match ", options.cert_field));
  }
  ctx.set_verify_mode(ssl::verify_peer, ec);
  return stream;
}

absl::Status PushStream::Connect(absl::Time deadline) {
  if (cancelled_) return absl::CancelledError("cancelled");
  if (stream_ != nullptr) return absl::OkStatus();
  const std::string what = absl::StrCat("connect ", authority_);

  // An IP literal needs no resolver (nor a resolver thread to wait for).
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoints.emplace_back(ip, options_.port);
  } else {
    auto resolve = std::make_shared<Resolve>(io_);
    resolve->resolver.async_resolve(
        options_.host, std::to_string(options_.port), tcp::resolver::numeric_service,
        [resolve](const error_code& ec, tcp::resolver::results_type results) {
          resolve->finished = true;
          resolve->ec = ec;
          resolve->results = std::move(results);
        });
    io_.restart();
    while (!resolve->finished && !cancelled_) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      io_.run_one_for(absl::ToChronoNanoseconds(left));
      if (io_.stopped()) io_.restart();
    }
    if (!resolve->finished) {
      resolve->resolver.cancel();  // its handler may still run later, into `resolve` only
      if (cancelled_) return absl::CancelledError("cancelled");
      return absl::DeadlineExceededError(TimeoutMessage(what));
    }
    if (resolve->ec) return absl::UnavailableError(absl::StrCat(what, ": ", resolve->ec.message()));
    for (const auto& entry : resolve->results) endpoints.push_back(entry.endpoint());
  }

  stream_ = std::make_unique<TlsStream>(io_, ssl_);
  absl::Status connected = Run(what, deadline, [&endpoints](auto& stream, auto handler) {
    asio::async_connect(stream.lowest_layer(), endpoints, std::move(handler));
  });
  if (absl::IsDeadlineExceeded(connected)) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": no connection within ", options_.timeout_ms, " ms"));
  }
  if (!connected.ok()) return connected;
  stream_->lowest_layer().set_option(tcp::no_delay(true), ec);
  if (!options_.tls) return absl::OkStatus();
  return Handshake(deadline);
}

absl::Status PushStream::Handshake(absl::Time deadline) {
  SSL* ssl = stream_->native_handle();
  // The server's certificate must name what we connected to: its IP address
  // (an IP SAN) or its DNS name (with SNI, which is for names only). OpenSSL's
  // own check, so a mismatch is reported as such by the verify result.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  error_code ec;
  asio::ip::make_address(options_.host, ec);
  if (!ec) {
    X509_VERIFY_PARAM_set1_ip_asc(param, options_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, options_.host.c_str());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, options_.host.c_str(), options_.host.size());
  }
  const std::string what = absl::StrCat("TLS handshake with ", authority_);
  // The verify result is read in the completion: a failed handshake closes
  // (and frees) the stream before Await returns.
  auto state = std::make_shared<OpState>();
  auto verify = std::make_shared<long>(X509_V_OK);
  stream_->async_handshake(ssl::stream_base::client, [state, verify, ssl](const error_code& ec) {
    *verify = SSL_get_verify_result(ssl);
    Completion(state)(ec);
  });
  absl::Status shaken = Await(*state, what, deadline);
  if (absl::IsUnavailable(shaken) && *verify != X509_V_OK) {
    // The certificate check's own words ("IP address mismatch", "unable to get
    // local issuer certificate") say more than "certificate verify failed".
    return absl::UnavailableError(
        absl::StrCat(shaken.message(), ": ", X509_verify_cert_error_string(*verify)));
  }
  return shaken;
}

absl::Status PushStream::Await(OpState& state, absl::string_view what, absl::Time deadline) {
  io_.restart();
  while (!state.finished) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || cancelled_) {
      AbortAndDrain(state);
      if (cancelled_) return absl::CancelledError("cancelled");
      return absl::DeadlineExceededError(TimeoutMessage(what));
    }
    io_.run_one_for(absl::ToChronoNanoseconds(left));
    if (io_.stopped()) io_.restart();  // out of work for a moment: not an error
  }
  if (!state.ec) return absl::OkStatus();
  Close();
  if (cancelled_) return absl::CancelledError("cancelled");
  return absl::UnavailableError(absl::StrCat(what, ": ", state.ec.message()));
}

void PushStream::AbortAndDrain(OpState& state) {
  if (stream_ != nullptr) {
    error_code ignored;
    stream_->lowest_layer().close(ignored);
  }
  // Closing the socket completes its pending operations at once (with
  // operation_aborted); run them now, while their stream and buffers exist.
  // Bounded anyway: Send must return.
  const absl::Time limit = absl::Now() + absl::Seconds(2);
  while (!state.finished && absl::Now() < limit) {
    if (io_.stopped()) io_.restart();
    io_.run_one_for(std::chrono::milliseconds(100));
  }
  if (state.finished) {
    stream_.reset();
  } else {
    // Never seen: keep the stream (and leak it) rather than free it under a
    // pending operation.
    stream_.release();
  }
}

void PushStream::Close() {
  if (stream_ == nullptr) return;
  error_code ignored;
  stream_->lowest_layer().close(ignored);
  // A pending completion (there is none after Run returned) would run later
  // against a freed stream; Run never leaves one behind.
  stream_.reset();
}

void PushStream::Cancel() {
  if (cancelled_.exchange(true)) return;
  // Wakes the Send thread if it is in io_.run_one_for; it sees cancelled_ and
  // aborts the operation itself. Runs (and does nothing) only if a Send is in
  // progress; otherwise it stays queued until io_ is destroyed.
  asio::post(io_, [] {});
}

std::string PushStream::TimeoutMessage(absl::string_view what) const {
  return absl::StrCat(what, ": no answer within ", options_.timeout_ms, " ms");
}

}  // namespace switchboard::gateway::connectors
