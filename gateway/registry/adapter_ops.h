// The adapter lifecycle's logic, without gRPC: register a version of a member's
// adapter, test one on a payload, activate one (after the contract check), roll
// back; plus the start-up work (versions from the config's adapter_bindings, the
// live table from the active versions).
//
// Work with the adapter itself (building it, replaying samples; a remote adapter
// calls out) is done before the transaction, by the Prepare/Plan functions, from
// plain store reads; the transaction functions then check that the state they
// planned on is still current (ABORTED otherwise), write, audit and, on commit,
// swap the live adapter. A transaction function given a failed preparation
// audits it as the refusal and returns it, so that every refusal is audited in
// one place.
//
// Rights: a member acts on its own organisation's adapter, an admin on any;
// another member's organisation is NOT_FOUND with the same message as an unknown
// one (CheckAdapterAccess).
//
// Thread-safe (pure functions over the store, the directory and the table).
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_OPS_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_OPS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/adapter.h"
#include "adapters/adapter_registry.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/adapter_table.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "switchboard/v1/adapter_versions.pb.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/registry.pb.h"

namespace switchboard::gateway::registry {

// What the adapter lifecycle needs besides the store.
struct AdapterContext {
  const Directory* directory;
  const adapters::AdapterRegistry* types;
  // Swapped in the commit hooks of activation and rollback.
  AdapterTable* table;
};

// The organisation a request is about: `requested`, or the caller's own when empty.
std::string AdapterOrganisation(const identity::Caller& caller, const std::string& requested);

// OK when `caller` may manage `organisation_id`'s adapter: its own, or any
// registered organisation for an admin. Otherwise NOT_FOUND `no organisation
// 'X'`, the same as for an organisation that does not exist.
absl::Status CheckAdapterAccess(const Directory& directory, const identity::Caller& caller,
                                const std::string& organisation_id);

// A remote adapter names an address the gateway calls and files on the gateway's
// host: only an admin may register or test one. PERMISSION_DENIED otherwise;
// OK for every other type (and for configs no type takes: MakeAdapter says so).
absl::Status CheckConfigRights(const identity::Caller& caller,
                               const adapters::AdapterRegistry& types,
                               const google::protobuf::Any& config);

// An adapter made from a typed config. INVALID_ARGUMENT `<field>: ...`: no config,
// no adapter type takes it (the known types listed), or its type refuses it (the
// factory's error, e.g. `config: rules[1].field 'header.id': already mapped`).
absl::StatusOr<std::shared_ptr<const adapters::Adapter>> MakeAdapter(
    const adapters::AdapterRegistry& types, const google::protobuf::Any& config,
    absl::string_view field);

// A registration checked and completed, ready for RegisterAdapterVersion: config
// made into an adapter (adapter_type set), samples checked (name, content type,
// input; names unique; at most 100) and those without expectations run. The
// version number and creation fields are left for the transaction.
// INVALID_ARGUMENT naming the field (`samples[2].name: ...`, `config: ...`).
absl::StatusOr<v1::AdapterVersion> PrepareAdapterVersion(
    const adapters::AdapterRegistry& types, const std::string& organisation_id,
    const v1::RegisterAdapterVersionRequest& request);

// Stored state; nullopt when absent. DATA_LOSS when a record does not parse.
absl::StatusOr<std::optional<v1::AdapterBindingState>> ReadAdapterBinding(
    const store::Store& store, const std::string& organisation_id);
absl::StatusOr<std::optional<v1::AdapterVersion>> ReadAdapterVersion(
    const store::Store& store, const std::string& organisation_id, uint32_t version);
// Every version of the organisation, oldest first, with the binding state.
absl::StatusOr<v1::ListAdapterVersionsResponse> ListAdapterVersions(
    const store::Store& store, const std::string& organisation_id);

// Stores `prepared` as the organisation's next version (not active), audited
// `registered vN (TYPE, K samples)`. A failed `prepared` is audited and returned.
absl::Status RegisterAdapterVersion(store::Transaction& txn, const identity::Caller& actor,
                                    const std::string& organisation_id,
                                    const absl::StatusOr<v1::AdapterVersion>& prepared,
                                    v1::AdapterVersion* out);

// What activating a version takes, worked out before the transaction.
struct ActivationPlan {
  std::string organisation_id;
  uint32_t version = 0;
  // The active version when planned (0: none); the transaction checks it.
  uint32_t was = 0;
  // Activating the active version changes nothing.
  bool already_active = false;
  std::shared_ptr<const adapters::Adapter> adapter;
  // The contract check's findings, and the version with their new outputs.
  std::vector<v1::SampleChange> changes;
  v1::AdapterVersion accepted;
};

// Loads the version and the active one, makes the adapter and runs the contract
// check (CheckContract). NOT_FOUND `no version N of 'ORG'`; INVALID_ARGUMENT
// when `version` is 0; what MakeAdapter says if the stored config no longer
// makes an adapter.
absl::StatusOr<ActivationPlan> PlanActivation(const store::Store& store,
                                              const adapters::AdapterRegistry& types,
                                              const std::string& organisation_id, uint32_t version);

// Makes plan.version the active one: the previous active version is pushed for
// rollback, the live table swapped on commit, audited `activated vN (was vM)`
// (and `; accepted changed outputs of samples A,B`). Refusals, all audited:
//   FAILED_PRECONDITION the contract check found changed samples and
//                       `accept_changed_outputs` is false; the message lists
//                       each with its differences (the audit record only names
//                       them: no sample content in the audit trail);
//   ABORTED             the active version changed since the plan was made;
//   a failed `plan`.
absl::Status ActivateAdapterVersion(store::Transaction& txn, const AdapterContext& ctx,
                                    const identity::Caller& actor,
                                    const std::string& organisation_id,
                                    const absl::StatusOr<ActivationPlan>& plan,
                                    bool accept_changed_outputs,
                                    v1::ActivateAdapterVersionResponse* out);

// What a rollback takes, worked out before the transaction.
struct RollbackPlan {
  std::string organisation_id;
  uint32_t from = 0;
  uint32_t to = 0;
  std::shared_ptr<const adapters::Adapter> adapter;
};

// FAILED_PRECONDITION `no previous version of 'ORG' to roll back to`.
absl::StatusOr<RollbackPlan> PlanRollback(const store::Store& store,
                                          const adapters::AdapterRegistry& types,
                                          const std::string& organisation_id);

// Makes plan.to the active version again (taking it off the previous versions),
// swaps the live table on commit, audited `rolled back to vN (was vM)`. ABORTED
// when the state changed since the plan; a failed `plan` is audited and returned.
absl::Status RollbackAdapter(store::Transaction& txn, const AdapterContext& ctx,
                             const identity::Caller& actor, const std::string& organisation_id,
                             const absl::StatusOr<RollbackPlan>& plan,
                             v1::AdapterBindingState* out);

// The dry run of TestAdapter: the version asked (0: the active one, from the
// live table) or the inline config, on the request's payload. Decode and encode
// errors are in the response, not the status. INVALID_ARGUMENT for a missing
// content type or a refused inline config; NOT_FOUND for an unknown version;
// FAILED_PRECONDITION when version 0 is asked and none is active.
absl::StatusOr<v1::TestAdapterResponse> TestAdapter(const store::Store& store,
                                                    const AdapterContext& ctx,
                                                    const std::string& organisation_id,
                                                    const v1::TestAdapterRequest& request);

// At start, for each config binding (already validated): a member with no
// version gets version 1 from the config, activated (actor `gateway`, audited);
// a member with versions keeps them (the registry wins) and a warning is logged
// when its active config differs from the binding.
absl::Status SeedAdapterVersions(
    store::Committer* committer, const store::Store& store, const AdapterContext& ctx,
    const google::protobuf::RepeatedPtrField<v1::AdapterBinding>& bindings);

// Fills `ctx.table` with the adapters of every active version in the store. A
// stored config that no longer makes an adapter is logged (ERROR) and that
// member left without one; store errors are returned.
absl::Status LoadAdapterTable(const store::Store& store, const AdapterContext& ctx);

// The organisations with an active adapter version in the store.
absl::StatusOr<std::vector<std::string>> OrganisationsWithActiveAdapter(const store::Store& store);

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_OPS_H_
