#include "tools/perf/echo_baseline.h"

#include <map>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "echo_service.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "tools/perf/bench_setup.h"
#include "tools/perf/cpu_usage.h"

namespace switchboard::tools::perf {
namespace {

class EchoService final : public Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const EchoRequest* request,
                                 EchoReply* reply) override {
    reply->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// A request of exactly `size` serialised bytes where possible (tag, length
// varint, payload), else the nearest above.
EchoRequest RequestOfSize(int size) {
  EchoRequest request;
  size_t n = size > 3 ? static_cast<size_t>(size) - 2 : 1;
  request.set_payload(std::string(n, 'e'));
  while (request.ByteSizeLong() > static_cast<size_t>(size) && n > 1) {
    n -= std::min(n - 1, request.ByteSizeLong() - static_cast<size_t>(size));
    request.set_payload(std::string(n, 'e'));
  }
  return request;
}

}  // namespace

absl::StatusOr<RateResult> RunEchoBaseline(const EchoBaselineOptions& o) {
  absl::StatusOr<std::string> ca = ReadTextFile(absl::StrCat(o.certs_dir, "/ca.pem"));
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadTextFile(absl::StrCat(o.certs_dir, "/gateway.pem"));
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadTextFile(absl::StrCat(o.certs_dir, "/gateway.key"));
  if (!key.ok()) return key.status();

  EchoService service;
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError("echo baseline: the in-process TLS server did not start");
  }
  const std::string address = absl::StrCat("127.0.0.1:", port);

  // One connection per member, shared by that member's callers (as the gateway's
  // publishers share theirs).
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<Echo::Stub>> stubs;
  for (const std::string& org : o.callers) {
    if (!channels.contains(org)) {
      auto channel = MemberChannel(address, o.certs_dir, org);
      if (!channel.ok()) return channel.status();
      if (!(*channel)->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10))) {
        return absl::UnavailableError(
            absl::StrCat("echo baseline: ", org, " cannot connect to the in-process server"));
      }
      channels[org] = *channel;
    }
    stubs.push_back(Echo::NewStub(channels[org]));
  }

  const EchoRequest request = RequestOfSize(o.size);
  const Clock::time_point begin = Clock::now() + absl::ToChronoNanoseconds(o.warmup);
  const Clock::time_point end = begin + absl::ToChronoNanoseconds(o.measure);
  struct Outcome {
    uint64_t calls = 0;
    LatencySamples latency;
    absl::Status error;
  };
  std::vector<Outcome> outcomes(stubs.size());
  std::atomic<bool> abort{false};
  auto call_loop = [&](size_t i) {
    Outcome& out = outcomes[i];
    EchoReply reply;
    while (!abort.load(std::memory_order_relaxed)) {
      const Clock::time_point started = Clock::now();
      if (started >= end) break;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      const grpc::Status status = stubs[i]->Echo(&context, request, &reply);
      const Clock::time_point done = Clock::now();
      if (!status.ok() || reply.payload().size() != request.payload().size()) {
        out.error = absl::UnavailableError(
            absl::StrCat("echo baseline: call by ", o.callers[i],
                         " failed: ", status.ok() ? "wrong payload size" : status.error_message()));
        abort.store(true);
        break;
      }
      if (done >= begin && done < end) {
        ++out.calls;
        out.latency.Add(done - started);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stubs.size(); ++i) threads.emplace_back(call_loop, i);
  std::this_thread::sleep_until(begin);
  const CpuSample cpu_begin = SampleCpu(0);
  std::this_thread::sleep_until(end);
  const CpuSample cpu_end = SampleCpu(0);
  for (std::thread& t : threads) t.join();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));

  uint64_t operations = 0;
  LatencySamples latency;
  for (const Outcome& out : outcomes) {
    if (!out.error.ok()) return out.error;
    operations += out.calls;
    latency.Merge(out.latency);
  }
  return SummariseRate(operations, latency, SecondsBetween(begin, end), cpu_begin, cpu_end);
}

}  // namespace switchboard::tools::perf
