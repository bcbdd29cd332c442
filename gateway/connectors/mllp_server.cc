#include "gateway/connectors/mllp_server.h"

#include <openssl/ssl.h>

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/hl7v2/er7.h"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/asio/write.hpp"
#include "gateway/common/log.h"
#include "gateway/connectors/mllp_ack.h"
#include "gateway/connectors/tls_server.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::gateway::connectors {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

// Audit operation of MLLP refusals made before the raw publisher sees a message.
constexpr char kOperation[] = "MLLP/PublishRaw";
constexpr char kContentType[] = "application/hl7-v2";

}  // namespace

// One connection. Lives as long as an asynchronous operation or a pending
// publish holds it; every member is touched on the I/O thread only.
class MllpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(MllpServer* server, tcp::socket socket)
      : server_(server), stream_(std::move(socket), server->ssl_), timer_(server->io_) {}

  void Start() {
    Arm(server_->options_.read_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](const error_code& ec) {
                              if (ec) {
                                LogInfo("mllp_handshake_failed", {{"reason", ec.message()}});
                                return self->Close();
                              }
                              self->timer_.cancel();
                              self->peer_ = PeerFromTls(self->stream_.native_handle());
                              self->Next();
                            });
  }

  // At shutdown: close now when waiting for a frame, else once the ACK is written.
  void CloseWhenIdle() {
    if (!busy_) Close();
  }

  void Close() {
    error_code ignored;
    timer_.cancel();
    stream_.lowest_layer().close(ignored);
  }

 private:
  // Closes the connection unless the client is heard from within `timeout`
  // (rearming cancels the previous wait).
  void Arm(absl::Duration timeout) {
    timer_.expires_after(absl::ToChronoNanoseconds(timeout));
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec) return;  // rearmed or cancelled
      LogInfo("mllp_timeout", {{"reason", self->pending_.empty() ? "idle" : "incomplete frame"}});
      self->Close();
    });
  }

  void ReadMore() {
    if (pending_.empty()) {
      // Between messages.
      Arm(server_->options_.idle_timeout);
      frame_started_ = false;
    } else if (!frame_started_) {
      // A frame has begun: all of it within read_timeout, however it trickles in.
      Arm(server_->options_.read_timeout);
      frame_started_ = true;
    }
    stream_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              if (ec) return self->Close();
                              self->pending_.append(self->chunk_.data(), n);
                              self->Next();
                            });
  }

  // Takes the next complete frame from pending_, or reads more.
  void Next() {
    if (pending_.empty()) return ReadMore();
    const uint64_t max = server_->options_.max_message_bytes;
    if (pending_[0] != kMllpStart) {
      return RefuseFraming("bytes outside an MLLP frame (expected 0x0B)");
    }
    const size_t end = pending_.find(kMllpEnd, 1);
    if (end == std::string::npos) {
      // The last byte may be the first half of the end marker.
      if (pending_.size() - 2 > max) return RefuseFraming(OverLimit(max));
      return ReadMore();
    }
    if (end - 1 > max) return RefuseFraming(OverLimit(max));
    timer_.cancel();
    frame_started_ = false;
    busy_ = true;
    std::string payload = pending_.substr(1, end - 1);
    pending_.erase(0, end + 2);
    Handle(std::move(payload));
  }

  static std::string OverLimit(uint64_t max) {
    return absl::StrCat("payload: the MLLP frame is over the limit of ", max, " bytes");
  }

  // An AR for a stream we cannot read on from, then the connection is closed.
  void RefuseFraming(const std::string& why) {
    busy_ = true;
    LogInfo("mllp_framing_error", {{"reason", why}});
    adapters::hl7v2::ErrEntry err;
    err.code = adapters::hl7v2::Hl7ErrorCode::kApplicationInternalError;
    err.user_message = why;
    Write(adapters::hl7v2::MakeAck(adapters::hl7v2::Message(), adapters::hl7v2::AckCode::kReject,
                                   server_->NextControlId(), absl::Now(), {err}),
          /*close_after=*/true);
  }

  void Handle(std::string payload) {
    adapters::hl7v2::ParseOptions parse;
    parse.max_bytes = server_->options_.max_message_bytes;
    absl::StatusOr<adapters::hl7v2::Message> parsed = adapters::hl7v2::ParseEr7(payload, parse);
    if (!parsed.ok()) {
      // Not HL7 at all: nothing to echo, and no adapter will do better.
      adapters::hl7v2::ErrEntry err;
      err.code = adapters::hl7v2::Hl7ErrorCode::kApplicationInternalError;
      err.user_message = absl::StrCat("payload: ", parsed.status().message());
      return Write(
          adapters::hl7v2::MakeAck(adapters::hl7v2::Message(), adapters::hl7v2::AckCode::kReject,
                                   server_->NextControlId(), absl::Now(), {err}),
          /*close_after=*/false);
    }

    // From here the answer may come from another thread (an audit write or the
    // WAL sync); it is handed back to the I/O thread. The counter lets Stop wait
    // for it; it is released only after the hand-over, so the server outlives it.
    server_->in_flight_.Enter();
    auto in = std::make_shared<const adapters::hl7v2::Message>(*std::move(parsed));
    auto answer = [self = shared_from_this(), in](const absl::Status& status,
                                                  std::string control_id) {
      MllpServer* server = self->server_;
      asio::post(server->io_, [self, in, status, control_id = std::move(control_id)] {
        self->Write(AckFor(*in, status, control_id, absl::Now()), /*close_after=*/false);
      });
      server->in_flight_.Exit();
    };

    std::optional<identity::Caller> caller = server_->guard_->IdentifyPeer(
        peer_, kOperation, [answer, server = server_](const absl::Status& refused) {
          answer(refused, server->NextControlId());
        });
    if (!caller.has_value()) return;  // `answer` is (or will be) called with the refusal
    v1::PublishRawRequest request;
    request.set_content_type(kContentType);
    request.set_payload(std::move(payload));
    server_->publisher_->Publish(*caller, request,
                                 [answer, server = server_](absl::StatusOr<v1::Receipt> receipt) {
                                   if (receipt.ok())
                                     return answer(absl::OkStatus(), receipt->gateway_message_id());
                                   answer(receipt.status(), server->NextControlId());
                                 });
  }

  void Write(const adapters::hl7v2::Message& ack, bool close_after) {
    out_ = MllpFrame(adapters::hl7v2::EncodeEr7(ack));
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this(), close_after](const error_code& ec, size_t) {
                        self->busy_ = false;
                        if (ec || close_after || self->server_->closing_) return self->Close();
                        self->Next();  // the next frame only after this ACK: order kept
                      });
  }

  MllpServer* const server_;
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  identity::PeerInfo peer_;
  std::array<char, 16 << 10> chunk_;
  std::string pending_;  // bytes read and not yet framed
  std::string out_;      // the ACK being written
  bool busy_ = false;    // between a frame and its ACK written
  bool frame_started_ = false;  // the read timeout of the current frame is armed
};

MllpServer::MllpServer(const MllpServerOptions& options, const identity::RpcGuard* guard,
                       const exchange::RawPublisher* publisher)
    : options_(options),
      guard_(guard),
      publisher_(publisher),
      control_prefix_(absl::StrCat("SB", absl::ToUnixSeconds(absl::Now()), "-")),
      ssl_(ssl::context::tls_server),
      acceptor_(io_),
      work_(asio::make_work_guard(io_)) {}

MllpServer::~MllpServer() { Stop(absl::Now()); }

absl::StatusOr<std::unique_ptr<MllpServer>> MllpServer::Start(
    const MllpServerOptions& options, const identity::RpcGuard* guard,
    const exchange::RawPublisher* publisher) {
  auto server = std::unique_ptr<MllpServer>(new MllpServer(options, guard, publisher));
  // TLS 1.2 or later, and a client certificate that chains to our CA, always.
  SB_RETURN_IF_ERROR(ConfigureServerTls(server->ssl_, options.ca_pem, options.cert_pem,
                                        options.key_pem, /*require_client_certificate=*/true,
                                        "switchboard-mllp"));

  SB_RETURN_IF_ERROR(Listen(server->acceptor_, options.address, "listen.mllp_address",
                            "0.0.0.0:2575", &server->host_, &server->port_));
  server->Accept();
  server->thread_ = std::thread([s = server.get()] { s->io_.run(); });
  return server;
}

void MllpServer::Accept() {
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

std::string MllpServer::NextControlId() {
  return absl::StrCat(control_prefix_, next_control_.fetch_add(1));
}

bool MllpServer::Stop(absl::Time deadline) {
  if (stopped_.exchange(true)) return true;
  if (!thread_.joinable()) return true;  // never started
  asio::post(io_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
  });
  // Messages already handed to the publisher are answered before their
  // connection closes (and before the caller closes the store).
  const bool idle = in_flight_.WaitIdle(deadline);
  asio::post(io_, [this] {
    closing_ = true;
    for (const std::weak_ptr<Session>& weak : sessions_) {
      if (auto session = weak.lock()) session->CloseWhenIdle();
    }
    sessions_.clear();
  });
  work_.reset();
  // Closed sockets cancel every pending operation (an ACK being written
  // finishes first: it fits the socket buffer), so run() ends. A publish
  // still running past the deadline would post to a stopped context: its
  // answer is dropped (the connection is gone anyway).
  thread_.join();
  return idle;
}

}  // namespace switchboard::gateway::connectors
