// How plan items, referral statuses and progress entries are named for people
// (timeline lines, errors): lower case with hyphens, as FHIR codes are.
// Thread-safe (pure).
#ifndef SWITCHBOARD_GATEWAY_CAREPLAN_NAMES_H_
#define SWITCHBOARD_GATEWAY_CAREPLAN_NAMES_H_

#include <string>

#include "switchboard/v1/payloads.pb.h"

namespace switchboard::gateway::careplan {

// `on-hold`, `reopened`, ...
std::string ItemStatusName(v1::CarePlanItem::Status status);
// `goal` or `activity`.
std::string KindName(v1::CarePlanItem::Kind kind);
// `accepted`, `in-progress`, ...
std::string ReferralStatusName(v1::Referral::Status status);
// E.g. `2026-11-20 +1 (gas): walked to the shop — A. Jones`.
std::string ProgressText(const v1::ProgressEntry& entry);

}  // namespace switchboard::gateway::careplan

#endif  // SWITCHBOARD_GATEWAY_CAREPLAN_NAMES_H_
