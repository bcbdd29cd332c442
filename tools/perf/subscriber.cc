#include "tools/perf/subscriber.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace switchboard::tools::perf {

Subscriber::Subscriber(int index, std::string organisation, std::shared_ptr<grpc::Channel> channel,
                       MessageTracker* tracker, const MeasuredWindow* measured, uint32_t window)
    : index_(index),
      organisation_(std::move(organisation)),
      stub_(v1::Exchange::NewStub(std::move(channel))),
      tracker_(tracker),
      measured_(measured),
      window_(window) {}

Subscriber::~Subscriber() { (void)Close(); }

void Subscriber::Start() {
  // The window from the first delivery on (the gateway reads `sb-window`); the
  // first Ack repeats it for gateways that only take it from there.
  context_.AddMetadata("sb-window", std::to_string(window_));
  stream_ = stub_->Subscribe(&context_);
  writer_ = std::thread([this] { AckLoop(); });
  reader_ = std::thread([this] { ReadLoop(); });
}

void Subscriber::ReadLoop() {
  v1::Delivery delivery;
  while (stream_->Read(&delivery)) {
    const Clock::time_point at = Clock::now();
    MessageTracker::Seen seen{MessageTracker::Outcome::kUnknown};
    if (delivery.recipient() == organisation_) {
      seen = tracker_->Delivered(delivery.message_id(), index_, at);
    }
    const bool measured = measured_->Contains(at);
    absl::MutexLock lock(&mu_);
    // Everything is acknowledged, even the unexpected: the gateway must not
    // keep resending it.
    to_ack_.push_back(delivery.id());
    if (!measured) continue;
    switch (seen.outcome) {
      case MessageTracker::Outcome::kLastDelivered:
        ++stats_.messages_completed;
        [[fallthrough]];
      case MessageTracker::Outcome::kDelivered:
        ++stats_.deliveries;
        stats_.since_publish.Add(seen.since_publish);
        break;
      case MessageTracker::Outcome::kDuplicate:
        ++stats_.duplicates;
        break;
      case MessageTracker::Outcome::kUnknown:
        ++stats_.unknown;
        break;
    }
  }
  // The gateway ended the stream (after our half-close, or on its own).
  {
    absl::MutexLock lock(&mu_);
    reader_done_ = true;
  }
  writer_.join();  // Finish() may run only once no write is in progress
  grpc::Status status = stream_->Finish();
  ended_.store(true);
  absl::MutexLock lock(&mu_);
  final_status_ = std::move(status);
  finished_ = true;
}

bool Subscriber::AckReady() const { return !to_ack_.empty() || closing_ || reader_done_; }

void Subscriber::AckLoop() {
  v1::Ack hello;
  hello.set_window(window_);
  if (!stream_->Write(hello)) return;  // the stream is gone; the reader sees why
  for (;;) {
    std::vector<std::string> batch;
    bool last;
    mu_.LockWhen(absl::Condition(this, &Subscriber::AckReady));
    batch.swap(to_ack_);
    last = closing_ || reader_done_;
    mu_.Unlock();
    if (!batch.empty()) {
      v1::Ack ack;
      for (std::string& id : batch) ack.add_delivery_ids(std::move(id));
      if (!stream_->Write(ack)) return;
    }
    if (last) break;
  }
  stream_->WritesDone();
}

void Subscriber::ResetStats() {
  absl::MutexLock lock(&mu_);
  stats_ = SubscriberStats();
}

SubscriberStats Subscriber::TakeStats() {
  absl::MutexLock lock(&mu_);
  SubscriberStats out = std::move(stats_);
  stats_ = SubscriberStats();
  return out;
}

absl::Status Subscriber::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return close_status_;
    closed_ = true;
    closing_ = true;
  }
  if (!reader_.joinable()) return absl::OkStatus();  // never started
  const bool finished = mu_.LockWhenWithTimeout(absl::Condition(&finished_), absl::Seconds(30));
  mu_.Unlock();
  if (!finished) context_.TryCancel();
  reader_.join();
  absl::MutexLock lock(&mu_);
  if (!finished) {
    close_status_ = absl::DeadlineExceededError(absl::StrCat(
        "subscription of ", organisation_,
        ": the gateway did not end the stream within 30 s of the half-close; cancelled it"));
  } else if (!final_status_.ok()) {
    close_status_ = absl::Status(static_cast<absl::StatusCode>(final_status_.error_code()),
                                 absl::StrCat("subscription of ", organisation_, " ended with ",
                                              final_status_.error_message()));
  }
  return close_status_;
}

}  // namespace switchboard::tools::perf
