// Disclosure decisions with the gateway's state: reads what policy:: needs
// about one client (its current consents, care team, break-glass grants) and
// asks the pure evaluator. Used at routing (Publisher), at delivery time
// (SubscribeSession: the consents of that moment) and by Consents.CheckAccess.
//
// Thread-safe (reads only; the sharing policy is immutable).
#ifndef SWITCHBOARD_GATEWAY_CONSENT_ACCESS_H_
#define SWITCHBOARD_GATEWAY_CONSENT_ACCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/registry/directory.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/store/store.h"
#include "policy/consent_policy.h"
#include "policy/sharing_policy.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/consent.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::consent {

// The source of the messages the gateway itself sends (break-glass notices).
inline constexpr char kGatewaySource[] = "gateway";
// The identifier system of enterprise client ids, used on gateway notices.
using registry::kEnterpriseIdSystem;

// What decisions about one client need, read once.
struct ClientState {
  std::string client_id;
  // Every identifier members know the client by (system|value).
  std::vector<v1::ClientIdentifier> identifiers;
  v1::CareTeam care_team;
  // The current version of each consent (any status).
  std::vector<v1::Consent> consents;
  // Break-glass grants: organisation -> end.
  absl::flat_hash_map<std::string, absl::Time> break_glass;
};

// The current version of each of the client's consents, by consent id.
absl::StatusOr<std::vector<v1::Consent>> ReadCurrentConsents(const store::Store& store,
                                                             const std::string& client_id);
// Every version of every consent of the client, newest change first.
absl::StatusOr<std::vector<v1::Consent>> ReadConsentHistory(const store::Store& store,
                                                            const std::string& client_id);

// True when `organisation_id` is, at `now`, in the care team of the client
// and has the COORDINATOR role.
bool IsCoordinator(const v1::CareTeam& team, const registry::Directory::Snapshot& dir,
                   const std::string& organisation_id, absl::Time now);
// The coordinators of the client at `now`, sorted.
std::vector<std::string> Coordinators(const v1::CareTeam& team,
                                      const registry::Directory::Snapshot& dir, absl::Time now);

// Keeps the state of recently decided clients in memory (bounded), dropped
// whenever a consent, a grant or a care team changes: Invalidate() runs in
// those transactions' commit hooks, before their callers are answered, so a
// decision taken after a change was acknowledged always sees it.
class AccessDecider {
 public:
  AccessDecider(const store::Store* store, const registry::Directory* directory,
                policy::SharingPolicy policy)
      : store_(store), directory_(directory), policy_(std::move(policy)) {}

  const policy::SharingPolicy& policy() const { return policy_; }

  // The client's state, from the cache or the store.
  absl::StatusOr<std::shared_ptr<const ClientState>> Load(const std::string& client_id) const;
  // Drops every cached state.
  void Invalidate();

  // The recipient as policy:: sees it (roles from the directory, care-team
  // membership and break-glass grant at `now`).
  absl::StatusOr<policy::Recipient> RecipientOf(const ClientState& client,
                                                const std::string& organisation_id,
                                                absl::Time now) const;

  // What `recipient` may receive of `message`. Gateway notices (source
  // `gateway`) are permitted: they carry no client content.
  absl::StatusOr<v1::AccessDecision> Decide(const ClientState& client, const std::string& recipient,
                                            const v1::Message& message, absl::Time now) const;
  // Load() and Decide().
  absl::StatusOr<v1::AccessDecision> DecideFor(const std::string& client_id,
                                               const std::string& recipient,
                                               const v1::Message& message, absl::Time now) const;

 private:
  static constexpr size_t kMaxCached = 4096;

  // Constant after construction.
  const store::Store* const store_;
  const registry::Directory* const directory_;
  const policy::SharingPolicy policy_;

  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const ClientState>> cache_
      ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace switchboard::gateway::consent

#endif  // SWITCHBOARD_GATEWAY_CONSENT_ACCESS_H_
