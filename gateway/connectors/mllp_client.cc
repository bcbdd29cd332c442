#include "gateway/connectors/mllp_client.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/hl7v2/er7.h"
#include "boost/asio/read_until.hpp"
#include "boost/asio/write.hpp"
#include "gateway/connectors/mllp_ack.h"

namespace switchboard::gateway::connectors {
namespace {

namespace asio = boost::asio;
namespace hl7 = adapters::hl7v2;

// An ACK is a few hundred bytes; anything near this is not an ACK.
constexpr size_t kMaxAckBytes = 1 << 20;
constexpr size_t kMaxDetail = 300;

PushResult Failed(std::string detail) { return {PushOutcome::kFailed, std::move(detail)}; }

// "PID-3: <why>" for one ERR segment: its location (ERR-2) and the most human
// text it has (ERR-8 user message, else ERR-3's text, else ERR-3's code). An
// HL7 v2.3 ACK has only ERR-1 (ELD: segment^sequence^field^code&text).
std::string DescribeErr(const hl7::Segment& err) {
  std::string text = err.field(8).value();
  if (text.empty()) text = err.field(3).component(2).value();
  if (text.empty()) text = err.field(3).component(1).value();
  const bool v23 = err.field(2).empty() && err.field(3).empty() && text.empty();
  if (v23) {
    const hl7::Component& code = err.field(1).component(4);
    text = code.subcomponent(2).empty() ? code.subcomponent(1) : code.subcomponent(2);
  }
  const hl7::Field& location = v23 ? err.field(1) : err.field(2);
  const std::string& segment = location.component(1).value();
  const std::string& field = location.component(3).value();
  if (segment.empty()) return text;
  const std::string where = field.empty() ? segment : absl::StrCat(segment, "-", field);
  return text.empty() ? where : absl::StrCat(where, ": ", text);
}

// The MSH-10 of an outgoing message, "" when it does not parse (the ACK's
// MSA-2 is then not checked: the partner will say what it thinks of it).
std::string ControlId(absl::string_view message) {
  absl::StatusOr<hl7::Message> parsed = hl7::ParseEr7(message);
  if (!parsed.ok()) return "";
  return parsed->segment("MSH").field(10).value();
}

}  // namespace

PushResult ReadMllpAck(absl::string_view ack, absl::string_view sent_control_id) {
  absl::StatusOr<hl7::Message> parsed = hl7::ParseEr7(ack);
  if (!parsed.ok()) return Failed(absl::StrCat("invalid ACK: ", parsed.status().message()));
  const hl7::Segment* msa = parsed->FindSegment("MSA");
  if (msa == nullptr) return Failed("invalid ACK: no MSA segment");
  const std::string& answered = msa->field(2).value();
  if (!sent_control_id.empty() && !answered.empty() && answered != sent_control_id) {
    return Failed(absl::StrCat("ACK answers message '", answered, "', not the one sent ('",
                               sent_control_id, "')"));
  }
  const std::string& code = msa->field(1).value();
  if (code == "AA" || code == "CA") return {PushOutcome::kDelivered, absl::StrCat("ACK ", code)};
  if (code != "AE" && code != "AR" && code != "CE" && code != "CR") {
    return Failed(absl::StrCat("invalid ACK: MSA-1 '", code, "' is not AA, AE, AR, CA, CE or CR"));
  }
  std::vector<std::string> reasons;
  for (int i = 1; const hl7::Segment* err = parsed->FindSegment("ERR", i); ++i) {
    std::string reason = DescribeErr(*err);
    if (!reason.empty()) reasons.push_back(std::move(reason));
  }
  const std::string& msa_text = msa->field(3).value();
  if (!msa_text.empty()) reasons.push_back(msa_text);
  std::string detail = absl::StrCat(
      "ACK ", code, ": ", reasons.empty() ? "(no reason given)" : absl::StrJoin(reasons, "; "));
  if (detail.size() > kMaxDetail) detail.resize(kMaxDetail);
  return {PushOutcome::kRefused, std::move(detail)};
}

MllpClient::MllpClient(bool tls, uint32_t timeout_ms, std::unique_ptr<PushStream> stream)
    : tls_(tls), timeout_ms_(timeout_ms), stream_(std::move(stream)) {}

absl::StatusOr<std::unique_ptr<MllpClient>> MllpClient::Create(const v1::MllpEndpoint& endpoint,
                                                               uint32_t timeout_ms,
                                                               const PushTls& tls,
                                                               const std::string& field_prefix) {
  absl::StatusOr<HostPort> address =
      ParseHostPort(endpoint.address(), absl::StrCat(field_prefix, ".mllp.address"));
  if (!address.ok()) return address.status();
  PushStreamOptions options;
  options.host = address->host;
  options.port = address->port;
  options.tls = endpoint.tls();
  options.timeout_ms = timeout_ms;
  options.ca_pem = tls.ca_pem;
  options.cert_pem = tls.cert_pem;
  options.key_pem = tls.key_pem;
  absl::StatusOr<std::unique_ptr<PushStream>> stream = PushStream::Create(options);
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<MllpClient>(
      new MllpClient(endpoint.tls(), timeout_ms, *std::move(stream)));
}

std::string MllpClient::Describe() const {
  return absl::StrCat(tls_ ? "mllp+tls " : "mllp ", stream_->authority());
}

PushResult MllpClient::Send(const PushRequest& request) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms_);
  const std::string control_id = ControlId(request.bytes);
  const std::string frame = MllpFrame(request.bytes);
  const std::string& at = stream_->authority();

  for (int attempt = 1;; ++attempt) {
    const bool reused = stream_->connected();
    if (!reused) in_.clear();
    absl::Status status = stream_->Connect(deadline);
    if (!status.ok()) return Failed(std::string(status.message()));

    status = stream_->Run(absl::StrCat("send MLLP frame to ", at), deadline,
                          [&frame](auto& stream, auto handler) {
                            asio::async_write(stream, asio::buffer(frame), std::move(handler));
                          });
    if (status.ok()) {
      status = stream_->Run(
          absl::StrCat("read ACK from ", at), deadline, [this](auto& stream, auto handler) {
            asio::async_read_until(stream, asio::dynamic_buffer(in_, kMaxAckBytes), kMllpEnd,
                                   std::move(handler));
          });
    }
    if (absl::IsUnavailable(status) && reused && attempt == 1) continue;  // closed while idle
    if (!status.ok()) return Failed(std::string(status.message()));

    // in_ holds at least one frame end; what follows it (there should be
    // nothing) stays for the next read.
    const size_t end = in_.find(kMllpEnd);
    std::string content = in_.substr(0, end);
    in_.erase(0, end + 2);
    if (content.empty() || content[0] != kMllpStart) {
      stream_->Close();
      return Failed(absl::StrCat("invalid ACK from ", at, ": bytes outside an MLLP frame"));
    }
    content.erase(0, 1);
    PushResult result = ReadMllpAck(content, control_id);
    // After an answer we cannot read, the stream is out of step: start afresh.
    if (result.outcome == PushOutcome::kFailed) stream_->Close();
    return result;
  }
}

}  // namespace switchboard::gateway::connectors
