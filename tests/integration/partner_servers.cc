#include "tests/integration/partner_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "adapters/hl7v2/er7.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read_until.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "gateway/connectors/mllp_ack.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "switchboard/v1/push.grpc.pb.h"

namespace switchboard::testing {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
namespace hl7 = adapters::hl7v2;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first URI SAN of the TLS peer's certificate, "" when there is none.
std::string ClientSan(SSL* ssl) {
  std::string san;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return san;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names) && san.empty(); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    san.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
               static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  if (names != nullptr) GENERAL_NAMES_free(names);
  X509_free(cert);
  return san;
}

// Pops the next scripted reply, or the default.
template <typename Reply>
Reply Next(std::deque<Reply>& script, const Reply& fallback) {
  if (script.empty()) return fallback;
  Reply reply = std::move(script.front());
  script.pop_front();
  return reply;
}

}  // namespace

PartnerTls DefaultPartnerTls() {
  const TestPki& pki = TestPki::Get();
  return PartnerTls{pki.ca(), pki.gateway_cert(), pki.gateway_key()};
}

PartnerTls OtherCaPartnerTls() {
  const TestPki& pki = TestPki::Get();
  return PartnerTls{pki.ca(), pki.dir() + "/other/gateway.pem", pki.dir() + "/other/gateway.key"};
}

gateway::connectors::PushTls ReadPushTls(const CertFiles& client) {
  gateway::connectors::PushTls tls;
  tls.ca_pem = ReadText(client.ca);
  tls.cert_pem = ReadText(client.cert);
  tls.key_pem = ReadText(client.key);
  return tls;
}

// ---------------------------------------------------------------------------

class PartnerListener {
 public:
  // Runs on the I/O thread for every accepted connection.
  using OnAccept = std::function<void(tcp::socket)>;

  PartnerListener(const PartnerOptions& options, bool tls)
      : host_(options.host), ssl_(ssl::context::tls_server) {
    if (!tls) return;
    error_code ec;
    ssl_.use_certificate_chain_file(options.tls_files.cert, ec);
    if (!ec) ssl_.use_private_key_file(options.tls_files.key, ssl::context::pem, ec);
    if (!ec) ssl_.load_verify_file(options.tls_files.ca, ec);
    if (!ec) ssl_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) tls_error_ = absl::InternalError(absl::StrCat("partner TLS: ", ec.message()));
  }

  ~PartnerListener() { Stop(); }

  ssl::context& ssl() { return ssl_; }
  int port() const { return port_.load(); }

  absl::Status Start(OnAccept on_accept) {
    if (!tls_error_.ok()) return tls_error_;
    if (running_ != nullptr) return absl::OkStatus();
    auto running = std::make_unique<Running>();
    error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address(host_, ec),
                                 static_cast<uint16_t>(port_.load()));
    tcp::acceptor& acceptor = running->acceptor;
    if (ec || acceptor.open(endpoint.protocol(), ec) ||
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec) ||
        acceptor.bind(endpoint, ec) ||
        acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
      return absl::InternalError(
          absl::StrCat("partner listen on ", host_, ":", port_.load(), ": ", ec.message()));
    }
    port_ = acceptor.local_endpoint(ec).port();
    on_accept_ = std::move(on_accept);
    running_ = std::move(running);
    Accept();
    running_->thread = std::thread([io = &running_->io] { io->run(); });
    return absl::OkStatus();
  }

  // Stops the I/O thread, then destroys the io_context: every pending handler
  // goes with it, and with them the sessions they hold and their sockets.
  void Stop() {
    if (running_ == nullptr) return;
    running_->io.stop();
    running_->thread.join();
    running_.reset();
  }

 private:
  struct Running {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::thread thread;
  };

  void Accept() {
    running_->acceptor.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec) return;
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // answers in one go, not after 40 ms
      on_accept_(std::move(socket));
      Accept();
    });
  }

  const std::string host_;
  absl::Status tls_error_;
  ssl::context ssl_;  // outlives every session (declared before running_)
  std::atomic<int> port_{0};
  OnAccept on_accept_;
  std::unique_ptr<Running> running_;
};

// ---------------------------------------------------------------------------
// WebhookReceiver

class WebhookReceiver::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(WebhookReceiver* owner, tcp::socket socket)
      : owner_(owner), stream_(std::move(socket), owner->listener_->ssl()) {}

  void Start() {
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      if (ec) return;
      self->san_ = ClientSan(self->stream_.native_handle());
      self->Read();
    });
  }

 private:
  void Read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (!ec) self->Handle();
                     });
  }

  void Handle() {
    WebhookRequest record;
    record.method = std::string(request_.method_string());
    record.target = std::string(request_.target());
    for (const auto& field : request_) {
      record.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    record.body = request_.body();
    record.client_san = san_;
    WebhookReply reply;
    {
      absl::MutexLock lock(&owner_->mu_);
      owner_->requests_.push_back(std::move(record));
      reply = Next(owner_->script_, owner_->default_);
    }
    if (reply.hang) return Read();  // only to notice the client going away

    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(reply.status));
    response_.set(http::field::content_type, "text/plain");
    response_.body() = reply.body;
    response_.keep_alive(!reply.close && request_.keep_alive());
    response_.prepare_payload();
    http::async_write(
        stream_, response_,
        [self = shared_from_this(), close = !response_.keep_alive()](error_code ec, size_t) {
          if (ec || close) {
            error_code ignored;
            self->stream_.lowest_layer().close(ignored);
            return;
          }
          self->Read();
        });
  }

  WebhookReceiver* const owner_;
  ssl::stream<tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::string san_;
};

WebhookReceiver::WebhookReceiver(PartnerOptions options)
    : options_(std::move(options)),
      listener_(std::make_unique<PartnerListener>(options_, /*tls=*/true)) {}

WebhookReceiver::~WebhookReceiver() { Stop(); }

absl::Status WebhookReceiver::Start() {
  return listener_->Start([this](tcp::socket socket) {
    {
      absl::MutexLock lock(&mu_);
      ++connections_;
    }
    std::make_shared<Session>(this, std::move(socket))->Start();
  });
}

void WebhookReceiver::Stop() { listener_->Stop(); }

int WebhookReceiver::port() const { return listener_->port(); }

std::string WebhookReceiver::Url(const std::string& path) const {
  return absl::StrCat("https://", options_.host, ":", port(), path);
}

void WebhookReceiver::Script(std::vector<WebhookReply> replies) {
  absl::MutexLock lock(&mu_);
  script_.assign(replies.begin(), replies.end());
}

void WebhookReceiver::SetDefault(WebhookReply reply) {
  absl::MutexLock lock(&mu_);
  default_ = std::move(reply);
}

std::vector<WebhookRequest> WebhookReceiver::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int WebhookReceiver::connections() const {
  absl::MutexLock lock(&mu_);
  return connections_;
}

bool WebhookReceiver::WaitForRequests(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto arrived = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
}

// ---------------------------------------------------------------------------
// MllpReceiver

template <typename Stream>
class MllpReceiver::Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Session(MllpReceiver* owner, tcp::socket socket)
      : owner_(owner), stream_(MakeStream(owner, std::move(socket))) {}

  void Start() {
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) return;
                                self->san_ = ClientSan(self->stream_.native_handle());
                                self->Read();
                              });
    } else {
      Read();
    }
  }

 private:
  static Stream MakeStream(MllpReceiver* owner, tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), owner->listener_->ssl());
    } else {
      return socket;
    }
  }

  void Read() {
    asio::async_read_until(stream_, asio::dynamic_buffer(pending_), gateway::connectors::kMllpEnd,
                           [self = this->shared_from_this()](error_code ec, size_t n) {
                             if (!ec) self->Handle(n);
                           });
  }

  void Handle(size_t n) {
    std::string payload = pending_.substr(0, n - 2);
    pending_.erase(0, n);
    if (!payload.empty() && payload[0] == gateway::connectors::kMllpStart) payload.erase(0, 1);
    MllpReply reply;
    {
      absl::MutexLock lock(&owner_->mu_);
      owner_->messages_.push_back(MllpMessage{payload, san_});
      reply = Next(owner_->script_, owner_->default_);
    }
    if (reply.hang) return Read();
    out_ = reply.raw.has_value() ? *reply.raw : gateway::connectors::MllpFrame(Ack(payload, reply));
    asio::async_write(stream_, asio::buffer(out_),
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        if (!ec) self->Read();
                      });
  }

  std::string Ack(const std::string& payload, const MllpReply& reply) {
    absl::StatusOr<hl7::Message> in = hl7::ParseEr7(payload);
    hl7::AckCode code = hl7::AckCode::kAccept;
    if (reply.code == "AE") code = hl7::AckCode::kError;
    if (reply.code == "AR" || !in.ok()) code = hl7::AckCode::kReject;
    std::vector<hl7::ErrEntry> errors;
    if (!reply.text.empty()) {
      hl7::ErrEntry err;
      err.user_message = reply.text;
      errors.push_back(err);
    }
    return hl7::EncodeEr7(hl7::MakeAck(in.ok() ? *in : hl7::Message(), code,
                                       absl::StrCat("PARTNER", ++acks_), absl::Now(), errors));
  }

  MllpReceiver* const owner_;
  Stream stream_;
  std::string pending_;
  std::string out_;
  std::string san_;
  int acks_ = 0;
};

MllpReceiver::MllpReceiver(PartnerOptions options)
    : options_(std::move(options)),
      listener_(std::make_unique<PartnerListener>(options_, options_.tls)) {}

MllpReceiver::~MllpReceiver() { Stop(); }

absl::Status MllpReceiver::Start() {
  return listener_->Start([this](tcp::socket socket) {
    {
      absl::MutexLock lock(&mu_);
      ++connections_;
    }
    if (options_.tls) {
      std::make_shared<Session<ssl::stream<tcp::socket>>>(this, std::move(socket))->Start();
    } else {
      std::make_shared<Session<tcp::socket>>(this, std::move(socket))->Start();
    }
  });
}

void MllpReceiver::Stop() { listener_->Stop(); }

int MllpReceiver::port() const { return listener_->port(); }

std::string MllpReceiver::Address() const { return absl::StrCat(options_.host, ":", port()); }

void MllpReceiver::Script(std::vector<MllpReply> replies) {
  absl::MutexLock lock(&mu_);
  script_.assign(replies.begin(), replies.end());
}

void MllpReceiver::SetDefault(MllpReply reply) {
  absl::MutexLock lock(&mu_);
  default_ = std::move(reply);
}

std::vector<MllpMessage> MllpReceiver::messages() const {
  absl::MutexLock lock(&mu_);
  return messages_;
}

int MllpReceiver::connections() const {
  absl::MutexLock lock(&mu_);
  return connections_;
}

bool MllpReceiver::WaitForMessages(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto arrived = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return messages_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
}

// ---------------------------------------------------------------------------
// GrpcReceiver

// A call that is never answered: it ends when the client gives up (deadline,
// cancel) or the server shuts down, both of which cancel it.
class HangingReactor final : public grpc::ServerUnaryReactor {
 public:
  void OnCancel() override { Finish(grpc::Status(grpc::StatusCode::CANCELLED, "gave up")); }
  void OnDone() override { delete this; }
};

class GrpcReceiver::Service final : public v1::DeliveryReceiver::CallbackService {
 public:
  explicit Service(GrpcReceiver* owner) : owner_(owner) {}

  grpc::ServerUnaryReactor* Deliver(grpc::CallbackServerContext* context,
                                    const v1::Delivery* delivery,
                                    v1::DeliverResponse* response) override {
    std::string sans;
    for (const grpc::string_ref& san :
         context->auth_context()->FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME)) {
      absl::StrAppend(&sans, sans.empty() ? "" : ",", absl::string_view(san.data(), san.size()));
    }
    GrpcReply reply;
    {
      absl::MutexLock lock(&owner_->mu_);
      owner_->deliveries_.push_back(*delivery);
      owner_->client_sans_.push_back(sans);
      reply = Next(owner_->script_, owner_->default_);
    }
    if (reply.hang) return new HangingReactor();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status(reply.code, reply.message));
    return reactor;
  }

 private:
  GrpcReceiver* const owner_;
};

GrpcReceiver::GrpcReceiver(PartnerOptions options) : options_(std::move(options)) {}

GrpcReceiver::~GrpcReceiver() { Stop(); }

absl::Status GrpcReceiver::Start() {
  if (server_ != nullptr) return absl::OkStatus();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ReadText(options_.tls_files.ca);
  ssl.pem_key_cert_pairs.push_back(
      {ReadText(options_.tls_files.key), ReadText(options_.tls_files.cert)});
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder builder;
  int chosen = 0;
  builder.AddListeningPort(absl::StrCat(options_.host, ":", port_), grpc::SslServerCredentials(ssl),
                           &chosen);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || chosen == 0) {
    server_.reset();
    service_.reset();
    return absl::InternalError(
        absl::StrCat("partner gRPC server on ", options_.host, ":", port_, " did not start"));
  }
  port_ = chosen;
  return absl::OkStatus();
}

void GrpcReceiver::Stop() {
  if (server_ == nullptr) return;
  // Cancels the calls in progress (hanging ones included) at once.
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
  service_.reset();
}

int GrpcReceiver::port() const { return port_; }

std::string GrpcReceiver::Address() const { return absl::StrCat(options_.host, ":", port_); }

void GrpcReceiver::Script(std::vector<GrpcReply> replies) {
  absl::MutexLock lock(&mu_);
  script_.assign(replies.begin(), replies.end());
}

void GrpcReceiver::SetDefault(GrpcReply reply) {
  absl::MutexLock lock(&mu_);
  default_ = std::move(reply);
}

std::vector<v1::Delivery> GrpcReceiver::deliveries() const {
  absl::MutexLock lock(&mu_);
  return deliveries_;
}

std::vector<std::string> GrpcReceiver::client_sans() const {
  absl::MutexLock lock(&mu_);
  return client_sans_;
}

bool GrpcReceiver::WaitForDeliveries(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto arrived = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return deliveries_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
}

// ---------------------------------------------------------------------------
// SilentListener, ClosedPort

namespace {

// A socket bound to 127.0.0.1, port 0; its port in *port.
int BindLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    *port = 0;
    return fd;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

SilentListener::SilentListener() {
  fd_ = BindLoopback(&port_);
  if (fd_ >= 0) ::listen(fd_, 64);
}

SilentListener::~SilentListener() {
  if (fd_ >= 0) ::close(fd_);
}

std::string SilentListener::Address() const { return absl::StrCat("127.0.0.1:", port_); }

int ClosedPort() {
  int port = 0;
  const int fd = BindLoopback(&port);
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace switchboard::testing
