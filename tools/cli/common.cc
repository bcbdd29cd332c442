#include "tools/cli/common.h"

#include <iostream>
#include <iterator>

#include "absl/flags/flag.h"
#include "gateway/config/config_loader.h"
#include "tools/cli/format.h"

namespace switchboard::tools::sbctl {

const char kUsage[] = R"(sbctl [flags] COMMAND [ARGS]

Identity (every command but `audit verify --data`):
  --as ORG                    use var/certs/ORG.pem, ORG.key and ca.pem
  --cert F --key F --ca F     or name the files
  --addr HOST:PORT            gateway (default 127.0.0.1:7443)

Exchange:
  publish FILE|-              publish a message (protobuf JSON of switchboard.v1.Message)
  publish-raw FILE|- --content_type TYPE
                              publish your own format (e.g. application/hl7-v2,
                              application/fhir+json) through the adapter bound to you
  subscribe [--window N] [--count N] [--no_ack] [--out DIR]
                              print deliveries as they arrive and acknowledge them;
                              --out writes your own format (adapter binding) to
                              DIR/DELIVERY_ID.json|hl7 (HL7 v2 with \n line ends)
Operations:
  status MESSAGE_ID           delivery state of a message you published
  deliveries [--state S]      deliveries addressed to you
  dlq list | dlq show ID      dead-lettered pushed deliveries and their last error
  dlq replay ID...|--all      queue dead letters again (consent decided again)
  endpoint status             your push endpoint: circuit breaker, failures, last error
                              (dlq and endpoint: --org ORG for admins)
  audit verify [--data DIR]   walk the audit hash chain (admin; or offline on DIR)
  audit list [--after N]      audit records (admin)
  health                      gateway health
Registry (writes need the admin role):
  org list | org get ID
  org register FILE | org update FILE     (JSON of switchboard.v1.Organisation)
  org suspend ID --reason TEXT | org reactivate ID
  subscription list | subscription set ORG [EVENT...]
  client register FILE                    (JSON of switchboard.v1.Client)
  client link SYSTEM|VALUE SYSTEM|VALUE   (client, identifier to add; admin or coordinator)
  client unlink SYSTEM|VALUE SYSTEM|VALUE (client, identifier to remove)
  client review [--all]                   (identity conflicts; --resolve ID --reason TEXT closes one)
  careteam show SYSTEM|VALUE
  careteam add SYSTEM|VALUE ORG [--role R] | careteam remove SYSTEM|VALUE ORG
People (web view accounts; your own organisation's, admins any; see docs/security.md):
  user add ORG USERNAME [--display_name TEXT]
                                          add a person; prints a one-time password,
                                          shown once, to be changed at first sign-in
  user reset ORG USERNAME                 a new one-time password (ends a lockout)
  user disable ORG USERNAME               the person can no longer sign in
  user list ORG                           the organisation's people
Adapters (your own organisation's; admins: --org ORG; see docs/adapters.md):
  adapter list                            versions of your adapter, which one is active
  adapter test FILE [--content_type T] [--adapter_version N]
                                          dry run: the canonical message and the output a
                                          recipient gets, or the error (nothing stored)
  adapter register DIR                    register a new version from DIR (not active)
  adapter activate VERSION [--accept]     make it live; refused when contract samples'
                                          outputs change, unless --accept
  adapter rollback                        back to the version active before
  adapter apply DIR [--yes] [--accept]    show what DIR changes; --yes registers and
                                          activates it
  adapter export DIR                      write the active version to DIR/ORG/ (config
                                          textproto, samples and their expected outputs)
Consent (the client's care team; see docs/consent.md):
  consent record FILE|-                   record a consent or a new version of one
                                          (JSON of switchboard.v1.Consent, e.g.
                                          deploy/demo/consents/*.json)
  consent revoke SYSTEM|VALUE CONSENT_ID --reason TEXT
  consent list SYSTEM|VALUE               every version of the client's consents
  consent check SYSTEM|VALUE --recipient ORG --event CODE [--purpose P]
                [--label CODE ...]        would ORG receive such content? PERMIT or
                                          DENY and why (labels: PSY, MH, SUD, R...)
  break-glass SYSTEM|VALUE --reason TEXT  emergency access to what was withheld from
                                          you (if the sharing policy allows you)
Care plan, timeline and referrals (the client's care team; see docs/coordination.md;
CLIENT is SYSTEM|VALUE or an enterprise id such as client-0004):
  plan show CLIENT [--as_of TIME]         the shared care plan by domain, with progress
                                          (TIME: RFC 3339, the plan as it was then)
  plan history CLIENT                     every version, newest first, and what it changed
  plan timeline CLIENT [--page_size N] [--page_token T] [--from ORG ...] [--domain D ...]
                                          what happened to the client across members,
                                          newest first, by day
  plan update CLIENT FILE                 add or change your items (JSON of
                                          switchboard.v1.UpdateCarePlanRequest)
  plan progress CLIENT ITEM_ID [--rating N] [--scale S] [--note TEXT] [--plan_version N]
                                          record progress on one of your items
  plan status CLIENT ITEM_ID STATUS [--note TEXT] [--plan_version N]
                                          proposed, active, on-hold, completed,
                                          cancelled or reopened
  referral list CLIENT                    referrals with their status and steps
  referral update CLIENT REFERRAL_ID STATUS [--reason TEXT] [--note TEXT]
                                          publish a status change (received, accepted,
                                          rejected, in-progress, on-hold, completed,
                                          cancelled, failed); needs --as

Flags may come before or after the command. --json prints protobuf JSON.
Quote SYSTEM|VALUE in a shell: 'https://st-marys.example.org/fhir/mrn|MRN-100234'.
)";

int Fail(const std::string& message, int code) {
  std::cerr << "sbctl: " << message << "\n";
  return code;
}

int FailRpc(const grpc::Status& s) {
  std::string hint;
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    hint = absl::StrCat("\n  (is the gateway running at ", absl::GetFlag(FLAGS_addr),
                        "? tools/run starts one; a certificate it does not trust also ends here)");
  }
  return Fail(absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
                           ": ", s.error_message(), hint));
}

int Usage(const std::string& problem) {
  std::cerr << "sbctl: " << problem << "\n\n" << kUsage;
  return 2;
}

ConnectionOptions Options() {
  ConnectionOptions o;
  o.addr = absl::GetFlag(FLAGS_addr);
  o.as = absl::GetFlag(FLAGS_as);
  o.certs_dir = absl::GetFlag(FLAGS_certs_dir);
  o.ca = absl::GetFlag(FLAGS_ca);
  o.cert = absl::GetFlag(FLAGS_cert);
  o.key = absl::GetFlag(FLAGS_key);
  o.user = absl::GetFlag(FLAGS_user);
  o.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  return o;
}

void Print(const google::protobuf::Message& m, const std::string& text) {
  std::cout << (absl::GetFlag(FLAGS_json) ? ToJson(m) + "\n" : text);
  std::cout.flush();
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return all;
  }
  return gateway::config::ReadFile(path, "input");
}

absl::StatusOr<v1::ClientIdentifier> ParseIdentifier(const std::string& text) {
  // A bare enterprise id (`client-0004`): the gateway resolves its system to the
  // client itself (gateway/registry/registry_ops.h kEnterpriseIdSystem; the CLI
  // does not include the gateway's internals for one constant).
  if (!text.empty() && text.find('|') == std::string::npos) {
    v1::ClientIdentifier id;
    id.set_system("urn:switchboard:client");
    id.set_value(text);
    return id;
  }
  const size_t bar = text.rfind('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a client identifier SYSTEM|VALUE"));
  }
  v1::ClientIdentifier id;
  id.set_system(text.substr(0, bar));
  id.set_value(text.substr(bar + 1));
  return id;
}

}  // namespace switchboard::tools::sbctl
