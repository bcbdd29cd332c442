// sbctl's care plan, history, timeline and referral text, on hand-built
// protos; and the status words the plan and referral commands accept.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"
#include "tools/cli/plan_commands.h"

namespace switchboard::tools::sbctl {
namespace {

using ::switchboard::testing::IsOkAndHolds;
using ::switchboard::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

google::protobuf::Timestamp Ts(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) << rfc3339 << error;
  return ToProtoTime(t);
}

v1::ProgressEntry Progress(const std::string& at, std::optional<int> rating,
                           const std::string& note, const std::string& author = "",
                           const std::string& scale = "") {
  v1::ProgressEntry e;
  *e.mutable_at() = Ts(at);
  if (rating.has_value()) e.set_attainment(*rating);
  e.set_note(note);
  e.set_author(author);
  e.set_scale(scale);
  return e;
}

v1::CarePlanItem Item(const std::string& id, v1::CarePlanItem::Kind kind, const std::string& owner,
                      const std::string& domain, v1::CarePlanItem::Status status,
                      const std::string& description) {
  v1::CarePlanItem item;
  item.set_id(id);
  item.set_kind(kind);
  item.set_owner(owner);
  item.set_domain(domain);
  item.set_status(status);
  item.set_description(description);
  return item;
}

// A plan of three domains given out of order, with a withheld item that (as if
// by a gateway bug) still carries its content.
v1::CarePlanView SamplePlan() {
  v1::CarePlanView view;
  view.set_client_id("client-0004");
  view.set_version(5);
  *view.mutable_updated_at() = Ts("2026-11-26T10:02:31Z");
  view.set_updated_by_organisation("harbour-housing");
  view.set_updated_by_user("A. Jones");

  v1::CarePlanViewItem* housing = view.add_items();
  *housing->mutable_item() = Item("g-housing", v1::CarePlanItem::GOAL, "harbour-housing", "housing",
                                  v1::CarePlanItem::ON_HOLD, "Secure a tenancy");
  *housing->mutable_item()->mutable_period()->mutable_start() = Ts("2026-11-01T00:00:00Z");
  *housing->mutable_item()->mutable_period()->mutable_end() = Ts("2027-02-01T00:00:00Z");
  *housing->mutable_item()->add_progress() =
      Progress("2026-11-05T09:00:00Z", -1, "Waiting list only", "A. Jones");
  *housing->mutable_item()->add_progress() = Progress("2026-11-12T09:00:00Z", 0, "");
  *housing->mutable_item()->add_progress() =
      Progress("2026-11-20T09:00:00Z", 1, "Viewing booked", "A. Jones");
  housing->set_redacted_progress(2);

  v1::CarePlanViewItem* health = view.add_items();
  *health->mutable_item() = Item("a-gp", v1::CarePlanItem::ACTIVITY, "st-marys", "health",
                                 v1::CarePlanItem::ACTIVE, "GP review of medication");

  v1::CarePlanViewItem* secret = view.add_items();
  secret->set_redacted(true);
  *secret->mutable_item() = Item("g-SECRET-id", v1::CarePlanItem::GOAL, "SECRET-org",
                                 "SECRET-domain", v1::CarePlanItem::ACTIVE, "SECRET");
  *secret->mutable_item()->add_progress() = Progress("2026-11-21T09:00:00Z", 2, "SECRET note");
  secret->set_redacted_progress(7);

  v1::CarePlanViewItem* star = view.add_items();
  *star->mutable_item() = Item("g-wellbeing", v1::CarePlanItem::GOAL, "st-marys", "health",
                               v1::CarePlanItem::REOPENED, "Feel safe at home");
  *star->mutable_item()->add_progress() =
      Progress("2026-11-03T09:00:00Z", 3, "", "", "outcome-star");
  *star->mutable_item()->add_progress() =
      Progress("2026-11-17T09:00:00Z", 5, "Better nights", "B. Singh", "outcome-star");

  v1::CarePlanViewItem* income = view.add_items();
  *income->mutable_item() = Item("a-benefits", v1::CarePlanItem::ACTIVITY, "northside-family",
                                 "income", v1::CarePlanItem::COMPLETED, "Claim housing benefit");
  view.set_redacted_items(1);
  return view;
}

TEST(FormatCarePlanTest, GroupsItemsByDomainWithTrendsAndNotes) {
  EXPECT_EQ(FormatCarePlan(SamplePlan()),
            "client client-0004\n"
            "version 5, updated 2026-11-26 10:02 UTC by harbour-housing (A. Jones)\n"
            "\n"
            "  ID           KIND      OWNER             STATUS     PERIOD                 "
            "PROGRESS              DESCRIPTION\n"
            "health\n"
            "  a-gp         activity  st-marys          active                            "
            "                      GP review of medication\n"
            "  g-wellbeing  goal      st-marys          reopened                          "
            "3 → 5 (outcome-star)  Feel safe at home\n"
            "      2026-11-03  3 (outcome-star)\n"
            "      2026-11-17  5 (outcome-star)  Better nights  — B. Singh\n"
            "housing\n"
            "  g-housing    goal      harbour-housing   on-hold    2026-11-01–2027-02-01  "
            "-1 → 0 → +1           Secure a tenancy\n"
            "      2026-11-05  -1  Waiting list only  — A. Jones\n"
            "      2026-11-12  0\n"
            "      2026-11-20  +1  Viewing booked  — A. Jones\n"
            "      (2 progress entries withheld)\n"
            "income\n"
            "  a-benefits   activity  northside-family  completed                         "
            "                      Claim housing benefit\n"
            "withheld\n"
            "  REDACTED  (withheld under the client's consent)\n");
}

TEST(FormatCarePlanTest, RedactedItemShowsNothingOfTheItem) {
  const std::string text = FormatCarePlan(SamplePlan());
  EXPECT_THAT(text, Not(HasSubstr("SECRET")));
  EXPECT_THAT(text, Not(HasSubstr("+2")));
  EXPECT_THAT(text, Not(HasSubstr("7 progress")));
  EXPECT_THAT(text, HasSubstr("withheld\n  REDACTED  (withheld under the client's consent)\n"));
}

TEST(FormatCarePlanTest, ItemsWithoutDomainComeAfterNamedDomains) {
  v1::CarePlanView view;
  view.set_client_id("client-0001");
  view.set_version(1);
  *view.add_items()->mutable_item() =
      Item("x", v1::CarePlanItem::GOAL, "o", "", v1::CarePlanItem::PROPOSED, "no domain");
  *view.add_items()->mutable_item() =
      Item("y", v1::CarePlanItem::GOAL, "o", "legal", v1::CarePlanItem::ACTIVE, "legal aid");
  const std::string text = FormatCarePlan(view);
  EXPECT_LT(text.find("legal\n"), text.find("(no domain)\n")) << text;
  EXPECT_THAT(text, HasSubstr("proposed"));
}

TEST(FormatCarePlanTest, NoPlanYetAndAsOf) {
  v1::CarePlanView view;
  view.set_client_id("client-0009");
  EXPECT_EQ(FormatCarePlan(view), "client client-0009\nno care plan yet\n");
  EXPECT_EQ(FormatCarePlan(view, absl::FromUnixSeconds(0) + absl::Hours(24 * 365)),
            "client client-0009, as of 1971-01-01 00:00 UTC\nno care plan yet\n");
}

TEST(ProgressTrendTest, GasRatingsAreSignedOtherScalesNamed) {
  google::protobuf::RepeatedPtrField<v1::ProgressEntry> p;
  EXPECT_EQ(ProgressTrend(p), "");
  *p.Add() = Progress("2026-11-01T00:00:00Z", -2, "");
  *p.Add() = Progress("2026-11-02T00:00:00Z", std::nullopt, "note only");
  *p.Add() = Progress("2026-11-03T00:00:00Z", 0, "", "", "gas");
  *p.Add() = Progress("2026-11-04T00:00:00Z", 2, "");
  EXPECT_EQ(ProgressTrend(p), "-2 → 0 → +2");
  *p.Add() = Progress("2026-11-05T00:00:00Z", 4, "", "", "outcome-star");
  *p.Add() = Progress("2026-11-06T00:00:00Z", 6, "", "", "outcome-star");
  EXPECT_EQ(ProgressTrend(p), "-2 → 0 → +2; 4 → 6 (outcome-star)");
}

TEST(FormatPlanHistoryTest, OneBlockPerVersionNewestFirst) {
  v1::CarePlanHistoryResponse history;
  history.set_client_id("client-0004");
  v1::CarePlanVersion* v5 = history.add_versions();
  v5->set_version(5);
  *v5->mutable_recorded_at() = Ts("2026-11-26T10:02:00Z");
  *v5->mutable_occurred_at() = Ts("2026-11-26T10:02:40Z");  // same minute: not shown
  v5->set_organisation("harbour-housing");
  v5->set_user("A. Jones");
  v5->set_gateway_message_id("gm-000000000000002a");
  v1::CarePlanViewItem* changed = v5->add_changed();
  *changed->mutable_item() = Item("g-housing", v1::CarePlanItem::GOAL, "harbour-housing", "housing",
                                  v1::CarePlanItem::ON_HOLD, "Secure a tenancy");
  *changed->mutable_item()->add_progress() = Progress("2026-11-12T09:00:00Z", 0, "older");
  *changed->mutable_item()->add_progress() =
      Progress("2026-11-20T09:00:00Z", 1, "Viewing booked", "A. Jones");
  changed->set_redacted_progress(1);
  v1::CarePlanViewItem* hidden = v5->add_changed();
  hidden->set_redacted(true);
  hidden->mutable_item()->set_description("SECRET");
  v1::CarePlanVersion* v4 = history.add_versions();
  v4->set_version(4);
  *v4->mutable_recorded_at() = Ts("2026-11-20T08:00:00Z");
  *v4->mutable_occurred_at() = Ts("2026-11-19T17:30:00Z");
  v4->set_organisation("st-marys");
  v4->set_gateway_message_id("gm-0000000000000029");
  *v4->add_changed()->mutable_item() = Item("a-gp", v1::CarePlanItem::ACTIVITY, "st-marys", "",
                                            v1::CarePlanItem::ACTIVE, "GP review");

  EXPECT_EQ(FormatPlanHistory(history),
            "care plan of client-0004: 2 versions, newest first\n"
            "v5  2026-11-26 10:02 UTC  harbour-housing (A. Jones)  message gm-000000000000002a\n"
            "    goal g-housing [housing] on-hold: Secure a tenancy\n"
            "      2026-11-20  +1  Viewing booked  — A. Jones\n"
            "      (1 progress entry withheld)\n"
            "    REDACTED (withheld)\n"
            "v4  2026-11-20 08:00 UTC  st-marys  message gm-0000000000000029  "
            "(occurred 2026-11-19 17:30 UTC)\n"
            "    activity a-gp active: GP review\n");
  v1::CarePlanHistoryResponse empty;
  empty.set_client_id("client-0001");
  EXPECT_EQ(FormatPlanHistory(empty), "no care plan of client-0001 yet\n");
}

v1::GetTimelineResponse SampleTimeline() {
  v1::GetTimelineResponse timeline;
  timeline.set_client_id("client-0004");
  v1::TimelineEntry* plan = timeline.add_entries();
  plan->set_seq(9);
  plan->set_kind(v1::TimelineEntry::PLAN_CHANGE);
  *plan->mutable_occurred_at() = Ts("2026-11-20T10:02:00Z");
  *plan->mutable_recorded_at() = Ts("2026-11-20T10:03:00Z");
  plan->set_organisation("harbour-housing");
  plan->set_user("A. Jones");
  plan->set_title("Care plan version 5");
  plan->add_details("goal g-housing [housing] on-hold: Secure a tenancy");
  plan->add_details("+1 Viewing booked");
  plan->set_partly_redacted(true);

  v1::TimelineEntry* hidden = timeline.add_entries();
  hidden->set_seq(8);
  hidden->set_kind(v1::TimelineEntry::MESSAGE);
  hidden->set_redacted(true);
  *hidden->mutable_occurred_at() = Ts("2026-11-20T08:15:00Z");
  hidden->set_title("SECRET title");  // must not be printed
  hidden->set_organisation("SECRET-org");
  hidden->add_details("SECRET detail");

  // Recorded on the 20th, but it happened on the 19th: its day is the 19th.
  v1::TimelineEntry* referral = timeline.add_entries();
  referral->set_seq(7);
  referral->set_kind(v1::TimelineEntry::REFERRAL);
  *referral->mutable_occurred_at() = Ts("2026-11-19T16:45:00Z");
  *referral->mutable_recorded_at() = Ts("2026-11-20T07:00:00Z");
  referral->set_organisation("st-marys");
  referral->set_title("Referral ref-1 to harbour-housing: requested");

  v1::TimelineEntry* team = timeline.add_entries();
  team->set_seq(6);
  team->set_kind(v1::TimelineEntry::CARE_TEAM_CHANGE);
  *team->mutable_recorded_at() = Ts("2026-11-19T09:00:00Z");
  team->set_organisation("care-coord");
  team->set_user("C. Lee");
  team->set_title("harbour-housing joined the care team");
  return timeline;
}

TEST(FormatTimelineTest, GroupsByDayNewestFirst) {
  EXPECT_EQ(FormatTimeline(SampleTimeline(), "client-0004"),
            "timeline of client-0004, newest first\n"
            "2026-11-20\n"
            "  10:02  harbour-housing (A. Jones)  [plan] Care plan version 5  "
            "(some content withheld)\n"
            "          goal g-housing [housing] on-hold: Secure a tenancy\n"
            "          +1 Viewing booked\n"
            "  08:15  (withheld: an entry you may not see under the client's consent)\n"
            "2026-11-19\n"
            "  16:45  st-marys  [referral] Referral ref-1 to harbour-housing: requested\n"
            "  09:00  care-coord (C. Lee)  [care team] harbour-housing joined the care team\n");
}

TEST(FormatTimelineTest, RedactedEntryShowsNothingOfTheEntry) {
  EXPECT_THAT(FormatTimeline(SampleTimeline(), "client-0004"), Not(HasSubstr("SECRET")));
}

TEST(FormatTimelineTest, MoreLineRepeatsTheQuotedClientAndFilters) {
  v1::GetTimelineResponse timeline = SampleTimeline();
  timeline.set_next_page_token("c2VxOjY=");
  const std::string text = FormatTimeline(
      timeline, "https://st-marys.example.org/fhir/mrn|MRN-100234", {"--from=st-marys"});
  EXPECT_THAT(text, ::testing::EndsWith(
                        "\nmore: sbctl plan timeline "
                        "'https://st-marys.example.org/fhir/mrn|MRN-100234' --from=st-marys "
                        "--page_token c2VxOjY=\n"));
  EXPECT_THAT(FormatTimeline(SampleTimeline(), "client-0004"), Not(HasSubstr("more:")));
  timeline.set_next_page_token("it's");
  EXPECT_THAT(FormatTimeline(timeline, "client-0004"),
              HasSubstr("more: sbctl plan timeline client-0004 --page_token 'it'\\''s'\n"));
}

TEST(FormatTimelineTest, Empty) {
  v1::GetTimelineResponse timeline;
  timeline.set_client_id("client-0001");
  EXPECT_EQ(FormatTimeline(timeline, "client-0001"),
            "nothing in the timeline of client-0001 that you may see\n");
}

TEST(FormatReferralsTest, TableWithStepsOldestFirst) {
  v1::ListReferralsResponse list;
  list.set_client_id("client-0004");
  v1::ReferralState* r = list.add_referrals();
  r->set_referrer("st-marys");
  r->set_client_id("client-0004");
  r->mutable_referral()->set_referral_id("ref-1");
  r->mutable_referral()->set_target("harbour-housing");
  r->mutable_referral()->set_service("housing-assessment");
  r->mutable_referral()->set_status(v1::Referral::IN_PROGRESS);
  *r->mutable_updated_at() = Ts("2026-11-21T11:30:00Z");
  *r->mutable_escalated_at() = Ts("2026-11-20T09:00:00Z");
  v1::ReferralStep* requested = r->add_steps();
  requested->set_status(v1::Referral::REQUESTED);
  requested->set_organisation("st-marys");
  *requested->mutable_at() = Ts("2026-11-18T14:00:00Z");
  v1::ReferralStep* accepted = r->add_steps();
  accepted->set_status(v1::Referral::ACCEPTED);
  accepted->set_organisation("harbour-housing");
  accepted->set_user("A. Jones");
  accepted->set_status_reason("capacity this month");
  *accepted->mutable_at() = Ts("2026-11-20T10:02:00Z");
  v1::ReferralState* declined = list.add_referrals();
  declined->set_referrer("harbour-housing");
  declined->mutable_referral()->set_referral_id("ref-0");
  declined->mutable_referral()->set_target("northside-family");
  declined->mutable_referral()->set_service("family-support");
  declined->mutable_referral()->set_status(v1::Referral::REJECTED);
  *declined->mutable_updated_at() = Ts("2026-11-02T08:00:00Z");

  EXPECT_EQ(FormatReferrals(list),
            "referrals of client-0004, newest first\n"
            "\n"
            "REFERRAL  SERVICE             REFERRER → TARGET                   STATUS       "
            "UPDATED               ESCALATED\n"
            "ref-1     housing-assessment  st-marys → harbour-housing          in-progress  "
            "2026-11-21 11:30 UTC  2026-11-20\n"
            "  2026-11-18 14:00  requested  by st-marys\n"
            "  2026-11-20 10:02  accepted   by harbour-housing (A. Jones)  capacity this month\n"
            "ref-0     family-support      harbour-housing → northside-family  rejected     "
            "2026-11-02 08:00 UTC\n");
  v1::ListReferralsResponse empty;
  empty.set_client_id("client-0001");
  EXPECT_THAT(FormatReferrals(empty), HasSubstr("no referral of client-0001"));
}

TEST(FormatUpdateResponseTest, VersionAndIds) {
  v1::UpdateCarePlanResponse r;
  r.set_version(6);
  r.set_message_id("cp-6");
  r.set_gateway_message_id("gm-2b");
  EXPECT_EQ(FormatUpdateResponse(r), "version 6 (message cp-6, gateway id gm-2b)\n");
}

TEST(ParseItemStatusTest, AcceptsHyphensAndEnumNames) {
  EXPECT_THAT(ParseItemStatus("on-hold"), IsOkAndHolds(v1::CarePlanItem::ON_HOLD));
  EXPECT_THAT(ParseItemStatus("ON_HOLD"), IsOkAndHolds(v1::CarePlanItem::ON_HOLD));
  EXPECT_THAT(ParseItemStatus("Reopened"), IsOkAndHolds(v1::CarePlanItem::REOPENED));
  EXPECT_THAT(ParseItemStatus("status-unspecified"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("proposed, active, on-hold, completed, cancelled, reopened")));
  EXPECT_THAT(ParseItemStatus("done"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                HasSubstr("'done' is not a care plan item")));
  EXPECT_EQ(ItemStatusText(v1::CarePlanItem::STATUS_UNSPECIFIED), "-");
}

TEST(ParseReferralStatusTest, AcceptsFhirTaskCodes) {
  EXPECT_THAT(ParseReferralStatus("accepted"), IsOkAndHolds(v1::Referral::ACCEPTED));
  EXPECT_THAT(ParseReferralStatus("declined"), IsOkAndHolds(v1::Referral::REJECTED));
  EXPECT_THAT(ParseReferralStatus("rejected"), IsOkAndHolds(v1::Referral::REJECTED));
  EXPECT_THAT(ParseReferralStatus("in-progress"), IsOkAndHolds(v1::Referral::IN_PROGRESS));
  EXPECT_THAT(ParseReferralStatus("IN_PROGRESS"), IsOkAndHolds(v1::Referral::IN_PROGRESS));
  EXPECT_THAT(ParseReferralStatus("on-hold"), IsOkAndHolds(v1::Referral::ON_HOLD));
  EXPECT_THAT(ParseReferralStatus("requested"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("received, accepted, rejected, declined, in-progress")));
}

}  // namespace
}  // namespace switchboard::tools::sbctl
