#include "gateway/careplan/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::careplan {
namespace {

std::string Code(const std::string& enum_name) {
  return absl::StrReplaceAll(absl::AsciiStrToLower(enum_name), {{"_", "-"}});
}

}  // namespace

std::string ItemStatusName(v1::CarePlanItem::Status status) {
  return Code(v1::CarePlanItem::Status_Name(status));
}

std::string KindName(v1::CarePlanItem::Kind kind) { return Code(v1::CarePlanItem::Kind_Name(kind)); }

std::string ReferralStatusName(v1::Referral::Status status) {
  return Code(v1::Referral::Status_Name(status));
}

std::string ProgressText(const v1::ProgressEntry& e) {
  std::string out;
  if (e.has_at()) {
    out = absl::FormatTime("%Y-%m-%d", FromProtoTime(e.at()), absl::UTCTimeZone());
  }
  if (e.has_attainment()) {
    absl::StrAppend(&out, out.empty() ? "" : " ", e.attainment() > 0 ? "+" : "", e.attainment(),
                    " (", e.scale().empty() ? "gas" : e.scale(), ")");
  }
  if (!e.note().empty()) absl::StrAppend(&out, out.empty() ? "" : ": ", e.note());
  if (!e.author().empty()) absl::StrAppend(&out, " — ", e.author());
  return out;
}

}  // namespace switchboard::gateway::careplan
