#include "gateway/careplan/careplans_service.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/careplan/plan_ops.h"
#include "gateway/careplan/referral_ops.h"
#include "gateway/careplan/timeline.h"
#include "gateway/common/deterministic.h"
#include "gateway/common/grpc_status.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/store/keys.h"
#include "policy/routing_policy.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::careplan {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 500;

absl::Status NoClient(const v1::ClientIdentifier& id) {
  return absl::NotFoundError(absl::StrCat("no client with identifier '", IdentifierText(id), "'"));
}

// The plan version a care-plan-change message made (searching back from the
// newest); 0 when none (it cannot be found).
absl::StatusOr<int64_t> VersionOfMessage(const store::Store& store, const std::string& client_id,
                                         const std::string& gateway_message_id) {
  SB_ASSIGN_OR_RETURN(auto history, ReadPlanHistory(store, client_id));
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->gateway_message_id() == gateway_message_id) return it->version();
  }
  return 0;
}

}  // namespace

std::optional<CarePlansService::Access> CarePlansService::Open(
    grpc::CallbackServerContext* ctx, const char* operation, v1::AuditRecord::Action action,
    const v1::ClientIdentifier& client, const identity::RpcGuard::Finish& finish,
    bool referral_party) const {
  auto caller = guard_->Identify(*ctx, operation, finish);
  if (!caller) return std::nullopt;
  v1::AuditRecord record = identity::AuditFor(*caller, operation, action);
  if (absl::Status s = CheckIdentifier("client", client); !s.ok()) {
    guard_->Refuse(record, s, finish);
    return std::nullopt;
  }
  auto client_id = registry::ResolveClient(*store_, client);
  if (!client_id.ok()) {
    finish(client_id.status());
    return std::nullopt;
  }
  if (!client_id->has_value()) {
    guard_->Refuse(record, NoClient(client), finish);
    return std::nullopt;
  }
  record.set_client_id(**client_id);
  auto state = decider_->Load(**client_id);
  if (!state.ok()) {
    finish(state.status());
    return std::nullopt;
  }
  // Outside the care team the client does not exist for the caller (the
  // refusal is audited with the client, for the client's record).
  bool allowed = policy::IsCareTeamMember((*state)->care_team, caller->organisation_id, absl::Now());
  if (!allowed && referral_party) {
    auto referrals = ReadReferrals(*store_, **client_id);
    if (!referrals.ok()) {
      finish(referrals.status());
      return std::nullopt;
    }
    for (const v1::ReferralState& r : *referrals) {
      allowed = allowed || r.referrer() == caller->organisation_id ||
                r.referral().target() == caller->organisation_id;
    }
  }
  if (!allowed) {
    guard_->Refuse(record, NoClient(client), finish);
    return std::nullopt;
  }
  return Access{*caller, *std::move(state), std::move(record)};
}

grpc::ServerUnaryReactor* CarePlansService::GetCarePlan(grpc::CallbackServerContext* ctx,
                                                        const v1::GetCarePlanRequest* request,
                                                        v1::CarePlanView* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/GetCarePlan", v1::AuditRecord::VIEW, request->client(), finish);
  if (!access) return reactor;
  std::optional<absl::Time> as_of;
  if (request->has_as_of()) {
    if (absl::Status s = CheckTimestamp("as_of", request->as_of()); !s.ok()) {
      guard_->Refuse(access->record, s, finish);
      return reactor;
    }
    as_of = FromProtoTime(request->as_of());
  }
  const absl::Time now = absl::Now();
  auto version = ReadPlan(*store_, access->state->client_id, as_of);
  if (!version.ok()) {
    finish(version.status());
    return reactor;
  }
  auto view = ViewPlan(*decider_, *access->state, access->caller.organisation_id,
                       version->has_value() ? &**version : nullptr, now);
  if (!view.ok()) {
    finish(view.status());
    return reactor;
  }
  *response = *std::move(view);
  access->record.set_detail(absl::StrCat(
      "care plan version ", response->version(),
      as_of ? absl::StrCat(" as of ", absl::FormatTime(*as_of)) : "", ": ", response->items_size(),
      " item(s), ", response->redacted_items(), " withheld"));
  identity::SubmitAudit(committer_, std::move(access->record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::Update(grpc::CallbackServerContext* ctx,
                                                   const v1::UpdateCarePlanRequest* request,
                                                   v1::UpdateCarePlanResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/Update", v1::AuditRecord::PUBLISH, request->client(), finish);
  if (!access) return reactor;
  absl::Status s;
  if (plan_event_.empty()) {
    s = absl::FailedPreconditionError(
        "the gateway's event catalogue (config event_types) has no event for care-plan changes");
  } else if (request->expected_version() < 0) {
    s = absl::InvalidArgumentError("expected_version: must be 0 or more");
  } else if (!request->request_id().empty()) {
    s = CheckToken("request_id", request->request_id());
  }
  if (!s.ok()) {
    guard_->Refuse(access->record, s, finish);
    return reactor;
  }
  const std::string& org = access->caller.organisation_id;
  v1::Message message;
  v1::MessageHeader* h = message.mutable_header();
  if (request->request_id().empty()) {
    absl::BitGen bitgen;
    h->set_id(absl::StrCat("plan-", absl::Hex(absl::Uniform<uint64_t>(bitgen), absl::kZeroPad16)));
  } else {
    h->set_id(request->request_id());
  }
  h->set_event(plan_event_);
  h->set_source(org);
  *h->mutable_client() = request->client();
  *h->mutable_occurred_at() = ToProtoTime(absl::Now());
  h->set_author(access->caller.user);
  v1::CarePlanChange* change = message.mutable_care_plan_change();
  change->set_expected_version(request->expected_version());
  *change->mutable_items() = request->items();
  for (v1::CarePlanItem& item : *change->mutable_items()) {
    if (item.owner().empty()) item.set_owner(org);
  }
  const std::string client_id = access->state->client_id;
  // A retry of an earlier Update (same request_id and change) gets its answer.
  if (!request->request_id().empty()) {
    auto seq = store_->Get(Cf::kDedup, keys::Dedup(org, h->id()));
    if (!seq.ok()) {
      finish(seq.status());
      return reactor;
    }
    if (seq->has_value()) {
      v1::StoredMessage earlier;
      auto found = store_->GetProto(Cf::kMessages, **seq, &earlier);
      if (!found.ok()) {
        finish(found.status());
        return reactor;
      }
      if (*found && earlier.client_id() == client_id &&
          DeterministicBytes(earlier.message().care_plan_change()) == DeterministicBytes(*change)) {
        auto version = VersionOfMessage(*store_, client_id, earlier.receipt().gateway_message_id());
        if (!version.ok()) {
          finish(version.status());
          return reactor;
        }
        response->set_version(*version);
        response->set_message_id(earlier.receipt().message_id());
        response->set_gateway_message_id(earlier.receipt().gateway_message_id());
        finish(absl::OkStatus());
        return reactor;
      }
      guard_->Refuse(access->record,
                     absl::AlreadyExistsError(absl::StrCat(
                         "request_id: '", h->id(), "' was used for another change; use a new id")),
                     finish);
      return reactor;
    }
  }
  publisher_->Publish(
      access->caller, std::move(message),
      [this, ctx, reactor, response, client_id](absl::StatusOr<v1::Receipt> receipt) {
        if (!receipt.ok()) {
          if (absl::IsAborted(receipt.status())) {
            // The version to retry on, for programs (the message names it too).
            auto head = ReadPlan(*store_, client_id, std::nullopt);
            if (head.ok()) {
              ctx->AddTrailingMetadata("sb-current-version",
                                       absl::StrCat(head->has_value() ? (*head)->version() : 0));
            }
          }
          reactor->Finish(ToGrpcStatus(receipt.status()));
          return;
        }
        auto version = VersionOfMessage(*store_, client_id, receipt->gateway_message_id());
        if (!version.ok()) {
          reactor->Finish(ToGrpcStatus(version.status()));
          return;
        }
        response->set_version(*version);
        response->set_message_id(receipt->message_id());
        response->set_gateway_message_id(receipt->gateway_message_id());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::History(grpc::CallbackServerContext* ctx,
                                                    const v1::CarePlanHistoryRequest* request,
                                                    v1::CarePlanHistoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/History", v1::AuditRecord::VIEW, request->client(), finish);
  if (!access) return reactor;
  const absl::Time now = absl::Now();
  auto history = ReadPlanHistory(*store_, access->state->client_id);
  if (!history.ok()) {
    finish(history.status());
    return reactor;
  }
  response->set_client_id(access->state->client_id);
  int withheld = 0;
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    auto version = ViewVersion(*decider_, *access->state, access->caller.organisation_id, *it, now);
    if (!version.ok()) {
      finish(version.status());
      return reactor;
    }
    for (const auto& item : version->changed()) withheld += item.redacted() ? 1 : 0;
    *response->add_versions() = *std::move(version);
  }
  access->record.set_detail(absl::StrCat("care plan history: ", response->versions_size(),
                                         " version(s), ", withheld, " changed item(s) withheld"));
  identity::SubmitAudit(committer_, std::move(access->record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::GetTimeline(grpc::CallbackServerContext* ctx,
                                                        const v1::GetTimelineRequest* request,
                                                        v1::GetTimelineResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/GetTimeline", v1::AuditRecord::VIEW, request->client(), finish);
  if (!access) return reactor;
  TimelineQuery query;
  query.client_id = access->state->client_id;
  query.reader = access->caller.organisation_id;
  absl::Status s;
  if (request->page_size() < 0 || request->page_size() > kMaxPage) {
    s = absl::InvalidArgumentError(
        absl::StrCat("page_size: ", request->page_size(), " is outside 1..", kMaxPage, " (0 means ", kDefaultPage, ")"));
  }
  query.page_size = request->page_size() == 0 ? kDefaultPage : request->page_size();
  if (s.ok() && !request->page_token().empty()) {
    std::optional<std::string> before = ParsePageToken(request->page_token());
    if (!before.has_value()) {
      s = absl::InvalidArgumentError("page_token: not a token from a previous response");
    } else {
      query.before = *std::move(before);
    }
  }
  for (int i = 0; s.ok() && i < request->organisations_size(); ++i) {
    s = CheckSlug(absl::StrCat("organisations[", i, "]"), request->organisations(i));
  }
  for (int i = 0; s.ok() && i < request->domains_size(); ++i) {
    s = CheckText(absl::StrCat("domains[", i, "]"), request->domains(i), 64, true);
  }
  if (!s.ok()) {
    guard_->Refuse(access->record, s, finish);
    return reactor;
  }
  query.organisations.assign(request->organisations().begin(), request->organisations().end());
  query.domains.assign(request->domains().begin(), request->domains().end());
  auto page = ReadTimeline(*store_, *decider_, *access->state, *directory_->snapshot(), query,
                           absl::Now());
  if (!page.ok()) {
    finish(page.status());
    return reactor;
  }
  response->set_client_id(access->state->client_id);
  for (v1::TimelineEntry& e : page->entries) *response->add_entries() = std::move(e);
  if (!page->next.empty()) response->set_next_page_token(PageToken(page->next));
  access->record.set_detail(absl::StrCat("timeline: ", response->entries_size(), " entries (",
                                         page->withheld, " withheld, ", page->partly_withheld,
                                         " partly withheld)"));
  identity::SubmitAudit(committer_, std::move(access->record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::ListReferrals(grpc::CallbackServerContext* ctx,
                                                          const v1::ListReferralsRequest* request,
                                                          v1::ListReferralsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/ListReferrals", v1::AuditRecord::VIEW, request->client(), finish,
                     /*referral_party=*/true);
  if (!access) return reactor;
  auto referrals = ReadReferrals(*store_, access->state->client_id);
  if (!referrals.ok()) {
    finish(referrals.status());
    return reactor;
  }
  const std::string& org = access->caller.organisation_id;
  const bool coordinator =
      consent::IsCoordinator(access->state->care_team, *directory_->snapshot(), org, absl::Now());
  response->set_client_id(access->state->client_id);
  const absl::Time now = absl::Now();
  for (v1::ReferralState& r : *referrals) {
    const bool party = r.referrer() == org || r.referral().target() == org;
    if (!party && !coordinator) continue;
    if (!party && !r.steps().empty()) {
      // A coordinator sees a referral its consent lets it see (as the
      // referral's first message was decided for it).
      const auto seq = store::ParseGatewayMessageId(r.steps(0).gateway_message_id());
      v1::StoredMessage first;
      auto found = store_->GetProto(Cf::kMessages, keys::Sequence(seq.value_or(0)), &first);
      if (!found.ok()) {
        finish(found.status());
        return reactor;
      }
      if (*found) {
        auto d = decider_->Decide(*access->state, org, first.message(), now);
        if (!d.ok()) {
          finish(d.status());
          return reactor;
        }
        if (d->effect() == v1::AccessDecision::DENY) continue;
      }
    }
    *response->add_referrals() = std::move(r);
  }
  access->record.set_detail(absl::StrCat("referrals: ", response->referrals_size()));
  identity::SubmitAudit(committer_, std::move(access->record), absl::OkStatus(), finish);
  return reactor;
}

}  // namespace switchboard::gateway::careplan
