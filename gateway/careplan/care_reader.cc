#include "gateway/careplan/care_reader.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "gateway/careplan/plan_ops.h"
#include "gateway/careplan/referral_ops.h"
#include "gateway/careplan/timeline.h"
#include "gateway/identity/rpc_guard.h"
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

}  // namespace

std::variant<ClientAccess, Refused> CareReader::Open(const identity::Caller& caller,
                                                     const char* operation,
                                                     v1::AuditRecord::Action action,
                                                     const v1::ClientIdentifier& client,
                                                     bool referral_party) const {
  v1::AuditRecord record = identity::AuditFor(caller, operation, action);
  if (absl::Status s = CheckIdentifier("client", client); !s.ok()) return Refused{s, record};
  auto client_id = registry::ResolveClient(*store_, client);
  if (!client_id.ok()) return Refused{client_id.status(), std::nullopt};
  if (!client_id->has_value()) return Refused{NoClient(client), record};
  record.set_client_id(**client_id);
  auto state = decider_->Load(**client_id);
  if (!state.ok()) return Refused{state.status(), std::nullopt};
  // Outside the care team the client does not exist for the caller (the
  // refusal is audited with the client, for the client's record).
  bool allowed = policy::IsCareTeamMember((*state)->care_team, caller.organisation_id, absl::Now());
  if (!allowed && referral_party) {
    auto referrals = ReadReferrals(*store_, **client_id);
    if (!referrals.ok()) return Refused{referrals.status(), std::nullopt};
    for (const v1::ReferralState& r : *referrals) {
      allowed = allowed || r.referrer() == caller.organisation_id ||
                r.referral().target() == caller.organisation_id;
    }
  }
  if (!allowed) return Refused{NoClient(client), record};
  return ClientAccess{caller, *std::move(state), std::move(record)};
}

absl::StatusOr<v1::CarePlanView> CareReader::Plan(ClientAccess& access,
                                                  std::optional<absl::Time> as_of) const {
  SB_ASSIGN_OR_RETURN(auto version, ReadPlan(*store_, access.state->client_id, as_of));
  SB_ASSIGN_OR_RETURN(v1::CarePlanView view,
                      ViewPlan(*decider_, *access.state, access.caller.organisation_id,
                               version.has_value() ? &*version : nullptr, absl::Now()));
  access.record.set_detail(absl::StrCat(
      "care plan version ", view.version(),
      as_of ? absl::StrCat(" as of ", absl::FormatTime(*as_of)) : "", ": ", view.items_size(),
      " item(s), ", view.redacted_items(), " withheld"));
  return view;
}

absl::StatusOr<v1::CarePlanHistoryResponse> CareReader::History(ClientAccess& access) const {
  const absl::Time now = absl::Now();
  SB_ASSIGN_OR_RETURN(auto history, ReadPlanHistory(*store_, access.state->client_id));
  v1::CarePlanHistoryResponse out;
  out.set_client_id(access.state->client_id);
  int withheld = 0;
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    SB_ASSIGN_OR_RETURN(v1::CarePlanVersion version,
                        ViewVersion(*decider_, *access.state, access.caller.organisation_id, *it, now));
    for (const auto& item : version.changed()) withheld += item.redacted() ? 1 : 0;
    *out.add_versions() = std::move(version);
  }
  access.record.set_detail(absl::StrCat("care plan history: ", out.versions_size(), " version(s), ",
                                        withheld, " changed item(s) withheld"));
  return out;
}

absl::StatusOr<v1::GetTimelineResponse> CareReader::Timeline(
    ClientAccess& access, const v1::GetTimelineRequest& request) const {
  TimelineQuery query;
  query.client_id = access.state->client_id;
  query.reader = access.caller.organisation_id;
  if (request.page_size() < 0 || request.page_size() > kMaxPage) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: ", request.page_size(),
                                                   " is outside 1..", kMaxPage, " (0 means ",
                                                   kDefaultPage, ")"));
  }
  query.page_size = request.page_size() == 0 ? kDefaultPage : request.page_size();
  if (!request.page_token().empty()) {
    std::optional<std::string> before = ParsePageToken(request.page_token());
    if (!before.has_value()) {
      return absl::InvalidArgumentError("page_token: not a token from a previous response");
    }
    query.before = *std::move(before);
  }
  for (int i = 0; i < request.organisations_size(); ++i) {
    SB_RETURN_IF_ERROR(CheckSlug(absl::StrCat("organisations[", i, "]"), request.organisations(i)));
  }
  for (int i = 0; i < request.domains_size(); ++i) {
    SB_RETURN_IF_ERROR(CheckText(absl::StrCat("domains[", i, "]"), request.domains(i), 64, true));
  }
  query.organisations.assign(request.organisations().begin(), request.organisations().end());
  query.domains.assign(request.domains().begin(), request.domains().end());
  SB_ASSIGN_OR_RETURN(TimelinePage page, ReadTimeline(*store_, *decider_, *access.state,
                                                      *directory_->snapshot(), query, absl::Now()));
  v1::GetTimelineResponse out;
  out.set_client_id(access.state->client_id);
  for (v1::TimelineEntry& e : page.entries) *out.add_entries() = std::move(e);
  if (!page.next.empty()) out.set_next_page_token(PageToken(page.next));
  access.record.set_detail(absl::StrCat("timeline: ", out.entries_size(), " entries (",
                                        page.withheld, " withheld, ", page.partly_withheld,
                                        " partly withheld)"));
  return out;
}

absl::StatusOr<v1::ListReferralsResponse> CareReader::Referrals(ClientAccess& access) const {
  SB_ASSIGN_OR_RETURN(auto referrals, ReadReferrals(*store_, access.state->client_id));
  const std::string& org = access.caller.organisation_id;
  const absl::Time now = absl::Now();
  const bool coordinator =
      consent::IsCoordinator(access.state->care_team, *directory_->snapshot(), org, now);
  v1::ListReferralsResponse out;
  out.set_client_id(access.state->client_id);
  for (v1::ReferralState& r : referrals) {
    const bool party = r.referrer() == org || r.referral().target() == org;
    if (!party && !coordinator) continue;
    if (!party && !r.steps().empty()) {
      // A coordinator sees a referral its consent lets it see (as the
      // referral's first message is decided for it now).
      const auto seq = store::ParseGatewayMessageId(r.steps(0).gateway_message_id());
      v1::StoredMessage first;
      SB_ASSIGN_OR_RETURN(bool found,
                          store_->GetProto(Cf::kMessages, keys::Sequence(seq.value_or(0)), &first));
      if (found) {
        SB_ASSIGN_OR_RETURN(v1::AccessDecision d,
                            decider_->Decide(*access.state, org, first.message(), now));
        if (d.effect() == v1::AccessDecision::DENY) continue;
      }
    }
    *out.add_referrals() = std::move(r);
  }
  access.record.set_detail(absl::StrCat("referrals: ", out.referrals_size()));
  return out;
}

absl::StatusOr<v1::Message> CareReader::UpdateMessage(const ClientAccess& access,
                                                      const std::string& event,
                                                      const v1::UpdateCarePlanRequest& request) const {
  if (event.empty()) {
    return absl::FailedPreconditionError(
        "the gateway's event catalogue (config event_types) has no event for care-plan changes");
  }
  if (request.expected_version() < 0) {
    return absl::InvalidArgumentError("expected_version: must be 0 or more");
  }
  if (!request.request_id().empty()) SB_RETURN_IF_ERROR(CheckToken("request_id", request.request_id()));
  const std::string& org = access.caller.organisation_id;
  v1::Message message;
  v1::MessageHeader* h = message.mutable_header();
  if (request.request_id().empty()) {
    absl::BitGen bitgen;
    h->set_id(absl::StrCat("plan-", absl::Hex(absl::Uniform<uint64_t>(bitgen), absl::kZeroPad16)));
  } else {
    h->set_id(request.request_id());
  }
  h->set_event(event);
  h->set_source(org);
  *h->mutable_client() = request.client();
  *h->mutable_occurred_at() = ToProtoTime(absl::Now());
  h->set_author(access.caller.user);
  v1::CarePlanChange* change = message.mutable_care_plan_change();
  change->set_expected_version(request.expected_version());
  *change->mutable_items() = request.items();
  for (v1::CarePlanItem& item : *change->mutable_items()) {
    if (item.owner().empty()) item.set_owner(org);
  }
  return message;
}

absl::StatusOr<int64_t> CareReader::VersionOfMessage(const std::string& client_id,
                                                     const std::string& gateway_message_id) const {
  // Nearly always the newest version (the update just committed): one read.
  SB_ASSIGN_OR_RETURN(auto head, ReadPlan(*store_, client_id, std::nullopt));
  if (head.has_value() && head->gateway_message_id() == gateway_message_id) return head->version();
  SB_ASSIGN_OR_RETURN(auto history, ReadPlanHistory(*store_, client_id));
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->gateway_message_id() == gateway_message_id) return it->version();
  }
  return 0;
}

absl::StatusOr<int64_t> CareReader::CurrentVersion(const std::string& client_id) const {
  SB_ASSIGN_OR_RETURN(auto head, ReadPlan(*store_, client_id, std::nullopt));
  return head.has_value() ? head->version() : 0;
}

}  // namespace switchboard::gateway::careplan
