#include "gateway/connectors/https_server.h"

#include <openssl/ssl.h>

#include <array>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/asio/post.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/string.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"
#include "gateway/common/log.h"
#include "gateway/connectors/tls_server.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::gateway::connectors {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

// After an answer that ends a connection whose request was not read to its end
// (413, 400), what the client still sends is read and dropped for this long
// before the socket is closed: closing with unread bytes would reset the
// connection, and the client could lose the answer.
constexpr absl::Duration kLinger = absl::Seconds(5);

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

// The path of a request target: without the query string.
std::string PathOf(beast::string_view target) { return Str(target.substr(0, target.find('?'))); }

bool IsParseError(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

}  // namespace

// ---------------------------------------------------------------------------
// HttpRoutes.

absl::Status HttpRoutes::Add(http::verb method, const std::string& path, HttpHandler handler) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("route path '", path, "' must start with '/'"));
  }
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("route ", Str(http::to_string(method)), " ", path, ": no handler"));
  }
  if (!routes_[path].emplace(method, std::move(handler)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("route ", Str(http::to_string(method)), " ", path, " is taken already"));
  }
  return absl::OkStatus();
}

void HttpRoutes::SetErrorRenderer(const std::string& prefix, HttpErrorRenderer renderer) {
  renderers_[prefix] = std::move(renderer);
}

absl::Status HttpRoutes::AddPrefix(http::verb method, const std::string& prefix,
                                   HttpHandler handler) {
  if (prefix.empty() || prefix[0] != '/' || prefix.back() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("route prefix '", prefix, "' must start and end with '/'"));
  }
  if (!handler) {
    return absl::InvalidArgumentError(
        absl::StrCat("route ", Str(http::to_string(method)), " ", prefix, "*: no handler"));
  }
  if (!prefixes_[prefix].emplace(method, std::move(handler)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("route ", Str(http::to_string(method)), " ", prefix, "* is taken already"));
  }
  return absl::OkStatus();
}

const HttpHandler* HttpRoutes::Find(http::verb method, const std::string& path,
                                    std::vector<http::verb>* allowed) const {
  auto by_path = routes_.find(path);
  if (by_path == routes_.end()) {
    // The longest prefix route under which the path lies.
    const std::map<http::verb, HttpHandler>* best = nullptr;
    size_t best_length = 0;
    for (const auto& [prefix, handlers] : prefixes_) {
      if (path.size() > prefix.size() && absl::StartsWith(path, prefix) &&
          prefix.size() >= best_length) {
        best = &handlers;
        best_length = prefix.size();
      }
    }
    if (best == nullptr) return nullptr;
    auto by_method = best->find(method);
    if (by_method != best->end()) return &by_method->second;
    if (allowed != nullptr) {
      for (const auto& [m, handler] : *best) allowed->push_back(m);
    }
    return nullptr;
  }
  auto by_method = by_path->second.find(method);
  if (by_method != by_path->second.end()) return &by_method->second;
  if (allowed != nullptr) {
    for (const auto& [m, handler] : by_path->second) allowed->push_back(m);
  }
  return nullptr;
}

HttpResponse HttpRoutes::RenderError(const std::string& path, http::status status,
                                     const std::string& message) const {
  const HttpErrorRenderer* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, renderer] : renderers_) {
    if (absl::StartsWith(path, prefix) && (best == nullptr || prefix.size() >= best_length)) {
      best = &renderer;
      best_length = prefix.size();
    }
  }
  if (best != nullptr && *best) return (*best)(status, message);
  HttpResponse response(status, 11);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = message + "\n";
  return response;
}

// ---------------------------------------------------------------------------
// One connection. Lives as long as an asynchronous operation or an unanswered
// request holds it; every member is touched on the I/O thread only.

class HttpsServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpsServer* server, tcp::socket socket)
      : server_(server), stream_(std::move(socket), server->ssl_) {}

  void Start() {
    Expire(server_->options_.read_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](const error_code& ec) {
                              if (ec) {
                                LogInfo("https_handshake_failed", {{"reason", ec.message()}});
                                return self->Close();
                              }
                              self->peer_ = PeerFromTls(self->stream_.native_handle());
                              self->ReadRequest();
                            });
  }

  // At shutdown: close now unless a request is being answered (then once the
  // answer is written).
  void CloseWhenIdle() {
    if (!busy_) Close();
  }

  void Close() { beast::get_lowest_layer(stream_).close(); }

 private:
  void Expire(absl::Duration after) {
    beast::get_lowest_layer(stream_).expires_after(absl::ToChronoNanoseconds(after));
  }

  // One deadline for the whole request (headers, 100 Continue, body): a client
  // that trickles bytes is cut off at read_timeout.
  void ReadRequest() {
    if (server_->closing_) return Close();
    parser_.emplace();
    parser_->body_limit(server_->options_.max_body_bytes);
    Expire(server_->options_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](const error_code& ec, size_t) {
                              if (ec) return self->ReadFailed(ec);
                              self->OnHeader();
                            });
  }

  void OnHeader() {
    const HttpRequest& request = parser_->get();
    if (!beast::iequals(request[http::field::expect], "100-continue")) return ReadBody();
    auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                    request.version());
    http::async_write(stream_, *go_on,
                      [self = shared_from_this(), go_on](const error_code& ec, size_t) {
                        if (ec) return self->Close();
                        self->ReadBody();
                      });
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       if (ec) return self->ReadFailed(ec);
                       self->Dispatch();
                     });
  }

  void ReadFailed(const error_code& ec) {
    if (ec == http::error::body_limit) {
      return Refuse(http::status::payload_too_large,
                    absl::StrCat("request body: over the limit of ",
                                 server_->options_.max_body_bytes, " bytes"));
    }
    if (ec == http::error::header_limit) {
      return Refuse(http::status::request_header_fields_too_large,
                    "request header: over the limit of 8192 bytes");
    }
    // The client went away, was too slow, or we are closing.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        !IsParseError(ec)) {
      return Close();
    }
    Refuse(http::status::bad_request, absl::StrCat("request: not HTTP/1.1 (", ec.message(), ")"));
  }

  // An error answer after which the rest of the request cannot be read: the
  // connection ends.
  void Refuse(http::status status, const std::string& message) {
    const std::string path = PathOf(parser_->get().target());
    LogInfo("https_request_refused", {{"status", absl::StrCat(static_cast<int>(status))}});
    Write(server_->routes_.RenderError(path, status, message), /*linger=*/true);
  }

  void Dispatch() {
    HttpRequest request = parser_->release();
    parser_.reset();
    busy_ = true;
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    const std::string path = PathOf(request.target());
    std::vector<http::verb> allowed;
    const HttpHandler* handler = server_->routes_.Find(request.method(), path, &allowed);
    if (handler == nullptr && allowed.empty()) {
      return Write(server_->routes_.RenderError(path, http::status::not_found,
                                                absl::StrCat("no route for ", path)),
                   /*linger=*/false);
    }
    if (handler == nullptr) {
      std::vector<std::string> names;
      for (http::verb m : allowed) names.push_back(Str(http::to_string(m)));
      const std::string allow = absl::StrJoin(names, ", ");
      HttpResponse response = server_->routes_.RenderError(
          path, http::status::method_not_allowed,
          absl::StrCat("method ", Str(request.method_string()), " is not allowed on ", path,
                       " (allowed: ", allow, ")"));
      response.set(http::field::allow, allow);
      return Write(std::move(response), /*linger=*/false);
    }

    // From here the answer may come from another thread (an audit write or the
    // WAL sync); it is handed back to the I/O thread. The counter lets Stop wait
    // for it; it is released only after the hand-over, so the server outlives it.
    beast::get_lowest_layer(stream_).expires_never();  // the handler takes its time
    server_->in_flight_.Enter();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    HttpRespond respond = [self = shared_from_this(), answered](HttpResponse response) {
      if (answered->exchange(true)) return;
      HttpsServer* server = self->server_;
      asio::post(server->io_, [self, response = std::move(response)]() mutable {
        self->Write(std::move(response), /*linger=*/false);
      });
      server->in_flight_.Exit();
    };
    (*handler)(std::move(request), peer_, std::move(respond));
  }

  // `linger`: the request was not read to its end; the connection ends after
  // this answer, dropping what the client still sends (see kLinger).
  void Write(HttpResponse response, bool linger) {
    busy_ = true;
    response.version(version_);
    response.keep_alive(keep_alive_ && !linger && !server_->closing_);
    response.prepare_payload();
    out_ = std::make_shared<HttpResponse>(std::move(response));
    Expire(server_->options_.read_timeout);
    http::async_write(stream_, *out_,
                      [self = shared_from_this(), linger](const error_code& ec, size_t) {
                        self->busy_ = false;
                        const bool keep_alive = self->out_->keep_alive();
                        self->out_.reset();
                        if (ec || self->server_->closing_) return self->Close();
                        if (linger) return self->Linger();
                        if (!keep_alive) return self->Shutdown();
                        self->ReadRequest();  // the next request only now: order kept
                      });
  }

  // The client asked to close: TLS close_notify, then the socket.
  void Shutdown() {
    Expire(kLinger);
    stream_.async_shutdown([self = shared_from_this()](const error_code&) { self->Close(); });
  }

  void Linger() {
    error_code ignored;
    beast::tcp_stream& tcp = beast::get_lowest_layer(stream_);
    tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
    Expire(kLinger);
    DropInput();
  }

  void DropInput() {
    beast::get_lowest_layer(stream_).async_read_some(
        asio::buffer(discard_), [self = shared_from_this()](const error_code& ec, size_t) {
          if (ec || self->server_->closing_) return self->Close();
          self->DropInput();
        });
  }

  HttpsServer* const server_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  identity::PeerInfo peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpResponse> out_;  // the answer being written
  std::array<char, 4096> discard_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool busy_ = false;  // between a complete request and its answer written
};

// ---------------------------------------------------------------------------
// HttpsServer.

HttpsServer::HttpsServer(const HttpsServerOptions& options, HttpRoutes routes)
    : options_(options),
      routes_(std::move(routes)),
      ssl_(ssl::context::tls_server),
      acceptor_(io_),
      work_(asio::make_work_guard(io_)) {}

HttpsServer::~HttpsServer() { Stop(absl::Now()); }

absl::StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Start(const HttpsServerOptions& options,
                                                                HttpRoutes routes) {
  auto server = std::unique_ptr<HttpsServer>(new HttpsServer(options, std::move(routes)));
  // TLS 1.2 or later. A client certificate is asked for and, when presented,
  // must chain to our CA; whether one is needed is each route's decision.
  SB_RETURN_IF_ERROR(ConfigureServerTls(server->ssl_, options.ca_pem, options.cert_pem,
                                        options.key_pem, /*require_client_certificate=*/false,
                                        "switchboard-https"));

  SB_RETURN_IF_ERROR(Listen(server->acceptor_, options.address, "listen.https_address", "0.0.0.0:8443",
                            &server->host_, &server->port_));
  server->Accept();
  server->thread_ = std::thread([s = server.get()] { s->io_.run(); });
  return server;
}

void HttpsServer::Accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // stopping
    if (!ec) {
      std::erase_if(sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
      auto session = std::make_shared<Session>(this, std::move(socket));
      sessions_.push_back(session);
      session->Start();
    }
    Accept();
  });
}

bool HttpsServer::Stop(absl::Time deadline) {
  if (stopped_.exchange(true)) return true;
  if (!thread_.joinable()) return true;  // never started
  asio::post(io_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
  });
  // Requests already handed to a handler are answered before their connection
  // closes (and before the caller closes the store).
  const bool idle = in_flight_.WaitIdle(deadline);
  asio::post(io_, [this] {
    closing_ = true;
    for (const std::weak_ptr<Session>& weak : sessions_) {
      if (auto session = weak.lock()) session->CloseWhenIdle();
    }
    sessions_.clear();
  });
  work_.reset();
  // Closed sockets cancel every pending operation (an answer being written
  // finishes first, then its connection closes), so run() ends. An answer
  // arriving past the deadline is posted to a stopped context and dropped.
  thread_.join();
  return idle;
}

}  // namespace switchboard::gateway::connectors
