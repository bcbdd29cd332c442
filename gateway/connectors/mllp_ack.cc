#include "gateway/connectors/mllp_ack.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace switchboard::gateway::connectors {
namespace {

using adapters::hl7v2::AckCode;
using adapters::hl7v2::ErrEntry;
using adapters::hl7v2::Hl7ErrorCode;

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsUpperOrDigit(char c) { return IsUpper(c) || (c >= '0' && c <= '9'); }

// Reads the digits at text[*at...]; false when there are none.
bool ReadNumber(absl::string_view text, size_t* at, int* out) {
  size_t end = *at;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  if (end == *at || !absl::SimpleAtoi(text.substr(*at, end - *at), out)) return false;
  *at = end;
  return true;
}

// Finds the first HL7 location `SEG[(n)]-F[.C[.S]]` in an adapter's message (the
// adapters name the field they refused, e.g. "payload: PID-3: no identifier ...").
// Leaves `entry` untouched when there is none: the ERR then means the whole message.
void Locate(absl::string_view text, ErrEntry* entry) {
  for (size_t i = 0; i + 4 < text.size(); ++i) {
    if (i > 0 && (IsUpperOrDigit(text[i - 1]) || text[i - 1] == '-')) continue;
    if (!IsUpper(text[i]) || !IsUpperOrDigit(text[i + 1]) || !IsUpperOrDigit(text[i + 2])) {
      continue;
    }
    size_t at = i + 3;
    int sequence = 0;
    if (text[at] == '(') {
      ++at;
      if (!ReadNumber(text, &at, &sequence) || at >= text.size() || text[at] != ')') continue;
      ++at;
    }
    if (at >= text.size() || text[at] != '-') continue;
    ++at;
    int field = 0;
    if (!ReadNumber(text, &at, &field)) continue;
    entry->segment_id = std::string(text.substr(i, 3));
    entry->segment_sequence = sequence > 0 ? sequence : 1;
    entry->field = field;
    if (at < text.size() && text[at] == '.') {
      ++at;
      if (ReadNumber(text, &at, &entry->component) && at < text.size() && text[at] == '.') {
        ++at;
        ReadNumber(text, &at, &entry->subcomponent);
      }
    }
    return;
  }
}

}  // namespace

std::string MllpFrame(absl::string_view payload) {
  return absl::StrCat(absl::string_view(&kMllpStart, 1), payload, kMllpEnd);
}

ErrEntry ErrFor(const absl::Status& status) {
  ErrEntry entry;
  entry.user_message = std::string(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      Locate(status.message(), &entry);
      entry.code = absl::StrContains(status.message(), "required") ||
                           absl::StrContains(status.message(), "no identifier")
                       ? Hl7ErrorCode::kRequiredFieldMissing
                       : Hl7ErrorCode::kDataTypeError;
      break;
    case absl::StatusCode::kAlreadyExists:
      entry.code = Hl7ErrorCode::kDuplicateKeyIdentifier;
      break;
    default:
      entry.code = Hl7ErrorCode::kApplicationInternalError;
      break;
  }
  return entry;
}

adapters::hl7v2::Message AckFor(const adapters::hl7v2::Message& in, const absl::Status& status,
                                absl::string_view control_id, absl::Time now) {
  if (status.ok()) return MakeAck(in, AckCode::kAccept, control_id, now, {});
  const AckCode code = status.code() == absl::StatusCode::kInvalidArgument ||
                               status.code() == absl::StatusCode::kAlreadyExists
                           ? AckCode::kError
                           : AckCode::kReject;
  return MakeAck(in, code, control_id, now, {ErrFor(status)});
}

}  // namespace switchboard::gateway::connectors
