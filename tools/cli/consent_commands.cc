#include "tools/cli/consent_commands.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "policy/labels.h"
#include "switchboard/v1/consents.grpc.pb.h"
#include "tools/cli/common.h"
#include "tools/cli/format.h"

ABSL_DECLARE_FLAG(std::string, reason);
ABSL_DECLARE_FLAG(std::string, recipient);
ABSL_DECLARE_FLAG(std::string, event);
ABSL_DECLARE_FLAG(std::string, purpose);
ABSL_DECLARE_FLAG(std::vector<std::string>, label);

namespace switchboard::tools::sbctl {
namespace {

constexpr char kConsentUsage[] =
    "consent: record FILE | revoke SYSTEM|VALUE CONSENT_ID --reason TEXT | list SYSTEM|VALUE | "
    "check SYSTEM|VALUE --recipient ORG --event CODE [--purpose P] [--label CODE ...]";

int Record(v1::Consents::Stub& stub, const std::string& path) {
  v1::RecordConsentRequest req;
  if (auto p = ParseJsonFile(path, req.mutable_consent()); !p.ok()) {
    return Fail(std::string(p.message()), 2);
  }
  auto ctx = NewContext(Options());
  v1::Consent out;
  grpc::Status s = stub.Record(ctx.get(), req, &out);
  if (!s.ok()) return FailRpc(s);
  Print(out, FormatConsent(out));
  return 0;
}

int Revoke(v1::Consents::Stub& stub, const v1::ClientIdentifier& client,
           const std::string& consent_id) {
  v1::RevokeConsentRequest req;
  *req.mutable_client() = client;
  req.set_consent_id(consent_id);
  req.set_reason(absl::GetFlag(FLAGS_reason));
  auto ctx = NewContext(Options());
  v1::Consent out;
  grpc::Status s = stub.Revoke(ctx.get(), req, &out);
  if (!s.ok()) return FailRpc(s);
  Print(out, FormatConsent(out));
  return 0;
}

int List(v1::Consents::Stub& stub, const v1::ClientIdentifier& client) {
  v1::ListConsentsRequest req;
  *req.mutable_client() = client;
  auto ctx = NewContext(Options());
  v1::ListConsentsResponse resp;
  grpc::Status s = stub.List(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  Print(resp, FormatConsentHistory(client, resp.consents()));
  return 0;
}

int Check(v1::Consents::Stub& stub, const v1::ClientIdentifier& client) {
  v1::CheckAccessRequest req;
  *req.mutable_client() = client;
  req.set_recipient(absl::GetFlag(FLAGS_recipient));
  req.set_event(absl::GetFlag(FLAGS_event));
  req.set_purpose(absl::GetFlag(FLAGS_purpose));
  if (req.recipient().empty() || req.event().empty()) {
    return Usage("consent check: --recipient ORG and --event CODE are required");
  }
  // Members write labels by code; the code alone names its system.
  for (const std::string& code : absl::GetFlag(FLAGS_label)) {
    const absl::string_view system = policy::SystemOfCode(code);
    if (system.empty()) {
      return Usage(absl::StrCat("--label: unknown security label '", code,
                                "' (HL7 v3 Confidentiality U/L/M/N/R/V or an ActCode sensitivity "
                                "code such as PSY, MH, SUD, ETH, HIV, SDV, SOC, SEX)"));
    }
    v1::SecurityLabel* label = req.add_security_labels();
    label->set_system(std::string(system));
    label->set_code(code);
  }
  auto ctx = NewContext(Options());
  v1::CheckAccessResponse resp;
  grpc::Status s = stub.CheckAccess(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  Print(resp, FormatAccessDecision(req, resp.decision()));
  return 0;
}

}  // namespace

int Consent(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.empty()) return Usage(kConsentUsage);
  const std::string& sub = args[0];
  auto stub = v1::Consents::NewStub(channel);
  if (sub == "record") {
    return args.size() == 2 ? Record(*stub, args[1]) : Usage("consent record: one FILE (or -)");
  }
  const size_t want = sub == "revoke" ? 3 : 2;
  if ((sub != "revoke" && sub != "list" && sub != "check") || args.size() != want) {
    return Usage(kConsentUsage);
  }
  auto client = ParseIdentifier(args[1]);
  if (!client.ok()) return Usage(std::string(client.status().message()));
  if (sub == "revoke") return Revoke(*stub, *client, args[2]);
  if (sub == "list") return List(*stub, *client);
  return Check(*stub, *client);
}

int BreakGlass(const std::shared_ptr<grpc::Channel>& channel,
               const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("break-glass: SYSTEM|VALUE --reason TEXT");
  auto client = ParseIdentifier(args[0]);
  if (!client.ok()) return Usage(std::string(client.status().message()));
  auto stub = v1::Consents::NewStub(channel);
  v1::BreakGlassRequest req;
  *req.mutable_client() = *client;
  req.set_reason(absl::GetFlag(FLAGS_reason));
  auto ctx = NewContext(Options());
  v1::BreakGlassGrant grant;
  grpc::Status s = stub->BreakGlass(ctx.get(), req, &grant);
  if (!s.ok()) return FailRpc(s);
  Print(grant, FormatBreakGlassGrant(grant));
  return 0;
}

}  // namespace switchboard::tools::sbctl
