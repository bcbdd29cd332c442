// Client side of integration tests: channels with a member's certificate, stubs,
// a subscriber that reads its stream on a thread (so tests can wait for the next
// delivery with a deadline), and message builders.
#ifndef SWITCHBOARD_TESTS_INTEGRATION_TEST_CLIENT_H_
#define SWITCHBOARD_TESTS_INTEGRATION_TEST_CLIENT_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "switchboard/v1/exchange.grpc.pb.h"
#include "switchboard/v1/operations.grpc.pb.h"
#include "switchboard/v1/registry.grpc.pb.h"
#include "tests/integration/gateway_process.h"
#include "tests/integration/test_pki.h"

namespace switchboard::testing {

// Mutual TLS with `files`; `client_cert` false presents no certificate at all.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const CertFiles& files,
                                           bool client_cert = true);

// A context with a deadline (10 s by default) and optional metadata.
std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout = absl::Seconds(10));

// Stubs for one identity.
struct Member {
  Member(const std::string& address, const CertFiles& files, bool client_cert = true);
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Exchange::Stub> exchange;
  std::unique_ptr<v1::Registry::Stub> registry;
  std::unique_ptr<v1::Operations::Stub> operations;

  grpc::Status Publish(const v1::Message& message, v1::Receipt* receipt = nullptr);
  grpc::Status PublishRaw(const std::string& content_type, const std::string& payload,
                          v1::Receipt* receipt = nullptr);
  grpc::Status Status(const std::string& message_id, v1::MessageStatus* status = nullptr);
  grpc::Status Deliveries(v1::Delivery::State state, v1::ListDeliveriesResponse* out = nullptr);
  // Every audit record, in chain order, read page by page (the member must be an
  // admin; a failed read is a test failure and ends the list).
  std::vector<v1::AuditRecord> AuditRecords();
};

// A Subscribe stream read on its own thread.
class Subscriber {
 public:
  // window 0: the gateway's default.
  explicit Subscriber(const std::shared_ptr<grpc::Channel>& channel, uint32_t window = 0);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // The next delivery, or nullopt when none arrives within `timeout` or the
  // stream ended.
  std::optional<v1::Delivery> Next(absl::Duration timeout = absl::Seconds(10));
  // Waits for `n` deliveries (fewer if the stream ends or the time runs out).
  std::vector<v1::Delivery> Take(size_t n, absl::Duration timeout = absl::Seconds(20));
  // Nothing arrives within `quiet` (deliveries that do arrive are returned).
  std::vector<v1::Delivery> Drain(absl::Duration quiet);
  void Ack(const std::vector<std::string>& delivery_ids);
  void AckAll(const std::vector<v1::Delivery>& deliveries);
  // Half-closes and waits for the gateway to finish the stream: OK means every
  // ack sent is durable.
  grpc::Status Close(absl::Duration timeout = absl::Seconds(20));
  // Breaks the stream as a lost connection would.
  void Drop();
  // The status the stream ended with, once it has (nullopt while open).
  std::optional<grpc::Status> WaitEnded(absl::Duration timeout = absl::Seconds(20));

 private:
  void ReadLoop();

  grpc::ClientContext ctx_;
  std::unique_ptr<v1::Exchange::Stub> stub_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::Ack, v1::Delivery>> stream_;
  absl::Mutex mu_;
  std::deque<v1::Delivery> received_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> ended_ ABSL_GUARDED_BY(mu_);
  absl::Mutex write_mu_;
  bool writes_done_ ABSL_GUARDED_BY(write_mu_) = false;
  std::thread reader_;
};

// A valid discharge message from `source` about the client with `value` (in the
// hospital MRN system unless `system` says otherwise).
v1::Message Discharge(const std::string& id, const std::string& value = "MRN-1",
                      const std::string& source = "st-marys",
                      const std::string& system = kMrnSystem);
// Same shape for a case note (event case-note).
v1::Message CaseNote(const std::string& id, const std::string& source,
                     const std::string& system, const std::string& value);

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_TEST_CLIENT_H_
