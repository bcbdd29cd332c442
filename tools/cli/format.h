// Human-readable output of sbctl (tables and summaries, not raw protobuf), and
// JSON for scripts (--json).
#ifndef SWITCHBOARD_TOOLS_CLI_FORMAT_H_
#define SWITCHBOARD_TOOLS_CLI_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/consent.pb.h"
#include "switchboard/v1/consents.pb.h"
#include "switchboard/v1/delivery.pb.h"
#include "switchboard/v1/operations.pb.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::tools::sbctl {

// One line of protobuf JSON (camelCase names, enums as names).
std::string ToJson(const google::protobuf::Message& message, bool pretty = false);
// RFC 3339 in UTC, or "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& ts);

std::string FormatReceipt(const v1::Receipt& receipt);
std::string FormatDelivery(const v1::Delivery& delivery);
std::string FormatMessageStatus(const v1::MessageStatus& status);
std::string FormatDeliveryRow(const v1::Delivery& delivery);
std::string FormatOrganisations(const google::protobuf::RepeatedPtrField<v1::Organisation>& orgs);
std::string FormatCareTeam(const v1::CareTeam& team);
std::string FormatAuditRecord(const v1::AuditRecord& record);

// One consent version: a header line (id, version, status, scope, then
// `note` if any), who recorded and last changed it and when, then its
// provisions as an indented outline, e.g.
//   PERMIT (everyone)
//     DENY content labelled PSY
//       PERMIT actors st-marys, care-coord
std::string FormatConsent(const v1::Consent& consent, absl::string_view note = "");
// The provision tree alone, each line starting with `indent`.
std::string FormatProvisions(const v1::ConsentProvision& root, const std::string& indent);
// Every version of a client's consents (newest first, as the gateway lists
// them), one block each.
std::string FormatConsentHistory(const v1::ClientIdentifier& client,
                                 const google::protobuf::RepeatedPtrField<v1::Consent>& consents);
// `PERMIT` or `DENY` first, then what was asked and why.
std::string FormatAccessDecision(const v1::CheckAccessRequest& request,
                                 const v1::AccessDecision& decision);
std::string FormatBreakGlassGrant(const v1::BreakGlassGrant& grant);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_FORMAT_H_
