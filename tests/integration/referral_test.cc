// Closed-loop referrals (ServiceRequest + Task) against the real binary: a
// hospital refers client B to an agency outside the client's care team, the
// agency answers step by step, the gateway routes each step to the other party
// and the client's coordinator, keeps the referral's history (ListReferrals,
// the timeline), adds an accepting agency to the care team, refuses moves the
// state machine or the parties do not allow (changing nothing, auditing the
// refusal), refuses a referral the client's consent withholds from its target,
// and escalates an unanswered referral to the coordinator once, across a
// restart too.
//
// No sleeps: every wait is for a delivery on a Subscribe stream (with a
// deadline), and "never happened" is checked after a later event that could
// only come after it (a later referral's escalation, a later step).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/careplans.grpc.pb.h"
#include "switchboard/v1/consents.grpc.pb.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Client B (MRN-2): care team st-marys (hospital) and harbour-housing, plus
// care-coord as its coordinator (seeded below). northside-family, the target,
// is not in it.
constexpr char kClientMrn[] = "MRN-2";
constexpr char kClientId[] = "client-b";
constexpr char kReferrer[] = "st-marys";
constexpr char kTarget[] = "northside-family";
constexpr char kCoordinator[] = "care-coord";
constexpr char kBystander[] = "harbour-housing";  // in the care team, not a party
constexpr char kStranger[] = "eastside-mh";       // involved with nobody
constexpr char kService[] = "parenting-support";

constexpr char kCoordinatorSeed[] = R"(
  care_teams { client_id: "client-b" members { organisation_id: "care-coord" role: "coordinator" } }
)";

v1::ClientIdentifier Client() {
  v1::ClientIdentifier id;
  id.set_system(kMrnSystem);
  id.set_value(kClientMrn);
  return id;
}

// One referral step: message `id` from `source` about client B.
v1::Message Step(const std::string& id, const std::string& source, const std::string& referral_id,
                 v1::Referral::Status status, const std::string& status_reason = "",
                 const std::string& target = kTarget, const std::string& service = kService) {
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  h->set_id(id);
  h->set_event("referral");
  h->set_source(source);
  *h->mutable_client() = Client();
  *h->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Minutes(1));
  h->set_author(absl::StrCat("Worker at ", source));
  v1::Referral* r = m.mutable_referral();
  r->set_referral_id(referral_id);
  r->set_target(target);
  r->set_service(service);
  if (status == v1::Referral::REQUESTED) r->set_reason("Parenting support after discharge");
  r->set_status(status);
  r->set_status_reason(status_reason);
  return m;
}

// A new referral from the hospital to the target.
v1::Message NewReferral(const std::string& id, const std::string& referral_id,
                        const std::string& target = kTarget) {
  return Step(id, kReferrer, referral_id, v1::Referral::REQUESTED, "", target);
}

std::string StatusName(v1::Referral::Status s) { return v1::Referral::Status_Name(s); }

// "CODE: message", for failure output.
std::string Describe(const grpc::Status& s) {
  return absl::StrCat(s.error_code(), ": ", s.error_message());
}

bool IsEscalationOf(const v1::Delivery& d, const std::string& referral_id) {
  return d.message().has_notification() &&
         d.message().notification().kind() == "referral-escalation" &&
         absl::StrContains(d.message().notification().text(),
                           absl::StrCat("Referral ", referral_id, " "));
}

// Reads `sub` (acking everything) until a delivery matching `match` arrives;
// the ones before it go to `skipped` when given.
template <typename Match>
std::optional<v1::Delivery> WaitFor(Subscriber* sub, Match match, absl::Duration timeout,
                                    std::vector<v1::Delivery>* skipped = nullptr) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    std::optional<v1::Delivery> d = sub->Next(left);
    if (!d.has_value()) return std::nullopt;
    sub->Ack({d->id()});
    if (match(*d)) return d;
    if (skipped != nullptr) skipped->push_back(*d);
  }
}

// The next delivery on `sub`, acked; it must be the referral step of message
// `message_id`.
void ExpectStep(Subscriber* sub, const std::string& who, const std::string& message_id,
                const std::string& source, v1::Referral::Status status,
                const std::string& status_reason = "") {
  SCOPED_TRACE(absl::StrCat(who, " receives ", message_id));
  std::optional<v1::Delivery> d = sub->Next();
  ASSERT_TRUE(d.has_value()) << who << " got no delivery";
  sub->Ack({d->id()});
  EXPECT_EQ(d->message_id(), message_id);
  EXPECT_EQ(d->event(), "referral");
  EXPECT_EQ(d->source(), source);
  EXPECT_EQ(d->recipient(), who);
  ASSERT_TRUE(d->message().has_referral()) << d->DebugString();
  EXPECT_EQ(d->message().referral().status(), status)
      << StatusName(d->message().referral().status());
  EXPECT_EQ(d->message().referral().target(), kTarget);
  EXPECT_EQ(d->message().referral().service(), kService);
  EXPECT_EQ(d->message().referral().status_reason(), status_reason);
}

class ReferralTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    // The demo's policy: without a consent, content goes to the care team only,
    // so a referral outside it needs the client's consent.
    o.sharing_policy = ReadSource("deploy/demo/sharing-policy.textproto");
    o.extra_seed = kCoordinatorSeed;
    o.extra_config = ReferralConfig();
    return o;
  }
  virtual std::string ReferralConfig() { return ""; }

  // Records a consent for client B (as the coordinator).
  void RecordConsent(const std::string& id, const v1::ConsentProvision& root) {
    v1::RecordConsentRequest request;
    v1::Consent* c = request.mutable_consent();
    c->set_id(id);
    c->set_status(v1::Consent::ACTIVE);
    *c->mutable_client() = Client();
    c->set_source_reference(absl::StrCat("care-coord:forms/", id, ".pdf"));
    *c->mutable_provision() = root;
    v1::Consent out;
    auto stub = v1::Consents::NewStub(
        MakeChannel(gateway_->address(), TestPki::Get().Member(kCoordinator)));
    grpc::Status s = stub->Record(Ctx().get(), request, &out);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }
  // The client agreed to share with anyone involved (so with the target too).
  void PermitSharing() {
    v1::ConsentProvision root;
    root.set_type(v1::ConsentProvision::PERMIT);
    RecordConsent("c-share", root);
  }

  grpc::Status ListReferrals(const std::string& org, v1::ListReferralsResponse* out) {
    v1::ListReferralsRequest request;
    *request.mutable_client() = Client();
    return v1::CarePlans::NewStub(As(org)->channel)->ListReferrals(Ctx().get(), request, out);
  }
  // The referral `referral_id` as `org` lists it (nullopt, with a failure, if absent).
  std::optional<v1::ReferralState> Referral(const std::string& org,
                                            const std::string& referral_id) {
    v1::ListReferralsResponse response;
    grpc::Status s = ListReferrals(org, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    for (const auto& r : response.referrals()) {
      if (r.referral().referral_id() == referral_id) return r;
    }
    ADD_FAILURE() << org << " does not list referral " << referral_id << ": "
                  << response.DebugString();
    return std::nullopt;
  }

  std::vector<v1::TimelineEntry> Timeline(const std::string& org) {
    v1::GetTimelineRequest request;
    *request.mutable_client() = Client();
    request.set_page_size(500);
    v1::GetTimelineResponse response;
    grpc::Status s =
        v1::CarePlans::NewStub(As(org)->channel)->GetTimeline(Ctx().get(), request, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    EXPECT_TRUE(response.next_page_token().empty());
    return {response.entries().begin(), response.entries().end()};
  }

  grpc::Status CareTeam(const std::string& org, v1::CareTeam* out) {
    v1::GetCareTeamRequest request;
    *request.mutable_client() = Client();
    return As(org)->registry->GetCareTeam(Ctx().get(), request, out);
  }

  // Every delivery of `org`, any state.
  std::vector<v1::Delivery> Deliveries(const std::string& org) {
    v1::ListDeliveriesResponse response;
    grpc::Status s = As(org)->Deliveries(v1::Delivery::STATE_UNSPECIFIED, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    EXPECT_TRUE(response.next_page_token().empty());
    return {response.deliveries().begin(), response.deliveries().end()};
  }

  std::vector<v1::AuditRecord> Audit() { return As("admin")->AuditRecords(); }
  // The ESCALATE records of `referral_id`.
  std::vector<v1::AuditRecord> Escalations(const std::string& referral_id) {
    std::vector<v1::AuditRecord> out;
    for (const auto& r : Audit()) {
      if (r.action() == v1::AuditRecord::ESCALATE &&
          absl::StartsWith(r.detail(), absl::StrCat("referral ", referral_id, " "))) {
        out.push_back(r);
      }
    }
    return out;
  }
  // Timeline entries (as `org` sees them) of `kind` about `referral_id`.
  std::vector<v1::TimelineEntry> TimelineOf(const std::string& org, v1::TimelineEntry::Kind kind,
                                            const std::string& referral_id) {
    std::vector<v1::TimelineEntry> out;
    for (const auto& e : Timeline(org)) {
      if (e.kind() == kind && e.referral_id() == referral_id) out.push_back(e);
    }
    return out;
  }
};

// Hospital → agency outside the care team, answered through to COMPLETED.
TEST_F(ReferralTest, LifecycleEndToEndAddsTheAcceptingTargetToTheCareTeam) {
  ASSERT_NO_FATAL_FAILURE(PermitSharing());
  auto hospital_sub = Subscribe(kReferrer);
  auto target_sub = Subscribe(kTarget);
  auto coord_sub = Subscribe(kCoordinator);
  auto hospital = As(kReferrer);
  auto target = As(kTarget);

  // REQUESTED: to the target and the coordinator, whatever the care team.
  v1::Receipt requested;
  const v1::Message first = NewReferral("ref-1", "r-1");
  grpc::Status s = hospital->Publish(first, &requested);
  ASSERT_TRUE(s.ok()) << Describe(s);
  std::vector<std::string> recipients;
  for (const auto& r : requested.recipients()) recipients.push_back(r.organisation_id());
  EXPECT_THAT(recipients, ElementsAre(kCoordinator, kTarget));
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(target_sub.get(), kTarget, "ref-1", kReferrer, v1::Referral::REQUESTED));
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(coord_sub.get(), kCoordinator, "ref-1", kReferrer, v1::Referral::REQUESTED));

  // Each answer of the target goes to the hospital and the coordinator.
  std::map<std::string, std::string> gateway_ids = {{"ref-1", requested.gateway_message_id()}};
  std::map<std::string, google::protobuf::Timestamp> occurred = {
      {"ref-1", first.header().occurred_at()}};
  auto answer = [&](const std::string& id, v1::Referral::Status status) {
    v1::Receipt receipt;
    const v1::Message step = Step(id, kTarget, "r-1", status);
    occurred[id] = step.header().occurred_at();
    grpc::Status s = target->Publish(step, &receipt);
    ASSERT_TRUE(s.ok()) << StatusName(status) << ": " << Describe(s);
    gateway_ids[id] = receipt.gateway_message_id();
    std::vector<std::string> to;
    for (const auto& r : receipt.recipients()) to.push_back(r.organisation_id());
    EXPECT_THAT(to, ElementsAre(kCoordinator, kReferrer)) << StatusName(status);
    ASSERT_NO_FATAL_FAILURE(ExpectStep(hospital_sub.get(), kReferrer, id, kTarget, status));
    ASSERT_NO_FATAL_FAILURE(ExpectStep(coord_sub.get(), kCoordinator, id, kTarget, status));
  };

  ASSERT_NO_FATAL_FAILURE(answer("ans-received", v1::Referral::RECEIVED));
  // Not in the care team yet: the client does not exist for the target.
  v1::CareTeam team;
  EXPECT_EQ(CareTeam(kTarget, &team).error_code(), grpc::StatusCode::NOT_FOUND);
  // ...but the target, a party, lists the referral it is answering.
  std::optional<v1::ReferralState> pending = Referral(kTarget, "r-1");
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->referral().status(), v1::Referral::RECEIVED);

  ASSERT_NO_FATAL_FAILURE(answer("ans-accepted", v1::Referral::ACCEPTED));
  // Accepted: a care-team member, with the service as its role, from now on.
  s = CareTeam(kReferrer, &team);
  ASSERT_TRUE(s.ok()) << Describe(s);
  int memberships = 0;
  for (const auto& m : team.members()) {
    if (m.organisation_id() != kTarget) continue;
    ++memberships;
    EXPECT_EQ(m.role(), kService);
    // From when the target accepted, at its source.
    EXPECT_EQ(FromProtoTime(m.period().start()), FromProtoTime(occurred["ans-accepted"]));
    EXPECT_FALSE(m.period().has_end());
  }
  EXPECT_EQ(memberships, 1) << team.DebugString();
  EXPECT_TRUE(CareTeam(kTarget, &team).ok());
  bool joined = false;
  for (const auto& e : Timeline(kReferrer)) {
    if (e.kind() == v1::TimelineEntry::CARE_TEAM_CHANGE) {
      joined |= absl::StrContains(e.title(), kTarget) && absl::StrContains(e.title(), kService);
    }
  }
  EXPECT_TRUE(joined) << "no care-team change for " << kTarget << " on the timeline";

  ASSERT_NO_FATAL_FAILURE(answer("ans-in-progress", v1::Referral::IN_PROGRESS));
  ASSERT_NO_FATAL_FAILURE(answer("ans-completed", v1::Referral::COMPLETED));

  // Every step, in order, with who made it, for each party and the coordinator.
  const std::vector<std::pair<std::string, v1::Referral::Status>> expected = {
      {"ref-1", v1::Referral::REQUESTED},
      {"ans-received", v1::Referral::RECEIVED},
      {"ans-accepted", v1::Referral::ACCEPTED},
      {"ans-in-progress", v1::Referral::IN_PROGRESS},
      {"ans-completed", v1::Referral::COMPLETED}};
  for (const char* reader : {kReferrer, kTarget, kCoordinator}) {
    SCOPED_TRACE(absl::StrCat("ListReferrals as ", reader));
    v1::ListReferralsResponse list;
    s = ListReferrals(reader, &list);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(list.client_id(), kClientId);
    ASSERT_EQ(list.referrals_size(), 1) << list.DebugString();
    const v1::ReferralState& r = list.referrals(0);
    EXPECT_EQ(r.referral().referral_id(), "r-1");
    EXPECT_EQ(r.referral().status(), v1::Referral::COMPLETED);
    EXPECT_EQ(r.referral().target(), kTarget);
    EXPECT_EQ(r.referral().service(), kService);
    EXPECT_EQ(r.referrer(), kReferrer);
    EXPECT_EQ(r.client_id(), kClientId);
    EXPECT_FALSE(r.has_escalated_at());
    // Recorded by the gateway when it accepted the first message; updated when
    // the last step happened at its source.
    EXPECT_GE(FromProtoTime(r.created_at()),
              FromProtoTime(requested.accepted_at()) - absl::Seconds(1));
    EXPECT_LE(FromProtoTime(r.created_at()),
              FromProtoTime(requested.accepted_at()) + absl::Seconds(1));
    EXPECT_EQ(FromProtoTime(r.updated_at()), FromProtoTime(occurred["ans-completed"]));
    ASSERT_EQ(r.steps_size(), static_cast<int>(expected.size())) << r.DebugString();
    for (size_t i = 0; i < expected.size(); ++i) {
      const v1::ReferralStep& step = r.steps(static_cast<int>(i));
      EXPECT_EQ(step.status(), expected[i].second) << "step " << i;
      EXPECT_EQ(step.organisation(), i == 0 ? kReferrer : kTarget) << "step " << i;
      EXPECT_EQ(step.gateway_message_id(), gateway_ids[expected[i].first]) << "step " << i;
      EXPECT_EQ(step.user(), absl::StrCat("Worker at ", step.organisation())) << "step " << i;
      EXPECT_EQ(FromProtoTime(step.at()), FromProtoTime(occurred[expected[i].first]))
          << "step " << i;
    }
  }
  // A care-team member that is not a party sees none of it.
  v1::ListReferralsResponse bystander_list;
  s = ListReferrals(kBystander, &bystander_list);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(bystander_list.referrals_size(), 0);

  // The timeline: one REFERRAL entry per step, newest first, for each party.
  for (const char* reader : {kReferrer, kTarget, kCoordinator}) {
    SCOPED_TRACE(absl::StrCat("timeline as ", reader));
    std::vector<v1::TimelineEntry> entries = TimelineOf(reader, v1::TimelineEntry::REFERRAL, "r-1");
    ASSERT_EQ(entries.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const v1::TimelineEntry& e = entries[expected.size() - 1 - i];
      EXPECT_EQ(e.gateway_message_id(), gateway_ids[expected[i].first]) << e.DebugString();
      EXPECT_EQ(e.organisation(), i == 0 ? kReferrer : kTarget);
      EXPECT_EQ(e.event(), "referral");
      EXPECT_FALSE(e.redacted());
      EXPECT_THAT(e.title(), HasSubstr("r-1"));
    }
    EXPECT_THAT(entries.back().title(), HasSubstr(kTarget));
    EXPECT_THAT(entries.back().title(), HasSubstr(kService));
    EXPECT_THAT(entries.front().title(), HasSubstr("completed"));
    EXPECT_GT(entries.front().seq(), entries.back().seq());
  }
  EXPECT_EQ(TimelineOf(kBystander, v1::TimelineEntry::REFERRAL, "r-1").size(), 0u);

  // The bystander in the care team was sent none of the steps.
  for (const auto& d : Deliveries(kBystander)) EXPECT_NE(d.event(), "referral") << d.DebugString();

  for (auto* sub : {hospital_sub.get(), target_sub.get(), coord_sub.get()}) {
    EXPECT_TRUE(sub->Close().ok());
  }
}

// Declined for want of capacity: the reason reaches the hospital, the agency
// does not join the care team, and the referral is final.
TEST_F(ReferralTest, RejectedReferralIsFinalAndDoesNotJoinTheCareTeam) {
  ASSERT_NO_FATAL_FAILURE(PermitSharing());
  auto hospital_sub = Subscribe(kReferrer);
  auto target_sub = Subscribe(kTarget);
  auto hospital = As(kReferrer);
  auto target = As(kTarget);

  ASSERT_TRUE(hospital->Publish(NewReferral("ref-2", "r-2")).ok());
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(target_sub.get(), kTarget, "ref-2", kReferrer, v1::Referral::REQUESTED));
  grpc::Status s =
      target->Publish(Step("ans-rejected", kTarget, "r-2", v1::Referral::REJECTED, "no capacity"));
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_NO_FATAL_FAILURE(ExpectStep(hospital_sub.get(), kReferrer, "ans-rejected", kTarget,
                                     v1::Referral::REJECTED, "no capacity"));

  v1::CareTeam team;
  s = CareTeam(kReferrer, &team);
  ASSERT_TRUE(s.ok()) << Describe(s);
  for (const auto& m : team.members())
    EXPECT_NE(m.organisation_id(), kTarget) << team.DebugString();
  EXPECT_EQ(CareTeam(kTarget, &team).error_code(), grpc::StatusCode::NOT_FOUND);
  for (const auto& e : Timeline(kReferrer)) {
    if (e.kind() == v1::TimelineEntry::CARE_TEAM_CHANGE) {
      EXPECT_THAT(e.title(), Not(HasSubstr(kTarget)));
    }
  }

  // Final: a later acceptance is refused, naming why.
  s = target->Publish(Step("ans-late-accept", kTarget, "r-2", v1::Referral::ACCEPTED));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("final"));
  EXPECT_THAT(s.error_message(), HasSubstr("REJECTED"));

  std::optional<v1::ReferralState> r = Referral(kReferrer, "r-2");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->referral().status(), v1::Referral::REJECTED);
  EXPECT_EQ(r->referral().status_reason(), "no capacity");
  ASSERT_EQ(r->steps_size(), 2) << r->DebugString();
  EXPECT_EQ(r->steps(1).status(), v1::Referral::REJECTED);
  EXPECT_EQ(r->steps(1).status_reason(), "no capacity");
  EXPECT_EQ(r->steps(1).organisation(), kTarget);
  s = CareTeam(kReferrer, &team);
  ASSERT_TRUE(s.ok()) << Describe(s);
  for (const auto& m : team.members())
    EXPECT_NE(m.organisation_id(), kTarget) << team.DebugString();
  for (const auto& d : Deliveries(kReferrer)) EXPECT_NE(d.message_id(), "ans-late-accept");

  EXPECT_TRUE(hospital_sub->Close().ok());
  EXPECT_TRUE(target_sub->Close().ok());
}

// Moves the state machine or the parties do not allow are refused with the
// right code, change nothing, deliver nothing and are audited.
TEST_F(ReferralTest, InvalidStepsAreRefusedChangeNothingAndAreAudited) {
  ASSERT_NO_FATAL_FAILURE(PermitSharing());
  auto hospital_sub = Subscribe(kReferrer);
  auto target_sub = Subscribe(kTarget);
  auto coord_sub = Subscribe(kCoordinator);
  ASSERT_TRUE(As(kReferrer)->Publish(NewReferral("ref-3", "r-3")).ok());
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(target_sub.get(), kTarget, "ref-3", kReferrer, v1::Referral::REQUESTED));
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(coord_sub.get(), kCoordinator, "ref-3", kReferrer, v1::Referral::REQUESTED));
  std::optional<v1::ReferralState> before = Referral(kReferrer, "r-3");
  ASSERT_TRUE(before.has_value());
  std::map<std::string, size_t> deliveries_before;
  for (const char* org : {kReferrer, kTarget, kCoordinator, kBystander, kStranger}) {
    deliveries_before[org] = Deliveries(org).size();
  }

  struct Refused {
    std::string name;
    std::string sender;
    v1::Message message;
    grpc::StatusCode code;
    std::vector<std::string> message_has;
  };
  const std::vector<Refused> cases = {
      {"target skips to COMPLETED",
       kTarget,
       Step("bad-complete", kTarget, "r-3", v1::Referral::COMPLETED),
       grpc::StatusCode::FAILED_PRECONDITION,
       {"REQUESTED", "COMPLETED", "RECEIVED", "ACCEPTED", "REJECTED", "CANCELLED"}},
      {"referrer accepts its own referral",
       kReferrer,
       Step("bad-accept", kReferrer, "r-3", v1::Referral::ACCEPTED),
       grpc::StatusCode::PERMISSION_DENIED,
       {"only the target"}},
      {"care-team member not a party",
       kBystander,
       Step("bad-bystander", kBystander, "r-3", v1::Referral::RECEIVED),
       grpc::StatusCode::NOT_FOUND,
       {"r-3"}},
      {"member involved with nobody",
       kStranger,
       Step("bad-stranger", kStranger, "r-3", v1::Referral::RECEIVED),
       grpc::StatusCode::NOT_FOUND,
       {"r-3"}},
      {"target changes the target",
       kTarget,
       Step("bad-target", kTarget, "r-3", v1::Referral::RECEIVED, "", kStranger),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"message.referral.target", kTarget}},
      {"target changes the service",
       kTarget,
       Step("bad-service", kTarget, "r-3", v1::Referral::RECEIVED, "", kTarget,
            "housing-assessment"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"message.referral.service", kService}},
      {"another member reuses the referral id",
       kBystander,
       Step("bad-reuse", kBystander, "r-3", v1::Referral::REQUESTED, "", kStranger, "counselling"),
       grpc::StatusCode::ALREADY_EXISTS,
       {"r-3"}},
  };
  for (const Refused& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::Status s = As(c.sender)->Publish(c.message);
    EXPECT_EQ(s.error_code(), c.code) << Describe(s);
    for (const std::string& part : c.message_has) EXPECT_THAT(s.error_message(), HasSubstr(part));
  }

  // Nothing changed.
  std::optional<v1::ReferralState> after = Referral(kReferrer, "r-3");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->SerializeAsString(), before->SerializeAsString())
      << "before:\n"
      << before->DebugString() << "after:\n"
      << after->DebugString();
  v1::ListReferralsResponse list;
  ASSERT_TRUE(ListReferrals(kCoordinator, &list).ok());
  EXPECT_EQ(list.referrals_size(), 1) << list.DebugString();
  EXPECT_THAT(TimelineOf(kReferrer, v1::TimelineEntry::REFERRAL, "r-3").size(), 1u);
  for (const char* org : {kReferrer, kTarget, kCoordinator, kBystander, kStranger}) {
    EXPECT_EQ(Deliveries(org).size(), deliveries_before[org]) << org;
  }
  // The next thing each party's stream gets is a valid step sent after them.
  ASSERT_TRUE(
      As(kTarget)->Publish(Step("good-received", kTarget, "r-3", v1::Referral::RECEIVED)).ok());
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(hospital_sub.get(), kReferrer, "good-received", kTarget, v1::Referral::RECEIVED));
  ASSERT_NO_FATAL_FAILURE(
      ExpectStep(coord_sub.get(), kCoordinator, "good-received", kTarget, v1::Referral::RECEIVED));

  // Each refusal audited once, as a refused PUBLISH with the error.
  const std::vector<v1::AuditRecord> audit = Audit();
  for (const Refused& c : cases) {
    SCOPED_TRACE(c.name);
    int n = 0;
    for (const auto& r : audit) {
      if (r.message_id() != c.message.header().id()) continue;
      ++n;
      EXPECT_EQ(r.action(), v1::AuditRecord::PUBLISH);
      EXPECT_EQ(r.outcome(), v1::AuditRecord::REFUSED);
      EXPECT_EQ(r.actor_organisation(), c.sender);
      EXPECT_EQ(r.client_id(), kClientId);
      EXPECT_THAT(r.detail(), HasSubstr(c.message_has.front()));
    }
    EXPECT_EQ(n, 1);
  }

  for (auto* sub : {hospital_sub.get(), target_sub.get(), coord_sub.get()}) {
    EXPECT_TRUE(sub->Close().ok());
  }
}

// A consent that keeps the client's information from the target: the referral
// is refused before anything is stored or sent.
TEST_F(ReferralTest, ConsentWithholdingTheTargetRefusesTheReferral) {
  v1::ConsentProvision deny;
  deny.set_type(v1::ConsentProvision::DENY);
  deny.add_actors()->set_organisation_id(kTarget);
  ASSERT_NO_FATAL_FAILURE(RecordConsent("c-no-family", deny));

  grpc::Status s = As(kReferrer)->Publish(NewReferral("ref-5", "r-5"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr(kTarget));
  EXPECT_THAT(s.error_message(), HasSubstr("consent"));

  for (const char* reader : {kReferrer, kCoordinator}) {
    v1::ListReferralsResponse list;
    s = ListReferrals(reader, &list);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(list.referrals_size(), 0) << reader;
  }
  // The refused target is no party to anything: the client does not exist for it.
  v1::ListReferralsResponse target_list;
  EXPECT_EQ(ListReferrals(kTarget, &target_list).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Deliveries(kTarget).size(), 0u);
  for (const auto& d : Deliveries(kCoordinator)) EXPECT_NE(d.message_id(), "ref-5");
  EXPECT_EQ(TimelineOf(kReferrer, v1::TimelineEntry::REFERRAL, "r-5").size(), 0u);
  int refused = 0;
  for (const auto& r : Audit()) {
    if (r.message_id() == "ref-5") {
      ++refused;
      EXPECT_EQ(r.outcome(), v1::AuditRecord::REFUSED) << r.DebugString();
    }
  }
  EXPECT_EQ(refused, 1);

  // The consent is about that target only: the same referral to another
  // member (under the policy's default, the care team) goes through.
  s = As(kReferrer)->Publish(
      Step("ref-5b", kReferrer, "r-5", v1::Referral::REQUESTED, "", kBystander));
  ASSERT_TRUE(s.ok()) << Describe(s);
  v1::ListReferralsResponse list;
  ASSERT_TRUE(ListReferrals(kReferrer, &list).ok());
  ASSERT_EQ(list.referrals_size(), 1);
  EXPECT_EQ(list.referrals(0).referral().target(), kBystander);
  EXPECT_EQ(Deliveries(kTarget).size(), 0u);
}

class ReferralEscalationTest : public ReferralTest {
 protected:
  std::string ReferralConfig() override {
    return "referrals { escalate_after_ms: 300 check_interval_ms: 50 }";
  }
};

// Unanswered past the timeout: escalated to the coordinator once (a notice, the
// timeline, the audit); answered in time: never.
TEST_F(ReferralEscalationTest, UnansweredReferralIsEscalatedOnceAnsweredOneNever) {
  ASSERT_NO_FATAL_FAILURE(PermitSharing());
  auto coord_sub = Subscribe(kCoordinator);
  auto hospital = As(kReferrer);
  auto target = As(kTarget);

  // Answered at once (well inside the 300 ms).
  const absl::Time quick_sent = absl::Now();
  ASSERT_TRUE(hospital->Publish(NewReferral("ref-quick", "r-quick")).ok());
  ASSERT_TRUE(target->Publish(Step("ans-quick", kTarget, "r-quick", v1::Referral::ACCEPTED)).ok());
  const absl::Duration quick_answer = absl::Now() - quick_sent;
  // Left unanswered.
  ASSERT_TRUE(hospital->Publish(NewReferral("ref-slow", "r-slow")).ok());

  std::vector<v1::Delivery> before_notice;
  std::optional<v1::Delivery> notice = WaitFor(
      coord_sub.get(), [](const v1::Delivery& d) { return d.message().has_notification(); },
      absl::Seconds(30), &before_notice);
  ASSERT_TRUE(notice.has_value()) << "no escalation notice within 30 s";
  EXPECT_TRUE(IsEscalationOf(*notice, "r-slow")) << notice->DebugString();
  EXPECT_EQ(notice->event(), "referral-escalation");
  EXPECT_EQ(notice->source(), "gateway");
  EXPECT_EQ(notice->message().notification().subject_organisation(), kTarget);
  EXPECT_THAT(notice->message().notification().text(), HasSubstr(kTarget));
  EXPECT_THAT(notice->message().notification().text(), HasSubstr(kReferrer));
  std::vector<std::string> seen;
  for (const auto& d : before_notice) seen.push_back(d.message_id());
  EXPECT_THAT(seen, ElementsAre("ref-quick", "ans-quick", "ref-slow"));

  std::optional<v1::ReferralState> slow = Referral(kCoordinator, "r-slow");
  ASSERT_TRUE(slow.has_value());
  EXPECT_TRUE(slow->has_escalated_at());
  EXPECT_EQ(slow->referral().status(), v1::Referral::REQUESTED);
  EXPECT_GE(FromProtoTime(slow->escalated_at()) - FromProtoTime(slow->created_at()),
            absl::Milliseconds(300));
  std::vector<v1::TimelineEntry> entries =
      TimelineOf(kCoordinator, v1::TimelineEntry::ESCALATION, "r-slow");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_THAT(entries[0].title(), HasSubstr("r-slow"));
  std::vector<v1::AuditRecord> escalations = Escalations("r-slow");
  ASSERT_EQ(escalations.size(), 1u);
  EXPECT_EQ(escalations[0].outcome(), v1::AuditRecord::SUCCESS);
  EXPECT_EQ(escalations[0].client_id(), kClientId);
  EXPECT_EQ(escalations[0].subject_organisation(), kTarget);
  EXPECT_EQ(escalations[0].gateway_message_id(), notice->gateway_message_id());

  // Another referral, RECEIVED but not answered, escalated later: the
  // escalator has looked again since, and r-slow was not escalated twice.
  ASSERT_TRUE(hospital->Publish(NewReferral("ref-later", "r-later")).ok());
  ASSERT_TRUE(target->Publish(Step("ans-later", kTarget, "r-later", v1::Referral::RECEIVED)).ok());
  std::vector<v1::Delivery> between;
  std::optional<v1::Delivery> later = WaitFor(
      coord_sub.get(), [](const v1::Delivery& d) { return IsEscalationOf(d, "r-later"); },
      absl::Seconds(30), &between);
  ASSERT_TRUE(later.has_value()) << "no escalation of r-later (RECEIVED) within 30 s";
  for (const auto& d : between) {
    EXPECT_FALSE(d.message().has_notification()) << "unexpected notice: " << d.DebugString();
  }
  EXPECT_EQ(Escalations("r-slow").size(), 1u);
  EXPECT_EQ(Escalations("r-later").size(), 1u);
  EXPECT_EQ(TimelineOf(kCoordinator, v1::TimelineEntry::ESCALATION, "r-slow").size(), 1u);
  slow = Referral(kCoordinator, "r-slow");
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->steps_size(), 1);

  // The accepted one: never escalated.
  std::optional<v1::ReferralState> quick = Referral(kCoordinator, "r-quick");
  ASSERT_TRUE(quick.has_value());
  EXPECT_EQ(quick->referral().status(), v1::Referral::ACCEPTED);
  ASSERT_EQ(quick->steps_size(), 2);
  // (Precondition of this check: the answer was accepted before the timeout.)
  ASSERT_LT(quick_answer, absl::Milliseconds(300))
      << "the machine was too slow to answer within the escalation time";
  EXPECT_FALSE(quick->has_escalated_at()) << quick->DebugString();
  EXPECT_EQ(Escalations("r-quick").size(), 0u);
  EXPECT_EQ(TimelineOf(kCoordinator, v1::TimelineEntry::ESCALATION, "r-quick").size(), 0u);

  // Notices go to the coordinators only.
  for (const char* org : {kReferrer, kTarget}) {
    for (const auto& d : Deliveries(org)) EXPECT_NE(d.event(), "referral-escalation") << org;
  }
  EXPECT_TRUE(coord_sub->Close().ok());
}

class ReferralRestartTest : public ReferralTest {
 protected:
  static constexpr int kEscalateAfterMs = 2000;
  std::string ReferralConfig() override {
    return absl::StrCat("referrals { escalate_after_ms: ", kEscalateAfterMs,
                        " check_interval_ms: 50 }");
  }
};

// Referral state and escalation bookkeeping are durable: one escalated before a
// restart is not escalated again, one due during it is escalated after it,
// once, and both can still be answered.
TEST_F(ReferralRestartTest, StateAndEscalationSurviveARestart) {
  ASSERT_NO_FATAL_FAILURE(PermitSharing());
  auto hospital = As(kReferrer);
  google::protobuf::Timestamp first_escalated_at;
  absl::Time stopped;
  {
    auto coord_sub = Subscribe(kCoordinator);
    ASSERT_TRUE(hospital->Publish(NewReferral("ref-before", "r-before")).ok());
    ASSERT_TRUE(WaitFor(
                    coord_sub.get(),
                    [](const v1::Delivery& d) { return IsEscalationOf(d, "r-before"); },
                    absl::Seconds(30))
                    .has_value())
        << "no escalation of r-before";
    std::optional<v1::ReferralState> before = Referral(kCoordinator, "r-before");
    ASSERT_TRUE(before.has_value());
    ASSERT_TRUE(before->has_escalated_at());
    first_escalated_at = before->escalated_at();

    // Due only after the restart.
    ASSERT_TRUE(hospital->Publish(NewReferral("ref-across", "r-across")).ok());
    std::optional<v1::ReferralState> across = Referral(kCoordinator, "r-across");
    ASSERT_TRUE(across.has_value());
    ASSERT_FALSE(across->has_escalated_at());
    EXPECT_TRUE(coord_sub->Close().ok());
    ASSERT_TRUE(gateway_->Stop().ok());
    stopped = absl::Now();
    ASSERT_LT(stopped - FromProtoTime(across->created_at()), absl::Milliseconds(kEscalateAfterMs))
        << "the gateway took too long to stop for this test's timing";
  }
  absl::Status started = gateway_->Start();
  ASSERT_TRUE(started.ok()) << started;
  hospital = As(kReferrer);  // the gateway listens on a new port

  auto coord_sub = Subscribe(kCoordinator);
  std::vector<v1::Delivery> skipped;
  std::optional<v1::Delivery> notice = WaitFor(
      coord_sub.get(), [](const v1::Delivery& d) { return IsEscalationOf(d, "r-across"); },
      absl::Seconds(30), &skipped);
  ASSERT_TRUE(notice.has_value()) << "r-across was not escalated after the restart";
  for (const auto& d : skipped) {
    EXPECT_FALSE(d.message().has_notification()) << "unexpected notice: " << d.DebugString();
  }
  std::optional<v1::ReferralState> across = Referral(kCoordinator, "r-across");
  ASSERT_TRUE(across.has_value());
  ASSERT_TRUE(across->has_escalated_at());
  EXPECT_GT(FromProtoTime(across->escalated_at()), stopped) << "escalated by the old process";
  std::optional<v1::ReferralState> before = Referral(kCoordinator, "r-before");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->escalated_at().SerializeAsString(), first_escalated_at.SerializeAsString());
  EXPECT_EQ(before->referral().status(), v1::Referral::REQUESTED);
  EXPECT_EQ(before->referrer(), kReferrer);
  ASSERT_EQ(before->steps_size(), 1);

  // The state machine still knows both.
  auto target = As(kTarget);
  ASSERT_TRUE(
      target->Publish(Step("ans-before", kTarget, "r-before", v1::Referral::ACCEPTED)).ok());
  grpc::Status s =
      target->Publish(Step("ans-across", kTarget, "r-across", v1::Referral::COMPLETED));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  s = As(kBystander)
          ->Publish(Step("reuse-across", kBystander, "r-across", v1::Referral::REQUESTED, "",
                         kStranger, "counselling"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);

  // One more made and escalated after the restart: by then the escalator has
  // passed over the older ones again.
  ASSERT_TRUE(hospital->Publish(NewReferral("ref-after", "r-after")).ok());
  skipped.clear();
  ASSERT_TRUE(WaitFor(
                  coord_sub.get(),
                  [](const v1::Delivery& d) { return IsEscalationOf(d, "r-after"); },
                  absl::Seconds(30), &skipped)
                  .has_value())
      << "no escalation of r-after";
  for (const auto& d : skipped) {
    EXPECT_FALSE(d.message().has_notification()) << "unexpected notice: " << d.DebugString();
  }
  for (const char* id : {"r-before", "r-across", "r-after"}) {
    EXPECT_EQ(Escalations(id).size(), 1u) << id;
    EXPECT_EQ(TimelineOf(kCoordinator, v1::TimelineEntry::ESCALATION, id).size(), 1u) << id;
  }
  before = Referral(kCoordinator, "r-before");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->referral().status(), v1::Referral::ACCEPTED);
  EXPECT_EQ(before->steps_size(), 2);
  EXPECT_TRUE(coord_sub->Close().ok());
}

}  // namespace
}  // namespace switchboard::testing
