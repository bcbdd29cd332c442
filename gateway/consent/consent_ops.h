// Consent changes and break-glass as transactions: the authorisation checks,
// the read-check-write on the store and the audit record, atomically. Refusals
// are audited (and nothing else is written). Used by the Consents service and
// by the Publisher (a ConsentChange message, a publish with purpose ETREAT).
#ifndef SWITCHBOARD_GATEWAY_CONSENT_CONSENT_OPS_H_
#define SWITCHBOARD_GATEWAY_CONSENT_CONSENT_OPS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/config/event_catalogue.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "policy/sharing_policy.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/consent.pb.h"
#include "switchboard/v1/message.pb.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::consent {

// Told on commit that the gateway queued a message of its own (a notice) for
// `recipients`, or re-queued deliveries for them.
using OnQueued = std::function<void(uint64_t message_seq, std::shared_ptr<const v1::Message> message,
                                    const std::vector<std::string>& recipients)>;

struct ConsentOpsContext {
  const registry::Directory* directory;
  const config::EventCatalogue* events;
  const policy::SharingPolicy* policy;
  OnQueued on_queued;
  // Called on commit when a consent or a break-glass grant changed (drops
  // cached decision state).
  std::function<void()> on_consents_changed;
};

// Queues a gateway notice (Notification `kind`, `text`, about
// `subject_organisation`) to the client's coordinators other than that
// organisation, in `txn`. Returns its gateway message id, empty when the
// client has no such coordinator.
absl::StatusOr<std::string> QueueCoordinatorNotice(store::Transaction& txn,
                                                   const ConsentOpsContext& ctx,
                                                   const std::string& subject_organisation,
                                                   const std::string& client_id,
                                                   const std::string& kind,
                                                   const std::string& text);

// policy::CheckConsent with the registry and the event catalogue.
absl::Status CheckConsentInput(const ConsentOpsContext& ctx, const v1::Consent& consent,
                               const std::string& field);

// Transaction: records `in` as the next version of consent `in.id()` of
// `client_id` (the caller resolved `in.client()` to it). A new id: the
// caller must be in the client's care team, or an admin; it becomes
// `recorded_by`. An existing id: the caller must have recorded it, be a
// coordinator of the client, or an admin (PERMISSION_DENIED otherwise). A
// caller not in the care team (and not an admin) is told the client does not
// exist (INVALID_ARGUMENT on `<field>.client`, as for an unknown client).
// Audits CONSENT_CHANGE. `out` is the stored version.
absl::Status RecordConsent(store::Transaction& txn, const ConsentOpsContext& ctx,
                           const identity::Caller& caller, absl::string_view operation,
                           const std::string& field, const std::string& client_id,
                           const v1::Consent& in, v1::Consent* out);

// Transaction: a new version of the consent with status INACTIVE and
// `reason`. Same rights as changing it. NOT_FOUND when the client has no such
// consent (or the caller may not know of the client); FAILED_PRECONDITION when
// it is not ACTIVE or DRAFT.
absl::Status RevokeConsent(store::Transaction& txn, const ConsentOpsContext& ctx,
                           const identity::Caller& caller, const std::string& client_id,
                           const v1::ClientIdentifier& client, const std::string& consent_id,
                           const std::string& reason, v1::Consent* out);

// Deliveries to a member about a client that a break-glass would release: the
// sequences in the withheld index (read before the transaction, re-checked in
// it).
absl::StatusOr<std::vector<uint64_t>> ReleaseCandidates(const store::Store& store,
                                                        const std::string& organisation_id,
                                                        const std::string& client_id);

// Transaction: grants `caller` break-glass access to `client_id` until now +
// the policy's duration, re-queues (as new deliveries) what was withheld from
// it or sent redacted (`candidates`), queues a notice to the client's
// coordinators other than the caller, and audits BREAK_GLASS. The caller has
// checked the right (MayBreakGlass). `gateway_message_id`: the message that
// carried the request, if any, for the audit.
absl::Status GrantBreakGlass(store::Transaction& txn, const ConsentOpsContext& ctx,
                             const identity::Caller& caller, absl::string_view operation,
                             const std::string& client_id, const std::string& reason,
                             const std::vector<uint64_t>& candidates,
                             const std::string& gateway_message_id, v1::BreakGlassGrant* out);

// Records the config's seed consents that are not stored yet (by consent id;
// never overwrites). Each is recorded as by its `recorded_by`, which must be a
// registered organisation. Blocks (start-up only). Errors name the entry, e.g.
// "seed.consents[0]: consent.provision.type: required (PERMIT or DENY)".
absl::Status ApplySeedConsents(store::Committer* committer, const store::Store& store,
                               const ConsentOpsContext& ctx,
                               const google::protobuf::RepeatedPtrField<v1::Consent>& consents);

// An audit record of a withheld delivery (actor `gateway`, WITHHOLD, the
// recipient as subject, the decision's reason as detail).
v1::AuditRecord WithholdRecord(const v1::StoredDelivery& stored, absl::string_view operation);

}  // namespace switchboard::gateway::consent

#endif  // SWITCHBOARD_GATEWAY_CONSENT_CONSENT_OPS_H_
