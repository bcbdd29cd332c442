// The lifecycle of a closed-loop referral: FHIR R4's Task state machine
// (https://hl7.org/fhir/R4/task.html#statemachine) restricted to the statuses a
// referral uses (switchboard.v1.Referral.Status), and which party makes each move.
//
//   (new) ──referrer──► REQUESTED
//   REQUESTED ──target──► RECEIVED | ACCEPTED | REJECTED      ──referrer──► CANCELLED
//   RECEIVED  ──target──► ACCEPTED | REJECTED                  ──referrer──► CANCELLED
//   ACCEPTED  ──target──► IN_PROGRESS | FAILED                 ──referrer──► CANCELLED
//   IN_PROGRESS ─target─► ON_HOLD | COMPLETED | FAILED         ──referrer──► CANCELLED
//   ON_HOLD   ──target──► IN_PROGRESS | FAILED                 ──referrer──► CANCELLED
//   REJECTED, COMPLETED, CANCELLED, FAILED: final (a new referral starts again).
//
// ON_HOLD and back is how a service pauses and resumes; FHIR's `draft`, `ready`
// and `entered-in-error` are not used by referrals.
//
// Pure: no I/O. Thread-safe.
#ifndef SWITCHBOARD_POLICY_REFERRAL_STATE_H_
#define SWITCHBOARD_POLICY_REFERRAL_STATE_H_

#include <vector>

#include "absl/status/status.h"
#include "switchboard/v1/payloads.pb.h"

namespace switchboard::policy {

// Who moves a referral: the member that asked for the service, or the one asked.
enum class ReferralParty { kReferrer, kTarget };

// The statuses `party` may move a referral in status `from` to, in enum order.
// STATUS_UNSPECIFIED as `from` means a referral that does not exist yet.
std::vector<v1::Referral::Status> AllowedNext(v1::Referral::Status from, ReferralParty party);

// OK when `party` may move a referral from `from` to `to`. Otherwise
// FAILED_PRECONDITION naming both statuses and the moves allowed from `from`
// (or that it is final); PERMISSION_DENIED when only the other party may make
// this move.
absl::Status CheckReferralTransition(v1::Referral::Status from, v1::Referral::Status to,
                                     ReferralParty party);

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_REFERRAL_STATE_H_
