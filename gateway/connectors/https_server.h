// The HTTPS listener: HTTP/1.1 over TLS (Boost.Beast), with a small route table
// (method + exact path or path prefix -> handler) that other files fill before the
// server starts.
// Today it serves FHIR `POST /fhir/$process-message` (fhir_endpoint.h); later the
// web UI shares it.
//
// TLS: the gateway's `tls` material, TLS 1.2 or later. A client certificate is
// REQUESTED and verified when presented (it must chain to the gateway's CA, or the
// handshake fails), but not required: browsers of people who sign in with a
// password have none. Each route decides what it needs; the handler gets the
// identity material of the TLS peer (identity::PeerInfo: `authenticated` false
// and no SANs when no certificate was presented) and does its own RpcGuard check.
//
// HTTP: keep-alive (one request at a time per connection, the next is read once
// the answer is written, so answers keep the order of requests); `Expect:
// 100-continue` honoured; a whole request must arrive within `read_timeout`
// (slow clients are disconnected); a body over `max_body_bytes` gets 413 and the
// connection is closed; 404 for a path without routes, 405 with `Allow` for a
// known path and another method; 400 for bytes that are not HTTP/1.1. The query
// string is not part of the path matched. The server sets Content-Length,
// keep-alive and the HTTP version of answers; handlers set status, headers, body.
//
// Thread-safety: HttpRoutes is filled on one thread, before Start, and is
// immutable afterwards. One I/O thread of the server runs every connection and
// calls the handlers; a handler may answer from any thread (the answer is handed
// back to the I/O thread). Start/Stop/accessors may be called from any thread.
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_HTTPS_SERVER_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_HTTPS_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/verb.hpp"
#include "gateway/identity/authenticator.h"
#include "gateway/server/call_counter.h"

namespace switchboard::gateway::connectors {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
// Answers one request. Call exactly once, from any thread (later calls are
// ignored). A handler that is still working when the server stops past its
// deadline has its answer dropped.
using HttpRespond = std::function<void(HttpResponse)>;
// Serves one request: the request (owned by the handler), the identity material
// of the TLS peer, and where to send the answer. Runs on the I/O thread: it must
// not block (hand slow work elsewhere and answer from there).
using HttpHandler =
    std::function<void(HttpRequest request, const identity::PeerInfo& peer, HttpRespond respond)>;
// The answer to an error the server finds itself (400, 404, 405, 413, 431):
// status and `message` (one line, e.g. `no route for GET /fhir/x`) -> response.
using HttpErrorRenderer =
    std::function<HttpResponse(boost::beast::http::status status, const std::string& message)>;

// What the server serves. Fill it, then hand it to HttpsServer::Start.
class HttpRoutes {
 public:
  // INVALID_ARGUMENT when `path` does not start with '/' or `handler` is empty;
  // ALREADY_EXISTS when `method` `path` has a handler already.
  absl::Status Add(boost::beast::http::verb method, const std::string& path, HttpHandler handler);
  // A handler for every path under `prefix` (which starts and ends with '/'),
  // e.g. `/clients/` for `/clients/client-0004/items/g1/progress`. An exact
  // route wins; among prefixes the longest. Same errors as Add.
  absl::Status AddPrefix(boost::beast::http::verb method, const std::string& prefix,
                         HttpHandler handler);

  // Errors the server answers for a path starting with `prefix` are rendered by
  // `renderer` (the longest prefix wins; another call with the same prefix
  // replaces it). Without one they are text/plain.
  void SetErrorRenderer(const std::string& prefix, HttpErrorRenderer renderer);

  // The handler of `method` `path`, or nullptr. When nullptr, `allowed` (if set)
  // receives the methods `path` does have (empty: an unknown path).
  const HttpHandler* Find(boost::beast::http::verb method, const std::string& path,
                          std::vector<boost::beast::http::verb>* allowed) const;

  // The error answer for `path`, by its renderer or as text/plain.
  HttpResponse RenderError(const std::string& path, boost::beast::http::status status,
                           const std::string& message) const;

 private:
  // path -> method -> handler.
  std::map<std::string, std::map<boost::beast::http::verb, HttpHandler>> routes_;
  std::map<std::string, std::map<boost::beast::http::verb, HttpHandler>> prefixes_;
  std::map<std::string, HttpErrorRenderer> renderers_;
};

struct HttpsServerOptions {
  // host:port; port 0 picks a free port.
  std::string address;
  // PEM text: the CA client certificates must chain to, the server's chain and key.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  // Largest request body accepted (limits.max_message_bytes).
  uint64_t max_body_bytes = 1 << 20;
  // Time for the TLS handshake, for a whole request to arrive (headers and
  // body) and for an answer to be written; also how long a kept-alive
  // connection may sit idle.
  absl::Duration read_timeout = absl::Seconds(30);
};

class HttpsServer {
 public:
  // Binds and starts serving `routes`. INVALID_ARGUMENT `listen.https_address:
  // ...` for an address that is not host:port, `tls.*: ...` for TLS material
  // OpenSSL refuses; UNAVAILABLE `listen.https_address: ...` when it cannot be
  // bound. What the handlers use must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpsServer>> Start(const HttpsServerOptions& options,
                                                            HttpRoutes routes);

  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;
  ~HttpsServer();  // Stop()s with no grace.

  // Where it listens (the chosen port when the config said 0).
  const std::string& host() const { return host_; }
  int port() const { return port_; }

  // Stops accepting, waits until `deadline` for the requests being handled to
  // be answered, then closes every connection and joins the I/O thread. True
  // when nothing was still in flight at the deadline. Idempotent. The caller
  // keeps what handlers use (e.g. the store) until this returns, and the server
  // itself until late answers can no longer arrive.
  bool Stop(absl::Time deadline);

 private:
  class Session;

  HttpsServer(const HttpsServerOptions& options, HttpRoutes routes);
  void Accept();

  // Constant after construction.
  const HttpsServerOptions options_;
  const HttpRoutes routes_;
  std::string host_;
  int port_ = 0;

  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  // Requests handed to a handler and not yet answered.
  CallCounter in_flight_;
  std::atomic<bool> stopped_{false};
  // Only touched on the I/O thread.
  std::vector<std::weak_ptr<Session>> sessions_;
  bool closing_ = false;
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_HTTPS_SERVER_H_
