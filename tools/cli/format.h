// Human-readable output of sbctl (tables and summaries, not raw protobuf), and
// JSON for scripts (--json).
#ifndef SWITCHBOARD_TOOLS_CLI_FORMAT_H_
#define SWITCHBOARD_TOOLS_CLI_FORMAT_H_

#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/client.pb.h"
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

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_FORMAT_H_
