// The inbound MLLP connector: HL7 v2 over MLLP (0x0B message 0x1C 0x0D), over
// mutual TLS only. Each framed message is published exactly as Exchange.PublishRaw
// (content type application/hl7-v2, the adapter bound to the caller) and answered
// with an HL7 ACK (see mllp_ack.h): AA only once the message is durable.
//
// Identity comes from the TLS peer only: the URI SANs of the verified client
// certificate, matched and audited by RpcGuard::IdentifyPeer like any gRPC call.
// One message at a time per connection (the next frame is read once the ACK is
// written), so each connection's order is kept. A frame over max_message_bytes or
// bytes outside a frame get an AR and the connection is closed.
//
// Thread-safety: one I/O thread of its own runs every connection; publishing
// completes on the committer's threads and hands the ACK back to the I/O thread.
// Start/Stop/accessors may be called from any thread.
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_SERVER_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "gateway/exchange/raw_publisher.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/server/call_counter.h"

namespace switchboard::gateway::connectors {

struct MllpServerOptions {
  // host:port; port 0 picks a free port.
  std::string address;
  // PEM text: the CA member certificates must chain to, the server's chain and key.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  // Largest message (frame content) accepted.
  uint64_t max_message_bytes = 1 << 20;
  // The TLS handshake and the rest of a started frame must arrive within
  // read_timeout; a connection idle between messages is closed after
  // idle_timeout. Against connections that hold a socket and do nothing.
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Minutes(5);
};

class MllpServer {
 public:
  // Binds and starts serving. INVALID_ARGUMENT `listen.mllp_address: ...` for an
  // address that is not host:port, `tls.*: ...` for TLS material OpenSSL refuses;
  // UNAVAILABLE `listen.mllp_address: ...` when it cannot be bound. `guard` and
  // `publisher` must outlive the server.
  static absl::StatusOr<std::unique_ptr<MllpServer>> Start(const MllpServerOptions& options,
                                                           const identity::RpcGuard* guard,
                                                           const exchange::RawPublisher* publisher);

  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;
  ~MllpServer();  // Stop()s with no grace.

  // Where it listens (the chosen port when the config said 0).
  const std::string& host() const { return host_; }
  int port() const { return port_; }

  // Stops accepting, waits until `deadline` for the messages being published to
  // be answered, then closes every connection and joins the I/O thread. True
  // when nothing was still in flight at the deadline. Idempotent. The caller
  // keeps the store open until this returns.
  bool Stop(absl::Time deadline);

 private:
  class Session;

  MllpServer(const MllpServerOptions& options, const identity::RpcGuard* guard,
             const exchange::RawPublisher* publisher);
  void Accept();
  // A control id (MSH-10 of an ACK) for answers that have no gateway message id.
  std::string NextControlId();

  // Constant after construction.
  const MllpServerOptions options_;
  const identity::RpcGuard* const guard_;
  const exchange::RawPublisher* const publisher_;
  std::string host_;
  int port_ = 0;
  const std::string control_prefix_;

  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  // Messages between frame and written ACK decision (publish in progress).
  CallCounter in_flight_;
  std::atomic<uint64_t> next_control_{1};
  std::atomic<bool> stopped_{false};
  // Only touched on the I/O thread.
  std::vector<std::weak_ptr<Session>> sessions_;
  bool closing_ = false;
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_SERVER_H_
