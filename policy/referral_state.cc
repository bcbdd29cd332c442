#include "policy/referral_state.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace switchboard::policy {
namespace {

using Status = v1::Referral::Status;

struct Move {
  Status from;
  Status to;
  ReferralParty party;
};

constexpr ReferralParty kReferrer = ReferralParty::kReferrer;
constexpr ReferralParty kTarget = ReferralParty::kTarget;

// The state machine of the header comment, one row per move.
constexpr Move kMoves[] = {
    {v1::Referral::STATUS_UNSPECIFIED, v1::Referral::REQUESTED, kReferrer},
    {v1::Referral::REQUESTED, v1::Referral::RECEIVED, kTarget},
    {v1::Referral::REQUESTED, v1::Referral::ACCEPTED, kTarget},
    {v1::Referral::REQUESTED, v1::Referral::REJECTED, kTarget},
    {v1::Referral::REQUESTED, v1::Referral::CANCELLED, kReferrer},
    {v1::Referral::RECEIVED, v1::Referral::ACCEPTED, kTarget},
    {v1::Referral::RECEIVED, v1::Referral::REJECTED, kTarget},
    {v1::Referral::RECEIVED, v1::Referral::CANCELLED, kReferrer},
    {v1::Referral::ACCEPTED, v1::Referral::IN_PROGRESS, kTarget},
    {v1::Referral::ACCEPTED, v1::Referral::FAILED, kTarget},
    {v1::Referral::ACCEPTED, v1::Referral::CANCELLED, kReferrer},
    {v1::Referral::IN_PROGRESS, v1::Referral::ON_HOLD, kTarget},
    {v1::Referral::IN_PROGRESS, v1::Referral::COMPLETED, kTarget},
    {v1::Referral::IN_PROGRESS, v1::Referral::FAILED, kTarget},
    {v1::Referral::IN_PROGRESS, v1::Referral::CANCELLED, kReferrer},
    {v1::Referral::ON_HOLD, v1::Referral::IN_PROGRESS, kTarget},
    {v1::Referral::ON_HOLD, v1::Referral::FAILED, kTarget},
    {v1::Referral::ON_HOLD, v1::Referral::CANCELLED, kReferrer},
};

std::string Name(Status s) {
  return s == v1::Referral::STATUS_UNSPECIFIED ? "(new)" : v1::Referral::Status_Name(s);
}

const char* PartyName(ReferralParty p) { return p == kReferrer ? "the referrer" : "the target"; }

}  // namespace

std::vector<Status> AllowedNext(Status from, ReferralParty party) {
  std::vector<Status> out;
  for (const Move& m : kMoves) {
    if (m.from == from && m.party == party) out.push_back(m.to);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status CheckReferralTransition(Status from, Status to, ReferralParty party) {
  for (const Move& m : kMoves) {
    if (m.from != from || m.to != to) continue;
    if (m.party == party) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat(
        "referral: only ", PartyName(m.party), " may move it from ", Name(from), " to ", Name(to)));
  }
  std::vector<std::string> allowed;
  for (const Move& m : kMoves) {
    if (m.from == from) {
      allowed.push_back(absl::StrCat(Name(m.to), " (", PartyName(m.party), ")"));
    }
  }
  if (allowed.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("referral: cannot go from ", Name(from),
                                                      " to ", Name(to), ": ", Name(from),
                                                      " is final (a new referral starts again)"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("referral: cannot go from ", Name(from), " to ", Name(to), "; from ", Name(from),
                   " it may go to ", absl::StrJoin(allowed, ", ")));
}

}  // namespace switchboard::policy
