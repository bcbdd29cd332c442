// sbctl: the command line for members and admins of a Switchboard gateway.
// Run `sbctl help` for the commands.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "adapters/adapter_registry.h"
#include "gateway/audit/audit_chain.h"
#include "gateway/store/store.h"
#include "google/protobuf/any.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "switchboard/v1/adapters/canonical_json.pb.h"
#include "switchboard/v1/exchange.grpc.pb.h"
#include "switchboard/v1/operations.grpc.pb.h"
#include "switchboard/v1/registry.grpc.pb.h"
#include "tools/cli/adapter_commands.h"
#include "tools/cli/client_commands.h"
#include "tools/cli/common.h"
#include "tools/cli/connection.h"
#include "tools/cli/consent_commands.h"
#include "tools/cli/dlq_commands.h"
#include "tools/cli/format.h"
#include "tools/cli/plan_commands.h"
#include "tools/cli/user_commands.h"

ABSL_FLAG(std::string, addr, "127.0.0.1:7443", "Gateway address host:port.");
ABSL_FLAG(std::string, as, "", "Act as this organisation: use CERTS_DIR/ORG.pem, ORG.key, ca.pem.");
ABSL_FLAG(std::string, certs_dir, "var/certs", "Where --as finds certificates.");
ABSL_FLAG(std::string, ca, "", "CA certificate (PEM) that signed the gateway's certificate.");
ABSL_FLAG(std::string, cert, "", "Client certificate (PEM).");
ABSL_FLAG(std::string, key, "", "Client private key (PEM).");
ABSL_FLAG(std::string, user, "", "Person acting, sent as metadata sb-user and audited.");
ABSL_FLAG(int, timeout_ms, 30000, "Deadline of unary calls.");
ABSL_FLAG(bool, json, false, "Print protobuf JSON (one object per line) instead of text.");
ABSL_FLAG(uint32_t, window, 0, "subscribe: unacknowledged deliveries at once (0: gateway default).");
ABSL_FLAG(int, count, 0, "subscribe: exit after acknowledging this many deliveries (0: run on).");
ABSL_FLAG(bool, no_ack, false, "subscribe: print but do not acknowledge (they will come again).");
ABSL_FLAG(std::string, out, "",
          "subscribe: write each delivery's copy in your own format (adapter binding) to "
          "DIR/DELIVERY_ID.EXT (DIR is created when missing).");
ABSL_FLAG(std::string, content_type, "",
          "publish-raw: MIME type of the payload, e.g. application/hl7-v2 (required).");
ABSL_FLAG(std::string, state, "",
          "deliveries: PENDING, IN_FLIGHT, RETRYING, DELIVERED or DEAD_LETTERED.");
ABSL_FLAG(uint32_t, page_size, 100, "deliveries, audit list, plan timeline (1..500): page size.");
ABSL_FLAG(std::string, reason, "",
          "org suspend, consent revoke, break-glass, client review --resolve: why (required); "
          "referral update: the reason for the new status.");
ABSL_FLAG(std::string, role, "", "careteam add: the member's role, e.g. housing-support.");
ABSL_FLAG(std::string, display_name, "", "user add: the person's name as shown, e.g. 'Aroha Smith'.");
ABSL_FLAG(std::string, data, "", "audit verify: check this RocksDB directory offline instead.");
ABSL_FLAG(uint64_t, after, 0, "audit list: records after this sequence number.");
ABSL_FLAG(std::string, recipient, "", "consent check: the organisation that would receive.");
ABSL_FLAG(std::string, event, "", "consent check: event code of the content, e.g. discharge.");
ABSL_FLAG(std::string, purpose, "", "consent check: HL7 v3 purpose of use (default TREAT).");
ABSL_FLAG(std::string, org, "",
          "dlq, endpoint, adapter: act on this member's behalf (admins only).");
ABSL_FLAG(bool, all, false, "dlq replay: every dead letter; client review: resolved ones too.");
ABSL_FLAG(std::string, resolve, "", "client review: resolve this review (with --reason).");
ABSL_FLAG(uint32_t, adapter_version, 0,
          "adapter test: the version to test (0: the active one). (--version is Abseil's.)");
ABSL_FLAG(bool, accept, false,
          "adapter activate, apply: accept contract samples whose outputs change.");
ABSL_FLAG(bool, yes, false, "adapter apply: register and activate what the directory changes.");
ABSL_FLAG(std::vector<std::string>, label, {},
          "consent check: security label code of the content, e.g. PSY; repeat the flag or "
          "separate with commas for several.");
ABSL_FLAG(std::string, as_of, "",
          "plan show: the plan as it was at this RFC 3339 time, e.g. 2026-11-20T10:00:00Z.");
ABSL_FLAG(std::string, page_token, "", "plan timeline: the page a `more:` line names.");
ABSL_FLAG(std::vector<std::string>, from, {},
          "plan timeline: only entries written by this organisation; repeat the flag or "
          "separate with commas for several.");
ABSL_FLAG(std::vector<std::string>, domain, {},
          "plan timeline: only entries of this practice domain, e.g. housing; repeat the flag "
          "or separate with commas for several.");
ABSL_FLAG(std::optional<int>, rating, std::nullopt,
          "plan progress: attainment rating (-2..+2 on the default GAS scale).");
ABSL_FLAG(std::string, scale, "",
          "plan progress: scale of --rating when not GAS, e.g. outcome-star.");
ABSL_FLAG(std::string, note, "", "plan progress, plan status, referral update: a note.");
ABSL_FLAG(std::optional<int64_t>, plan_version, std::nullopt,
          "plan progress, plan status: the plan version the change is made against (default: "
          "the version just read). (--version is Abseil's.)");

namespace switchboard::tools::sbctl {
namespace {

int Publish(const std::shared_ptr<grpc::Channel>& channel, const std::string& path) {
  auto text = ReadInput(path);
  if (!text.ok()) return Fail(std::string(text.status().message()));
  adapters::AdapterRegistry registry;
  adapters::RegisterBuiltinAdapters(registry);
  google::protobuf::Any config;
  config.PackFrom(v1::adapters::CanonicalJsonConfig());
  auto adapter = registry.Create(config);
  if (!adapter.ok()) return Fail(std::string(adapter.status().message()));
  auto message = (*adapter)->Decode("application/json", *text);
  if (!message.ok()) return Fail(absl::StrCat(path, ": ", message.status().message()), 2);
  auto stub = v1::Exchange::NewStub(channel);
  auto ctx = NewContext(Options());
  v1::Receipt receipt;
  grpc::Status s = stub->Publish(ctx.get(), *message, &receipt);
  if (!s.ok()) return FailRpc(s);
  Print(receipt, FormatReceipt(receipt));
  return 0;
}

// HL7 v2 files are usually saved with \n (or \r\n) line ends, but ER7 segments
// end with \r: line ends are made \r for HL7 content types; other payloads go as is.
std::string NormaliseRawPayload(const std::string& content_type, std::string payload) {
  if (!absl::StartsWith(content_type, "application/hl7-v2") &&
      !absl::StartsWith(content_type, "x-application/hl7-v2")) {
    return payload;
  }
  payload = absl::StrReplaceAll(payload, {{"\r\n", "\r"}, {"\n", "\r"}});
  return payload;
}

int PublishRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& path) {
  const std::string content_type = absl::GetFlag(FLAGS_content_type);
  if (content_type.empty()) return Usage("publish-raw: --content_type is required");
  auto payload = ReadInput(path);
  if (!payload.ok()) return Fail(std::string(payload.status().message()));
  v1::PublishRawRequest request;
  request.set_content_type(content_type);
  request.set_payload(NormaliseRawPayload(content_type, *std::move(payload)));
  auto stub = v1::Exchange::NewStub(channel);
  auto ctx = NewContext(Options());
  v1::Receipt receipt;
  grpc::Status s = stub->PublishRaw(ctx.get(), request, &receipt);
  if (!s.ok()) return FailRpc(s);
  Print(receipt, FormatReceipt(receipt));
  return 0;
}

// File extension for a partner content type; HL7 v2 is also made readable.
std::string PartnerExtension(const std::string& content_type) {
  if (absl::StartsWith(content_type, "application/fhir+json") ||
      absl::StartsWith(content_type, "application/json")) {
    return "json";
  }
  if (absl::StrContains(content_type, "hl7-v2")) return "hl7";
  return "bin";
}

// `subscribe --out DIR`: the delivery's partner copy as DIR/ID.EXT. ER7 segments
// end with \r, which most viewers show as one line: HL7 v2 is written with \n
// (publish-raw turns \n back into \r, so the file can be published again).
// Deliveries without a partner copy (no adapter binding) write nothing; a
// partner error is printed. NOT_FOUND when the file cannot be written.
absl::Status WritePartner(const std::string& dir, const v1::Delivery& delivery) {
  if (!delivery.has_partner()) return absl::OkStatus();
  const v1::PartnerPayload& partner = delivery.partner();
  if (!partner.error().empty()) {
    // With --json, stdout holds only the deliveries.
    (absl::GetFlag(FLAGS_json) ? std::cerr : std::cout)
        << "partner format: not written (" << partner.error() << ")\n";
    return absl::OkStatus();
  }
  // The id is the gateway's (dlv-<hex>); anything else is kept out of paths.
  std::string name = delivery.id();
  for (char& c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') c = '_';
  }
  const std::string ext = PartnerExtension(partner.content_type());
  std::string bytes = partner.bytes();
  if (ext == "hl7") bytes = absl::StrReplaceAll(bytes, {{"\r\n", "\n"}, {"\r", "\n"}});
  std::error_code mkdir_error;  // made on first use; a failure shows as the write's
  std::filesystem::create_directories(dir, mkdir_error);
  const std::string path = (std::filesystem::path(dir) / absl::StrCat(name, ".", ext)).string();
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
  file.close();
  if (!file) return absl::NotFoundError(absl::StrCat("--out: cannot write '", path, "'"));
  (absl::GetFlag(FLAGS_json) ? std::cerr : std::cout) << "wrote " << path << "\n";
  return absl::OkStatus();
}

// The subscription stream, with Ctrl-C ending it gracefully: a half-close, after
// which the gateway finishes once every ack sent is durable.
int Subscribe(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Exchange::NewStub(channel);
  auto ctx = NewContext(Options(), /*streaming=*/true);
  if (absl::GetFlag(FLAGS_window) > 0) {
    ctx->AddMetadata("sb-window", std::to_string(absl::GetFlag(FLAGS_window)));
  }
  auto stream = stub->Subscribe(ctx.get());
  std::mutex write_mu;
  bool closed = false;
  auto close_writes = [&] {
    std::lock_guard<std::mutex> lock(write_mu);
    if (!closed) {
      closed = true;
      stream->WritesDone();
    }
  };

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGUSR1) close_writes();
  });

  const int count = absl::GetFlag(FLAGS_count);
  const bool ack = !absl::GetFlag(FLAGS_no_ack);
  const std::string out_dir = absl::GetFlag(FLAGS_out);
  int received = 0;
  v1::Delivery delivery;
  if (!absl::GetFlag(FLAGS_json)) {
    std::cerr << "sbctl: subscribed as " << absl::GetFlag(FLAGS_as)
              << "; deliveries are printed as they arrive (Ctrl-C to stop)\n";
  }
  absl::Status write_status;
  while (stream->Read(&delivery)) {
    Print(delivery, FormatDelivery(delivery));
    if (!out_dir.empty() && write_status.ok()) {
      // A delivery whose file could not be written is not acknowledged (it
      // comes again), and the stream is ended.
      write_status = WritePartner(out_dir, delivery);
      if (!write_status.ok()) {
        close_writes();
        continue;
      }
    }
    ++received;
    if (ack) {
      v1::Ack a;
      a.add_delivery_ids(delivery.id());
      std::lock_guard<std::mutex> lock(write_mu);
      if (!closed) stream->Write(a);
    }
    if (count > 0 && received >= count) close_writes();
  }
  grpc::Status s = stream->Finish();
  pthread_kill(waiter.native_handle(), SIGUSR1);
  waiter.join();
  if (!write_status.ok()) return Fail(std::string(write_status.message()));
  if (!s.ok()) return FailRpc(s);
  if (count > 0 && received < count) {
    return Fail(absl::StrCat("stream ended after ", received, " of ", count, " deliveries"));
  }
  return 0;
}

int Status(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  auto stub = v1::Operations::NewStub(channel);
  auto ctx = NewContext(Options());
  v1::GetMessageStatusRequest req;
  req.set_message_id(id);
  v1::MessageStatus status;
  grpc::Status s = stub->GetMessageStatus(ctx.get(), req, &status);
  if (!s.ok()) return FailRpc(s);
  Print(status, FormatMessageStatus(status));
  return 0;
}

int Deliveries(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Operations::NewStub(channel);
  v1::ListDeliveriesRequest req;
  const std::string state = absl::GetFlag(FLAGS_state);
  if (!state.empty()) {
    v1::Delivery::State parsed;
    if (!v1::Delivery::State_Parse(state, &parsed)) {
      return Usage(
          absl::StrCat("--state: '", state,
                       "' is not PENDING, IN_FLIGHT, RETRYING, DELIVERED or DEAD_LETTERED"));
    }
    req.set_state(parsed);
  }
  req.set_page_size(absl::GetFlag(FLAGS_page_size));
  bool header = !absl::GetFlag(FLAGS_json);
  do {
    auto ctx = NewContext(Options());
    v1::ListDeliveriesResponse resp;
    grpc::Status s = stub->ListDeliveries(ctx.get(), req, &resp);
    if (!s.ok()) return FailRpc(s);
    if (header) {
      std::printf("%-22s %-12s %-18s %-16s %-26s %-20s %-20s %s\n", "DELIVERY", "STATE",
                  "RECIPIENT", "EVENT", "MESSAGE", "CREATED", "DELIVERED", "ATTEMPTS");
      header = false;
    }
    for (const auto& d : resp.deliveries()) Print(d, FormatDeliveryRow(d));
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return 0;
}

int Audit(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("audit: verify or list?");
  if (args[0] == "verify") {
    v1::AuditVerification result;
    const std::string data = absl::GetFlag(FLAGS_data);
    if (!data.empty()) {
      auto store = gateway::store::Store::OpenReadOnly(data);
      if (!store.ok()) return Fail(std::string(store.status().message()));
      result = gateway::audit::VerifyChain(**store);
    } else {
      auto channel = Connect(Options());
      if (!channel.ok()) return Fail(std::string(channel.status().message()), 2);
      auto stub = v1::Operations::NewStub(*channel);
      auto ctx = NewContext(Options());
      grpc::Status s = stub->VerifyAudit(ctx.get(), v1::VerifyAuditRequest(), &result);
      if (!s.ok()) return FailRpc(s);
    }
    Print(result, result.ok()
                      ? absl::StrCat("audit chain ok: ", result.records_checked(), " records verified\n")
                      : absl::StrCat("audit chain BROKEN at record ", result.first_broken_seq(), ": ",
                                     result.problem(), " (", result.records_checked(),
                                     " records verified before it)\n"));
    return result.ok() ? 0 : 1;
  }
  if (args[0] == "list") {
    auto channel = Connect(Options());
    if (!channel.ok()) return Fail(std::string(channel.status().message()), 2);
    auto stub = v1::Operations::NewStub(*channel);
    auto ctx = NewContext(Options());
    v1::ListAuditRecordsRequest req;
    req.set_after_seq(absl::GetFlag(FLAGS_after));
    req.set_page_size(absl::GetFlag(FLAGS_page_size));
    v1::ListAuditRecordsResponse resp;
    grpc::Status s = stub->ListAuditRecords(ctx.get(), req, &resp);
    if (!s.ok()) return FailRpc(s);
    for (const auto& r : resp.records()) Print(r, FormatAuditRecord(r));
    return 0;
  }
  return Usage(absl::StrCat("audit: unknown subcommand '", args[0], "'"));
}

int Health(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  auto ctx = NewContext(Options());
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  const bool serving = resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::cout << (serving ? "SERVING\n" : "NOT_SERVING\n");
  return serving ? 0 : 1;
}

int Org(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("org: list, get, register, update, suspend or reactivate?");
  auto stub = v1::Registry::NewStub(channel);
  auto ctx = NewContext(Options());
  const std::string& sub = args[0];
  auto need = [&](size_t n) { return args.size() == n + 1; };
  v1::Organisation org;
  grpc::Status s;
  if (sub == "list" && need(0)) {
    v1::ListOrganisationsResponse resp;
    s = stub->ListOrganisations(ctx.get(), v1::ListOrganisationsRequest(), &resp);
    if (!s.ok()) return FailRpc(s);
    Print(resp, FormatOrganisations(resp.organisations()));
    return 0;
  } else if (sub == "get" && need(1)) {
    v1::GetOrganisationRequest req;
    req.set_organisation_id(args[1]);
    s = stub->GetOrganisation(ctx.get(), req, &org);
  } else if ((sub == "register" || sub == "update") && need(1)) {
    v1::Organisation in;
    if (auto p = ParseJsonFile(args[1], &in); !p.ok()) return Fail(std::string(p.message()), 2);
    if (sub == "register") {
      v1::RegisterOrganisationRequest req;
      *req.mutable_organisation() = in;
      s = stub->RegisterOrganisation(ctx.get(), req, &org);
    } else {
      v1::UpdateOrganisationRequest req;
      *req.mutable_organisation() = in;
      s = stub->UpdateOrganisation(ctx.get(), req, &org);
    }
  } else if (sub == "suspend" && need(1)) {
    v1::SuspendOrganisationRequest req;
    req.set_organisation_id(args[1]);
    req.set_reason(absl::GetFlag(FLAGS_reason));
    s = stub->SuspendOrganisation(ctx.get(), req, &org);
  } else if (sub == "reactivate" && need(1)) {
    v1::ReactivateOrganisationRequest req;
    req.set_organisation_id(args[1]);
    s = stub->ReactivateOrganisation(ctx.get(), req, &org);
  } else {
    return Usage("org: wrong subcommand or arguments");
  }
  if (!s.ok()) return FailRpc(s);
  google::protobuf::RepeatedPtrField<v1::Organisation> one;
  *one.Add() = org;
  Print(org, FormatOrganisations(one));
  return 0;
}

int Subscription(const std::shared_ptr<grpc::Channel>& channel,
                 const std::vector<std::string>& args) {
  auto stub = v1::Registry::NewStub(channel);
  auto ctx = NewContext(Options());
  if (!args.empty() && args[0] == "list") {
    v1::ListSubscriptionsResponse resp;
    grpc::Status s = stub->ListSubscriptions(ctx.get(), v1::ListSubscriptionsRequest(), &resp);
    if (!s.ok()) return FailRpc(s);
    std::string text;
    for (const auto& sub : resp.subscriptions()) {
      absl::StrAppend(&text, sub.organisation_id(), ": ", absl::StrJoin(sub.event_codes(), ", "), "\n");
    }
    Print(resp, text);
    return 0;
  }
  if (args.size() >= 2 && args[0] == "set") {
    v1::SetSubscriptionRequest req;
    req.mutable_subscription()->set_organisation_id(args[1]);
    for (size_t i = 2; i < args.size(); ++i) req.mutable_subscription()->add_event_codes(args[i]);
    v1::Subscription out;
    grpc::Status s = stub->SetSubscription(ctx.get(), req, &out);
    if (!s.ok()) return FailRpc(s);
    Print(out, absl::StrCat(out.organisation_id(), ": ", absl::StrJoin(out.event_codes(), ", "), "\n"));
    return 0;
  }
  return Usage("subscription: list, or set ORG [EVENT...]");
}

int CareTeam(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.size() < 2) return Usage("careteam: show|add|remove SYSTEM|VALUE [ORG]");
  auto id = ParseIdentifier(args[1]);
  if (!id.ok()) return Usage(std::string(id.status().message()));
  auto stub = v1::Registry::NewStub(channel);
  auto ctx = NewContext(Options());
  v1::CareTeam team;
  grpc::Status s;
  if (args[0] == "show" && args.size() == 2) {
    v1::GetCareTeamRequest req;
    *req.mutable_client() = *id;
    s = stub->GetCareTeam(ctx.get(), req, &team);
  } else if (args[0] == "add" && args.size() == 3) {
    v1::AddCareTeamMemberRequest req;
    *req.mutable_client() = *id;
    req.mutable_member()->set_organisation_id(args[2]);
    req.mutable_member()->set_role(absl::GetFlag(FLAGS_role));
    s = stub->AddCareTeamMember(ctx.get(), req, &team);
  } else if (args[0] == "remove" && args.size() == 3) {
    v1::RemoveCareTeamMemberRequest req;
    *req.mutable_client() = *id;
    req.set_organisation_id(args[2]);
    s = stub->RemoveCareTeamMember(ctx.get(), req, &team);
  } else {
    return Usage("careteam: show|add|remove SYSTEM|VALUE [ORG]");
  }
  if (!s.ok()) return FailRpc(s);
  Print(team, FormatCareTeam(team));
  return 0;
}

int Run(const std::vector<std::string>& words) {
  if (words.empty() || words[0] == "help") {
    std::cout << kUsage;
    return words.empty() ? 2 : 0;
  }
  const std::string& cmd = words[0];
  const std::vector<std::string> args(words.begin() + 1, words.end());
  if (cmd == "audit") return Audit(args);

  auto connect = [&]() { return Connect(Options()); };
  auto channel = connect();
  if (!channel.ok()) {
    return Fail(std::string(channel.status().message()),
                channel.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1);
  }
  if (cmd == "publish") {
    if (args.size() != 1) return Usage("publish: one FILE (or - for stdin)");
    return Publish(*channel, args[0]);
  }
  if (cmd == "publish-raw") {
    if (args.size() != 1) return Usage("publish-raw: one FILE (or - for stdin)");
    return PublishRaw(*channel, args[0]);
  }
  if (cmd == "subscribe") return args.empty() ? Subscribe(*channel) : Usage("subscribe: no arguments");
  if (cmd == "status") return args.size() == 1 ? Status(*channel, args[0]) : Usage("status: MESSAGE_ID");
  if (cmd == "deliveries") return args.empty() ? Deliveries(*channel) : Usage("deliveries: no arguments");
  if (cmd == "health") return Health(*channel);
  if (cmd == "org") return Org(*channel, args);
  if (cmd == "subscription") return Subscription(*channel, args);
  if (cmd == "client") return Client(*channel, args);
  if (cmd == "careteam") return CareTeam(*channel, args);
  if (cmd == "consent") return Consent(*channel, args);
  if (cmd == "break-glass") return BreakGlass(*channel, args);
  if (cmd == "dlq") return Dlq(*channel, args);
  if (cmd == "endpoint") return Endpoint(*channel, args);
  if (cmd == "adapter") return Adapter(*channel, args);
  if (cmd == "plan") return Plan(*channel, args);
  if (cmd == "referral") return Referral(*channel, args);
  if (cmd == "user") return User(*channel, args);
  return Usage(absl::StrCat("unknown command '", cmd, "'"));
}

// Abseil keeps only the last of a flag given several times, but `--label PSY
// --label MH` means both labels: the occurrences of flag `name` (before any
// `--`) are taken out of `argv` and given back as one `--name=A,B` in
// `*merged`, which must outlive the returned arguments.
std::vector<char*> MergeRepeatedFlag(int argc, char** argv, absl::string_view name,
                                     std::string* merged) {
  const std::string dashes[] = {absl::StrCat("--", name), absl::StrCat("-", name)};
  std::vector<char*> rest = {argv[0]};
  std::vector<std::string> values;
  bool flags_end = false;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    flags_end = flags_end || arg == "--";
    std::optional<std::string> value;
    for (const std::string& flag : dashes) {
      if (flags_end) break;
      if (arg == flag && i + 1 < argc) {
        value = argv[++i];
      } else if (absl::StartsWith(arg, flag + "=")) {
        value = std::string(arg.substr(flag.size() + 1));
      }
      if (value.has_value()) break;
    }
    if (value.has_value()) {
      values.push_back(*std::move(value));
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!values.empty()) {
    *merged = absl::StrCat("--", name, "=", absl::StrJoin(values, ","));
    rest.insert(rest.begin() + 1, merged->data());
  }
  return rest;
}

}  // namespace
}  // namespace switchboard::tools::sbctl

int main(int argc, char** argv) {
  using switchboard::tools::sbctl::MergeRepeatedFlag;
  absl::SetProgramUsageMessage(switchboard::tools::sbctl::kUsage);
  std::string labels, from, domains;
  std::vector<char*> args = MergeRepeatedFlag(argc, argv, "label", &labels);
  args = MergeRepeatedFlag(static_cast<int>(args.size()), args.data(), "from", &from);
  args = MergeRepeatedFlag(static_cast<int>(args.size()), args.data(), "domain", &domains);
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  std::vector<std::string> words(positional.begin() + 1, positional.end());
  return switchboard::tools::sbctl::Run(words);
}
