#include "tools/perf/exchange_load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "tools/perf/cpu_usage.h"

namespace switchboard::tools::perf {
namespace {

constexpr auto kCallTimeout = std::chrono::seconds(30);
constexpr auto kConnectTimeout = std::chrono::seconds(10);

Clock::duration ToClock(absl::Duration d) {
  return std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(d));
}

absl::Status FromGrpc(const grpc::Status& s, absl::string_view context) {
  return absl::Status(
      static_cast<absl::StatusCode>(s.error_code()),
      absl::StrCat(context, ": ",
                   absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())), ": ",
                   s.error_message()));
}

// Hands out publish start times spaced evenly at `rate` per second, shared by
// all publishers (a token bucket without burst). Disabled when rate is 0.
class Pacer {
 public:
  Pacer(Clock::time_point start, double rate)
      : start_(start), interval_ns_(rate > 0 ? 1e9 / rate : 0) {}
  bool enabled() const { return interval_ns_ > 0; }
  Clock::time_point Next() {
    const uint64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    return start_ + std::chrono::nanoseconds(std::llround(static_cast<double>(i) * interval_ns_));
  }

 private:
  const Clock::time_point start_;
  const double interval_ns_;
  std::atomic<uint64_t> next_{0};
};

struct PublisherOutcome {
  uint64_t publishes = 0;
  LatencySamples receipts;
  absl::Status error;
};

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connected(const std::string& address,
                                                         const std::string& certs_dir,
                                                         const std::string& org) {
  auto channel = MemberChannel(address, certs_dir, org);
  if (!channel.ok()) return channel.status();
  if (!(*channel)->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to the gateway at ", address, " as ", org,
                     " within 10 s (listener gone, or the TLS handshake failed)"));
  }
  return channel;
}

}  // namespace

ExchangeLoad::ExchangeLoad(ExchangeLoadOptions options)
    : options_(std::move(options)),
      tracker_(options_.publishers,
               static_cast<int>(options_.topology.recipients.size())) {}

ExchangeLoad::~ExchangeLoad() { (void)Close(); }

absl::StatusOr<std::unique_ptr<ExchangeLoad>> ExchangeLoad::Start(ExchangeLoadOptions options) {
  auto load = std::unique_ptr<ExchangeLoad>(new ExchangeLoad(std::move(options)));
  const ExchangeLoadOptions& o = load->options_;
  // One connection per member, shared by that member's publishers.
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& org : o.topology.publishers) {
    auto channel = Connected(o.address, o.certs_dir, org);
    if (!channel.ok()) return channel.status();
    channels[org] = *channel;
  }
  for (int i = 0; i < o.publishers; ++i) {
    const std::string& org =
        o.topology.publishers[static_cast<size_t>(i) % o.topology.publishers.size()];
    auto channel = channels.find(org);
    auto factory = MessageFactory::Create(org, o.size, o.occurred_at);
    if (!factory.ok()) return factory.status();
    Publisher p;
    p.organisation = org;
    p.stub = v1::Exchange::NewStub(channel->second);
    p.factory = std::make_unique<MessageFactory>(*std::move(factory));
    load->publishers_.push_back(std::move(p));
  }
  for (size_t r = 0; r < o.topology.recipients.size(); ++r) {
    const std::string& org = o.topology.recipients[r];
    auto channel = Connected(o.address, o.certs_dir, org);
    if (!channel.ok()) return channel.status();
    load->subscribers_.push_back(std::make_unique<Subscriber>(
        static_cast<int>(r), org, *channel, &load->tracker_, &load->measured_, o.window));
    load->subscribers_.back()->Start();
  }
  return load;
}

absl::StatusOr<PhaseResult> ExchangeLoad::RunPhase(const PhaseOptions& phase) {
  const size_t fanout = options_.topology.recipients.size();
  tracker_.Reset(phase.tag);
  measured_.Clear();
  for (auto& s : subscribers_) s->ResetStats();

  const Clock::time_point start = Clock::now();
  const Clock::time_point begin = start + ToClock(phase.warmup);
  const Clock::time_point end = begin + ToClock(phase.measure);
  measured_.Set(begin, end);
  Pacer pacer(start, phase.rate);
  std::atomic<bool> abort{false};
  std::vector<PublisherOutcome> outcomes(publishers_.size());

  auto publish_loop = [&](size_t i) {
    Publisher& p = publishers_[i];
    PublisherOutcome& out = outcomes[i];
    v1::Receipt receipt;
    while (!abort.load(std::memory_order_relaxed)) {
      if (pacer.enabled()) {
        const Clock::time_point slot = pacer.Next();
        if (slot >= end) break;
        std::this_thread::sleep_until(slot);
      } else if (Clock::now() >= end) {
        break;
      }
      const uint64_t seq = p.next_seq++;
      const std::string id = MessageTracker::Id(phase.tag, static_cast<int>(i), seq);
      const v1::Message& message = p.factory->Make(id);
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
      const Clock::time_point started = Clock::now();
      tracker_.Started(static_cast<int>(i), seq, started);
      const grpc::Status status = p.stub->Publish(&context, message, &receipt);
      const Clock::time_point done = Clock::now();
      if (!status.ok()) {
        tracker_.Abandon(static_cast<int>(i), seq);
        out.error =
            FromGrpc(status, absl::StrCat("Publish of message ", id, " by ", p.organisation));
        abort.store(true);
        break;
      }
      if (static_cast<size_t>(receipt.recipients_size()) != fanout) {
        tracker_.Abandon(static_cast<int>(i), seq);
        out.error = absl::FailedPreconditionError(
            absl::StrCat("Publish of message ", id, " by ", p.organisation, " was routed to ",
                         receipt.recipients_size(), " recipients, expected ", fanout,
                         " (the seeded care team is not what loadgen configured)"));
        abort.store(true);
        break;
      }
      if (measured_.Contains(done)) {
        ++out.publishes;
        out.receipts.Add(done - started);
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < publishers_.size(); ++i) threads.emplace_back(publish_loop, i);
  std::this_thread::sleep_until(begin);
  const CpuSample self_begin = SampleCpu(0);
  const CpuSample gateway_begin = SampleCpu(options_.gateway_pid);
  std::this_thread::sleep_until(end);
  const CpuSample self_end = SampleCpu(0);
  const CpuSample gateway_end = SampleCpu(options_.gateway_pid);
  PhaseResult result;
  result.backlog_at_end = tracker_.outstanding();
  const double window_seconds = SecondsBetween(begin, end);
  const CpuUse self_use = CpuBetween(self_begin, self_end, window_seconds);
  if (options_.gateway_pid > 0) {
    result.gateway_cores = CpuBetween(gateway_begin, gateway_end, window_seconds).process_cores;
  }
  result.loadgen_cores = self_use.process_cores;
  result.other_cores =
      std::max(0.0, self_use.machine_cores - result.loadgen_cores - result.gateway_cores);
  for (std::thread& t : threads) t.join();
  for (const PublisherOutcome& o : outcomes) {
    if (!o.error.ok()) return o.error;
  }

  // Drain: every accepted message must reach all its recipients.
  const Clock::time_point stopped = Clock::now();
  const Clock::time_point drain_deadline = stopped + ToClock(phase.drain_timeout);
  while (tracker_.outstanding() > 0 && Clock::now() < drain_deadline) {
    bool any_ended = false;
    for (auto& s : subscribers_) any_ended = any_ended || s->ended();
    if (any_ended) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  result.drain_seconds = SecondsBetween(stopped, Clock::now());
  result.undelivered = tracker_.outstanding();
  for (auto& s : subscribers_) {
    if (s->ended()) {
      absl::Status closed = s->Close();
      return closed.ok()
                 ? absl::UnavailableError(absl::StrCat("the gateway ended the subscription of ",
                                                       s->organisation(), " during the run"))
                 : closed;
    }
  }

  LatencySamples latency;
  LatencySamples receipts;
  for (auto& s : subscribers_) {
    SubscriberStats stats = s->TakeStats();
    result.deliveries += stats.deliveries;
    result.messages_delivered += stats.messages_completed;
    result.duplicates += stats.duplicates;
    result.unknown += stats.unknown;
    latency.Merge(stats.since_publish);
  }
  for (const PublisherOutcome& o : outcomes) {
    result.publishes += o.publishes;
    receipts.Merge(o.receipts);
  }
  result.seconds = SecondsBetween(begin, end);
  result.rate_cap = phase.rate;
  result.publishes_per_s = static_cast<double>(result.publishes) / result.seconds;
  result.deliveries_per_s = static_cast<double>(result.deliveries) / result.seconds;
  result.messages_delivered_per_s = static_cast<double>(result.messages_delivered) / result.seconds;
  result.latency_p50_ms = latency.QuantileMs(0.50);
  result.latency_p99_ms = latency.QuantileMs(0.99);
  result.latency_max_ms = latency.QuantileMs(1.0);
  result.receipt_p50_ms = receipts.QuantileMs(0.50);
  result.receipt_p99_ms = receipts.QuantileMs(0.99);
  return result;
}

absl::Status ExchangeLoad::Close() {
  absl::Status first;
  for (auto& s : subscribers_) {
    absl::Status closed = s->Close();
    if (first.ok() && !closed.ok()) first = closed;
  }
  return first;
}

}  // namespace switchboard::tools::perf
