#include "gateway/registry/registry_ops.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/careplan/timeline.h"
#include "gateway/identity/rpc_guard.h"
#include "switchboard/common/field_checks.h"
#include "policy/routing_policy.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kOpRegisterOrg[] = "Registry/RegisterOrganisation";
constexpr char kOpUpdateOrg[] = "Registry/UpdateOrganisation";
constexpr char kOpSuspendOrg[] = "Registry/SuspendOrganisation";
constexpr char kOpReactivateOrg[] = "Registry/ReactivateOrganisation";
constexpr char kOpSetSubscription[] = "Registry/SetSubscription";
constexpr char kOpRegisterClient[] = "Registry/RegisterClient";
constexpr char kOpAddCareTeam[] = "Registry/AddCareTeamMember";
constexpr char kOpRemoveCareTeam[] = "Registry/RemoveCareTeamMember";
constexpr char kOpGetCareTeam[] = "Registry/GetCareTeam";

v1::AuditRecord Change(const identity::Caller& actor, absl::string_view op) {
  return identity::AuditFor(actor, op, v1::AuditRecord::REGISTRY_CHANGE);
}

// Records `record` as the refusal of `status` and returns `status`.
absl::Status Refuse(store::Transaction& txn, v1::AuditRecord record, absl::Status status) {
  txn.AuditOnRefusal(identity::Refusal(std::move(record), status));
  return status;
}

std::string RoleNames(const v1::Organisation& org) {
  std::vector<std::string> names;
  for (int r : org.roles()) names.push_back(v1::Organisation::Role_Name(r));
  return absl::StrJoin(names, ",");
}

absl::StatusOr<std::optional<std::string>> ResolveInTxn(store::Transaction& txn,
                                                        const v1::ClientIdentifier& id) {
  if (id.system() == kEnterpriseIdSystem) {
    SB_ASSIGN_OR_RETURN(auto client, txn.Get(Cf::kClients, keys::Client(id.value())));
    if (!client.has_value()) return std::optional<std::string>();
    return std::optional<std::string>(id.value());
  }
  return txn.Get(Cf::kClients, keys::Identifier(id.system(), id.value()));
}

// A care-team change on the client's timeline.
void CareTeamTimeline(store::Transaction& txn, const identity::Caller& actor,
                      const std::string& client_id, std::string title, absl::Time at) {
  v1::StoredTimelineEntry e;
  e.set_kind(v1::TimelineEntry::CARE_TEAM_CHANGE);
  *e.mutable_occurred_at() = ToProtoTime(at);
  e.set_organisation(actor.organisation_id);
  e.set_user(actor.user);
  e.set_title(std::move(title));
  careplan::AppendTimeline(txn, client_id, std::move(e));
}

absl::Status UnknownClient(const v1::ClientIdentifier& id) {
  return absl::NotFoundError(absl::StrCat("no client with identifier '", IdentifierText(id), "'"));
}

}  // namespace

absl::Status ValidateOrganisation(const v1::Organisation& org) {
  SB_RETURN_IF_ERROR(CheckSlug("organisation.id", org.id()));
  SB_RETURN_IF_ERROR(CheckText("organisation.display_name", org.display_name(), 200, true));
  if (org.roles().empty()) {
    return absl::InvalidArgumentError("organisation.roles: at least one role is required");
  }
  std::set<int> seen;
  for (int i = 0; i < org.roles_size(); ++i) {
    const int role = org.roles(i);
    if (role == v1::Organisation::ROLE_UNSPECIFIED || !v1::Organisation::Role_IsValid(role)) {
      return absl::InvalidArgumentError(
          absl::StrCat("organisation.roles[", i, "]: not a valid role"));
    }
    if (!seen.insert(role).second) {
      return absl::InvalidArgumentError(absl::StrCat("organisation.roles[", i, "]: ",
                                                     v1::Organisation::Role_Name(role),
                                                     " is listed twice"));
    }
  }
  SB_RETURN_IF_ERROR(CheckToken("organisation.certificate_san", org.certificate_san(), 512));
  if (org.certificate_san().find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("organisation.certificate_san: '",
                                                   org.certificate_san(),
                                                   "' is not a URI (e.g. spiffe://...)"));
  }
  if (org.status() == v1::Organisation::SUSPENDED) {
    return absl::InvalidArgumentError(
        "organisation.status: set by the gateway; use SuspendOrganisation");
  }
  return absl::OkStatus();
}

absl::Status ValidateClient(const v1::Client& client) {
  SB_RETURN_IF_ERROR(CheckToken("client.id", client.id(), 64));
  SB_RETURN_IF_ERROR(CheckText("client.name", client.name(), 128, false));
  if (client.identifiers().empty()) {
    return absl::InvalidArgumentError("client.identifiers: at least one identifier is required");
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < client.identifiers_size(); ++i) {
    const std::string field = absl::StrCat("client.identifiers[", i, "]");
    SB_RETURN_IF_ERROR(CheckIdentifier(field, client.identifiers(i)));
    if (!seen.insert(IdentifierText(client.identifiers(i))).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status RegisterOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                  const identity::Caller& actor, const v1::Organisation& in,
                                  v1::Organisation* out) {
  v1::AuditRecord record = Change(actor, kOpRegisterOrg);
  record.set_subject_organisation(in.id());
  if (absl::Status s = ValidateOrganisation(in); !s.ok()) return Refuse(txn, record, s);
  SB_ASSIGN_OR_RETURN(auto existing, txn.Get(Cf::kRegistry, keys::Organisation(in.id())));
  if (existing.has_value()) {
    return Refuse(txn, record,
                  absl::AlreadyExistsError(absl::StrCat("organisation '", in.id(), "' already exists")));
  }
  SB_ASSIGN_OR_RETURN(auto san_owner, txn.Get(Cf::kRegistry, keys::CertificateSan(in.certificate_san())));
  if (san_owner.has_value()) {
    return Refuse(txn, record,
                  absl::AlreadyExistsError(absl::StrCat("organisation.certificate_san: '",
                                                        in.certificate_san(),
                                                        "' is already used by '", *san_owner, "'")));
  }
  v1::Organisation org = in;
  org.set_status(v1::Organisation::ACTIVE);
  org.clear_suspension_reason();
  *org.mutable_created_at() = ToProtoTime(txn.now());
  *org.mutable_updated_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::Organisation(org.id()), org);
  txn.Put(Cf::kRegistry, keys::CertificateSan(org.certificate_san()), org.id());
  record.set_detail(absl::StrCat("registered organisation '", org.id(), "' roles=", RoleNames(org),
                                 " san=", org.certificate_san()));
  txn.Audit(record);
  txn.OnCommit([dir = ctx.directory, org] { dir->PutOrganisation(org); });
  *out = org;
  return absl::OkStatus();
}

absl::Status UpdateOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                const identity::Caller& actor, const v1::Organisation& in,
                                v1::Organisation* out) {
  v1::AuditRecord record = Change(actor, kOpUpdateOrg);
  record.set_subject_organisation(in.id());
  if (absl::Status s = ValidateOrganisation(in); !s.ok()) return Refuse(txn, record, s);
  v1::Organisation org;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kRegistry, keys::Organisation(in.id()), &org));
  if (!found) {
    return Refuse(txn, record, absl::NotFoundError(absl::StrCat("no organisation '", in.id(), "'")));
  }
  if (in.certificate_san() != org.certificate_san()) {
    SB_ASSIGN_OR_RETURN(auto owner, txn.Get(Cf::kRegistry, keys::CertificateSan(in.certificate_san())));
    if (owner.has_value()) {
      return Refuse(txn, record,
                    absl::AlreadyExistsError(absl::StrCat("organisation.certificate_san: '",
                                                          in.certificate_san(),
                                                          "' is already used by '", *owner, "'")));
    }
    txn.Delete(Cf::kRegistry, keys::CertificateSan(org.certificate_san()));
    txn.Put(Cf::kRegistry, keys::CertificateSan(in.certificate_san()), org.id());
  }
  org.set_display_name(in.display_name());
  *org.mutable_roles() = in.roles();
  org.set_certificate_san(in.certificate_san());
  *org.mutable_updated_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::Organisation(org.id()), org);
  record.set_detail(absl::StrCat("updated organisation '", org.id(), "' roles=", RoleNames(org),
                                 " san=", org.certificate_san()));
  txn.Audit(record);
  txn.OnCommit([dir = ctx.directory, org] { dir->PutOrganisation(org); });
  *out = org;
  return absl::OkStatus();
}

absl::Status SuspendOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                 const identity::Caller& actor, const std::string& id,
                                 const std::string& reason, v1::Organisation* out) {
  v1::AuditRecord record = Change(actor, kOpSuspendOrg);
  record.set_subject_organisation(id);
  if (absl::Status s = CheckText("reason", reason, 500, true); !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (id == actor.organisation_id) {
    return Refuse(txn, record,
                  absl::FailedPreconditionError("an organisation cannot suspend itself"));
  }
  v1::Organisation org;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kRegistry, keys::Organisation(id), &org));
  if (!found) {
    return Refuse(txn, record, absl::NotFoundError(absl::StrCat("no organisation '", id, "'")));
  }
  org.set_status(v1::Organisation::SUSPENDED);
  org.set_suspension_reason(reason);
  *org.mutable_updated_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::Organisation(id), org);
  record.set_detail(absl::StrCat("suspended organisation '", id, "': ", reason));
  txn.Audit(record);
  txn.OnCommit([ctx, org] {
    ctx.directory->PutOrganisation(org);
    if (ctx.on_suspended) ctx.on_suspended(org.id());
  });
  *out = org;
  return absl::OkStatus();
}

absl::Status ReactivateOrganisation(store::Transaction& txn, const RegistryContext& ctx,
                                    const identity::Caller& actor, const std::string& id,
                                    v1::Organisation* out) {
  v1::AuditRecord record = Change(actor, kOpReactivateOrg);
  record.set_subject_organisation(id);
  v1::Organisation org;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kRegistry, keys::Organisation(id), &org));
  if (!found) {
    return Refuse(txn, record, absl::NotFoundError(absl::StrCat("no organisation '", id, "'")));
  }
  org.set_status(v1::Organisation::ACTIVE);
  org.clear_suspension_reason();
  *org.mutable_updated_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kRegistry, keys::Organisation(id), org);
  record.set_detail(absl::StrCat("reactivated organisation '", id, "'"));
  txn.Audit(record);
  txn.OnCommit([dir = ctx.directory, org] { dir->PutOrganisation(org); });
  *out = org;
  return absl::OkStatus();
}

absl::Status SetSubscription(store::Transaction& txn, const RegistryContext& ctx,
                             const identity::Caller& actor, const v1::Subscription& in,
                             v1::Subscription* out) {
  v1::AuditRecord record = Change(actor, kOpSetSubscription);
  record.set_subject_organisation(in.organisation_id());
  SB_ASSIGN_OR_RETURN(auto org, txn.Get(Cf::kRegistry, keys::Organisation(in.organisation_id())));
  if (!org.has_value()) {
    return Refuse(txn, record,
                  absl::NotFoundError(absl::StrCat("no organisation '", in.organisation_id(), "'")));
  }
  std::set<std::string> codes;
  for (int i = 0; i < in.event_codes_size(); ++i) {
    if (!ctx.events->Contains(in.event_codes(i))) {
      return Refuse(txn, record,
                    absl::InvalidArgumentError(absl::StrCat("subscription.event_codes[", i,
                                                            "]: unknown event code '",
                                                            in.event_codes(i), "'")));
    }
    codes.insert(in.event_codes(i));
  }
  v1::Subscription sub;
  sub.set_organisation_id(in.organisation_id());
  for (const std::string& c : codes) sub.add_event_codes(c);
  if (codes.empty()) {
    txn.Delete(Cf::kRegistry, keys::Subscription(sub.organisation_id()));
  } else {
    txn.PutProto(Cf::kRegistry, keys::Subscription(sub.organisation_id()), sub);
  }
  record.set_detail(absl::StrCat("subscription of '", sub.organisation_id(), "' set to [",
                                 absl::StrJoin(codes, ","), "]"));
  txn.Audit(record);
  txn.OnCommit([dir = ctx.directory, sub] { dir->PutSubscription(sub); });
  *out = sub;
  return absl::OkStatus();
}

absl::Status RegisterClient(store::Transaction& txn, const RegistryContext& ctx,
                            const identity::Caller& actor, const v1::Client& in, v1::Client* out) {
  v1::AuditRecord record = Change(actor, kOpRegisterClient);
  record.set_client_id(in.id());
  if (absl::Status s = ValidateClient(in); !s.ok()) return Refuse(txn, record, s);
  SB_ASSIGN_OR_RETURN(auto existing, txn.Get(Cf::kClients, keys::Client(in.id())));
  if (existing.has_value()) {
    return Refuse(txn, record,
                  absl::AlreadyExistsError(absl::StrCat("client '", in.id(), "' already exists")));
  }
  for (int i = 0; i < in.identifiers_size(); ++i) {
    SB_ASSIGN_OR_RETURN(auto owner, ResolveInTxn(txn, in.identifiers(i)));
    if (owner.has_value()) {
      return Refuse(txn, record,
                    absl::AlreadyExistsError(absl::StrCat(
                        "client.identifiers[", i, "]: '", IdentifierText(in.identifiers(i)),
                        "' already belongs to another client")));
    }
  }
  txn.PutProto(Cf::kClients, keys::Client(in.id()), in);
  for (const v1::ClientIdentifier& id : in.identifiers()) {
    txn.Put(Cf::kClients, keys::Identifier(id.system(), id.value()), in.id());
  }
  record.set_detail(absl::StrCat("registered client with ", in.identifiers_size(), " identifier(s)"));
  txn.Audit(record);
  *out = in;
  return absl::OkStatus();
}

absl::Status AddCareTeamMember(store::Transaction& txn, const RegistryContext& ctx,
                               const identity::Caller& actor, const v1::ClientIdentifier& client,
                               const v1::CareTeamMember& member, v1::CareTeam* out) {
  v1::AuditRecord record = Change(actor, kOpAddCareTeam);
  record.set_subject_organisation(member.organisation_id());
  if (absl::Status s = CheckIdentifier("client", client); !s.ok()) return Refuse(txn, record, s);
  if (absl::Status s = CheckSlug("member.organisation_id", member.organisation_id()); !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (absl::Status s = CheckText("member.role", member.role(), 64, false); !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (absl::Status s = CheckPeriod("member.period", member.period()); !s.ok()) {
    return Refuse(txn, record, s);
  }
  SB_ASSIGN_OR_RETURN(auto client_id, ResolveInTxn(txn, client));
  if (!client_id.has_value()) return Refuse(txn, record, UnknownClient(client));
  record.set_client_id(*client_id);
  SB_ASSIGN_OR_RETURN(auto org, txn.Get(Cf::kRegistry, keys::Organisation(member.organisation_id())));
  if (!org.has_value()) {
    return Refuse(txn, record,
                  absl::InvalidArgumentError(absl::StrCat("member.organisation_id: no member '",
                                                          member.organisation_id(), "'")));
  }
  v1::CareTeam team;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kClients, keys::CareTeam(*client_id), &team));
  (void)found;
  team.set_client_id(*client_id);
  v1::CareTeamMember* current = nullptr;
  for (v1::CareTeamMember& existing : *team.mutable_members()) {
    const bool open = !existing.period().has_end() ||
                      FromProtoTime(existing.period().end()) > txn.now();
    if (existing.organisation_id() == member.organisation_id() && open) current = &existing;
  }
  // Same role: the membership goes on (its period may change). Another role: the
  // old membership ends now and a new one starts, so the history shows both.
  const bool replaced = current != nullptr && current->role() == member.role();
  v1::CareTeamMember entry = member;
  if (!entry.period().has_start()) {
    *entry.mutable_period()->mutable_start() =
        replaced ? current->period().start() : ToProtoTime(txn.now());
  }
  if (absl::Status s = CheckPeriod("member.period (start defaults to now)", entry.period());
      !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (replaced) {
    *current = entry;
  } else {
    if (current != nullptr) *current->mutable_period()->mutable_end() = ToProtoTime(txn.now());
    *team.add_members() = entry;
  }
  txn.PutProto(Cf::kClients, keys::CareTeam(*client_id), team);
  if (ctx.on_care_team_changed) txn.OnCommit(ctx.on_care_team_changed);
  record.set_detail(absl::StrCat(replaced ? "changed" : "added", " care-team member '",
                                 member.organisation_id(), "' role=", entry.role()));
  CareTeamTimeline(txn, actor, *client_id,
                   replaced ? absl::StrCat(member.organisation_id(), "'s care-team membership (",
                                           entry.role(), ") changed")
                            : absl::StrCat(member.organisation_id(), " joined the care team",
                                           entry.role().empty() ? "" : absl::StrCat(" as ", entry.role())),
                   std::min(txn.now(), FromProtoTime(entry.period().start())));
  txn.Audit(record);
  *out = team;
  return absl::OkStatus();
}

absl::Status RemoveCareTeamMember(store::Transaction& txn, const RegistryContext& ctx,
                                  const identity::Caller& actor,
                                  const v1::ClientIdentifier& client,
                                  const std::string& organisation_id, v1::CareTeam* out) {
  v1::AuditRecord record = Change(actor, kOpRemoveCareTeam);
  record.set_subject_organisation(organisation_id);
  if (absl::Status s = CheckIdentifier("client", client); !s.ok()) return Refuse(txn, record, s);
  SB_ASSIGN_OR_RETURN(auto client_id, ResolveInTxn(txn, client));
  if (!client_id.has_value()) return Refuse(txn, record, UnknownClient(client));
  record.set_client_id(*client_id);
  v1::CareTeam team;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kClients, keys::CareTeam(*client_id), &team));
  (void)found;
  bool ended = false;
  for (v1::CareTeamMember& existing : *team.mutable_members()) {
    if (existing.organisation_id() == organisation_id &&
        PeriodContains(existing.period(), txn.now())) {
      *existing.mutable_period()->mutable_end() = ToProtoTime(txn.now());
      ended = true;
    }
  }
  if (!ended) {
    return Refuse(txn, record,
                  absl::NotFoundError(absl::StrCat("organisation '", organisation_id,
                                                   "' is not in this client's care team")));
  }
  txn.PutProto(Cf::kClients, keys::CareTeam(*client_id), team);
  if (ctx.on_care_team_changed) txn.OnCommit(ctx.on_care_team_changed);
  record.set_detail(absl::StrCat("ended care-team membership of '", organisation_id, "'"));
  CareTeamTimeline(txn, actor, *client_id, absl::StrCat(organisation_id, " left the care team"),
                   txn.now());
  txn.Audit(record);
  *out = team;
  return absl::OkStatus();
}

absl::Status GetCareTeam(store::Transaction& txn, const identity::Caller& actor,
                         const v1::ClientIdentifier& client, v1::CareTeam* out) {
  v1::AuditRecord record = identity::AuditFor(actor, kOpGetCareTeam, v1::AuditRecord::VIEW);
  if (absl::Status s = CheckIdentifier("client", client); !s.ok()) return Refuse(txn, record, s);
  SB_ASSIGN_OR_RETURN(auto client_id, ResolveInTxn(txn, client));
  if (!client_id.has_value()) return Refuse(txn, record, UnknownClient(client));
  v1::CareTeam team;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kClients, keys::CareTeam(*client_id), &team));
  (void)found;
  team.set_client_id(*client_id);
  if (!actor.admin && !policy::IsCareTeamMember(team, actor.organisation_id, txn.now())) {
    // As if the client did not exist: no hint that it does.
    record.set_client_id(*client_id);
    return Refuse(txn, record, UnknownClient(client));
  }
  record.set_client_id(*client_id);
  record.set_detail("read care team");
  txn.Audit(record);
  *out = team;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ResolveClient(const store::Store& store,
                                                         const v1::ClientIdentifier& id) {
  if (id.system() == kEnterpriseIdSystem) {
    SB_ASSIGN_OR_RETURN(auto client, store.Get(Cf::kClients, keys::Client(id.value())));
    if (!client.has_value()) return std::optional<std::string>();
    return std::optional<std::string>(id.value());
  }
  return store.Get(Cf::kClients, keys::Identifier(id.system(), id.value()));
}

absl::StatusOr<v1::CareTeam> ReadCareTeam(const store::Store& store, const std::string& client_id) {
  v1::CareTeam team;
  SB_ASSIGN_OR_RETURN(bool found, store.GetProto(Cf::kClients, keys::CareTeam(client_id), &team));
  (void)found;
  team.set_client_id(client_id);
  return team;
}

}  // namespace switchboard::gateway::registry
