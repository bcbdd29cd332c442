#include "gateway/consent/consent_ops.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/careplan/timeline.h"
#include "gateway/consent/access.h"
#include "gateway/identity/rpc_guard.h"
#include "policy/consent_check.h"
#include "policy/routing_policy.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::consent {

using store::Cf;
namespace keys = store::keys;

namespace {

constexpr char kBreakGlassEvent[] = "break-glass";
constexpr char kConsentNoticeEvent[] = "consent-notice";

absl::Status Refuse(store::Transaction& txn, v1::AuditRecord record, absl::Status status) {
  txn.AuditOnRefusal(identity::Refusal(std::move(record), status));
  return status;
}

absl::StatusOr<v1::CareTeam> TeamInTxn(store::Transaction& txn, const std::string& client_id) {
  v1::CareTeam team;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kClients, keys::CareTeam(client_id), &team));
  (void)found;
  team.set_client_id(client_id);
  return team;
}

int CountProvisions(const v1::ConsentProvision& p) {
  int n = 1;
  for (const auto& c : p.provisions()) n += CountProvisions(c);
  return n;
}

std::string Describe(const v1::Consent& c) {
  return absl::StrCat("consent ", c.id(), " v", c.version(), " ",
                      v1::Consent::Status_Name(c.status()), " scope ",
                      c.scope().empty() ? "patient-privacy" : c.scope(), ", root ",
                      v1::ConsentProvision::Type_Name(c.provision().type()), " with ",
                      CountProvisions(c.provision()) - 1, " exception(s)");
}

// May `caller` change the existing consent `existing`?
bool MayChange(const identity::Caller& caller, const v1::Consent& existing,
               const v1::CareTeam& team, const registry::Directory::Snapshot& dir, absl::Time now) {
  return caller.admin || existing.recorded_by() == caller.organisation_id ||
         IsCoordinator(team, dir, caller.organisation_id, now);
}

// A consent change on the client's timeline: seen by the coordinators and
// the member that recorded the consent (a consent can reveal what kind of
// sensitive information exists).
void ConsentTimeline(store::Transaction& txn, const identity::Caller& caller,
                     const std::string& client_id, const v1::Consent& c, std::string title) {
  v1::StoredTimelineEntry e;
  e.set_kind(v1::TimelineEntry::CONSENT_CHANGE);
  // A consent signed before it was recorded takes its place in the story.
  *e.mutable_occurred_at() = c.has_period() && c.period().has_start() && c.version() == 1
                                 ? c.period().start()
                                 : ToProtoTime(txn.now());
  e.set_organisation(caller.organisation_id);
  e.set_user(caller.user);
  e.set_title(std::move(title));
  if (!c.source_reference().empty()) e.add_details(absl::StrCat("signed form: ", c.source_reference()));
  e.add_audience(c.recorded_by());
  careplan::AppendTimeline(txn, client_id, std::move(e));
}

struct Notice {
  std::string id;  // gateway message id; empty when nobody was told
  std::vector<std::string> recipients;
};

// Queues a gateway notice (`kind`, `text`) about the client to its coordinators
// other than the caller, in `txn`.
absl::StatusOr<Notice> QueueNotice(store::Transaction& txn, const ConsentOpsContext& ctx,
                                   const identity::Caller& caller, const std::string& client_id,
                                   const std::string& kind, absl::Time until,
                                   const std::string& text) {
  const absl::Time now = txn.now();
  SB_ASSIGN_OR_RETURN(v1::CareTeam team, TeamInTxn(txn, client_id));
  Notice notice;
  notice.recipients = Coordinators(team, *ctx.directory->snapshot(), now);
  std::erase(notice.recipients, caller.organisation_id);
  if (notice.recipients.empty()) return notice;
  const uint64_t message_seq = txn.NextSeq();
  notice.id = store::GatewayMessageId(message_seq);
  auto message = std::make_shared<v1::Message>();
  v1::MessageHeader* h = message->mutable_header();
  h->set_id(notice.id);
  h->set_event(kind);
  h->set_source(kGatewaySource);
  h->mutable_client()->set_system(kEnterpriseIdSystem);
  h->mutable_client()->set_value(client_id);
  *h->mutable_occurred_at() = ToProtoTime(now);
  h->set_purpose_of_use("HOPERAT");
  v1::Notification* n = message->mutable_notification();
  n->set_kind(kind);
  n->set_subject_organisation(caller.organisation_id);
  if (until != absl::InfinitePast()) *n->mutable_until() = ToProtoTime(until);
  n->set_text(text);
  v1::StoredMessage stored;
  *stored.mutable_message() = *message;
  stored.set_client_id(client_id);
  v1::Receipt* receipt = stored.mutable_receipt();
  receipt->set_message_id(notice.id);
  receipt->set_source(kGatewaySource);
  receipt->set_gateway_message_id(notice.id);
  *receipt->mutable_accepted_at() = ToProtoTime(now);
  v1::StoredDelivery delivery;
  v1::Delivery* d = delivery.mutable_delivery();
  d->set_state(v1::Delivery::PENDING);
  d->set_message_id(notice.id);
  d->set_source(kGatewaySource);
  d->set_gateway_message_id(notice.id);
  d->set_event(kind);
  *d->mutable_created_at() = ToProtoTime(now);
  delivery.set_message_seq(message_seq);
  delivery.set_client_id(client_id);
  for (const std::string& to : notice.recipients) {
    const uint64_t seq = txn.NextSeq();
    d->set_id(store::DeliveryId(seq));
    d->set_recipient(to);
    auto* r = receipt->add_recipients();
    r->set_organisation_id(to);
    r->set_delivery_id(d->id());
    txn.PutProto(Cf::kOutbox, keys::RecipientSeq(to, seq), delivery);
  }
  txn.PutProto(Cf::kMessages, keys::Sequence(message_seq), stored);
  txn.OnCommit([ctx, message_seq, message, to = notice.recipients] {
    if (ctx.on_queued) ctx.on_queued(message_seq, message, to);
  });
  return notice;
}

// A consent change not made by one of the client's coordinators is told to
// them (any care-team member may record one, and the newest of a scope
// applies): appends who was told to `record`'s detail.
absl::Status NoticeUnlessCoordinator(store::Transaction& txn, const ConsentOpsContext& ctx,
                                     const identity::Caller& caller, const std::string& client_id,
                                     const v1::CareTeam& team,
                                     const registry::Directory::Snapshot& dir,
                                     const std::string& what, const v1::Consent& c,
                                     v1::AuditRecord* record) {
  if (IsCoordinator(team, dir, caller.organisation_id, txn.now())) return absl::OkStatus();
  SB_ASSIGN_OR_RETURN(
      Notice notice,
      QueueNotice(txn, ctx, caller, client_id, kConsentNoticeEvent, absl::InfinitePast(),
                  absl::StrCat(caller.organisation_id,
                               caller.user.empty() ? "" : absl::StrCat(" (", caller.user, ")"), " ",
                               what, " for client ", client_id, "; signed form: ",
                               c.source_reference().empty() ? "none given" : c.source_reference())));
  if (!notice.id.empty()) {
    absl::StrAppend(record->mutable_detail(), "; coordinators notified: [",
                    absl::StrJoin(notice.recipients, ","), "] by ", notice.id);
  }
  return absl::OkStatus();
}

// Stores `c` as the current and a historical version.
void Put(store::Transaction& txn, const ConsentOpsContext& ctx, const std::string& client_id,
         const v1::Consent& c) {
  txn.PutProto(Cf::kConsents, keys::Consent(client_id, c.id()), c);
  txn.PutProto(Cf::kConsents, keys::ConsentVersion(client_id, c.id(), c.version()), c);
  if (ctx.on_consents_changed) txn.OnCommit(ctx.on_consents_changed);
}

}  // namespace

absl::StatusOr<std::string> QueueCoordinatorNotice(store::Transaction& txn,
                                                   const ConsentOpsContext& ctx,
                                                   const std::string& subject_organisation,
                                                   const std::string& client_id,
                                                   const std::string& kind,
                                                   const std::string& text) {
  identity::Caller subject;
  subject.organisation_id = subject_organisation;
  SB_ASSIGN_OR_RETURN(Notice notice,
                      QueueNotice(txn, ctx, subject, client_id, kind, absl::InfinitePast(), text));
  return notice.id;
}

absl::Status CheckConsentInput(const ConsentOpsContext& ctx, const v1::Consent& consent,
                               const std::string& field) {
  const auto dir = ctx.directory->snapshot();
  return policy::CheckConsent(
      consent,
      policy::ConsentContext{
          .known_organisation = [&dir](absl::string_view id) { return dir->Find(id) != nullptr; },
          .known_event = [&ctx](absl::string_view code) { return ctx.events->Contains(code); },
      },
      field);
}

absl::Status RecordConsent(store::Transaction& txn, const ConsentOpsContext& ctx,
                           const identity::Caller& caller, absl::string_view operation,
                           const std::string& field, const std::string& client_id,
                           const v1::Consent& in, v1::Consent* out) {
  v1::AuditRecord record =
      identity::AuditFor(caller, operation, v1::AuditRecord::CONSENT_CHANGE);
  record.set_client_id(client_id);
  SB_ASSIGN_OR_RETURN(v1::CareTeam team, TeamInTxn(txn, client_id));
  const auto dir = ctx.directory->snapshot();
  const absl::Time now = txn.now();
  if (!caller.admin && !policy::IsCareTeamMember(team, caller.organisation_id, now)) {
    return Refuse(txn, record,
                  absl::InvalidArgumentError(absl::StrCat(field, ".client: no client with identifier '",
                                                          IdentifierText(in.client()), "'")));
  }
  v1::Consent existing;
  SB_ASSIGN_OR_RETURN(bool found,
                      txn.GetProto(Cf::kConsents, keys::Consent(client_id, in.id()), &existing));
  if (found && !MayChange(caller, existing, team, *dir, now)) {
    return Refuse(txn, record,
                  absl::PermissionDeniedError(absl::StrCat(
                      field, ".id: consent '", in.id(), "' was recorded by '",
                      existing.recorded_by(),
                      "'; only that member, the client's coordinator or an admin may change it")));
  }
  v1::Consent c = in;
  c.set_recorded_by(found ? existing.recorded_by() : caller.organisation_id);
  *c.mutable_recorded_at() = found ? existing.recorded_at() : ToProtoTime(now);
  c.set_version(found ? existing.version() + 1 : 1);
  c.set_updated_by(caller.organisation_id);
  *c.mutable_updated_at() = ToProtoTime(now);
  Put(txn, ctx, client_id, c);
  record.set_detail(absl::StrCat(found ? "changed " : "recorded ", Describe(c)));
  ConsentTimeline(txn, caller, client_id, c,
                  absl::StrCat("Consent ", c.id(), found ? absl::StrCat(" changed (version ", c.version(), ", ") : " recorded (",
                               absl::AsciiStrToLower(v1::Consent::Status_Name(c.status())), ")"));
  SB_RETURN_IF_ERROR(NoticeUnlessCoordinator(txn, ctx, caller, client_id, team, *dir,
                                             record.detail(), c, &record));
  txn.Audit(std::move(record));
  *out = std::move(c);
  return absl::OkStatus();
}

absl::Status RevokeConsent(store::Transaction& txn, const ConsentOpsContext& ctx,
                           const identity::Caller& caller, const std::string& client_id,
                           const v1::ClientIdentifier& client, const std::string& consent_id,
                           const std::string& reason, v1::Consent* out) {
  v1::AuditRecord record =
      identity::AuditFor(caller, "Consents/Revoke", v1::AuditRecord::CONSENT_CHANGE);
  record.set_client_id(client_id);
  SB_ASSIGN_OR_RETURN(v1::CareTeam team, TeamInTxn(txn, client_id));
  const auto dir = ctx.directory->snapshot();
  const absl::Time now = txn.now();
  if (!caller.admin && !policy::IsCareTeamMember(team, caller.organisation_id, now)) {
    return Refuse(txn, record,
                  absl::NotFoundError(absl::StrCat("no client with identifier '",
                                                   IdentifierText(client), "'")));
  }
  v1::Consent c;
  SB_ASSIGN_OR_RETURN(bool found,
                      txn.GetProto(Cf::kConsents, keys::Consent(client_id, consent_id), &c));
  if (!found) {
    return Refuse(txn, record,
                  absl::NotFoundError(absl::StrCat("consent_id: the client has no consent '",
                                                   consent_id.substr(0, 128), "'")));
  }
  if (!MayChange(caller, c, team, *dir, now)) {
    return Refuse(txn, record,
                  absl::PermissionDeniedError(absl::StrCat(
                      "consent_id: consent '", consent_id, "' was recorded by '", c.recorded_by(),
                      "'; only that member, the client's coordinator or an admin may revoke it")));
  }
  if (c.status() != v1::Consent::ACTIVE && c.status() != v1::Consent::DRAFT) {
    return Refuse(txn, record,
                  absl::FailedPreconditionError(absl::StrCat(
                      "consent_id: consent '", consent_id, "' is ",
                      v1::Consent::Status_Name(c.status()), " already (version ", c.version(), ")")));
  }
  c.set_status(v1::Consent::INACTIVE);
  c.set_status_reason(reason);
  c.set_version(c.version() + 1);
  c.set_updated_by(caller.organisation_id);
  *c.mutable_updated_at() = ToProtoTime(now);
  Put(txn, ctx, client_id, c);
  record.set_detail(absl::StrCat("revoked ", Describe(c)));
  ConsentTimeline(txn, caller, client_id, c,
                  absl::StrCat("Consent ", c.id(), " revoked: ", reason));
  SB_RETURN_IF_ERROR(NoticeUnlessCoordinator(txn, ctx, caller, client_id, team, *dir,
                                             record.detail(), c, &record));
  txn.Audit(std::move(record));
  *out = std::move(c);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> ReleaseCandidates(const store::Store& store,
                                                        const std::string& organisation_id,
                                                        const std::string& client_id) {
  std::vector<uint64_t> out;
  const std::string prefix = keys::WithheldPrefix(organisation_id, client_id);
  auto it = store.NewIterator(Cf::kConsents, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto seq = keys::SeqOfRecipientKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq.has_value()) return absl::DataLossError("consents: malformed withheld key");
    out.push_back(*seq);
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading withheld deliveries");
  return out;
}

absl::Status GrantBreakGlass(store::Transaction& txn, const ConsentOpsContext& ctx,
                             const identity::Caller& caller, absl::string_view operation,
                             const std::string& client_id, const std::string& reason,
                             const std::vector<uint64_t>& candidates,
                             const std::string& gateway_message_id, v1::BreakGlassGrant* out) {
  const absl::Time now = txn.now();
  const absl::Time until = now + ctx.policy->break_glass_duration();
  v1::BreakGlassGrant grant;
  grant.set_client_id(client_id);
  grant.set_organisation_id(caller.organisation_id);
  grant.set_user(caller.user);
  grant.set_reason(reason);
  *grant.mutable_granted_at() = ToProtoTime(now);
  *grant.mutable_expires_at() = ToProtoTime(until);
  txn.PutProto(Cf::kConsents, keys::BreakGlass(client_id, caller.organisation_id), grant);
  if (ctx.on_consents_changed) txn.OnCommit(ctx.on_consents_changed);

  // Release: a new delivery of each message withheld or sent redacted.
  std::vector<std::string> released;
  for (uint64_t seq : candidates) {
    const std::string index = keys::Withheld(caller.organisation_id, client_id, seq);
    SB_ASSIGN_OR_RETURN(auto present, txn.Get(Cf::kConsents, index));
    if (!present.has_value()) continue;
    v1::StoredDelivery old;
    SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kDeliveries,
                                                 keys::RecipientSeq(caller.organisation_id, seq), &old));
    txn.Delete(Cf::kConsents, index);
    if (!found) continue;
    v1::StoredDelivery again = old;
    const uint64_t new_seq = txn.NextSeq();
    v1::Delivery* d = again.mutable_delivery();
    d->set_id(store::DeliveryId(new_seq));
    d->set_state(v1::Delivery::PENDING);
    d->set_attempts(0);
    d->clear_last_attempt_at();
    d->clear_delivered_at();
    *d->mutable_created_at() = ToProtoTime(now);
    again.clear_decision();
    again.set_redacted(false);
    txn.PutProto(Cf::kOutbox, keys::RecipientSeq(caller.organisation_id, new_seq), again);
    released.push_back(absl::StrCat(store::DeliveryId(seq), "->", d->id()));
  }

  // A notice to the client's coordinators (other than the caller).
  SB_ASSIGN_OR_RETURN(
      Notice notice,
      QueueNotice(txn, ctx, caller, client_id, kBreakGlassEvent, until,
                  absl::StrCat(caller.organisation_id,
                               caller.user.empty() ? "" : absl::StrCat(" (", caller.user, ")"),
                               " used emergency access (break-glass) to client ", client_id,
                               " until ",
                               absl::FormatTime("%Y-%m-%d %H:%M UTC", until, absl::UTCTimeZone()),
                               ". Reason given: ", reason)));
  if (!released.empty()) {
    txn.OnCommit([ctx, org = caller.organisation_id] {
      if (ctx.on_queued) ctx.on_queued(0, nullptr, {org});
    });
  }

  v1::AuditRecord record = identity::AuditFor(caller, operation, v1::AuditRecord::BREAK_GLASS);
  record.set_client_id(client_id);
  record.set_gateway_message_id(gateway_message_id);
  record.set_detail(absl::StrCat(
      "purpose ETREAT until ", absl::FormatTime(absl::RFC3339_sec, until, absl::UTCTimeZone()),
      "; reason: ", reason, "; released ", released.size(), " delivery(ies)",
      released.empty() ? "" : absl::StrCat(" [", absl::StrJoin(released, ","), "]"),
      "; coordinators notified: [", absl::StrJoin(notice.recipients, ","), "]",
      notice.id.empty() ? "" : absl::StrCat(" by ", notice.id)));
  txn.Audit(std::move(record));
  *out = std::move(grant);
  return absl::OkStatus();
}

absl::Status ApplySeedConsents(store::Committer* committer, const store::Store& store,
                               const ConsentOpsContext& ctx,
                               const google::protobuf::RepeatedPtrField<v1::Consent>& consents) {
  for (int i = 0; i < consents.size(); ++i) {
    const v1::Consent& c = consents[i];
    const std::string entry = absl::StrCat("seed.consents[", i, "]: ");
    auto fail = [&](const absl::Status& s) {
      return absl::Status(s.code(), absl::StrCat(entry, s.message()));
    };
    if (absl::Status s = CheckConsentInput(ctx, c, "consent"); !s.ok()) return fail(s);
    if (ctx.directory->snapshot()->Find(c.recorded_by()) == nullptr) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("consent.recorded_by: no member '", c.recorded_by(), "'")));
    }
    auto client_id = store.Get(Cf::kClients, keys::Identifier(c.client().system(), c.client().value()));
    if (!client_id.ok()) return fail(client_id.status());
    if (!client_id->has_value()) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "consent.client: no client with identifier '", IdentifierText(c.client()), "'")));
    }
    identity::Caller actor;
    actor.organisation_id = c.recorded_by();
    actor.admin = true;
    actor.user = "config seed";
    absl::Status s = committer->Run([&](store::Transaction& txn) -> absl::Status {
      SB_ASSIGN_OR_RETURN(auto existing, txn.Get(Cf::kConsents, keys::Consent(**client_id, c.id())));
      if (existing.has_value()) return absl::OkStatus();
      v1::Consent out;
      return RecordConsent(txn, ctx, actor, "config seed", "consent", **client_id, c, &out);
    });
    if (!s.ok()) return fail(s);
  }
  return absl::OkStatus();
}

v1::AuditRecord WithholdRecord(const v1::StoredDelivery& stored, absl::string_view operation) {
  v1::AuditRecord record;
  record.set_actor_organisation(kGatewaySource);
  record.set_action(v1::AuditRecord::WITHHOLD);
  record.set_outcome(v1::AuditRecord::SUCCESS);
  record.set_operation(std::string(operation));
  record.set_client_id(stored.client_id());
  record.set_gateway_message_id(stored.delivery().gateway_message_id());
  record.set_message_id(stored.delivery().message_id());
  record.set_delivery_id(stored.delivery().id());
  record.set_subject_organisation(stored.delivery().recipient());
  record.set_detail(absl::StrCat("event=", stored.delivery().event(), " withheld: ", stored.decision()));
  return record;
}

}  // namespace switchboard::gateway::consent
