// Closed-loop referrals (ServiceRequest + Task) in the gateway: each referral
// message (event `referral`) is a step of one referral, named by
// referral_id within the client, checked against FHIR Task's state machine
// (policy/referral_state.h) and kept with every step it went through.
//
//   - A new referral_id starts a referral: status REQUESTED, from the referrer
//     (the sender) to `target`, another active member.
//   - Later steps come from a party: the target (received, accepted,
//     rejected, in-progress, on-hold, completed, failed) or the referrer
//     (cancelled); target and service cannot change. A member that is not a
//     party gets NOT_FOUND, as if the referral did not exist.
//   - A referral message goes to the other party and the client's
//     coordinators (and the event's subscribers), whatever the care team.
//   - ACCEPTED adds the target to the care team (role: the service), audited,
//     in the same write.
//   - A referral still REQUESTED or RECEIVED `escalate_after` after it was made
//     is escalated once: the coordinators get a notice, the timeline an entry,
//     the audit an ESCALATE record (Escalator).
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_CAREPLAN_REFERRAL_OPS_H_
#define SWITCHBOARD_GATEWAY_CAREPLAN_REFERRAL_OPS_H_

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/consent/consent_ops.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "policy/referral_state.h"
#include "switchboard/v1/careplans.pb.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::careplan {

// The notice event coordinators get for an escalated referral.
inline constexpr char kEscalationEvent[] = "referral-escalation";

struct ReferralContext {
  absl::Duration escalate_after = absl::Hours(24 * 7);
  // For adding an accepting target to the care team.
  const registry::RegistryContext* registry = nullptr;
};

// The config's escalation time (0 means 7 days).
absl::Duration EscalateAfter(const v1::ReferralConfig& config);

// Whether `source` may send `message` (a referral step) given the referral's
// state (nullopt: none yet), and as which party. Errors name the field:
// NOT_FOUND (not a party), ALREADY_EXISTS (a new referral with a taken id),
// INVALID_ARGUMENT (target or service changed, target is the sender or not a
// member), FAILED_PRECONDITION / PERMISSION_DENIED from the state machine, or
// a suspended target.
absl::StatusOr<policy::ReferralParty> CheckReferralStep(
    const std::optional<v1::ReferralState>& state, const v1::Message& message,
    const registry::Directory::Snapshot& dir);

// The referral's state, read from the store (nullopt when none).
absl::StatusOr<std::optional<v1::ReferralState>> ReadReferral(const store::Store& store,
                                                              const std::string& client_id,
                                                              const std::string& referral_id);
// Every referral of the client, newest first.
absl::StatusOr<std::vector<v1::ReferralState>> ReadReferrals(const store::Store& store,
                                                             const std::string& client_id);

// The recipients of a referral message, sorted: the other party and the
// client's coordinators (and `subscribers`), never the sender. Checks the step
// against the state now (the write checks again).
absl::StatusOr<std::vector<std::string>> ReferralRecipients(
    const store::Store& store, const std::string& client_id, const v1::Message& message,
    const std::vector<std::string>& coordinators, const std::vector<std::string>& subscribers,
    const registry::Directory::Snapshot& dir);

// Applies the step in the message's write: state, steps, the escalation due
// index, and on ACCEPTED the care-team membership.
absl::Status ApplyReferral(store::Transaction& txn, const ReferralContext& ctx,
                           const identity::Caller& caller, const std::string& client_id,
                           const v1::Message& message, const std::string& gateway_message_id,
                           const registry::Directory::Snapshot& dir);

// A coordinator of the client acknowledges the escalation of `referral_id`
// (audited ESCALATE, on the timeline). NOT_FOUND when there is no such
// escalated referral or the caller is not a coordinator of the client;
// FAILED_PRECONDITION when it was acknowledged already.
absl::Status AcknowledgeEscalation(store::Transaction& txn, const identity::Caller& caller,
                                   const std::string& client_id, const std::string& referral_id,
                                   const registry::Directory::Snapshot& dir);

// Escalates the referrals whose answer is overdue, in the background: looks
// every `interval` (and whenever Poke() is called).
class Escalator {
 public:
  Escalator(const store::Store* store, store::Committer* committer,
            consent::ConsentOpsContext consent_ops, absl::Duration interval);
  Escalator(const Escalator&) = delete;
  Escalator& operator=(const Escalator&) = delete;
  ~Escalator();  // Stop()s.

  void Start();
  // Waits for the current pass to end. Idempotent.
  void Stop();

  // One pass now (also what the thread does): escalates what is due at `now`.
  // Returns how many referrals were escalated.
  absl::StatusOr<int> RunOnce(absl::Time now);

 private:
  void Loop();

  const store::Store* const store_;
  store::Committer* const committer_;
  const consent::ConsentOpsContext consent_ops_;
  const absl::Duration interval_;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace switchboard::gateway::careplan

#endif  // SWITCHBOARD_GATEWAY_CAREPLAN_REFERRAL_OPS_H_
