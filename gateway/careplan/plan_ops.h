// The shared care plan in the store: one per client, every change a new
// version kept for ever (the whole plan after it), applied in the write of the
// care-plan-change message that carries it; and the plan as a reader may see it.
//
// A change, against the version it was made on (CarePlanChange.expected_version):
//   - ABORTED when the plan is at another version, naming the current one;
//   - PERMISSION_DENIED when an item is another member's (an existing item's
//     owner is kept for ever; a new item must be owned by the sender);
//   - FAILED_PRECONDITION for REOPENED on an item that is not on hold,
//     completed or cancelled (or does not exist);
//   - INVALID_ARGUMENT for a rating outside its scale or an unknown scale.
// An item of the change replaces that item's fields; its progress entries are
// added after those already kept (an entry already kept is not added twice), so
// the history of ratings is never lost, whatever the sender's system resends.
//
// Thread-safe (functions; the scales are immutable).
#ifndef SWITCHBOARD_GATEWAY_CAREPLAN_PLAN_OPS_H_
#define SWITCHBOARD_GATEWAY_CAREPLAN_PLAN_OPS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/consent/access.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "switchboard/v1/careplans.pb.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::careplan {

// Attainment scales by name: [min, max]. Always has `gas` (-2..+2).
using Scales = absl::flat_hash_map<std::string, std::pair<int32_t, int32_t>>;

// The built-in scale and the configured ones. INVALID_ARGUMENT naming
// `attainment_scales[i]` for a bad name, min > max, `gas` or a name twice.
absl::StatusOr<Scales> MakeScales(
    const google::protobuf::RepeatedPtrField<v1::AttainmentScale>& config);

// Applies `message`'s care_plan_change (from header.source) as the plan's next
// version, in `txn`. `field` prefixes error fields (e.g. `message.care_plan_change`).
// Returns the new version.
absl::StatusOr<int64_t> ApplyPlanChange(store::Transaction& txn, const Scales& scales,
                                        const std::string& client_id, const v1::Message& message,
                                        uint64_t message_seq, const std::string& gateway_message_id);

// The current version of the plan (0 when none), read in `txn`.
absl::StatusOr<int64_t> PlanVersionInTxn(store::Transaction& txn, const std::string& client_id);

// The version current at `as_of` (the newest when unset); nullopt when none.
absl::StatusOr<std::optional<v1::StoredPlanVersion>> ReadPlan(const store::Store& store,
                                                              const std::string& client_id,
                                                              std::optional<absl::Time> as_of);
// Every version, oldest first.
absl::StatusOr<std::vector<v1::StoredPlanVersion>> ReadPlanHistory(const store::Store& store,
                                                                   const std::string& client_id);

// What `reader` may see of `items`: its own items whole; others as the consent
// decides now (an item withheld becomes a placeholder; withheld progress
// entries are removed and counted). `occurred_at` is the content's time.
absl::StatusOr<std::vector<v1::CarePlanViewItem>> ViewItems(
    const consent::AccessDecider& decider, const consent::ClientState& state,
    const std::string& reader, const google::protobuf::RepeatedPtrField<v1::CarePlanItem>& items,
    const google::protobuf::Timestamp& occurred_at, absl::Time now);

// The reader's view of one version (nullptr: no plan).
absl::StatusOr<v1::CarePlanView> ViewPlan(const consent::AccessDecider& decider,
                                          const consent::ClientState& state,
                                          const std::string& reader,
                                          const v1::StoredPlanVersion* version, absl::Time now);
// The reader's view of what one version changed.
absl::StatusOr<v1::CarePlanVersion> ViewVersion(const consent::AccessDecider& decider,
                                                const consent::ClientState& state,
                                                const std::string& reader,
                                                const v1::StoredPlanVersion& version,
                                                absl::Time now);

}  // namespace switchboard::gateway::careplan

#endif  // SWITCHBOARD_GATEWAY_CAREPLAN_PLAN_OPS_H_
