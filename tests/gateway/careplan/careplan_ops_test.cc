// The care-plan, timeline and referral operations over a real store and
// committer: version checks, ownership, reopen rules, the merge that never loses
// progress, as-of reads, the reader's view, timeline order and paging, and the
// escalation of unanswered referrals.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gateway/careplan/plan_ops.h"
#include "gateway/careplan/referral_ops.h"
#include "gateway/careplan/timeline.h"
#include "gateway/store/keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::careplan {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kClient[] = "client-0001";

v1::SecurityLabel Psy() {
  v1::SecurityLabel l;
  l.set_system("http://terminology.hl7.org/CodeSystem/v3-ActCode");
  l.set_code("PSY");
  return l;
}

v1::CarePlanItem Goal(const std::string& id, const std::string& owner,
                      v1::CarePlanItem::Status status = v1::CarePlanItem::ACTIVE) {
  v1::CarePlanItem item;
  item.set_id(id);
  item.set_kind(v1::CarePlanItem::GOAL);
  item.set_owner(owner);
  item.set_domain("housing");
  item.set_status(status);
  item.set_description("Goal " + id);
  return item;
}

v1::ProgressEntry Rating(int64_t day, int32_t attainment, const std::string& scale = "") {
  v1::ProgressEntry e;
  *e.mutable_at() = ToProtoTime(absl::FromUnixSeconds(1'790'000'000 + day * 86400));
  e.set_attainment(attainment);
  e.set_scale(scale);
  e.set_note(absl::StrCat("day ", day));
  return e;
}

v1::Message Change(const std::string& source, int64_t expected, std::vector<v1::CarePlanItem> items,
                   int64_t day = 0) {
  v1::Message m;
  m.mutable_header()->set_id(absl::StrCat("plan-", source, "-", expected));
  m.mutable_header()->set_event("care-plan-change");
  m.mutable_header()->set_source(source);
  m.mutable_header()->set_author("worker at " + source);
  *m.mutable_header()->mutable_occurred_at() =
      ToProtoTime(absl::FromUnixSeconds(1'790'000'000 + day * 86400));
  m.mutable_care_plan_change()->set_expected_version(expected);
  for (auto& item : items) *m.mutable_care_plan_change()->add_items() = std::move(item);
  return m;
}

class CarePlanOpsTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    auto scales = MakeScales({});
    ASSERT_TRUE(scales.ok());
    scales_ = *scales;
    scales_["star"] = {1, 10};
  }

  absl::StatusOr<int64_t> Apply(const v1::Message& m) {
    int64_t version = 0;
    absl::Status s = committer_->Run([&](store::Transaction& txn) -> absl::Status {
      auto v = ApplyPlanChange(txn, scales_, kClient, m, 1, "msg-0000000000000001");
      if (!v.ok()) return v.status();
      version = *v;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return version;
  }

  int64_t Head() {
    auto plan = ReadPlan(*store_, kClient, std::nullopt);
    EXPECT_TRUE(plan.ok());
    return plan->has_value() ? (*plan)->version() : 0;
  }

  Scales scales_;
};

TEST_F(CarePlanOpsTest, VersionsOwnershipAndReopen) {
  EXPECT_THAT(Apply(Change("harbour-housing", 0, {Goal("g1", "harbour-housing")})), IsOk());
  // A stale version names the current one and changes nothing.
  EXPECT_THAT(Apply(Change("harbour-housing", 0, {Goal("g1", "harbour-housing")})).status(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("at version 1, not 0")));
  // Another member's item, or an item owned by someone else than the sender.
  EXPECT_THAT(Apply(Change("st-marys", 1, {Goal("g1", "st-marys")})).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("belongs to 'harbour-housing'")));
  EXPECT_THAT(Apply(Change("st-marys", 1, {Goal("g2", "harbour-housing")})).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("is not the sender")));
  // Reopening needs an item on hold, completed or cancelled.
  EXPECT_THAT(Apply(Change("harbour-housing", 1,
                           {Goal("g1", "harbour-housing", v1::CarePlanItem::REOPENED)}))
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'g1' is active")));
  EXPECT_EQ(Head(), 1);
  EXPECT_THAT(Apply(Change("harbour-housing", 1,
                           {Goal("g1", "harbour-housing", v1::CarePlanItem::ON_HOLD)})),
              IsOk());
  auto reopened = Apply(Change("harbour-housing", 2,
                               {Goal("g1", "harbour-housing", v1::CarePlanItem::REOPENED)}));
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ(*reopened, 3);
  auto history = ReadPlanHistory(*store_, kClient);
  ASSERT_TRUE(history.ok());
  std::vector<v1::CarePlanItem::Status> statuses;
  for (const auto& v : *history) statuses.push_back(v.items(0).status());
  EXPECT_THAT(statuses, ElementsAre(v1::CarePlanItem::ACTIVE, v1::CarePlanItem::ON_HOLD,
                                    v1::CarePlanItem::REOPENED));
}

TEST_F(CarePlanOpsTest, ProgressIsMergedNeverLost) {
  v1::CarePlanItem g = Goal("g1", "harbour-housing");
  *g.add_progress() = Rating(1, -2);
  ASSERT_THAT(Apply(Change("harbour-housing", 0, {g})), IsOk());
  // The whole goal resent with one more entry: the old one is not doubled.
  *g.add_progress() = Rating(2, -1);
  ASSERT_THAT(Apply(Change("harbour-housing", 1, {g})), IsOk());
  // Only the new entry sent: the others are kept.
  v1::CarePlanItem only_new = Goal("g1", "harbour-housing", v1::CarePlanItem::ON_HOLD);
  *only_new.add_progress() = Rating(3, 0);
  ASSERT_THAT(Apply(Change("harbour-housing", 2, {only_new})), IsOk());
  auto plan = ReadPlan(*store_, kClient, std::nullopt);
  ASSERT_TRUE(plan.ok() && plan->has_value());
  const v1::CarePlanItem& kept = (*plan)->items(0);
  EXPECT_EQ(kept.status(), v1::CarePlanItem::ON_HOLD);
  std::vector<int> ratings;
  for (const auto& e : kept.progress()) ratings.push_back(e.attainment());
  EXPECT_THAT(ratings, ElementsAre(-2, -1, 0));
}

TEST_F(CarePlanOpsTest, ScalesAreChecked) {
  v1::CarePlanItem g = Goal("g1", "harbour-housing");
  *g.add_progress() = Rating(1, 3);
  EXPECT_THAT(Apply(Change("harbour-housing", 0, {g})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("progress[0].attainment: 3 is outside the gas scale (-2..2)")));
  g.clear_progress();
  *g.add_progress() = Rating(1, 4, "nope");
  EXPECT_THAT(Apply(Change("harbour-housing", 0, {g})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown scale 'nope'")));
  g.clear_progress();
  *g.add_progress() = Rating(1, 7, "star");
  EXPECT_THAT(Apply(Change("harbour-housing", 0, {g})), IsOk());

  google::protobuf::RepeatedPtrField<v1::AttainmentScale> config;
  config.Add()->set_name("gas");
  EXPECT_THAT(MakeScales(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("built in")));
  config.Mutable(0)->set_name("star");
  config.Mutable(0)->set_min(5);
  config.Mutable(0)->set_max(1);
  EXPECT_THAT(MakeScales(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min 5 is above max 1")));
}

TEST_F(CarePlanOpsTest, AsOfReadsTheVersionRecordedByThen) {
  ASSERT_THAT(Apply(Change("harbour-housing", 0, {Goal("g1", "harbour-housing")})), IsOk());
  auto first = ReadPlan(*store_, kClient, std::nullopt);
  ASSERT_TRUE(first.ok() && first->has_value());
  const absl::Time first_at = FromProtoTime((*first)->recorded_at());
  ASSERT_THAT(Apply(Change("harbour-housing", 1, {Goal("g2", "harbour-housing")})), IsOk());
  auto then = ReadPlan(*store_, kClient, first_at);
  ASSERT_TRUE(then.ok() && then->has_value());
  EXPECT_EQ((*then)->version(), 1);
  EXPECT_EQ((*then)->items_size(), 1);
  auto before = ReadPlan(*store_, kClient, first_at - absl::Seconds(1));
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->has_value());
}

TEST_F(CarePlanOpsTest, ReaderSeesOwnItemsAndPlaceholdersForWithheldOnes) {
  // Without a consent, the default sharing policy gives PSY content to nobody.
  v1::CarePlanItem psy = Goal("g-psy", "st-marys");
  *psy.add_security_labels() = Psy();
  psy.set_description("SECRET");
  v1::CarePlanItem open = Goal("g-open", "st-marys");
  v1::ProgressEntry hidden = Rating(1, 1);
  *hidden.add_security_labels() = Psy();
  *open.add_progress() = hidden;
  *open.add_progress() = Rating(2, 2);
  ASSERT_THAT(Apply(Change("st-marys", 0, {psy, open})), IsOk());
  auto plan = ReadPlan(*store_, kClient, std::nullopt);
  ASSERT_TRUE(plan.ok() && plan->has_value());
  auto state = decider_->Load(kClient);
  ASSERT_TRUE(state.ok());

  auto housing = ViewPlan(*decider_, **state, "harbour-housing", &**plan, absl::Now());
  ASSERT_TRUE(housing.ok()) << housing.status();
  EXPECT_EQ(housing->redacted_items(), 1);
  ASSERT_EQ(housing->items_size(), 2);
  EXPECT_TRUE(housing->items(0).redacted());
  EXPECT_EQ(housing->items(0).item().ByteSizeLong(), 0u);  // nothing of it
  EXPECT_EQ(housing->items(1).item().progress_size(), 1);
  EXPECT_EQ(housing->items(1).redacted_progress(), 1);
  EXPECT_EQ(housing->SerializeAsString().find("SECRET"), std::string::npos);

  auto owner = ViewPlan(*decider_, **state, "st-marys", &**plan, absl::Now());
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->redacted_items(), 0);
  EXPECT_EQ(owner->items(1).item().progress_size(), 2);
}

TEST_F(CarePlanOpsTest, TimelineReadsInTheOrderThingsHappenedAndPages) {
  // Recorded out of order: day 5, then day 1, then day 3.
  for (int day : {5, 1, 3}) {
    ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
      v1::StoredTimelineEntry e;
      e.set_kind(v1::TimelineEntry::CARE_TEAM_CHANGE);
      *e.mutable_occurred_at() = ToProtoTime(absl::FromUnixSeconds(1'790'000'000 + day * 86400));
      e.set_organisation("st-marys");
      e.set_title(absl::StrCat("day ", day));
      AppendTimeline(txn, kClient, std::move(e));
      return absl::OkStatus();
    }),
                IsOk());
  }
  auto state = decider_->Load(kClient);
  ASSERT_TRUE(state.ok());
  TimelineQuery q;
  q.client_id = kClient;
  q.reader = "harbour-housing";
  q.page_size = 2;
  std::vector<std::string> titles;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = ReadTimeline(*store_, *decider_, **state, *directory_.snapshot(), q, absl::Now());
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& e : page->entries) titles.push_back(e.title());
    if (page->next.empty()) break;
    auto position = ParsePageToken(PageToken(page->next));
    ASSERT_TRUE(position.has_value());
    q.before = *position;
  }
  // The seed's care-team entries (dated now) are newer; ours are compared in order.
  std::vector<std::string> ours;
  for (const auto& t : titles) {
    if (absl::StartsWith(t, "day ")) ours.push_back(t);
  }
  EXPECT_THAT(ours, ElementsAre("day 5", "day 3", "day 1"));
  EXPECT_FALSE(ParsePageToken("zz").has_value());
  EXPECT_FALSE(ParsePageToken(std::string(32, 'g')).has_value());
}

TEST_F(CarePlanOpsTest, UnansweredReferralIsEscalatedOnce) {
  // care-coord coordinates the client; st-marys refers to northside-family.
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) -> absl::Status {
    v1::CareTeamMember m;
    m.set_organisation_id("care-coord");
    m.set_role("coordinator");
    v1::CareTeam team;
    return registry::AddCareTeamMember(txn, Context(), testing::AdminCaller(), testing::Mrn("MRN-1"), m, &team);
  }),
              IsOk());
  v1::Message referral;
  referral.mutable_header()->set_id("r-1");
  referral.mutable_header()->set_event("referral");
  referral.mutable_header()->set_source("st-marys");
  *referral.mutable_header()->mutable_client() = testing::Mrn("MRN-1");
  *referral.mutable_header()->mutable_occurred_at() = ToProtoTime(absl::Now());
  v1::Referral* r = referral.mutable_referral();
  r->set_referral_id("ref-1");
  r->set_target("northside-family");
  r->set_service("family-support");
  r->set_status(v1::Referral::REQUESTED);
  const registry::RegistryContext registry = Context();
  ReferralContext ctx{.escalate_after = absl::Hours(1), .registry = &registry};
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return ApplyReferral(txn, ctx, testing::MemberCaller("st-marys"), kClient, referral,
                         "msg-0000000000000001", *directory_.snapshot());
  }),
              IsOk());
  Escalator escalator(store_.get(), committer_.get(), ConsentContext(), absl::Hours(1));
  auto count = [&](absl::Time at) {
    absl::StatusOr<int> n = escalator.RunOnce(at);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  };
  EXPECT_EQ(count(absl::Now()), 0);
  const size_t notices = notified_.size();
  EXPECT_EQ(count(absl::Now() + absl::Hours(2)), 1);
  EXPECT_EQ(count(absl::Now() + absl::Hours(3)), 0);
  ASSERT_EQ(notified_.size(), notices + 1);
  EXPECT_THAT(notified_.back(), ElementsAre("care-coord"));
  auto state = ReadReferral(*store_, kClient, "ref-1");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_TRUE((*state)->has_escalated_at());
  int escalations = 0;
  for (const auto& record : AuditRecords()) {
    escalations += record.action() == v1::AuditRecord::ESCALATE ? 1 : 0;
  }
  EXPECT_EQ(escalations, 1);
}

}  // namespace
}  // namespace switchboard::gateway::careplan
