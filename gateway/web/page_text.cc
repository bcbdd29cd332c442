#include "gateway/web/page_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace switchboard::gateway::web {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string EnumWords(absl::string_view name) {
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", " "}});
}

}  // namespace

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

std::string DayText(absl::Time t, bool with_year) {
  const absl::CivilDay day = absl::ToCivilDay(t, absl::UTCTimeZone());
  std::string out = absl::StrCat(day.day(), " ", kMonths[day.month() - 1]);
  if (with_year) absl::StrAppend(&out, " ", day.year());
  return out;
}

std::string StampText(absl::Time t) {
  return absl::StrCat(DayText(t), ", ", absl::FormatTime("%H:%M", t, absl::UTCTimeZone()), " UTC");
}

std::string IsoText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string ItemStatusWords(v1::CarePlanItem::Status status) {
  if (status == v1::CarePlanItem::STATUS_UNSPECIFIED) return "";
  return EnumWords(v1::CarePlanItem::Status_Name(status));
}

std::string ReferralStatusWords(v1::Referral::Status status) {
  if (status == v1::Referral::STATUS_UNSPECIFIED) return "";
  return EnumWords(v1::Referral::Status_Name(status));
}

std::string CodeWords(absl::string_view code) {
  return absl::StrReplaceAll(code, {{"-", " "}, {"_", " "}});
}

std::string CodeTitle(absl::string_view code) {
  if (code.empty()) return "Other";
  std::string out = CodeWords(code);
  out[0] = absl::ascii_toupper(static_cast<unsigned char>(out[0]));
  return out;
}

std::string RatingText(int32_t value, bool signed_scale) {
  if (!signed_scale) return absl::StrCat(value);
  if (value > 0) return absl::StrCat("+", value);
  if (value < 0) return absl::StrCat("\u2212", -static_cast<int64_t>(value));
  return "0";
}

std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace switchboard::gateway::web
