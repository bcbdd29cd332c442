// Applying the config's `seed` at start: each organisation, subscription, client
// and care-team membership is created when absent and never overwritten (changes
// made through the Registry service win; a member removed from a care team is not
// added back). Audited like any registry change, by actor `gateway`.
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_SEED_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_SEED_H_

#include "absl/status/status.h"
#include "gateway/registry/registry_ops.h"
#include "switchboard/v1/config.pb.h"

namespace switchboard::gateway::registry {

// Blocks until done (start-up only). Errors name the seed entry, e.g.
// "seed.organisations[1]: organisation.id: ... is not a valid id".
absl::Status ApplySeed(store::Committer* committer, const RegistryContext& context,
                       const v1::Seed& seed);

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_SEED_H_
