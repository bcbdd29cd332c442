#include "tests/integration/test_client.h"

#include <chrono>

#include "absl/time/clock.h"
#include "gateway/config/config_loader.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/integration/gateway_process.h"

namespace switchboard::testing {
namespace {

std::string Read(const std::string& path) {
  auto text = gateway::config::ReadFile(path, "test file");
  return text.ok() ? *text : std::string();
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const CertFiles& files,
                                           bool client_cert) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Read(files.ca);
  if (client_cert) {
    ssl.pem_cert_chain = Read(files.cert);
    ssl.pem_private_key = Read(files.key);
  }
  grpc::ChannelArguments args;
  // Each Member gets its own connection (tests compare identities side by side).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
  return ctx;
}

Member::Member(const std::string& address, const CertFiles& files, bool client_cert)
    : channel(MakeChannel(address, files, client_cert)),
      exchange(v1::Exchange::NewStub(channel)),
      registry(v1::Registry::NewStub(channel)),
      operations(v1::Operations::NewStub(channel)) {}

grpc::Status Member::Publish(const v1::Message& message, v1::Receipt* receipt) {
  v1::Receipt ignored;
  return exchange->Publish(Ctx().get(), message, receipt != nullptr ? receipt : &ignored);
}

grpc::Status Member::PublishRaw(const std::string& content_type, const std::string& payload,
                                v1::Receipt* receipt) {
  v1::PublishRawRequest request;
  request.set_content_type(content_type);
  request.set_payload(payload);
  v1::Receipt ignored;
  return exchange->PublishRaw(Ctx().get(), request, receipt != nullptr ? receipt : &ignored);
}

grpc::Status Member::Status(const std::string& message_id, v1::MessageStatus* status) {
  v1::GetMessageStatusRequest req;
  req.set_message_id(message_id);
  v1::MessageStatus ignored;
  return operations->GetMessageStatus(Ctx().get(), req, status != nullptr ? status : &ignored);
}

grpc::Status Member::Deliveries(v1::Delivery::State state, v1::ListDeliveriesResponse* out) {
  v1::ListDeliveriesRequest req;
  req.set_state(state);
  req.set_page_size(1000);
  v1::ListDeliveriesResponse ignored;
  return operations->ListDeliveries(Ctx().get(), req, out != nullptr ? out : &ignored);
}

std::vector<v1::AuditRecord> Member::AuditRecords() {
  std::vector<v1::AuditRecord> out;
  uint64_t after = 0;
  for (;;) {
    v1::ListAuditRecordsRequest request;
    request.set_after_seq(after);
    request.set_page_size(1000);
    v1::ListAuditRecordsResponse response;
    grpc::Status s = operations->ListAuditRecords(Ctx().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    out.insert(out.end(), response.records().begin(), response.records().end());
    // Each read is itself audited: a short page is the end.
    if (response.records_size() < 1000) break;
    after = response.records().rbegin()->seq();
  }
  return out;
}

Subscriber::Subscriber(const std::shared_ptr<grpc::Channel>& channel, uint32_t window)
    : stub_(v1::Exchange::NewStub(channel)) {
  if (window > 0) ctx_.AddMetadata("sb-window", std::to_string(window));
  stream_ = stub_->Subscribe(&ctx_);
  reader_ = std::thread([this] { ReadLoop(); });
}

Subscriber::~Subscriber() {
  ctx_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void Subscriber::ReadLoop() {
  v1::Delivery d;
  while (stream_->Read(&d)) {
    absl::MutexLock lock(&mu_);
    received_.push_back(d);
  }
  grpc::Status status = stream_->Finish();
  absl::MutexLock lock(&mu_);
  ended_ = status;
}

std::optional<v1::Delivery> Subscriber::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !received_.empty() || ended_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (received_.empty()) return std::nullopt;
  v1::Delivery d = std::move(received_.front());
  received_.pop_front();
  return d;
}

std::vector<v1::Delivery> Subscriber::Take(size_t n, absl::Duration timeout) {
  std::vector<v1::Delivery> out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < n) {
    auto d = Next(deadline - absl::Now());
    if (!d.has_value()) break;
    out.push_back(std::move(*d));
  }
  return out;
}

std::vector<v1::Delivery> Subscriber::Drain(absl::Duration quiet) {
  std::vector<v1::Delivery> out;
  while (auto d = Next(quiet)) out.push_back(std::move(*d));
  return out;
}

void Subscriber::Ack(const std::vector<std::string>& delivery_ids) {
  v1::Ack ack;
  for (const auto& id : delivery_ids) ack.add_delivery_ids(id);
  absl::MutexLock lock(&write_mu_);
  if (!writes_done_) stream_->Write(ack);
}

void Subscriber::AckAll(const std::vector<v1::Delivery>& deliveries) {
  std::vector<std::string> ids;
  for (const auto& d : deliveries) ids.push_back(d.id());
  Ack(ids);
}

grpc::Status Subscriber::Close(absl::Duration timeout) {
  {
    absl::MutexLock lock(&write_mu_);
    if (!writes_done_) {
      writes_done_ = true;
      stream_->WritesDone();
    }
  }
  auto status = WaitEnded(timeout);
  if (!status.has_value()) return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "not closed");
  return *status;
}

void Subscriber::Drop() {
  ctx_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

std::optional<grpc::Status> Subscriber::WaitEnded(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  return ended_;
}

v1::Message Discharge(const std::string& id, const std::string& value, const std::string& source,
                      const std::string& system) {
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  h->set_id(id);
  h->set_event("discharge");
  h->set_source(source);
  h->mutable_client()->set_system(system);
  h->mutable_client()->set_value(value);
  *h->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Hours(1));
  h->set_author("Dr Test");
  v1::DischargeNote* note = m.mutable_discharge_note();
  note->set_title("Discharge summary");
  v1::Section* s = note->add_sections();
  s->set_title("Hospital course");
  s->set_text("Uneventful stay; discharged home. (" + id + ")");
  return m;
}

v1::Message CaseNote(const std::string& id, const std::string& source, const std::string& system,
                     const std::string& value) {
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  h->set_id(id);
  h->set_event("case-note");
  h->set_source(source);
  h->mutable_client()->set_system(system);
  h->mutable_client()->set_value(value);
  *h->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Hours(1));
  v1::CaseNote* note = m.mutable_case_note();
  note->set_title("Visit");
  note->add_sections()->set_text("Home visit went well.");
  return m;
}

}  // namespace switchboard::testing
