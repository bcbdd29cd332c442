#include "gateway/consent/consents_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/common/grpc_status.h"
#include "gateway/registry/registry_ops.h"
#include "policy/labels.h"
#include "policy/routing_policy.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::consent {
namespace {

absl::Status NoClient(const v1::ClientIdentifier& id) {
  return absl::NotFoundError(absl::StrCat("no client with identifier '", IdentifierText(id), "'"));
}

}  // namespace

std::optional<std::string> ConsentsService::ResolveOrFinish(
    const v1::ClientIdentifier& id, const v1::AuditRecord& record, const absl::Status& unknown,
    const identity::RpcGuard::Finish& finish) const {
  auto client_id = registry::ResolveClient(*store_, id);
  if (!client_id.ok()) {
    finish(client_id.status());
    return std::nullopt;
  }
  if (!client_id->has_value()) guard_->Refuse(record, unknown, finish);
  return *std::move(client_id);
}

grpc::ServerUnaryReactor* ConsentsService::Record(grpc::CallbackServerContext* ctx,
                                                  const v1::RecordConsentRequest* request,
                                                  v1::Consent* response) {
  static constexpr char kOp[] = "Consents/Record";
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::CONSENT_CHANGE);
  const v1::Consent& in = request->consent();
  if (absl::Status s = CheckConsentInput(context_, in, "consent"); !s.ok()) {
    guard_->Refuse(record, s, finish);
    return reactor;
  }
  auto client_id = ResolveOrFinish(
      in.client(), record,
      absl::InvalidArgumentError(absl::StrCat("consent.client: no client with identifier '",
                                              IdentifierText(in.client()), "'")),
      finish);
  if (!client_id) return reactor;
  committer_->Submit(
      [this, caller = *caller, id = *client_id, in, response](store::Transaction& txn) {
        return RecordConsent(txn, context_, caller, kOp, "consent", id, in, response);
      },
      finish);
  return reactor;
}

grpc::ServerUnaryReactor* ConsentsService::Revoke(grpc::CallbackServerContext* ctx,
                                                  const v1::RevokeConsentRequest* request,
                                                  v1::Consent* response) {
  static constexpr char kOp[] = "Consents/Revoke";
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::CONSENT_CHANGE);
  absl::Status s = CheckIdentifier("client", request->client());
  if (s.ok()) s = CheckToken("consent_id", request->consent_id());
  if (s.ok()) s = CheckText("reason", request->reason(), 1024, /*required=*/true);
  if (!s.ok()) {
    guard_->Refuse(record, s, finish);
    return reactor;
  }
  auto client_id = ResolveOrFinish(request->client(), record, NoClient(request->client()), finish);
  if (!client_id) return reactor;
  committer_->Submit(
      [this, caller = *caller, id = *client_id, request, response](store::Transaction& txn) {
        return RevokeConsent(txn, context_, caller, id, request->client(), request->consent_id(),
                             request->reason(), response);
      },
      finish);
  return reactor;
}

grpc::ServerUnaryReactor* ConsentsService::List(grpc::CallbackServerContext* ctx,
                                                const v1::ListConsentsRequest* request,
                                                v1::ListConsentsResponse* response) {
  static constexpr char kOp[] = "Consents/List";
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::VIEW);
  if (absl::Status s = CheckIdentifier("client", request->client()); !s.ok()) {
    guard_->Refuse(record, s, finish);
    return reactor;
  }
  auto client_id = ResolveOrFinish(request->client(), record, NoClient(request->client()), finish);
  if (!client_id) return reactor;
  record.set_client_id(*client_id);
  auto team = registry::ReadCareTeam(*store_, *client_id);
  if (!team.ok()) {
    finish(team.status());
    return reactor;
  }
  if (!caller->admin && !policy::IsCareTeamMember(*team, caller->organisation_id, absl::Now())) {
    guard_->Refuse(record, NoClient(request->client()), finish);
    return reactor;
  }
  auto history = ReadConsentHistory(*store_, *client_id);
  if (!history.ok()) {
    finish(history.status());
    return reactor;
  }
  // A consent can reveal what sensitive information exists ("deny HIV to
  // housing"): the coordinators and admins see them all, another member only
  // those it recorded.
  const bool all = caller->admin || IsCoordinator(*team, *context_.directory->snapshot(),
                                                  caller->organisation_id, absl::Now());
  for (v1::Consent& c : *history) {
    if (all || c.recorded_by() == caller->organisation_id) *response->add_consents() = std::move(c);
  }
  record.set_detail(absl::StrCat("listed ", response->consents_size(), " consent version(s)"));
  identity::SubmitAudit(committer_, std::move(record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* ConsentsService::CheckAccess(grpc::CallbackServerContext* ctx,
                                                       const v1::CheckAccessRequest* request,
                                                       v1::CheckAccessResponse* response) {
  static constexpr char kOp[] = "Consents/CheckAccess";
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::VIEW);
  record.set_subject_organisation(request->recipient().substr(0, 64));
  const std::string purpose = request->purpose().empty() ? "TREAT" : request->purpose();
  absl::Status s = CheckSlug("recipient", request->recipient());
  if (s.ok()) s = CheckIdentifier("client", request->client());
  if (s.ok() && !policy::IsKnownPurpose(purpose)) {
    s = absl::InvalidArgumentError(absl::StrCat("purpose: unknown purpose of use '",
                                                purpose.substr(0, 64), "'"));
  }
  if (s.ok() && !context_.events->Contains(request->event())) {
    s = absl::InvalidArgumentError(absl::StrCat(
        "event: ", request->event().empty() ? "required" : "unknown event code '" +
                                                               request->event().substr(0, 64) + "'"));
  }
  if (s.ok()) s = policy::CheckLabels("security_labels", request->security_labels());
  if (s.ok() && context_.directory->snapshot()->Find(request->recipient()) == nullptr) {
    s = absl::InvalidArgumentError(
        absl::StrCat("recipient: no member '", request->recipient(), "'"));
  }
  if (!s.ok()) {
    guard_->Refuse(record, s, finish);
    return reactor;
  }
  auto client_id = ResolveOrFinish(request->client(), record, NoClient(request->client()), finish);
  if (!client_id) return reactor;
  record.set_client_id(*client_id);
  auto loaded = decider_->Load(*client_id);
  if (!loaded.ok()) {
    finish(loaded.status());
    return reactor;
  }
  const std::shared_ptr<const ClientState> state = *std::move(loaded);
  const absl::Time now = absl::Now();
  const bool self = request->recipient() == caller->organisation_id;
  const bool member = policy::IsCareTeamMember(state->care_team, caller->organisation_id, now);
  if (!caller->admin && !member) {
    guard_->Refuse(record, NoClient(request->client()), finish);
    return reactor;
  }
  if (!caller->admin && !self &&
      !IsCoordinator(state->care_team, *context_.directory->snapshot(), caller->organisation_id,
                     now)) {
    guard_->Refuse(record,
                   absl::PermissionDeniedError(
                       "recipient: a member may check only its own access; the client's "
                       "coordinator and admins may check anyone's"),
                   finish);
    return reactor;
  }
  auto recipient = decider_->RecipientOf(*state, request->recipient(), now);
  if (!recipient.ok()) {
    finish(recipient.status());
    return reactor;
  }
  policy::Content content;
  content.event = request->event();
  content.purpose = purpose;
  for (const auto& l : request->security_labels()) content.labels.push_back(l.code());
  content.data_time = now;
  policy::ContentDecision d =
      policy::DecideContent(*recipient, content, state->consents, decider_->policy(), now);
  v1::AccessDecision* out = response->mutable_decision();
  out->set_effect(d.permit ? v1::AccessDecision::PERMIT : v1::AccessDecision::DENY);
  out->set_reason(d.reason);
  record.set_detail(absl::StrCat(
      "checked ", request->recipient(), " ", purpose, " ", request->event(), " labels [",
      absl::StrJoin(content.labels, ","), "]: ", d.permit ? "permit" : "deny", " (", d.reason, ")"));
  identity::SubmitAudit(committer_, std::move(record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* ConsentsService::BreakGlass(grpc::CallbackServerContext* ctx,
                                                      const v1::BreakGlassRequest* request,
                                                      v1::BreakGlassGrant* response) {
  static constexpr char kOp[] = "Consents/BreakGlass";
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::BREAK_GLASS);
  absl::Status s = CheckIdentifier("client", request->client());
  if (s.ok()) s = CheckText("reason", request->reason(), 1024, /*required=*/true);
  if (!s.ok()) {
    guard_->Refuse(record, s, finish);
    return reactor;
  }
  auto client_id = ResolveOrFinish(request->client(), record, NoClient(request->client()), finish);
  if (!client_id) return reactor;
  record.set_client_id(*client_id);
  std::vector<v1::Organisation::Role> roles;
  if (const v1::Organisation* org = context_.directory->snapshot()->Find(caller->organisation_id)) {
    for (int r : org->roles()) roles.push_back(static_cast<v1::Organisation::Role>(r));
  }
  if (!decider_->policy().MayBreakGlass(caller->organisation_id, roles)) {
    record.set_detail(absl::StrCat("refused ETREAT; reason given: ", request->reason()));
    guard_->Refuse(record,
                   absl::PermissionDeniedError(absl::StrCat(
                       "purpose ETREAT: the sharing policy does not allow '",
                       caller->organisation_id, "' to use emergency access (break-glass)")),
                   finish);
    return reactor;
  }
  auto candidates = ReleaseCandidates(*store_, caller->organisation_id, *client_id);
  if (!candidates.ok()) {
    finish(candidates.status());
    return reactor;
  }
  committer_->Submit(
      [this, caller = *caller, id = *client_id, reason = request->reason(),
       candidates = *std::move(candidates), response](store::Transaction& txn) {
        return GrantBreakGlass(txn, context_, caller, kOp, id, reason, candidates, "", response);
      },
      finish);
  return reactor;
}

}  // namespace switchboard::gateway::consent
