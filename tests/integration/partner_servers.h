// Partner-side servers for push delivery tests: what a member runs to receive
// the gateway's pushes. Each listens on 127.0.0.1 (port 0 the first time),
// records what it receives in order, answers from a script (then a default),
// and can be stopped and started again on the same port to play an outage.
//
//   WebhookReceiver   HTTPS (PushEndpoint.webhook)
//   MllpReceiver      HL7 v2 over MLLP, TLS or plain (PushEndpoint.mllp)
//   GrpcReceiver      switchboard.v1.DeliveryReceiver (PushEndpoint.grpc)
//   SilentListener    accepts TCP connections (in the kernel) and never says a
//                     word: for timeouts
//
// TLS servers use a certificate valid for 127.0.0.1 (by default the test
// gateway's own: TestPki has no other server certificate) and require a client
// certificate chaining to the test CA, checked as any OpenSSL server does
// (including its extended key usage: clientAuth).
//
// Thread-safety: Start and Stop from one thread (the test's); the other
// methods from any thread. Waits use a deadline, never sleeps.
#ifndef SWITCHBOARD_TESTS_INTEGRATION_PARTNER_SERVERS_H_
#define SWITCHBOARD_TESTS_INTEGRATION_PARTNER_SERVERS_H_

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/connectors/push_transport.h"
#include "grpcpp/server.h"
#include "grpcpp/support/status.h"
#include "switchboard/v1/delivery.pb.h"
#include "tests/integration/test_pki.h"

namespace switchboard::testing {

// PEM file names of a partner server's TLS identity.
struct PartnerTls {
  std::string ca;    // the CA the gateway's client certificate must chain to
  std::string cert;  // the server's certificate, valid for 127.0.0.1
  std::string key;
};
// The test CA; the test gateway's certificate (SAN IP 127.0.0.1) as the server's.
PartnerTls DefaultPartnerTls();
// A server certificate for 127.0.0.1 from another CA (TestPki's other/ tree):
// a gateway that trusts only the test CA must refuse it.
PartnerTls OtherCaPartnerTls();

// The PushTls (PEM text) of `client` (the CA and the client certificate it
// presents). Empty strings for files that cannot be read.
gateway::connectors::PushTls ReadPushTls(const CertFiles& client);

struct PartnerOptions {
  // Where to listen; the port is chosen on the first Start.
  std::string host = "127.0.0.1";
  // MllpReceiver only: false for plain TCP (the others are TLS always).
  bool tls = true;
  PartnerTls tls_files = DefaultPartnerTls();
};

// A listening socket on an I/O thread of its own. The port chosen by the first
// Start is kept by later ones. Internal to the receivers below.
class PartnerListener;

// ---------------------------------------------------------------------------

struct WebhookRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string client_san;  // first URI SAN of the client certificate, "" if none
};

// Replies are written with designated initializers: {.status = 503}, {.hang = true}.
struct WebhookReply {
  int status = 200;
  std::string body = "";
  bool hang = false;   // never answer (the connection stays open)
  bool close = false;  // answer with Connection: close, then close
};

class WebhookReceiver {
 public:
  explicit WebhookReceiver(PartnerOptions options = {});
  ~WebhookReceiver();

  absl::Status Start();  // INTERNAL with OpenSSL's or the socket's error
  void Stop();           // closes every connection; recorded requests stay

  int port() const;
  // https://HOST:PORT + path.
  std::string Url(const std::string& path = "/hook") const;

  // Answers the next requests with `replies` in order, then with the default.
  void Script(std::vector<WebhookReply> replies);
  void SetDefault(WebhookReply reply);

  std::vector<WebhookRequest> requests() const;
  // Connections accepted so far (to see keep-alive at work).
  int connections() const;
  // True once `n` requests arrived in all, false at the timeout.
  bool WaitForRequests(size_t n, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  class Session;

  const PartnerOptions options_;
  std::unique_ptr<PartnerListener> listener_;
  mutable absl::Mutex mu_;
  std::vector<WebhookRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::deque<WebhookReply> script_ ABSL_GUARDED_BY(mu_);
  WebhookReply default_ ABSL_GUARDED_BY(mu_);
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
};

// ---------------------------------------------------------------------------

struct MllpMessage {
  std::string payload;     // the frame's content
  std::string client_san;  // as WebhookRequest::client_san ("" over plain TCP)
};

struct MllpReply {
  std::string code = "AA";  // MSA-1: AA, AE, AR (or anything, to test)
  std::string text = "";    // ERR-8 (with ERR-3 207) when not empty
  bool hang = false;        // never answer
  // Written instead of an ACK, exactly (no framing added): a broken answer, or
  // an ACK for another message.
  std::optional<std::string> raw = std::nullopt;
};

class MllpReceiver {
 public:
  explicit MllpReceiver(PartnerOptions options = {});
  ~MllpReceiver();

  absl::Status Start();
  void Stop();

  int port() const;
  std::string Address() const;  // HOST:PORT

  void Script(std::vector<MllpReply> replies);
  void SetDefault(MllpReply reply);

  std::vector<MllpMessage> messages() const;
  int connections() const;
  bool WaitForMessages(size_t n, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  template <typename Stream>
  class Session;

  const PartnerOptions options_;
  std::unique_ptr<PartnerListener> listener_;
  mutable absl::Mutex mu_;
  std::vector<MllpMessage> messages_ ABSL_GUARDED_BY(mu_);
  std::deque<MllpReply> script_ ABSL_GUARDED_BY(mu_);
  MllpReply default_ ABSL_GUARDED_BY(mu_);
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
};

// ---------------------------------------------------------------------------

struct GrpcReply {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message = "";
  bool hang = false;  // never answer (the call ends when the client gives up or at Stop)
};

class GrpcReceiver {
 public:
  explicit GrpcReceiver(PartnerOptions options = {});
  ~GrpcReceiver();

  absl::Status Start();
  void Stop();

  int port() const;
  std::string Address() const;  // HOST:PORT

  void Script(std::vector<GrpcReply> replies);
  void SetDefault(GrpcReply reply);

  std::vector<v1::Delivery> deliveries() const;
  // Per call, in order: the client certificate's SANs as gRPC lists them, comma-joined.
  std::vector<std::string> client_sans() const;
  bool WaitForDeliveries(size_t n, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  class Service;

  const PartnerOptions options_;
  int port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  mutable absl::Mutex mu_;
  std::vector<v1::Delivery> deliveries_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> client_sans_ ABSL_GUARDED_BY(mu_);
  std::deque<GrpcReply> script_ ABSL_GUARDED_BY(mu_);
  GrpcReply default_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------

// Listens on 127.0.0.1, port 0, and never accepts: connecting succeeds (the
// kernel completes the handshake) and then nothing is ever read or written.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  int port() const { return port_; }
  std::string Address() const;

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port nothing listens on (bound, then released): connection refused.
int ClosedPort();

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_PARTNER_SERVERS_H_
