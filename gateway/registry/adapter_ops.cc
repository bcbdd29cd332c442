#include "gateway/registry/adapter_ops.h"

#include <functional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/common/log.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/adapter_contract.h"
#include "gateway/store/keys.h"
#include "google/protobuf/util/message_differencer.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kOpRegister[] = "Registry/RegisterAdapterVersion";
constexpr char kOpActivate[] = "Registry/ActivateAdapterVersion";
constexpr char kOpRollback[] = "Registry/RollbackAdapter";
constexpr int kMaxSamples = 100;
constexpr size_t kMaxSampleName = 64;
constexpr int kMaxPreviousVersions = 100;
constexpr char kRemoteType[] = "switchboard.adapters.remote";
constexpr char kFromConfigNote[] = "from the gateway config (adapter_bindings)";

v1::AuditRecord Change(const identity::Caller& actor, absl::string_view operation,
                       const std::string& organisation_id) {
  v1::AuditRecord record = identity::AuditFor(actor, operation, v1::AuditRecord::REGISTRY_CHANGE);
  record.set_subject_organisation(organisation_id);
  return record;
}

// Records `record` as the refusal of `status` and returns `status`.
absl::Status Refuse(store::Transaction& txn, const v1::AuditRecord& record, absl::Status status) {
  txn.AuditOnRefusal(identity::Refusal(record, status));
  return status;
}

// Sample names become file names (`sbctl adapter export`): keep them plain.
absl::Status CheckSampleName(absl::string_view field, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxSampleName &&
            (absl::ascii_islower(name[0]) || absl::ascii_isdigit(name[0]));
  for (char c : name) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": '", name.substr(0, kMaxSampleName),
      "' is not a sample name (1..64 of a-z, 0-9, '-', '_', starting with a letter or digit)"));
}

std::string TypeName(const adapters::AdapterRegistry& types, const google::protobuf::Any& config) {
  const std::string& url = config.type_url();
  const adapters::AdapterFactory* factory = types.FindByConfigType(url.substr(url.rfind('/') + 1));
  return factory == nullptr ? "" : factory->name();
}

std::string VersionText(uint32_t version) {
  return version == 0 ? "none" : absl::StrCat("v", version);
}

// `home-visit (v2), x (v1)`.
std::string SampleNames(const std::vector<v1::SampleChange>& changes) {
  std::vector<std::string> names;
  for (const v1::SampleChange& c : changes) {
    names.push_back(absl::StrCat(c.sample(), " (v", c.of_version(), ")"));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::optional<v1::AdapterBindingState>> BindingInTxn(store::Transaction& txn,
                                                                    const std::string& org) {
  v1::AdapterBindingState state;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kRegistry, keys::AdapterBinding(org), &state));
  if (!found) return std::nullopt;
  return state;
}

// The live adapter of a stored version, or FAILED_PRECONDITION when its config
// no longer makes one (e.g. a remote adapter's certificate file is gone).
absl::StatusOr<std::shared_ptr<const adapters::Adapter>> AdapterOfVersion(
    const adapters::AdapterRegistry& types, const v1::AdapterVersion& version) {
  absl::StatusOr<std::shared_ptr<const adapters::Adapter>> adapter =
      MakeAdapter(types, version.config(), "config");
  if (adapter.ok()) return adapter;
  return absl::FailedPreconditionError(
      absl::StrCat("v", version.version(), " of '", version.organisation_id(),
                   "' no longer makes an adapter: ", adapter.status().message()));
}

// Calls `fn` with every stored binding state.
absl::Status ForEachBinding(const store::Store& store,
                            const std::function<void(const v1::AdapterBindingState&)>& fn) {
  const std::string prefix(keys::kAdapterBindingPrefix);
  auto it = store.NewIterator(Cf::kRegistry, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    v1::AdapterBindingState state;
    if (!state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("registry: adapter binding record ",
                                              it->key().ToString(), " does not parse"));
    }
    fn(state);
  }
  return store::FromRocks(it->status(), "registry: reading adapter bindings");
}

}  // namespace

std::string AdapterOrganisation(const identity::Caller& caller, const std::string& requested) {
  return requested.empty() ? caller.organisation_id : requested;
}

absl::Status CheckAdapterAccess(const Directory& directory, const identity::Caller& caller,
                                const std::string& organisation_id) {
  if (organisation_id == caller.organisation_id) return absl::OkStatus();
  if (caller.admin && directory.snapshot()->Find(organisation_id) != nullptr) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no organisation '", organisation_id.substr(0, 64), "'"));
}

absl::Status CheckConfigRights(const identity::Caller& caller,
                               const adapters::AdapterRegistry& types,
                               const google::protobuf::Any& config) {
  if (caller.admin || TypeName(types, config) != kRemoteType) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("config: a ", kRemoteType,
                   " adapter names an address and files on the gateway's host; only an admin "
                   "may register or test one"));
}

absl::StatusOr<std::shared_ptr<const adapters::Adapter>> MakeAdapter(
    const adapters::AdapterRegistry& types, const google::protobuf::Any& config,
    absl::string_view field) {
  if (config.type_url().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  absl::StatusOr<std::unique_ptr<adapters::Adapter>> adapter = types.Create(config);
  if (absl::IsNotFound(adapter.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": no adapter type takes '", config.type_url(),
                     "' (known types: ", absl::StrJoin(types.Names(), ", "), ")"));
  }
  if (!adapter.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", adapter.status().message()));
  }
  return std::shared_ptr<const adapters::Adapter>(*std::move(adapter));
}

absl::StatusOr<v1::AdapterVersion> PrepareAdapterVersion(
    const adapters::AdapterRegistry& types, const std::string& organisation_id,
    const v1::RegisterAdapterVersionRequest& request) {
  SB_RETURN_IF_ERROR(CheckText("note", request.note(), 1000, false));
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const adapters::Adapter> adapter,
                      MakeAdapter(types, request.config(), "config"));
  if (request.samples_size() > kMaxSamples) {
    return absl::InvalidArgumentError(absl::StrCat("samples: ", request.samples_size(),
                                                   " samples, at most ", kMaxSamples, " are kept"));
  }
  v1::AdapterVersion version;
  version.set_organisation_id(organisation_id);
  *version.mutable_config() = request.config();
  version.set_note(request.note());
  version.set_adapter_type(TypeName(types, request.config()));
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < request.samples_size(); ++i) {
    const v1::ContractSample& sample = request.samples(i);
    const std::string field = absl::StrCat("samples[", i, "]");
    SB_RETURN_IF_ERROR(CheckSampleName(field + ".name", sample.name()));
    if (!names.insert(sample.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".name: '", sample.name(), "' is listed twice"));
    }
    SB_RETURN_IF_ERROR(CheckText(field + ".content_type", sample.content_type(), 255, true));
    if (sample.input().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".input: required"));
    }
    // Given expectations are kept as they are: the contract check compares
    // them when the version is activated.
    *version.add_samples() = HasExpectations(sample) ? sample : Replay(*adapter, sample);
  }
  return version;
}

absl::StatusOr<std::optional<v1::AdapterBindingState>> ReadAdapterBinding(
    const store::Store& store, const std::string& organisation_id) {
  v1::AdapterBindingState state;
  SB_ASSIGN_OR_RETURN(bool found,
                      store.GetProto(Cf::kRegistry, keys::AdapterBinding(organisation_id), &state));
  if (!found) return std::nullopt;
  return state;
}

absl::StatusOr<std::optional<v1::AdapterVersion>> ReadAdapterVersion(
    const store::Store& store, const std::string& organisation_id, uint32_t version) {
  v1::AdapterVersion out;
  SB_ASSIGN_OR_RETURN(
      bool found,
      store.GetProto(Cf::kRegistry, keys::AdapterVersion(organisation_id, version), &out));
  if (!found) return std::nullopt;
  return out;
}

absl::StatusOr<v1::ListAdapterVersionsResponse> ListAdapterVersions(
    const store::Store& store, const std::string& organisation_id) {
  v1::ListAdapterVersionsResponse out;
  out.set_organisation_id(organisation_id);
  SB_ASSIGN_OR_RETURN(auto state, ReadAdapterBinding(store, organisation_id));
  if (state.has_value()) *out.mutable_state() = *std::move(state);
  const std::string prefix = keys::AdapterVersionPrefix(organisation_id);
  auto it = store.NewIterator(Cf::kRegistry, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (!out.add_versions()->ParseFromArray(it->value().data(),
                                            static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("registry: an adapter version of '", organisation_id, "' does not parse"));
    }
  }
  SB_RETURN_IF_ERROR(store::FromRocks(it->status(), "registry: reading adapter versions"));
  return out;
}

absl::Status RegisterAdapterVersion(store::Transaction& txn, const identity::Caller& actor,
                                    const std::string& organisation_id,
                                    const absl::StatusOr<v1::AdapterVersion>& prepared,
                                    v1::AdapterVersion* out) {
  const v1::AuditRecord record = Change(actor, kOpRegister, organisation_id);
  if (!prepared.ok()) return Refuse(txn, record, prepared.status());
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterBindingState> found,
                      BindingInTxn(txn, organisation_id));
  v1::AdapterBindingState state = found.value_or(v1::AdapterBindingState());
  state.set_organisation_id(organisation_id);
  v1::AdapterVersion version = *prepared;
  version.set_organisation_id(organisation_id);
  version.set_version(state.latest_version() + 1);
  *version.mutable_created_at() = ToProtoTime(txn.now());
  version.set_created_by(actor.organisation_id);
  state.set_latest_version(version.version());
  txn.PutProto(Cf::kRegistry, keys::AdapterVersion(organisation_id, version.version()), version);
  txn.PutProto(Cf::kRegistry, keys::AdapterBinding(organisation_id), state);
  v1::AuditRecord done = record;
  done.set_detail(absl::StrCat("registered adapter v", version.version(), " of '", organisation_id,
                               "' (", version.adapter_type(), ", ", version.samples_size(),
                               " samples)"));
  txn.Audit(std::move(done));
  *out = std::move(version);
  return absl::OkStatus();
}

absl::StatusOr<ActivationPlan> PlanActivation(const store::Store& store,
                                              const adapters::AdapterRegistry& types,
                                              const std::string& organisation_id,
                                              uint32_t version) {
  if (version == 0) return absl::InvalidArgumentError("version: required (1, 2, ...)");
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterVersion> target,
                      ReadAdapterVersion(store, organisation_id, version));
  if (!target.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no adapter version ", version, " of '", organisation_id, "'"));
  }
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterBindingState> state,
                      ReadAdapterBinding(store, organisation_id));
  ActivationPlan plan;
  plan.organisation_id = organisation_id;
  plan.version = version;
  plan.was = state.has_value() ? state->active_version() : 0;
  if (plan.was == version) {
    plan.already_active = true;
    return plan;
  }
  SB_ASSIGN_OR_RETURN(plan.adapter, AdapterOfVersion(types, *target));
  std::optional<v1::AdapterVersion> active;
  if (plan.was != 0) {
    SB_ASSIGN_OR_RETURN(active, ReadAdapterVersion(store, organisation_id, plan.was));
  }
  plan.changes = CheckContract(*plan.adapter, active.has_value() ? &*active : nullptr, *target,
                               &plan.accepted);
  return plan;
}

absl::Status ActivateAdapterVersion(store::Transaction& txn, const AdapterContext& ctx,
                                    const identity::Caller& actor,
                                    const std::string& organisation_id,
                                    const absl::StatusOr<ActivationPlan>& plan,
                                    bool accept_changed_outputs,
                                    v1::ActivateAdapterVersionResponse* out) {
  v1::AuditRecord record = Change(actor, kOpActivate, organisation_id);
  if (!plan.ok()) return Refuse(txn, record, plan.status());
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterBindingState> found,
                      BindingInTxn(txn, organisation_id));
  v1::AdapterBindingState state = found.value_or(v1::AdapterBindingState());
  state.set_organisation_id(organisation_id);
  if (state.active_version() != plan->was) {
    return Refuse(
        txn, record,
        absl::AbortedError(absl::StrCat("the active adapter version of '", organisation_id,
                                        "' changed meanwhile (now ",
                                        VersionText(state.active_version()), "); try again")));
  }
  if (plan->already_active) {
    *out->mutable_state() = std::move(state);
    return absl::OkStatus();
  }
  const std::string target = absl::StrCat("v", plan->version);
  if (!plan->changes.empty() && !accept_changed_outputs) {
    const absl::Status refused = absl::FailedPreconditionError(absl::StrCat(
        "activating ", target, " of '", organisation_id, "' changes the outputs of ",
        plan->changes.size(),
        " contract sample(s); accept them (accept_changed_outputs, sbctl adapter activate "
        "--accept) or fix the config:\n",
        absl::StripTrailingAsciiWhitespace(DescribeChanges(plan->changes))));
    // The audit trail names the samples, not their content.
    v1::AuditRecord refusal = identity::Refusal(record, refused);
    refusal.set_detail(absl::StrCat("FAILED_PRECONDITION: activating ", target,
                                    " changes the outputs of samples ",
                                    SampleNames(plan->changes)));
    txn.AuditOnRefusal(std::move(refusal));
    return refused;
  }
  if (!plan->changes.empty()) {
    txn.PutProto(Cf::kRegistry, keys::AdapterVersion(organisation_id, plan->version),
                 plan->accepted);
  }
  if (state.active_version() != 0) {
    state.add_previous_versions(state.active_version());
    while (state.previous_versions_size() > kMaxPreviousVersions) {
      state.mutable_previous_versions()->erase(state.mutable_previous_versions()->begin());
    }
  }
  state.set_active_version(plan->version);
  *state.mutable_updated_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::AdapterBinding(organisation_id), state);
  std::string detail = absl::StrCat("activated adapter ", target, " of '", organisation_id,
                                    "' (was ", VersionText(plan->was), ")");
  if (!plan->changes.empty()) {
    absl::StrAppend(&detail, "; accepted changed outputs of samples ", SampleNames(plan->changes));
  }
  record.set_detail(std::move(detail));
  txn.Audit(std::move(record));
  txn.OnCommit(
      [table = ctx.table, org = organisation_id, adapter = plan->adapter, version = plan->version] {
        table->Set(org, AdapterTable::Entry{adapter, version});
        LogInfo("adapter_activated", {{"org", org}, {"version", absl::StrCat(version)}});
      });
  *out->mutable_state() = std::move(state);
  if (accept_changed_outputs) {
    for (const v1::SampleChange& change : plan->changes) *out->add_accepted() = change;
  }
  return absl::OkStatus();
}

absl::StatusOr<RollbackPlan> PlanRollback(const store::Store& store,
                                          const adapters::AdapterRegistry& types,
                                          const std::string& organisation_id) {
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterBindingState> state,
                      ReadAdapterBinding(store, organisation_id));
  if (!state.has_value() || state->previous_versions().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no previous adapter version of '", organisation_id, "' to roll back to"));
  }
  RollbackPlan plan;
  plan.organisation_id = organisation_id;
  plan.from = state->active_version();
  plan.to = state->previous_versions(state->previous_versions_size() - 1);
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterVersion> to,
                      ReadAdapterVersion(store, organisation_id, plan.to));
  if (!to.has_value()) {
    return absl::DataLossError(absl::StrCat("registry: adapter version ", plan.to, " of '",
                                            organisation_id, "' is missing"));
  }
  SB_ASSIGN_OR_RETURN(plan.adapter, AdapterOfVersion(types, *to));
  return plan;
}

absl::Status RollbackAdapter(store::Transaction& txn, const AdapterContext& ctx,
                             const identity::Caller& actor, const std::string& organisation_id,
                             const absl::StatusOr<RollbackPlan>& plan,
                             v1::AdapterBindingState* out) {
  v1::AuditRecord record = Change(actor, kOpRollback, organisation_id);
  if (!plan.ok()) return Refuse(txn, record, plan.status());
  SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterBindingState> state,
                      BindingInTxn(txn, organisation_id));
  if (!state.has_value() || state->active_version() != plan->from ||
      state->previous_versions().empty() ||
      state->previous_versions(state->previous_versions_size() - 1) != plan->to) {
    return Refuse(txn, record,
                  absl::AbortedError(absl::StrCat("the adapter versions of '", organisation_id,
                                                  "' changed meanwhile; try again")));
  }
  state->mutable_previous_versions()->RemoveLast();
  state->set_active_version(plan->to);
  *state->mutable_updated_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::AdapterBinding(organisation_id), *state);
  record.set_detail(absl::StrCat("rolled back adapter of '", organisation_id, "' to v", plan->to,
                                 " (was ", VersionText(plan->from), ")"));
  txn.Audit(std::move(record));
  txn.OnCommit(
      [table = ctx.table, org = organisation_id, adapter = plan->adapter, version = plan->to] {
        table->Set(org, AdapterTable::Entry{adapter, version});
        LogInfo("adapter_rolled_back", {{"org", org}, {"version", absl::StrCat(version)}});
      });
  *out = *std::move(state);
  return absl::OkStatus();
}

absl::StatusOr<v1::TestAdapterResponse> TestAdapter(const store::Store& store,
                                                    const AdapterContext& ctx,
                                                    const std::string& organisation_id,
                                                    const v1::TestAdapterRequest& request) {
  SB_RETURN_IF_ERROR(CheckText("content_type", request.content_type(), 255, true));
  v1::TestAdapterResponse response;
  std::shared_ptr<const adapters::Adapter> adapter;
  if (request.has_config()) {
    SB_ASSIGN_OR_RETURN(adapter, MakeAdapter(*ctx.types, request.config(), "config"));
  } else if (request.version() == 0) {
    std::optional<AdapterTable::Entry> live = ctx.table->Get(organisation_id);
    if (!live.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", organisation_id, "' has no active adapter version"));
    }
    adapter = live->adapter;
    response.set_version(live->version);
  } else {
    SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterVersion> version,
                        ReadAdapterVersion(store, organisation_id, request.version()));
    if (!version.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("no adapter version ", request.version(), " of '", organisation_id, "'"));
    }
    SB_ASSIGN_OR_RETURN(adapter, AdapterOfVersion(*ctx.types, *version));
    response.set_version(request.version());
  }
  v1::ContractSample sample;
  sample.set_content_type(request.content_type());
  sample.set_input(request.input());
  std::vector<std::string> ignored;
  v1::ContractSample result = Replay(*adapter, std::move(sample), &ignored);
  if (result.has_expected_message()) {
    *response.mutable_message() = std::move(*result.mutable_expected_message());
  }
  response.set_output_content_type(result.expected_output_content_type());
  response.set_output(result.expected_output());
  response.set_error(result.expected_error());
  for (std::string& path : ignored) response.add_ignored_elements(std::move(path));
  return response;
}

absl::Status SeedAdapterVersions(
    store::Committer* committer, const store::Store& store, const AdapterContext& ctx,
    const google::protobuf::RepeatedPtrField<v1::AdapterBinding>& bindings) {
  identity::Caller actor;
  actor.organisation_id = "gateway";
  actor.admin = true;
  actor.user = "config adapter_bindings";
  for (int i = 0; i < bindings.size(); ++i) {
    const v1::AdapterBinding& binding = bindings[i];
    const std::string& org = binding.organisation_id();
    SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterBindingState> state,
                        ReadAdapterBinding(store, org));
    if (state.has_value() && state->latest_version() > 0) {
      // The registry wins once it has versions; the binding is only a seed.
      std::optional<v1::AdapterVersion> active;
      if (state->active_version() != 0) {
        SB_ASSIGN_OR_RETURN(active, ReadAdapterVersion(store, org, state->active_version()));
      }
      if (!active.has_value() ||
          !google::protobuf::util::MessageDifferencer::Equals(active->config(), binding.config())) {
        LogWarning("adapter_binding_ignored",
                   {{"org", org},
                    {"active_version", absl::StrCat(state->active_version())},
                    {"why",
                     "config adapter_bindings differs from the registry's active version, "
                     "which wins (sbctl adapter list)"}});
      }
      continue;
    }
    v1::RegisterAdapterVersionRequest request;
    *request.mutable_config() = binding.config();
    request.set_note(kFromConfigNote);
    const absl::StatusOr<v1::AdapterVersion> prepared =
        PrepareAdapterVersion(*ctx.types, org, request);
    SB_ASSIGN_OR_RETURN(std::shared_ptr<const adapters::Adapter> adapter,
                        MakeAdapter(*ctx.types, binding.config(), "config"));
    absl::Status s = committer->Run([&](store::Transaction& txn) -> absl::Status {
      v1::AdapterVersion registered;
      SB_RETURN_IF_ERROR(RegisterAdapterVersion(txn, actor, org, prepared, &registered));
      ActivationPlan plan;
      plan.organisation_id = org;
      plan.version = registered.version();
      plan.was = 0;
      plan.adapter = adapter;
      plan.accepted = registered;
      v1::ActivateAdapterVersionResponse activated;
      return ActivateAdapterVersion(txn, ctx, actor, org, plan, false, &activated);
    });
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("adapter_bindings[", i, "]: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadAdapterTable(const store::Store& store, const AdapterContext& ctx) {
  std::vector<v1::AdapterBindingState> active;
  SB_RETURN_IF_ERROR(ForEachBinding(store, [&](const v1::AdapterBindingState& state) {
    if (state.active_version() != 0) active.push_back(state);
  }));
  for (const v1::AdapterBindingState& state : active) {
    const std::string& org = state.organisation_id();
    SB_ASSIGN_OR_RETURN(std::optional<v1::AdapterVersion> version,
                        ReadAdapterVersion(store, org, state.active_version()));
    absl::StatusOr<std::shared_ptr<const adapters::Adapter>> adapter =
        version.has_value() ? AdapterOfVersion(*ctx.types, *version)
                            : absl::DataLossError(absl::StrCat(
                                  "adapter version ", state.active_version(), " is missing"));
    if (!adapter.ok()) {
      // One member's adapter must not keep the federation down: it cannot
      // publish raw (or get its own format) until someone fixes it.
      LogError("adapter_unavailable", {{"org", org},
                                       {"version", absl::StrCat(state.active_version())},
                                       {"error", std::string(adapter.status().message())}});
      continue;
    }
    ctx.table->Set(org, AdapterTable::Entry{*std::move(adapter), state.active_version()});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> OrganisationsWithActiveAdapter(const store::Store& store) {
  std::vector<std::string> orgs;
  SB_RETURN_IF_ERROR(ForEachBinding(store, [&](const v1::AdapterBindingState& state) {
    if (state.active_version() != 0) orgs.push_back(state.organisation_id());
  }));
  return orgs;
}

}  // namespace switchboard::gateway::registry
