// The web view's pages rendered from demo-like data (client-0004 of deploy/demo):
// content, forms, withheld content, and the HTML rules every page keeps (escaping,
// no inline script or style, labels, headings, balanced elements).
#include "gateway/web/pages.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gateway/web/attainment_chart.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"

namespace switchboard::gateway::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCsrf[] = "csrf-token-123";
constexpr char kWithheld[] = "Something was withheld under the client&#39;s consent.";

google::protobuf::Timestamp At(int month, int day, int hour = 10, int minute = 0) {
  return ToProtoTime(
      absl::FromCivil(absl::CivilSecond(2026, month, day, hour, minute, 0), absl::UTCTimeZone()));
}

v1::ProgressEntry Progress(int month, int day, std::optional<int> rating, const std::string& note,
                           const std::string& scale = "") {
  v1::ProgressEntry e;
  *e.mutable_at() = At(month, day);
  if (rating.has_value()) e.set_attainment(*rating);
  e.set_scale(scale);
  e.set_note(note);
  e.set_author("K. Mensah, housing support");
  return e;
}

v1::CarePlanViewItem Item(const std::string& id, const std::string& owner,
                          const std::string& domain, v1::CarePlanItem::Status status,
                          const std::string& description) {
  v1::CarePlanViewItem view;
  v1::CarePlanItem* item = view.mutable_item();
  item->set_id(id);
  item->set_kind(v1::CarePlanItem::GOAL);
  item->set_owner(owner);
  item->set_domain(domain);
  item->set_status(status);
  item->set_description(description);
  *item->mutable_period()->mutable_start() = At(10, 2, 0);
  return view;
}

v1::ReferralState Referral(const std::string& id, const std::string& referrer,
                           const std::string& target, const std::string& service,
                           v1::Referral::Status status) {
  v1::ReferralState r;
  r.set_referrer(referrer);
  r.set_client_id("client-0004");
  *r.mutable_created_at() = At(10, 3, 9);
  *r.mutable_updated_at() = At(10, 3, 9);
  v1::Referral* ref = r.mutable_referral();
  ref->set_referral_id(id);
  ref->set_target(target);
  ref->set_service(service);
  ref->set_status(status);
  ref->set_reason("Needs support.");
  v1::ReferralStep* step = r.add_steps();
  step->set_status(v1::Referral::REQUESTED);
  step->set_organisation(referrer);
  step->set_user("J. Rivera, care coordinator");
  *step->mutable_at() = At(10, 3, 9);
  return r;
}

// Client-0004 as Harbour Housing's worker reads it: the PSY goal and the PSY
// discharge section are withheld.
ClientPage DemoPage(const std::string& reader_org = "harbour-housing") {
  ClientPage page;
  page.viewer = {
      "K. Mensah", reader_org,
      reader_org == "care-coord" ? "Community Care Coordination" : "Harbour Housing Trust", kCsrf};
  page.client_id = "client-0004";
  v1::ClientIdentifier id;
  id.set_system("https://harbour-housing.example.org/case");
  id.set_value("HH-1733");
  page.identifiers.push_back(id);
  page.organisation_names = {{"st-marys", "St Mary's Hospital"},
                             {"harbour-housing", "Harbour Housing Trust"},
                             {"northside-family", "Northside Family Services"},
                             {"care-coord", "Community Care Coordination"}};
  page.care_team.set_client_id("client-0004");
  for (const auto& [org, role, month, day] :
       std::vector<std::tuple<std::string, std::string, int, int>>{
           {"st-marys", "hospital", 9, 18},
           {"care-coord", "coordinator", 10, 2},
           {"harbour-housing", "housing-support", 10, 6}}) {
    v1::CareTeamMember* m = page.care_team.add_members();
    m->set_organisation_id(org);
    m->set_role(role);
    *m->mutable_period()->mutable_start() = At(month, day);
  }

  v1::CarePlanView& plan = page.plan;
  plan.set_client_id("client-0004");
  plan.set_version(9);
  *plan.mutable_updated_at() = At(11, 26, 22, 42);
  plan.set_updated_by_organisation("harbour-housing");
  plan.set_updated_by_user("K. Mensah, housing support");
  v1::CarePlanViewItem gp = Item("g-gp", "st-marys", "health", v1::CarePlanItem::COMPLETED,
                                 "See the GP within two weeks of discharge");
  *gp.mutable_item()->add_progress() = Progress(10, 12, 0, "Seen by the GP on 12 October.");
  *plan.add_items() = gp;
  v1::CarePlanViewItem tenancy = Item("g-tenancy", "harbour-housing", "housing",
                                      v1::CarePlanItem::REOPENED, "Secure a stable tenancy");
  v1::CarePlanItem* t = tenancy.mutable_item();
  *t->add_progress() = Progress(10, 8, -2, "In temporary accommodation; no application yet.");
  *t->add_progress() = Progress(10, 20, -1, "Two applications submitted.");
  *t->add_progress() = Progress(11, 4, std::nullopt, "Paused: client out of contact.");
  *t->add_progress() = Progress(11, 17, 0, "Back in contact; viewing booked for 24 November.");
  *t->add_progress() =
      Progress(11, 24, 1, "Tenancy offered after the viewing; moving in on 1 December.");
  tenancy.set_redacted_progress(1);
  *plan.add_items() = tenancy;
  v1::CarePlanViewItem paused = Item("a-benefits", "harbour-housing", "income",
                                     v1::CarePlanItem::ON_HOLD, "Claim housing benefit");
  paused.mutable_item()->set_kind(v1::CarePlanItem::ACTIVITY);
  *plan.add_items() = paused;
  // Withheld: the gateway sends nothing of it; these fields are set anyway, to show
  // that the page reads none of them.
  v1::CarePlanViewItem secret =
      Item("g-SECRET-ID", "SECRET-OWNER", "SECRET-DOMAIN", v1::CarePlanItem::ACTIVE, "SECRET-PSY");
  *secret.mutable_item()->add_progress() = Progress(11, 5, -1, "SECRET-NOTE");
  secret.set_redacted(true);
  *plan.add_items() = secret;
  plan.set_redacted_items(1);

  // Timeline, newest first.
  v1::GetTimelineResponse& tl = page.timeline;
  tl.set_client_id("client-0004");
  v1::TimelineEntry* e = tl.add_entries();
  e->set_kind(v1::TimelineEntry::PLAN_CHANGE);
  *e->mutable_occurred_at() = At(11, 24, 15);
  e->set_organisation("harbour-housing");
  e->set_user("K. Mensah, housing support");
  e->set_domain("housing");
  e->set_title("Care plan: goal g-tenancy reopened");
  e->add_details("goal g-tenancy [housing] reopened: Secure a stable tenancy");
  e = tl.add_entries();
  e->set_kind(v1::TimelineEntry::MESSAGE);
  *e->mutable_occurred_at() = At(11, 19, 10);
  e->set_redacted(true);
  e->set_title("SECRET-TIMELINE-TITLE");
  e->add_details("SECRET-TIMELINE-DETAIL");
  e->set_organisation("SECRET-TIMELINE-ORG");
  e = tl.add_entries();
  e->set_kind(v1::TimelineEntry::MESSAGE);
  *e->mutable_occurred_at() = At(10, 2, 15, 30);
  e->set_organisation("st-marys");
  e->set_user("Dr A. Okafor, Ward 7");
  e->set_domain("health");
  e->set_title("Discharge summary: Discharge from Ward 7");
  e->add_details("Hospital course: Settled on the ward; physically well.");
  e->set_partly_redacted(true);
  tl.set_next_page_token("tok/older page+1");
  page.timeline_filter = {"harbour-housing", "", ""};

  // Referrals, newest first: one waiting for Harbour's answer, one escalated to the
  // coordinators, one in progress.
  v1::ReferralState budget = Referral("ref-0004-budget", "care-coord", "harbour-housing",
                                      "budgeting-support", v1::Referral::REQUESTED);
  *page.referrals.add_referrals() = budget;
  v1::ReferralState family = Referral("ref-0004-family", "care-coord", "northside-family",
                                      "family-support-visit", v1::Referral::REQUESTED);
  *family.mutable_escalated_at() = At(11, 26, 22, 44);
  *page.referrals.add_referrals() = family;
  v1::ReferralState housing = Referral("ref-0004-housing", "st-marys", "harbour-housing",
                                       "housing-support", v1::Referral::IN_PROGRESS);
  v1::ReferralStep* step = housing.add_steps();
  step->set_status(v1::Referral::ACCEPTED);
  step->set_organisation("harbour-housing");
  step->set_status_reason("Reopening the case from the 2025 tenancy.");
  *step->mutable_at() = At(10, 6, 11, 20);
  *page.referrals.add_referrals() = housing;
  v1::ReferralState old = Referral("ref-0004-debt", "care-coord", "harbour-housing", "debt-advice",
                                   v1::Referral::REJECTED);
  old.mutable_referral()->set_status_reason("No capacity this month.");
  *page.referrals.add_referrals() = old;

  page.consent_summary = {
      "St Mary's Hospital sees everything including mental health notes, but no other "
      "sensitive notes.",
      "Harbour Housing Trust sees everything except mental health notes and other sensitive "
      "notes."};
  v1::AttainmentScale star;
  star.set_name("outcome-star");
  star.set_min(1);
  star.set_max(10);
  star.set_display("Outcomes Star, 1 (stuck) to 10 (self-reliant)");
  page.attainment_scales["outcome-star"] = star;
  return page;
}

std::string Render(const ClientPage& page) {
  absl::StatusOr<std::string> html = RenderClientPage(page);
  EXPECT_TRUE(html.ok()) << html.status();
  return html.ok() ? *html : "";
}

// --- HTML checks every page must pass ----------------------------------------

std::vector<std::string> All(const std::string& html, const std::string& pattern, int group = 0) {
  std::vector<std::string> out;
  const std::regex re(pattern, std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[group].str());
  }
  return out;
}

std::string Attr(const std::string& tag, const std::string& name) {
  const std::regex re(absl::StrCat("\\s", name, "=\"([^\"]*)\""));
  std::smatch m;
  return std::regex_search(tag, m, re) ? m[1].str() : "";
}

// The forms of `html`, each from `<form` to `</form>`.
std::vector<std::string> Forms(const std::string& html) {
  return All(html, "<form[\\s\\S]*?</form>");
}

void ExpectElementsBalanced(const std::string& html) {
  static const std::set<std::string> kVoid = {"area",   "base",  "br",    "col",  "embed",
                                              "hr",     "img",   "input", "link", "meta",
                                              "source", "track", "wbr"};
  std::vector<std::string> open;
  for (const std::string& tag : All(html, "<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")) {
    std::smatch m;
    const std::regex parts("<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>");
    std::regex_match(tag, m, parts);
    const std::string name = absl::AsciiStrToLower(m[2].str());
    if (kVoid.contains(name) || m[3].length() > 0) continue;
    if (m[1].length() == 0) {
      open.push_back(name);
      continue;
    }
    ASSERT_FALSE(open.empty()) << "</" << name << "> closes nothing";
    ASSERT_EQ(open.back(), name) << "</" << name << "> closes <" << open.back() << ">";
    open.pop_back();
  }
  EXPECT_TRUE(open.empty()) << "<" << (open.empty() ? "" : open.back()) << "> is not closed";
}

void ExpectGoodHtml(const std::string& html) {
  SCOPED_TRACE("HTML rules");
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>\n<html lang=\"en\">")) << html.substr(0, 80);
  EXPECT_THAT(html, HasSubstr("<main id=\"main\""));
  EXPECT_THAT(html, HasSubstr("<a class=\"skip-link\" href=\"#main\">"));
  EXPECT_THAT(html, HasSubstr("<link rel=\"stylesheet\" href=\"/static/app.css\">"));
  // Scripts only from files, never inline; no inline styles or event handlers.
  for (const std::string& script : All(html, "<script[^>]*>([\\s\\S]*?)</script>", 0)) {
    EXPECT_EQ(script, "<script src=\"/static/app.js\" defer></script>");
  }
  EXPECT_THAT(All(html, "<script"), ::testing::SizeIs(1));
  // (Attributes are looked for inside tags: escaped text may say anything.)
  for (const std::string& tag : All(html, "<[a-zA-Z][^>]*>")) {
    EXPECT_THAT(All(tag, "\\sstyle\\s*="), ::testing::IsEmpty()) << tag;
    EXPECT_THAT(All(tag, "\\son[a-z]+\\s*="), ::testing::IsEmpty()) << tag;
  }
  EXPECT_THAT(All(html, "<style"), ::testing::IsEmpty());
  EXPECT_THAT(html, Not(HasSubstr("javascript:")));
  // Every form control people use has an id and a label for it; ids are unique.
  std::set<std::string> labels;
  for (const std::string& f : All(html, "<label for=\"([^\"]*)\"", 1)) labels.insert(f);
  std::set<std::string> ids;
  for (const std::string& id : All(html, "\\sid=\"([^\"]*)\"", 1)) {
    EXPECT_TRUE(ids.insert(id).second) << "duplicate id " << id;
  }
  for (const std::string& control : All(html, "<(input|select|textarea)\\b[^>]*>")) {
    if (Attr(control, "type") == "hidden") {
      EXPECT_EQ(Attr(control, "id"), "") << control;
      continue;
    }
    const std::string id = Attr(control, "id");
    EXPECT_NE(id, "") << control;
    EXPECT_TRUE(labels.contains(id)) << "no <label for=\"" << id << "\">: " << control;
  }
  // Headings: one h1, and none skips a level on the way down.
  const std::vector<std::string> levels = All(html, "<h([1-6])[\\s>]", 1);
  ASSERT_FALSE(levels.empty());
  EXPECT_EQ(levels.front(), "1");
  EXPECT_EQ(std::count(levels.begin(), levels.end(), "1"), 1);
  for (size_t i = 1; i < levels.size(); ++i) {
    EXPECT_LE(std::stoi(levels[i]), std::stoi(levels[i - 1]) + 1)
        << "h" << levels[i - 1] << " then h" << levels[i];
  }
  // Every POST form carries the CSRF token.
  for (const std::string& form : Forms(html)) {
    if (Attr(form.substr(0, form.find('>')), "method") != "post") continue;
    EXPECT_THAT(form, HasSubstr("<input type=\"hidden\" name=\"csrf\" value=\""));
  }
  ExpectElementsBalanced(html);
}

// --- The client page ---------------------------------------------------------------

TEST(ClientPageTest, ShowsTheCareTeamPlanReferralsConsentAndTimeline) {
  const std::string html = Render(DemoPage());
  ExpectGoodHtml(html);
  EXPECT_THAT(html, HasSubstr("<title>Client client-0004 – Switchboard</title>"));
  EXPECT_THAT(html, HasSubstr("Signed in as <strong>K. Mensah</strong>, Harbour Housing Trust"));
  // Care team: display names, roles in words, since when.
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">St Mary&#39;s Hospital</th>"));
  EXPECT_THAT(html, HasSubstr("<td>housing support</td>"));
  EXPECT_THAT(html, HasSubstr("<time datetime=\"2026-09-18T10:00:00Z\">18 Sep 2026</time>"));
  // The plan by domain, with owners and statuses in words.
  EXPECT_THAT(html,
              HasSubstr("Version 9, updated 26 Nov 2026, 22:42 UTC by Harbour Housing Trust"));
  const size_t health = html.find("<h3>Health</h3>");
  const size_t housing = html.find("<h3>Housing</h3>");
  const size_t income = html.find("<h3>Income</h3>");
  ASSERT_NE(health, std::string::npos);
  ASSERT_NE(housing, std::string::npos);
  ASSERT_NE(income, std::string::npos);
  EXPECT_LT(health, housing);
  EXPECT_LT(housing, income);
  EXPECT_THAT(html, HasSubstr("<li class=\"item owned\" id=\"item-g-tenancy\">"));
  EXPECT_THAT(html, HasSubstr("<li class=\"item\" id=\"item-g-gp\">"));
  EXPECT_THAT(html, HasSubstr("<h4>Secure a stable tenancy</h4>"));
  EXPECT_THAT(html, HasSubstr("id=\"referral-ref-0004-housing\""));
  EXPECT_THAT(html, HasSubstr("<span class=\"status status-reopened\">reopened</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"status status-on-hold\">on hold</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"status status-completed\">completed</span>"));
  // The housing goal's chart and its latest note.
  EXPECT_THAT(html, HasSubstr("aria-label=\"Attainment over time: \u22122 on 8 Oct, \u22121 on 20 "
                              "Oct, 0 on 17 Nov, +1 on 24 Nov\""));
  EXPECT_THAT(html, HasSubstr("Latest note, 24 Nov 2026, by K. Mensah, housing support (rating "
                              "+1):"));
  EXPECT_THAT(html,
              HasSubstr("<p>Tenancy offered after the viewing; moving in on 1 December.</p>"));
  EXPECT_THAT(html, HasSubstr("1 progress entry was withheld under the client&#39;s consent."));
  EXPECT_THAT(html, HasSubstr("<p class=\"chart-empty\">No ratings yet</p>"));  // benefits
  // Referrals and the escalation notice; the consent summary.
  EXPECT_THAT(html, HasSubstr("<h3>Housing support: St Mary&#39;s Hospital to Harbour Housing "
                              "Trust</h3>"));
  EXPECT_THAT(html, HasSubstr("Referral ref-0004-family (family support visit) from Community Care "
                              "Coordination to Northside Family Services has had no answer since "
                              "3 Oct 2026; it was escalated to the coordinators on 26 Nov 2026."));
  EXPECT_THAT(html, HasSubstr("<summary>Closed referrals (1)</summary>"));
  EXPECT_THAT(html, HasSubstr("<li id=\"referral-ref-0004-debt\">Debt advice: Community Care "
                              "Coordination to Harbour Housing Trust \u00b7 rejected (No capacity "
                              "this month.) \u00b7 3 Oct 2026, 09:00 UTC</li>"));
  EXPECT_THAT(html, Not(HasSubstr("/referrals/ref-0004-debt/")));
  EXPECT_THAT(html, HasSubstr("<li>Harbour Housing Trust sees everything except mental health "
                              "notes and other sensitive notes.</li>"));
  // The timeline, in the order given (newest first), filters and paging.
  const size_t reopened = html.find("Care plan: goal g-tenancy reopened");
  const size_t discharge = html.find("Discharge summary: Discharge from Ward 7");
  ASSERT_NE(reopened, std::string::npos);
  ASSERT_NE(discharge, std::string::npos);
  EXPECT_LT(reopened, discharge);
  EXPECT_THAT(html, HasSubstr("Some of this was withheld under the client's consent."));
  EXPECT_THAT(html, HasSubstr("<option value=\"harbour-housing\" selected>Harbour Housing "
                              "Trust</option>"));
  EXPECT_THAT(html, HasSubstr("<option value=\"\" selected>All domains</option>"));
  EXPECT_THAT(html, HasSubstr("<option value=\"housing\">Housing</option>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/clients/client-0004?org=harbour-housing&amp;page=tok%"
                              "2Folder%20page%2B1#timeline\" rel=\"next\">Older</a>"));
}

TEST(ClientPageTest, WithheldItemsAndEntriesSayNothingButThat) {
  const std::string html = Render(DemoPage());
  for (const char* secret :
       {"SECRET-PSY", "g-SECRET-ID", "SECRET-OWNER", "SECRET-DOMAIN", "Secret-domain",
        "SECRET-NOTE", "SECRET-TIMELINE-TITLE", "SECRET-TIMELINE-DETAIL", "SECRET-TIMELINE-ORG"}) {
    EXPECT_THAT(html, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(html,
              HasSubstr(absl::StrCat("<li class=\"item withheld\"><p>", kWithheld, "</p></li>")));
  // The withheld timeline entry keeps its place in the story (its time) only.
  EXPECT_THAT(html, HasSubstr(absl::StrCat("<time datetime=\"2026-11-19T10:00:00Z\">19 Nov 2026, "
                                           "10:00 UTC</time></p>\n      <p>",
                                           kWithheld, "</p>")));
}

TEST(ClientPageTest, FormsOnlyOnTheReadersOwnGoalsEachWithCsrfAndVersion) {
  const std::string html = Render(DemoPage());
  std::vector<std::string> actions;
  for (const std::string& form : Forms(html)) {
    const std::string open = form.substr(0, form.find('>'));
    if (Attr(open, "method") != "post") continue;
    actions.push_back(Attr(open, "action"));
    if (Attr(open, "action") == "/sign-out") continue;
    SCOPED_TRACE(Attr(open, "action"));
    EXPECT_THAT(form, HasSubstr(absl::StrCat("<input type=\"hidden\" name=\"csrf\" value=\"", kCsrf,
                                             "\">")));
    EXPECT_THAT(form, HasSubstr("<input type=\"hidden\" name=\"version\" value=\""));
  }
  EXPECT_THAT(actions, ::testing::UnorderedElementsAre(
                           "/sign-out",
                           // Harbour's goal and activity: progress and status.
                           "/clients/client-0004/items/g-tenancy/progress",
                           "/clients/client-0004/items/g-tenancy/status",
                           "/clients/client-0004/items/a-benefits/progress",
                           "/clients/client-0004/items/a-benefits/status",
                           // The referral addressed to Harbour, still requested.
                           "/clients/client-0004/referrals/ref-0004-budget/accept",
                           "/clients/client-0004/referrals/ref-0004-budget/decline"));
  // The plan version the page showed; a referral's steps shown.
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"version\" value=\"9\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"version\" value=\"1\">"));
  // Reopened goals are put on hold, paused ones reopened.
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"status\" value=\"on-hold\">"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"status\" value=\"reopened\">"));
  EXPECT_THAT(html, HasSubstr(">Put on hold</button>"));
  EXPECT_THAT(html, HasSubstr(">Reopen</button>"));
  // The rating select offers the goal's scale (GAS), and no rating.
  EXPECT_THAT(html, HasSubstr("<option value=\"\" selected>No rating</option>"));
  EXPECT_THAT(html, HasSubstr("<option value=\"-2\">\u22122: much less than expected</option>"));
  EXPECT_THAT(html, HasSubstr("<option value=\"2\">+2: much more than expected</option>"));
  EXPECT_THAT(html, HasSubstr("<label for=\"decline-reason-"));
}

TEST(ClientPageTest, CoordinatorGetsNoGoalFormsButAcknowledgesEscalations) {
  ClientPage page = DemoPage("care-coord");
  page.can_acknowledge_escalations = true;
  std::string html = Render(page);
  ExpectGoodHtml(html);
  EXPECT_THAT(html, Not(HasSubstr("/progress\"")));
  EXPECT_THAT(html, Not(HasSubstr("/accept\"")));
  EXPECT_THAT(html, HasSubstr("action=\"/clients/client-0004/referrals/ref-0004-family/"
                              "acknowledge\""));
  page.acknowledged_escalations = {"ref-0004-family"};
  html = Render(page);
  EXPECT_THAT(html, Not(HasSubstr("/acknowledge\"")));
  EXPECT_THAT(html, Not(HasSubstr("Needs attention")));
}

TEST(ClientPageTest, EscapesEverythingFromMembers) {
  ClientPage page = DemoPage();
  page.plan.mutable_items(1)->mutable_item()->set_description("<script>alert(1)</script>");
  page.plan.mutable_items(1)->mutable_item()->set_id("g\"><img src=x onerror=alert(1)>");
  page.timeline.mutable_entries(0)->set_title("<img src=x onerror=alert(2)>");
  page.organisation_names["st-marys"] = "St Mary's <b>Hospital</b>";
  page.client_id = "client/../0004?x=<y>";
  const std::string html = Render(page);
  ExpectGoodHtml(html);
  EXPECT_THAT(html, Not(HasSubstr("<script>alert(1)</script>")));
  EXPECT_THAT(html, HasSubstr("<h4>&lt;script&gt;alert(1)&lt;/script&gt;</h4>"));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("St Mary&#39;s &lt;b&gt;Hospital&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("/clients/client%2F..%2F0004%3Fx%3D%3Cy%3E/items/"
                              "g%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/progress"));
}

TEST(ClientPageTest, FlashMessageForAStalePage) {
  ClientPage page = DemoPage();
  page.flash = {Flash::Kind::kWarning, kItemChangedMessage};
  const std::string html = Render(page);
  EXPECT_THAT(html, HasSubstr("<div class=\"flash flash-warning\" role=\"alert\">\n  <p>This goal "
                              "changed since you opened the page \u2014 reload to see the latest "
                              "version.</p>"));
}

TEST(ClientPageTest, EmptyClient) {
  ClientPage page;
  page.viewer = {"A. Person", "harbour-housing", "Harbour Housing Trust", kCsrf};
  page.client_id = "client-0009";
  const std::string html = Render(page);
  ExpectGoodHtml(html);
  EXPECT_THAT(html, HasSubstr("<p>No organisation is in the care team.</p>"));
  EXPECT_THAT(html, HasSubstr("<p>No care plan yet.</p>"));
  EXPECT_THAT(html, HasSubstr("No referral that you may see."));
  EXPECT_THAT(html, HasSubstr("Nothing in the timeline that you may see."));
  EXPECT_THAT(html, Not(HasSubstr("rel=\"next\"")));
}

TEST(ClientPageTest, OtherScalesAndNewestLink) {
  ClientPage page = DemoPage();
  v1::CarePlanItem* t = page.plan.mutable_items(1)->mutable_item();
  *t->add_progress() = Progress(11, 30, 7, "Star rating.", "outcome-star");
  page.timeline_filter = {"", "housing", "tok-2"};
  page.timeline.clear_next_page_token();
  const std::string html = Render(page);
  ExpectGoodHtml(html);
  EXPECT_THAT(html, HasSubstr("Rated on the Outcomes Star, 1 (stuck) to 10 (self-reliant). 4 "
                              "earlier ratings on another scale are not in the chart."));
  EXPECT_THAT(html, HasSubstr("aria-label=\"Attainment over time: 7 on 30 Nov\""));
  EXPECT_THAT(html, HasSubstr("<option value=\"10\">10</option>"));
  EXPECT_THAT(html, HasSubstr("<input type=\"hidden\" name=\"scale\" value=\"outcome-star\">"));
  EXPECT_THAT(html,
              HasSubstr("<a href=\"/clients/client-0004?domain=housing#timeline\">Newest</a>"));
  EXPECT_THAT(html, Not(HasSubstr(">Older</a>")));
}

// --- The chart -------------------------------------------------------------------

TEST(AttainmentSvgTest, DrawsOnePointPerRatingInTimeOrder) {
  v1::CarePlanItem goal;
  *goal.add_progress() = Progress(11, 17, 0, "");
  *goal.add_progress() = Progress(10, 8, -2, "");  // out of order: sorted by time
  *goal.add_progress() = Progress(11, 4, std::nullopt, "no rating");
  *goal.add_progress() = Progress(11, 24, 1, "");
  const std::string svg = AttainmentSvg(goal, -2, 2);
  EXPECT_TRUE(absl::StartsWith(svg,
                               "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                               "role=\"img\" aria-label=\"Attainment over time: \u22122 on 8 "
                               "Oct, 0 on 17 Nov, +1 on 24 Nov\""))
      << svg;
  EXPECT_THAT(svg, HasSubstr("<title>Attainment over time: \u22122 on 8 Oct, 0 on 17 Nov, +1 on 24 "
                             "Nov</title>"));
  EXPECT_THAT(All(svg, "<circle "), ::testing::SizeIs(3));
  EXPECT_THAT(All(svg, "<polyline "), ::testing::SizeIs(1));
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray"));  // the baseline at 0
  EXPECT_THAT(svg, Not(HasSubstr("style")));
  EXPECT_THAT(svg, Not(HasSubstr("<script")));
  // The first point is the lowest (−2: largest y), the last the highest of the three.
  const std::vector<std::string> ys = All(svg, "cy=\"([0-9.]+)\"", 1);
  ASSERT_EQ(ys.size(), 3u);
  EXPECT_GT(std::stod(ys[0]), std::stod(ys[1]));
  EXPECT_GT(std::stod(ys[1]), std::stod(ys[2]));
  ExpectElementsBalanced(svg);
}

TEST(AttainmentSvgTest, NoRatingsNoChart) {
  v1::CarePlanItem goal;
  *goal.add_progress() = Progress(11, 4, std::nullopt, "a note only");
  EXPECT_EQ(AttainmentSvg(goal, -2, 2), "<p class=\"chart-empty\">No ratings yet</p>");
}

TEST(AttainmentSvgTest, UnsignedScaleYearsAndOutOfRange) {
  v1::CarePlanItem goal;
  *goal.add_progress() = Progress(12, 30, 3, "");
  v1::ProgressEntry next = Progress(1, 5, 12, "");
  *next.mutable_at() =
      ToProtoTime(absl::FromCivil(absl::CivilDay(2027, 1, 5), absl::UTCTimeZone()));
  *goal.add_progress() = next;
  const std::string svg = AttainmentSvg(goal, 1, 10);
  EXPECT_THAT(svg, HasSubstr("aria-label=\"Attainment over time: 3 on 30 Dec 2026, 12 on 5 Jan "
                             "2027\""));
  EXPECT_THAT(svg, Not(HasSubstr("stroke-dasharray")));  // no 0 on a 1..10 scale
  // 12 is drawn at the top edge (10), not outside the chart.
  const std::vector<std::string> ys = All(svg, "cy=\"([0-9.]+)\"", 1);
  ASSERT_EQ(ys.size(), 2u);
  EXPECT_EQ(ys[1], "8.0");
}

// --- The other pages ---------------------------------------------------------------

TEST(SignInPageTest, FormWithLabelsCsrfAndError) {
  SignInPage page;
  page.organisation = "harbour-housing\"><script>";
  page.user_name = "k.mensah";
  page.error = kSignInFailedMessage;
  page.csrf_token = "pre-session";
  page.next = "/clients/client-0004";
  absl::StatusOr<std::string> html = RenderSignIn(page);
  ASSERT_TRUE(html.ok()) << html.status();
  ExpectGoodHtml(*html);
  EXPECT_THAT(*html, Not(HasSubstr("Signed in as")));
  EXPECT_THAT(*html, Not(HasSubstr("/sign-out")));
  EXPECT_THAT(*html, HasSubstr("<input type=\"hidden\" name=\"csrf\" value=\"pre-session\">"));
  EXPECT_THAT(*html,
              HasSubstr("<input type=\"hidden\" name=\"next\" value=\"/clients/client-0004\">"));
  EXPECT_THAT(*html, HasSubstr("value=\"harbour-housing&quot;&gt;&lt;script&gt;\""));
  EXPECT_THAT(*html, HasSubstr("role=\"alert\""));
  EXPECT_THAT(*html, HasSubstr(kSignInFailedMessage));
  EXPECT_THAT(*html, HasSubstr("autocomplete=\"current-password\""));
}

TEST(ChangePasswordPageTest, RequiredAfterOneTimePassword) {
  ChangePasswordPage page;
  page.viewer = {"K. Mensah", "harbour-housing", "Harbour Housing Trust", kCsrf};
  page.required = true;
  absl::StatusOr<std::string> html = RenderChangePassword(page);
  ASSERT_TRUE(html.ok()) << html.status();
  ExpectGoodHtml(*html);
  EXPECT_THAT(*html, HasSubstr("You signed in with a one-time password."));
  EXPECT_THAT(*html, HasSubstr("minlength=\"12\""));
  EXPECT_THAT(All(*html, "name=\"csrf\" value=\"csrf-token-123\""), ::testing::SizeIs(2));
}

TEST(ClientsPageTest, ResultsAndNoClientFound) {
  ClientsPage page;
  page.viewer = {"K. Mensah", "harbour-housing", "Harbour Housing Trust", kCsrf};
  page.query = "HH-1733";
  page.searched = true;
  v1::ClientIdentifier id;
  id.set_system("https://harbour-housing.example.org/case");
  id.set_value("HH-1733");
  page.results.push_back({"client-0004", "", {id}});
  absl::StatusOr<std::string> html = RenderClients(page);
  ASSERT_TRUE(html.ok()) << html.status();
  ExpectGoodHtml(*html);
  EXPECT_THAT(*html, HasSubstr("<a href=\"/clients/client-0004\">client-0004</a>"));
  EXPECT_THAT(*html, HasSubstr("HH-1733 (https://harbour-housing.example.org/case)"));

  page.results.clear();
  page.query = "<nobody>";
  html = RenderClients(page);
  ASSERT_TRUE(html.ok()) << html.status();
  ExpectGoodHtml(*html);
  EXPECT_THAT(*html, HasSubstr("No client found for \u201c&lt;nobody&gt;\u201d."));
  EXPECT_THAT(*html, HasSubstr("value=\"&lt;nobody&gt;\""));
}

TEST(ErrorPageTest, PlainMessagePerStatus) {
  for (int status : {403, 404, 500, 502}) {
    SCOPED_TRACE(status);
    absl::StatusOr<std::string> html = RenderError({status, "", nullptr});
    ASSERT_TRUE(html.ok()) << html.status();
    ExpectGoodHtml(*html);
    EXPECT_THAT(*html, HasSubstr(status == 404   ? "<h1>Page not found</h1>"
                                 : status == 403 ? "<h1>Not allowed</h1>"
                                                 : "<h1>Something went wrong</h1>"));
    EXPECT_THAT(*html, HasSubstr("href=\"/sign-in\""));
  }
  const Viewer viewer{"K. Mensah", "harbour-housing", "Harbour Housing Trust", kCsrf};
  absl::StatusOr<std::string> html = RenderError({404, "No client with this identifier.", &viewer});
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_THAT(*html, HasSubstr("<p>No client with this identifier.</p>"));
  EXPECT_THAT(*html, HasSubstr("Signed in as"));
}

// With SB_WEB_PAGES_OUT=DIR, writes the pages of these tests to DIR (to look at in
// a browser with gateway/web/static/app.css beside them as static/app.css).
TEST(PagesForPeopleTest, WriteWhenAsked) {
  const char* dir = std::getenv("SB_WEB_PAGES_OUT");
  if (dir == nullptr) GTEST_SKIP() << "SB_WEB_PAGES_OUT not set";
  ClientPage coordinator = DemoPage("care-coord");
  coordinator.can_acknowledge_escalations = true;
  ClientPage stale = DemoPage();
  stale.flash = {Flash::Kind::kWarning, kItemChangedMessage};
  SignInPage sign_in;
  sign_in.error = kSignInFailedMessage;
  const Viewer viewer = DemoPage().viewer;
  ClientsPage clients{viewer, "HH", true, {{"client-0004", "", DemoPage().identifiers}}, {}};
  ChangePasswordPage password{viewer, true, 12, "", {}};
  const std::vector<std::pair<std::string, absl::StatusOr<std::string>>> pages = {
      {"client-housing.html", RenderClientPage(DemoPage())},
      {"client-coordinator.html", RenderClientPage(coordinator)},
      {"client-stale.html", RenderClientPage(stale)},
      {"sign-in.html", RenderSignIn(sign_in)},
      {"error-404.html", RenderError({404, "", nullptr})},
      {"clients.html", RenderClients(clients)},
      {"password.html", RenderChangePassword(password)},
  };
  for (const auto& [name, html] : pages) {
    ASSERT_TRUE(html.ok()) << html.status();
    std::ofstream(absl::StrCat(dir, "/", name)) << *html;
  }
}

}  // namespace
}  // namespace switchboard::gateway::web
