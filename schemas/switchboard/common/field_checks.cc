#include "switchboard/common/field_checks.h"

#include "absl/strings/str_cat.h"
#include "switchboard/common/time_util.h"

namespace switchboard {
namespace {

// Quotes at most 80 characters of a value for an error message.
std::string Quote(absl::string_view value) {
  std::string out = "'";
  for (char c : value.substr(0, 80)) out.push_back((c >= 0x20 && c < 0x7f) ? c : '?');
  if (value.size() > 80) out += "...";
  return out + "'";
}

}  // namespace

absl::Status CheckSlug(absl::string_view field, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  bool ok = value.size() >= 2 && value.size() <= 63 && value.front() != '-';
  for (char c : value) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", Quote(value),
        " is not a valid id (2..63 lower-case letters, digits and '-', not starting with '-')"));
  }
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max_len,
                       bool required) {
  if (value.empty()) {
    return required ? absl::InvalidArgumentError(absl::StrCat(field, ": required"))
                    : absl::OkStatus();
  }
  if (value.size() > max_len) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than ", max_len, " bytes (", value.size(), ")"));
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckToken(absl::string_view field, absl::string_view value, size_t max_len) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (value.size() > max_len) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than ", max_len, " characters"));
  }
  for (char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", Quote(value), " must be printable ASCII without spaces"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckIdentifier(absl::string_view field, const v1::ClientIdentifier& id) {
  if (id.system().empty() && id.value().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required (system and value)"));
  }
  absl::Status s = CheckToken(absl::StrCat(field, ".system"), id.system(), 256);
  if (!s.ok()) return s;
  return CheckToken(absl::StrCat(field, ".value"), id.value(), 256);
}

absl::Status CheckTimestamp(absl::string_view field, const google::protobuf::Timestamp& ts) {
  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as the protobuf JSON mapping.
  constexpr int64_t kMin = -62135596800;
  constexpr int64_t kMax = 253402300799;
  if (ts.seconds() < kMin || ts.seconds() > kMax || ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a valid timestamp"));
  }
  return absl::OkStatus();
}

absl::Status CheckPeriod(absl::string_view field, const v1::Period& period) {
  if (period.has_start()) {
    absl::Status s = CheckTimestamp(absl::StrCat(field, ".start"), period.start());
    if (!s.ok()) return s;
  }
  if (period.has_end()) {
    absl::Status s = CheckTimestamp(absl::StrCat(field, ".end"), period.end());
    if (!s.ok()) return s;
  }
  if (period.has_start() && period.has_end() &&
      FromProtoTime(period.start()) >= FromProtoTime(period.end())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": start is not before end"));
  }
  return absl::OkStatus();
}

std::string IdentifierText(const v1::ClientIdentifier& id) {
  return absl::StrCat(id.system(), "|", id.value());
}

}  // namespace switchboard
