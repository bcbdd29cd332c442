// The benchmark's federation and everything it needs before load starts: who
// publishes and who receives, their certificates (made by tools/dev-ca), the
// gateway configuration that makes every message fan out to exactly F
// recipients, TLS channels with a member's certificate, and messages padded to
// an exact serialised size.
//
// Thread-safe: free functions hold no state; a MessageFactory belongs to one
// thread.
#ifndef SWITCHBOARD_TOOLS_PERF_BENCH_SETUP_H_
#define SWITCHBOARD_TOOLS_PERF_BENCH_SETUP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::tools::perf {

// Who takes part. Each publisher has its own client whose care team is the
// publisher and every recipient; routing never sends a member its own message,
// so each publish fans out to exactly recipients.size() deliveries.
struct Topology {
  std::vector<std::string> publishers;  // lg-pub-001, ...
  std::vector<std::string> recipients;  // lg-rcpt-01, ...
  std::string admin;                    // lg-admin (ADMIN role; unused by the load)
};
Topology MakeTopology(int publishers, int fanout);

// The identifier publisher `publisher` uses for its client.
v1::ClientIdentifier ClientIdentifierOf(const std::string& publisher);

// `dev_ca demo certs_dir ORG...`: the CA, the gateway's certificate (also used by
// the echo baseline's server) and one certificate per organisation. Errors name
// the step and quote dev-ca's output.
absl::Status MakeCertificates(const std::string& dev_ca, const std::string& certs_dir,
                              const Topology& topology);

// The gateway configuration: 127.0.0.1 port 0, certificates under certs/ and the
// RocksDB directory data/ (relative to the config file), event type `discharge`,
// a large delivery window, and the seed of `topology`.
v1::GatewayConfig MakeGatewayConfig(const Topology& topology, uint32_t max_message_bytes);

absl::StatusOr<std::string> ReadTextFile(const std::string& path);
absl::Status WriteTextFile(const std::string& path, const std::string& content);

// A channel to `address` (HOST:PORT) authenticated by `certs_dir`/ORG.pem/.key and
// trusting `certs_dir`/ca.pem. Each channel gets its own connection (no shared
// subchannel), as separate members would. NOT_FOUND when a file is missing.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MemberChannel(const std::string& address,
                                                             const std::string& certs_dir,
                                                             const std::string& org);

// Builds the DischargeNote messages of one publisher, each exactly `size` bytes
// serialised (the section text is the padding), differing only in header.id.
class MessageFactory {
 public:
  // Every id passed to Make() must have this length (it keeps the size exact).
  static constexpr size_t kIdLength = 18;

  // INVALID_ARGUMENT when `size` is below the smallest such message (naming it).
  static absl::StatusOr<MessageFactory> Create(const std::string& publisher, int size,
                                               absl::Time occurred_at);

  // The message with header.id = `id`; valid until the next call.
  const v1::Message& Make(const std::string& id);

 private:
  MessageFactory() = default;
  v1::Message message_;
};

}  // namespace switchboard::tools::perf

#endif  // SWITCHBOARD_TOOLS_PERF_BENCH_SETUP_H_
