// The registry's changes as transactions: validation, the read-check-write on the
// store, the audit record, and the directory update on commit. Each function runs
// inside a Committer transaction (so checks and writes are atomic) and audits both
// success (REGISTRY_CHANGE) and refusal. Callers check the ADMIN role first.
//
// Errors: INVALID_ARGUMENT names the field; ALREADY_EXISTS / NOT_FOUND name the
// object; nothing is written on any error except the refusal's audit record.
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_OPS_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_OPS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/config/event_catalogue.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::gateway::registry {

// The identifier system of enterprise client ids (`urn:switchboard:client|client-0001`):
// every lookup of a client by identifier accepts it (for members that have no
// identifier of their own for the client, such as coordinators).
inline constexpr char kEnterpriseIdSystem[] = "urn:switchboard:client";

// What registry transactions need besides the transaction itself.
struct RegistryContext {
  Directory* directory;
  const config::EventCatalogue* events;
  // Called on commit when an organisation is suspended (closes its streams).
  std::function<void(const std::string& organisation_id)> on_suspended;
  // Called on commit when a care team changed (drops cached decision state).
  std::function<void()> on_care_team_changed;
  // Called on commit when a client's identifiers changed (drops cached
  // decision state, which holds them).
  std::function<void()> on_identifiers_changed;
};

// Field-level validation, exposed for tests.
absl::Status ValidateOrganisation(const v1::Organisation& org);
absl::Status ValidateClient(const v1::Client& client);

absl::Status RegisterOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                  const identity::Caller& actor, const v1::Organisation& in,
                                  v1::Organisation* out);
absl::Status UpdateOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                const identity::Caller& actor, const v1::Organisation& in,
                                v1::Organisation* out);
// FAILED_PRECONDITION when the actor suspends its own organisation.
absl::Status SuspendOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                 const identity::Caller& actor, const std::string& id,
                                 const std::string& reason, v1::Organisation* out);
absl::Status ReactivateOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                    const identity::Caller& actor, const std::string& id,
                                    v1::Organisation* out);
absl::Status SetSubscription(store::Transaction& txn, const RegistryContext& ctx,
                             const identity::Caller& actor, const v1::Subscription& in,
                             v1::Subscription* out);
absl::Status RegisterClient(store::Transaction& txn, const RegistryContext& ctx,
                            const identity::Caller& actor, const v1::Client& in, v1::Client* out);
// Adds the member. For a current member with the same role, changes the period;
// with another role, ends the current membership now and starts a new one.
absl::Status AddCareTeamMember(store::Transaction& txn, const RegistryContext& ctx,
                               const identity::Caller& actor, const v1::ClientIdentifier& client,
                               const v1::CareTeamMember& member, v1::CareTeam* out);
// Ends the current membership now. NOT_FOUND when there is none.
absl::Status RemoveCareTeamMember(store::Transaction& txn, const RegistryContext& ctx,
                                  const identity::Caller& actor,
                                  const v1::ClientIdentifier& client,
                                  const std::string& organisation_id, v1::CareTeam* out);
// Reads a care team, audited as a VIEW. Admins and current members only; anyone
// else gets NOT_FOUND with the same message as for an unknown client.
absl::Status GetCareTeam(store::Transaction& txn, const identity::Caller& actor,
                         const v1::ClientIdentifier& client, v1::CareTeam* out);

// Enterprise id of the client with identifier `id`; nullopt when none.
absl::StatusOr<std::optional<std::string>> ResolveClient(const store::Store& store,
                                                         const v1::ClientIdentifier& id);
// The care team of `client_id` (empty when none is stored).
absl::StatusOr<v1::CareTeam> ReadCareTeam(const store::Store& store, const std::string& client_id);

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_OPS_H_
