// Checks on individual input fields, shared by every validator. Each returns
// INVALID_ARGUMENT naming `field` and quoting the value, or OK. Pure; thread-safe.
#ifndef SWITCHBOARD_COMMON_FIELD_CHECKS_H_
#define SWITCHBOARD_COMMON_FIELD_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/v1/common.pb.h"

namespace switchboard {

// Organisation ids and event codes: lower-case letters, digits and '-', starting
// with a letter or digit, 2..63 characters.
absl::Status CheckSlug(absl::string_view field, absl::string_view value);

// Non-empty (when `required`), at most `max_len` bytes, no control characters.
absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max_len,
                       bool required);

// 1..max_len printable ASCII characters without spaces (ids chosen by members).
absl::Status CheckToken(absl::string_view field, absl::string_view value, size_t max_len = 128);

// system and value both present and printable.
absl::Status CheckIdentifier(absl::string_view field, const v1::ClientIdentifier& id);

// A Timestamp protobuf can represent (years 1..9999, nanos in range).
absl::Status CheckTimestamp(absl::string_view field, const google::protobuf::Timestamp& ts);

// Both bounds valid and start before end when both are set.
absl::Status CheckPeriod(absl::string_view field, const v1::Period& period);

// `system|value`, for messages.
std::string IdentifierText(const v1::ClientIdentifier& id);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_FIELD_CHECKS_H_
