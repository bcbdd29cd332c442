#include "adapters/remote/remote_adapter.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/credentials.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::remote {
namespace {

// host:port, host a DNS name or IPv4 address, or [IPv6]:port. Anything else (a
// gRPC target URI such as `dns:///h:1` or `unix:/p`) is refused: the address is
// what the adapter's certificate must name, nothing more.
absl::Status CheckAddress(absl::string_view address) {
  auto refuse = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("address: '", address, "' is not host:port (e.g. adapter.example.org:7450)"));
  };
  if (address.empty()) return absl::InvalidArgumentError("address: required (host:port)");
  absl::string_view host, port;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find("]:");
    if (close == absl::string_view::npos) return refuse();
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
    for (char c : host) {
      if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') return refuse();
    }
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return refuse();
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    for (char c : host) {
      if (!absl::ascii_isalnum(c) && c != '.' && c != '-') return refuse();
    }
  }
  int port_number = 0;
  if (host.empty() || port.empty() || !absl::ascii_isdigit(port[0]) ||
      !absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535) {
    return refuse();
  }
  return absl::OkStatus();
}

// The PEM text of the file named by config field `field`.
absl::StatusOr<std::string> ReadPem(absl::string_view field, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": cannot read '", path, "'"));
  }
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is not a PEM file"));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteAdapter>> RemoteAdapter::Create(
    v1::adapters::RemoteAdapterConfig config) {
  SB_RETURN_IF_ERROR(CheckAddress(config.address()));
  if (config.timeout_ms() == 0) config.set_timeout_ms(kDefaultTimeoutMs);
  if (config.timeout_ms() > kMaxTimeoutMs) {
    // Each call holds the caller's thread for up to this long.
    return absl::InvalidArgumentError(absl::StrCat("timeout_ms: ", config.timeout_ms(),
                                                   " is over the maximum of ", kMaxTimeoutMs));
  }
  if (config.content_type().empty()) {
    return absl::InvalidArgumentError("content_type: required (e.g. text/x-case-note)");
  }
  grpc::SslCredentialsOptions tls;
  SB_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadPem("ca_cert_file", config.ca_cert_file()));
  SB_ASSIGN_OR_RETURN(tls.pem_cert_chain, ReadPem("cert_file", config.cert_file()));
  SB_ASSIGN_OR_RETURN(tls.pem_private_key, ReadPem("key_file", config.key_file()));

  grpc::ChannelArguments args;
  // After a failed connection gRPC waits before trying again and fails calls
  // fast meanwhile; by default that wait grows to two minutes. Cap it, so that a
  // restarted adapter is used again within about a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(config.address(), grpc::SslCredentials(tls), args);
  return std::unique_ptr<RemoteAdapter>(new RemoteAdapter(std::move(config), std::move(channel)));
}

RemoteAdapter::RemoteAdapter(v1::adapters::RemoteAdapterConfig config,
                             std::shared_ptr<grpc::Channel> channel)
    : config_(std::move(config)), stub_(v1::Adapter::NewStub(channel)) {}

std::unique_ptr<grpc::ClientContext> RemoteAdapter::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(config_.timeout_ms()));
  return context;
}

absl::Status RemoteAdapter::FromRemote(const grpc::Status& status, absl::string_view method) const {
  const std::string at = absl::StrCat("remote adapter at ", config_.address());
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      // The partner's own words, which start with the location.
      if (status.error_message().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(at, " refused it without saying why"));
      }
      return absl::InvalidArgumentError(status.error_message());
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(absl::StrCat(at, " does not implement ", method));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(
          absl::StrCat(at, " did not answer within ", config_.timeout_ms(), " ms"));
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(absl::StrCat(at, " is unavailable: ", status.error_message()));
    default:
      // Not the payload's fault, and nothing the gateway can fix: report it as
      // the translator being out of service, keeping what it said.
      return absl::UnavailableError(
          absl::StrCat(at, " failed ", method, ": ",
                       absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                       ": ", status.error_message()));
  }
}

absl::StatusOr<v1::Message> RemoteAdapter::Decode(absl::string_view content_type,
                                                  absl::string_view bytes) const {
  SB_ASSIGN_OR_RETURN(DecodeResult result, DecodeWithReport(content_type, bytes));
  return std::move(result.message);
}

absl::StatusOr<DecodeResult> RemoteAdapter::DecodeWithReport(absl::string_view content_type,
                                                             absl::string_view bytes) const {
  const absl::string_view media =
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';')));
  if (!media.empty() && !absl::EqualsIgnoreCase(media, config_.content_type())) {
    return absl::InvalidArgumentError(
        absl::StrCat("content_type: '", content_type, "' is not ", config_.content_type()));
  }
  v1::DecodeRequest request;
  request.set_content_type(media.empty() ? config_.content_type() : std::string(content_type));
  request.set_bytes(std::string(bytes));
  v1::DecodeResponse response;
  const grpc::Status status = stub_->Decode(NewContext().get(), request, &response);
  if (!status.ok()) return FromRemote(status, "Decode");
  if (!response.has_message()) {
    return absl::UnavailableError(absl::StrCat("remote adapter at ", config_.address(),
                                               " answered Decode without a message"));
  }
  DecodeResult result;
  result.message = std::move(*response.mutable_message());
  result.ignored.assign(std::make_move_iterator(response.mutable_ignored_elements()->begin()),
                        std::make_move_iterator(response.mutable_ignored_elements()->end()));
  return result;
}

absl::StatusOr<PartnerPayload> RemoteAdapter::Encode(const v1::Message& message) const {
  v1::EncodeRequest request;
  *request.mutable_message() = message;
  v1::EncodeResponse response;
  const grpc::Status status = stub_->Encode(NewContext().get(), request, &response);
  if (!status.ok()) return FromRemote(status, "Encode");
  PartnerPayload out;
  out.content_type = response.content_type().empty() ? config_.content_type()
                                                     : std::move(*response.mutable_content_type());
  out.bytes = std::move(*response.mutable_bytes());
  return out;
}

}  // namespace switchboard::adapters::remote
