// remote-adapter-example: a member's own translator for the Switchboard gateway,
// written as a member's IT team would write one (in any language; this one is
// C++). It implements the remote-adapter protocol, the gRPC service
// switchboard.v1.Adapter (schemas/switchboard/v1/adapter_service.proto), for a
// toy format of case notes, and is what docs/adapters.md ("Onboarding a member
// with a remote adapter") walks through.
//
// The format, content type `text/x-case-note`: one `key=value` per line; blank
// lines and lines starting with `#` are skipped; in values `\n` is a line break
// and `\\` a backslash.
//
//   id=NF-2026-0042                 header.id                     required
//   client=NF-17                    header.client.value           required
//                                   (its system is --client_system)
//   occurred=2026-11-24T15:30:00Z   header.occurred_at (RFC 3339)  required
//   title=Home visit                case_note.title
//   domain=family                   case_note.domain
//   note=Family settled in.         one case_note section each    at least one
//
// Every decoded message is a `case-note` event from --source. Keys not listed
// are reported back as ignored (`line 7 (colour)`), not refused.
//
// What the protocol asks of any implementation, and this one does:
//   - mutual TLS only, and only the gateway as client (--gateway_san);
//   - INVALID_ARGUMENT whose message starts with where the problem is
//     (`line 3 (occurred): ...`, `client: required`);
//   - no side effects: nothing is stored or sent anywhere, so a repeated call
//     gives the same answer;
//   - no payload content in logs (they hold client data).
//
// Usage (one line):
//   remote-adapter-example --listen 0.0.0.0:7450 --ca ca.pem
//       --cert adapter.pem --key adapter.key --source northside-family
//       --client_system https://northside-family.example.org/case
// It prints `listening on HOST:PORT` (port 0 picks a free one) and runs until
// SIGTERM or SIGINT.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "switchboard/v1/adapter_service.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7450", "host:port to listen on (port 0: any free one)");
ABSL_FLAG(std::string, ca, "", "PEM file of the CA that signs the gateway's client certificate");
ABSL_FLAG(std::string, cert, "", "PEM file of this adapter's server certificate (chain)");
ABSL_FLAG(std::string, key, "", "PEM file of this adapter's private key");
ABSL_FLAG(std::string, gateway_san, "spiffe://switchboard.example/gateway",
          "SAN the gateway's client certificate must carry; other clients are refused");
ABSL_FLAG(std::string, source, "", "the member's organisation id (header.source)");
ABSL_FLAG(std::string, client_system, "",
          "the member's client identifier system (header.client.system)");

namespace example {
namespace {

using switchboard::v1::DecodeRequest;
using switchboard::v1::DecodeResponse;
using switchboard::v1::EncodeRequest;
using switchboard::v1::EncodeResponse;
using switchboard::v1::Message;

constexpr char kContentType[] = "text/x-case-note";

grpc::Status Invalid(const std::string& where, const std::string& what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, where + ": " + what);
}

// `\n` -> line break, `\\` -> backslash; anything else after `\` is kept as is.
std::string Unescape(absl::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size() && (value[i + 1] == 'n' || value[i + 1] == '\\')) {
      out += value[++i] == 'n' ? '\n' : '\\';
    } else {
      out += value[i];
    }
  }
  return out;
}

std::string Escape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

// Decoding: the format's lines -> a canonical case-note Message.
grpc::Status DecodeCaseNote(const DecodeRequest& request, DecodeResponse* response) {
  const absl::string_view type = absl::StripAsciiWhitespace(
      absl::string_view(request.content_type()).substr(0, request.content_type().find(';')));
  if (!absl::EqualsIgnoreCase(type, kContentType)) {
    return Invalid("content_type",
                   absl::StrCat("'", request.content_type(), "' is not ", kContentType));
  }
  Message& m = *response->mutable_message();
  auto& header = *m.mutable_header();
  header.set_event("case-note");
  header.set_source(absl::GetFlag(FLAGS_source));
  header.mutable_client()->set_system(absl::GetFlag(FLAGS_client_system));
  auto& note = *m.mutable_case_note();

  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(request.bytes(), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = absl::StrCat("line ", line_number);
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos || equals == 0) return Invalid(where, "not key=value");
    const std::string key(absl::StripAsciiWhitespace(line.substr(0, equals)));
    const std::string value = Unescape(absl::StripAsciiWhitespace(line.substr(equals + 1)));
    const std::string at = absl::StrCat(where, " (", key, ")");
    if (key == "id") {
      if (!header.id().empty()) return Invalid(at, "given twice");
      header.set_id(value);
    } else if (key == "client") {
      if (!header.client().value().empty()) return Invalid(at, "given twice");
      header.mutable_client()->set_value(value);
    } else if (key == "occurred") {
      if (header.has_occurred_at()) return Invalid(at, "given twice");
      if (!google::protobuf::util::TimeUtil::FromString(value, header.mutable_occurred_at())) {
        return Invalid(at, "not an RFC 3339 time such as 2026-11-24T15:30:00Z");
      }
    } else if (key == "title") {
      note.set_title(value);
    } else if (key == "domain") {
      note.set_domain(value);
    } else if (key == "note") {
      note.add_sections()->set_text(value);
    } else {
      response->add_ignored_elements(at);  // Present, but not ours to map.
    }
  }
  if (header.id().empty()) return Invalid("id", "required");
  if (header.client().value().empty()) return Invalid("client", "required");
  if (!header.has_occurred_at()) return Invalid("occurred", "required");
  if (note.sections().empty()) return Invalid("note", "at least one is required");
  return grpc::Status::OK;
}

// Encoding: a canonical Message -> the format. Only case notes can be written.
grpc::Status EncodeCaseNote(const EncodeRequest& request, EncodeResponse* response) {
  const Message& m = request.message();
  if (!m.has_case_note()) {
    return Invalid("message", "only case notes can be written as text/x-case-note");
  }
  std::string out = absl::StrCat("# case note from ", Escape(m.header().source()), "\n");
  absl::StrAppend(&out, "id=", Escape(m.header().id()), "\n");
  absl::StrAppend(&out, "client=", Escape(m.header().client().value()), "\n");
  absl::StrAppend(&out,
                  "occurred=", google::protobuf::util::TimeUtil::ToString(m.header().occurred_at()),
                  "\n");
  if (!m.case_note().title().empty()) {
    absl::StrAppend(&out, "title=", Escape(m.case_note().title()), "\n");
  }
  if (!m.case_note().domain().empty()) {
    absl::StrAppend(&out, "domain=", Escape(m.case_note().domain()), "\n");
  }
  for (const auto& section : m.case_note().sections()) {
    absl::StrAppend(&out, "note=", Escape(section.text()), "\n");
  }
  response->set_content_type(kContentType);
  response->set_bytes(std::move(out));
  return grpc::Status::OK;
}

// The service: check the caller is the gateway, translate, answer. Stateless,
// so safe for concurrent calls.
class CaseNoteAdapter final : public switchboard::v1::Adapter::CallbackService {
 public:
  grpc::ServerUnaryReactor* Decode(grpc::CallbackServerContext* context,
                                   const DecodeRequest* request,
                                   DecodeResponse* response) override {
    grpc::Status status = FromGateway(*context);
    if (status.ok()) status = DecodeCaseNote(*request, response);
    return Finish(context, "decode", status);
  }

  grpc::ServerUnaryReactor* Encode(grpc::CallbackServerContext* context,
                                   const EncodeRequest* request,
                                   EncodeResponse* response) override {
    grpc::Status status = FromGateway(*context);
    if (status.ok()) status = EncodeCaseNote(*request, response);
    return Finish(context, "encode", status);
  }

 private:
  // TLS has verified the client certificate against --ca; this checks it is the
  // gateway's, not another certificate of the same CA (a member's).
  static grpc::Status FromGateway(const grpc::CallbackServerContext& context) {
    const std::string wanted = absl::GetFlag(FLAGS_gateway_san);
    for (const grpc::string_ref& san :
         context.auth_context()->FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME)) {
      if (absl::string_view(san.data(), san.size()) == wanted) return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "only the gateway may call");
  }

  // One log line per call: the operation and the outcome, never the content.
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const char* op,
                                          const grpc::Status& status) {
    std::cerr << "event=" << op << " code="
              << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))
              << std::endl;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }
};

std::string ReadFileOrExit(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (path.empty() || !in || !(text << in.rdbuf())) {
    std::cerr << "remote-adapter-example: --" << flag << ": cannot read '" << path << "'\n";
    std::exit(2);
  }
  return text.str();
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage("a Switchboard remote adapter for text/x-case-note");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_source).empty() || absl::GetFlag(FLAGS_client_system).empty()) {
    std::cerr << "remote-adapter-example: --source and --client_system are required\n";
    return 2;
  }
  // Mutual TLS only: a verified client certificate is required on every call.
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = ReadFileOrExit("ca", absl::GetFlag(FLAGS_ca));
  tls.pem_key_cert_pairs.push_back({ReadFileOrExit("key", absl::GetFlag(FLAGS_key)),
                                    ReadFileOrExit("cert", absl::GetFlag(FLAGS_cert))});

  // SIGTERM/SIGINT are taken by sigwait below; block them before gRPC starts
  // its threads so that none of those gets them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  CaseNoteAdapter service;
  int port = 0;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::SslServerCredentials(tls), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "remote-adapter-example: cannot listen on " << listen << "\n";
    return 1;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::cout << "listening on " << host << ":" << port << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace
}  // namespace example

int main(int argc, char** argv) { return example::Main(argc, argv); }
