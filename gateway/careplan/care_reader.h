// What CarePlans reads and changes mean, whatever the transport (gRPC
// CarePlansService, the web view): who may open a client, the plan, history,
// timeline and referrals as a reader may see them, and a plan update as the
// care-plan-change message it publishes. Each read fills the VIEW audit
// record's detail; the transport appends the record (identity::SubmitAudit)
// before it answers, so nothing is shown that is not audited.
//
// Thread-safe (reads only; the publisher is thread-safe).
#ifndef SWITCHBOARD_GATEWAY_CAREPLAN_CARE_READER_H_
#define SWITCHBOARD_GATEWAY_CAREPLAN_CARE_READER_H_

#include <memory>
#include <optional>
#include <variant>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/consent/access.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/store/store.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/careplans.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::careplan {

// A caller allowed to read one client.
struct ClientAccess {
  identity::Caller caller;
  std::shared_ptr<const consent::ClientState> state;
  // Pre-filled for the operation (actor, action, client); detail set by reads.
  v1::AuditRecord record;
};

// Why Open said no: the status to answer, and the refusal to audit first
// (nullopt: an internal error, answered as is).
struct Refused {
  absl::Status status;
  std::optional<v1::AuditRecord> audit;
};

class CareReader {
 public:
  CareReader(const store::Store* store, const registry::Directory* directory,
             const consent::AccessDecider* decider)
      : store_(store), directory_(directory), decider_(decider) {}

  // The client `client` names, for `caller`: current care-team members (and,
  // with `referral_party`, the parties of the client's referrals). Unknown
  // client and caller outside the care team alike: NOT_FOUND "no client with
  // identifier '...'" (to audit as a refusal).
  std::variant<ClientAccess, Refused> Open(const identity::Caller& caller, const char* operation,
                                           v1::AuditRecord::Action action,
                                           const v1::ClientIdentifier& client,
                                           bool referral_party = false) const;

  // The plan now or as of `as_of`, filtered for the caller.
  absl::StatusOr<v1::CarePlanView> Plan(ClientAccess& access, std::optional<absl::Time> as_of) const;
  // Every version, newest first, filtered.
  absl::StatusOr<v1::CarePlanHistoryResponse> History(ClientAccess& access) const;
  // One page of the timeline. INVALID_ARGUMENT for a bad page size, token or
  // filter (to audit as a refusal).
  absl::StatusOr<v1::GetTimelineResponse> Timeline(ClientAccess& access,
                                                   const v1::GetTimelineRequest& request) const;
  // The referrals the caller may see.
  absl::StatusOr<v1::ListReferralsResponse> Referrals(ClientAccess& access) const;

  // The care-plan-change message of an update by the caller (`event`: the
  // catalogue's code for plan changes). INVALID_ARGUMENT for a bad request.
  absl::StatusOr<v1::Message> UpdateMessage(const ClientAccess& access, const std::string& event,
                                            const v1::UpdateCarePlanRequest& request) const;
  // The plan version a care-plan-change message made (0 when none).
  absl::StatusOr<int64_t> VersionOfMessage(const std::string& client_id,
                                           const std::string& gateway_message_id) const;
  // The plan's current version (0 when none).
  absl::StatusOr<int64_t> CurrentVersion(const std::string& client_id) const;

 private:
  // Constant after construction.
  const store::Store* const store_;
  const registry::Directory* const directory_;
  const consent::AccessDecider* const decider_;
};

}  // namespace switchboard::gateway::careplan

#endif  // SWITCHBOARD_GATEWAY_CAREPLAN_CARE_READER_H_
