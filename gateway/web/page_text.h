// How the web view words the gateway's data for people: dates, statuses, domains,
// ratings, and the percent-encoding of ids in links. Times are shown in UTC, as
// sbctl shows them. Pure; thread-safe.
#ifndef SWITCHBOARD_GATEWAY_WEB_PAGE_TEXT_H_
#define SWITCHBOARD_GATEWAY_WEB_PAGE_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/v1/payloads.pb.h"

namespace switchboard::gateway::web {

// True when `ts` is set (not the epoch default of an unset field).
bool IsSet(const google::protobuf::Timestamp& ts);

// `8 Oct 2026`; `8 Oct` with `with_year` false.
std::string DayText(absl::Time t, bool with_year = true);
// `8 Oct 2026, 15:00 UTC`.
std::string StampText(absl::Time t);
// `2026-10-08T15:00:00Z`, for <time datetime="...">.
std::string IsoText(absl::Time t);

// In words: `on hold`, `reopened`, `in progress`; "" for unspecified.
std::string ItemStatusWords(v1::CarePlanItem::Status status);
std::string ReferralStatusWords(v1::Referral::Status status);

// A domain or role code as a heading: `mental-health` -> `Mental health`;
// "" -> `Other`.
std::string CodeTitle(absl::string_view code);
// A code as words in a sentence: `housing-support` -> `housing support`.
std::string CodeWords(absl::string_view code);

// A rating: with a sign when `signed_scale` (GAS: `−2`, `0`, `+1`, with U+2212 MINUS
// SIGN), else as a plain number (`7`).
std::string RatingText(int32_t value, bool signed_scale);

// `text` with every byte but the unreserved ones (RFC 3986: letters, digits,
// `-._~`) percent-encoded: safe as one path segment or one query value.
std::string PercentEncode(absl::string_view text);

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_PAGE_TEXT_H_
