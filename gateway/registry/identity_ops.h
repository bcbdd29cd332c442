// Identity across members: the cross-reference of every identifier members use
// for one client, its changes as transactions, and the review list of
// conflicts (docs/coordination.md "Identity across members"). No silent merges:
// nothing here ever joins two clients.
//
// Each change runs inside a Committer transaction, audits success
// (REGISTRY_CHANGE) and refusal, and drops the cached decision state on commit
// (RegistryContext::on_identifiers_changed). The admin-facing functions are for
// admins and COORDINATOR members only; anyone else is PERMISSION_DENIED
// (audited). Thread-safe (stateless).
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_IDENTITY_OPS_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_IDENTITY_OPS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "policy/client_linking.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::registry {

// OK for admins and members with the COORDINATOR role; PERMISSION_DENIED
// naming the caller otherwise.
absl::Status CheckIdentityRights(const Directory& directory, const identity::Caller& actor);

// Adds `identifier` to the client named by `client`. INVALID_ARGUMENT for a
// malformed identifier; NOT_FOUND for an unknown client; FAILED_PRECONDITION
// when the identifier belongs to another client. Already the client's: OK,
// nothing written (not audited: nothing changed).
absl::Status LinkIdentifier(store::Transaction& txn, const RegistryContext& ctx,
                            const identity::Caller& actor, const v1::ClientIdentifier& client,
                            const v1::ClientIdentifier& identifier, v1::Client* out);

// Removes `identifier` from the client named by `client`. NOT_FOUND for an
// unknown client or an identifier it does not have; FAILED_PRECONDITION for
// its last identifier.
absl::Status UnlinkIdentifier(store::Transaction& txn, const RegistryContext& ctx,
                              const identity::Caller& actor, const v1::ClientIdentifier& client,
                              const v1::ClientIdentifier& identifier, v1::Client* out);

// Every review, oldest first (open ones only unless `include_resolved`). A
// read of committed state: the caller checks rights and audits the view.
absl::StatusOr<std::vector<v1::ClientReview>> ReadClientReviews(const store::Store& store,
                                                                bool include_resolved);

// Closes review `id` with `resolution`. INVALID_ARGUMENT for an empty or long
// resolution; NOT_FOUND for an unknown id; FAILED_PRECONDITION when already
// resolved.
absl::Status ResolveClientReview(store::Transaction& txn, const RegistryContext& ctx,
                                 const identity::Caller& actor, const std::string& id,
                                 const std::string& resolution, v1::ClientReview* out);

// For the publish path. In the message's transaction: adds `identifiers` to
// client `client_id` (creating it when `create`), each audited REGISTRY_CHANGE
// with `why`. ABORTED when one of them got an owner since it was looked up
// (another message linked it meanwhile: publish again). `on_changed` (may be
// null) runs on commit.
absl::Status AddIdentifiers(store::Transaction& txn, const identity::Caller& actor,
                            absl::string_view operation, const std::string& client_id, bool create,
                            const std::vector<v1::ClientIdentifier>& identifiers,
                            absl::string_view why, const std::function<void()>& on_changed);

// For the publish path. In a transaction of its own: records an open review of
// the message `header` whose identifiers `ids` point at more than one client,
// audited (REGISTRY_CHANGE, one record per client involved). A resend of a
// message with an open review reuses it. Returns the review id.
absl::StatusOr<std::string> OpenClientReview(store::Transaction& txn,
                                             const identity::Caller& actor,
                                             absl::string_view operation,
                                             const v1::MessageHeader& header,
                                             const std::vector<policy::IdentifierLookup>& ids);

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_IDENTITY_OPS_H_
