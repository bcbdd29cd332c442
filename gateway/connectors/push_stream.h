// PushStream: the client connection under the byte push transports (webhook,
// MLLP). TCP, or TLS over TCP with the gateway's client certificate and the
// server checked against the CA *and* the host name or IP address it was
// reached by. Each operation runs on a private io_context driven by the
// calling thread until it completes, its deadline passes or Cancel is called,
// so a transport's Send is bounded without a thread of its own.
//
// Any failed, timed out or cancelled operation closes the connection (an
// answer may still be on its way: the stream cannot be trusted any more);
// Connect makes a new one.
//
// Thread-safety: everything but Cancel from one thread at a time (the Send
// thread); Cancel from any thread.
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_PUSH_STREAM_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_PUSH_STREAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"

namespace switchboard::gateway::connectors {

struct PushStreamOptions {
  // Where to connect: a DNS name or an IP literal (IPv6 without brackets).
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  // PEM text, when tls: the CA the server must chain to, the client chain and key.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  // The config fields the PEM came from, for errors.
  std::string ca_field = "tls.ca_cert_file";
  std::string cert_field = "tls.server_cert_file";
  std::string key_field = "tls.server_key_file";
  // The per-Send timeout, only to word the timeout errors.
  int64_t timeout_ms = 10000;
};

// host:port as configured: "127.0.0.1:2575", "partner.example:443", "[::1]:2575".
struct HostPort {
  std::string host;  // IPv6 without brackets
  uint16_t port = 0;
};

// INVALID_ARGUMENT "<field>: 'x' is not HOST:PORT (e.g. 10.0.0.5:2575)" or
// "<field>: port 'x' is not 1..65535".
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address, absl::string_view field);

class PushStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using TlsStream = boost::asio::ssl::stream<Socket>;

  // INVALID_ARGUMENT `<field>: ...` when OpenSSL refuses the PEM material.
  // Does not connect.
  static absl::StatusOr<std::unique_ptr<PushStream>> Create(const PushStreamOptions& options);

  PushStream(const PushStream&) = delete;
  PushStream& operator=(const PushStream&) = delete;
  ~PushStream();

  // "host:port" ("[::1]:2575" for IPv6), for messages.
  const std::string& authority() const { return authority_; }
  bool connected() const { return stream_ != nullptr; }
  bool cancelled() const { return cancelled_.load(); }

  // Connects (and for TLS handshakes) unless connected. OK when connected;
  // UNAVAILABLE "connect HOST:PORT: Connection refused" (or a resolve error),
  // "TLS handshake with HOST:PORT: certificate verify failed (...): IP address
  // mismatch"; DEADLINE_EXCEEDED "connect HOST:PORT: no connection within N
  // ms"; CANCELLED "cancelled".
  absl::Status Connect(absl::Time deadline);

  // Runs one asynchronous operation on the connection (which must be
  // connected): `start(stream, handler)` starts it on the TLS stream or, for
  // plain TCP, the socket (so `start` is a generic lambda), and passes it
  // `handler`, which takes (error_code, anything...). OK when it completed
  // without error; else the connection is closed and UNAVAILABLE "<what>:
  // <error>", DEADLINE_EXCEEDED "<what>: no answer within N ms" or CANCELLED
  // "cancelled". Whatever `start`'s operation uses (buffers, messages) is no
  // longer touched once Run returns.
  template <typename Start>
  absl::Status Run(absl::string_view what, absl::Time deadline, Start start) {
    auto state = std::make_shared<OpState>();
    if (options_.tls) {
      start(*stream_, Completion(state));
    } else {
      start(stream_->next_layer(), Completion(state));
    }
    return Await(*state, what, deadline);
  }

  // Closes the connection (no TLS close_notify: the peer sees a reset or EOF).
  void Close();

  // Makes the operation in progress (if any) and every later one fail with
  // CANCELLED at once. Any thread.
  void Cancel();

 private:
  struct OpState {
    bool finished = false;
    boost::system::error_code ec;
  };
  struct Resolve;

  // The completion handler of one operation. It owns the state it writes, so a
  // completion that runs late (see AbortAndDrain) writes nowhere that matters.
  static auto Completion(std::shared_ptr<OpState> state) {
    return [state = std::move(state)](const boost::system::error_code& ec, auto&&...) {
      state->finished = true;
      state->ec = ec;
    };
  }

  explicit PushStream(const PushStreamOptions& options);
  absl::Status Handshake(absl::Time deadline);
  // Drives io_ until `state` finishes, `deadline` passes or Cancel is called.
  absl::Status Await(OpState& state, absl::string_view what, absl::Time deadline);
  // Closes the socket and runs the operation's completion (operation_aborted)
  // now, so that it does not run later against a newer stream.
  void AbortAndDrain(OpState& state);
  std::string TimeoutMessage(absl::string_view what) const;

  // Constant after construction.
  const PushStreamOptions options_;
  const std::string authority_;

  // Declared before everything bound to it, so destroyed after it.
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  // Send thread only. Cancel only sets cancelled_ and wakes io_.
  std::unique_ptr<TlsStream> stream_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_PUSH_STREAM_H_
