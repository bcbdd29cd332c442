// The CarePlans service against the real binary: optimistic concurrency
// between members (ABORTED naming the version to retry on), ownership of
// items, on-hold and reopened goals whose ratings are never lost, as-of views,
// consent filtering of the plan, its history and the timeline for several
// readers (checked in the raw bytes of every response), timeline paging and
// filters, the rights of members outside the care team, the audit of every
// read, refusal of bad ratings, and all of it surviving a restart.
//
// Every withheld element carries a marker string (`SECRET-PSY...`); the tests
// look for it in the serialised responses: a withheld element must leave
// nothing behind.
#include <algorithm>
#include <latch>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/careplans.grpc.pb.h"
#include "switchboard/v1/consents.grpc.pb.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kActCode[] = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr char kEnterpriseSystem[] = "urn:switchboard:client";
constexpr char kPlanEvent[] = "care-plan-change";

// Markers of the content client A's consent withholds from the agencies: none
// may appear in any byte an agency receives.
const std::vector<std::string>& WithheldMarkers() {
  static const auto* markers =
      new std::vector<std::string>{"SECRET-PSY", "psy-goal", "mental-health"};
  return *markers;
}

// client-a: care team st-marys, harbour-housing, northside-family (TestConfig)
// and care-coord (the coordinator, added here). Its consent shares everything
// with the care team except PSY content, which only the hospital and the
// coordinator may see (deploy/demo's consent-0001-2026-11 for client A).
constexpr char kSeed[] = R"(
  care_teams { client_id: "client-a" members { organisation_id: "care-coord" role: "coordinator" } }
  consents {
    id: "consent-a-psy"
    status: ACTIVE
    client { system: "https://st-marys.example.org/fhir/mrn" value: "MRN-1" }
    recorded_by: "care-coord"
    source_reference: "care-coord:forms/client-a-consent.pdf"
    provision {
      type: PERMIT
      provisions {
        type: DENY
        security_labels { system: "http://terminology.hl7.org/CodeSystem/v3-ActCode" code: "PSY" }
        provisions {
          type: PERMIT
          actors { organisation_id: "st-marys" }
          actors { organisation_id: "care-coord" }
        }
      }
    }
  }
)";

// A scale of our own, next to the built-in `gas` (-2..+2).
constexpr char kExtraConfig[] = R"(attainment_scales { name: "star" min: 1 max: 10 })";

v1::ClientIdentifier Id(const std::string& system, const std::string& value) {
  v1::ClientIdentifier id;
  id.set_system(system);
  id.set_value(value);
  return id;
}
// Client A as the hospital, housing and the gateway name it.
v1::ClientIdentifier ByMrn() { return Id(kMrnSystem, "MRN-1"); }
v1::ClientIdentifier ByHousingCase() { return Id(kHousingSystem, "HH-1"); }
v1::ClientIdentifier ByEnterpriseId() { return Id(kEnterpriseSystem, "client-a"); }

v1::SecurityLabel Psy() {
  v1::SecurityLabel l;
  l.set_system(kActCode);
  l.set_code("PSY");
  return l;
}

v1::CarePlanItem Item(const std::string& id, v1::CarePlanItem::Kind kind, const std::string& domain,
                      const std::string& description,
                      v1::CarePlanItem::Status status = v1::CarePlanItem::ACTIVE) {
  v1::CarePlanItem item;
  item.set_id(id);
  item.set_kind(kind);
  item.set_domain(domain);
  item.set_status(status);
  item.set_description(description);
  return item;
}
v1::CarePlanItem Goal(const std::string& id, const std::string& domain,
                      const std::string& description,
                      v1::CarePlanItem::Status status = v1::CarePlanItem::ACTIVE) {
  return Item(id, v1::CarePlanItem::GOAL, domain, description, status);
}

// A progress entry; `attainment` unset for a note only.
v1::ProgressEntry Progress(std::optional<int> attainment, const std::string& note = "",
                           const std::string& scale = "") {
  v1::ProgressEntry e;
  *e.mutable_at() = ToProtoTime(absl::Now());
  if (attainment.has_value()) e.set_attainment(*attainment);
  e.set_scale(scale);
  e.set_note(note);
  e.set_author("Worker");
  return e;
}

std::vector<int> Ratings(const v1::CarePlanItem& item) {
  std::vector<int> out;
  for (const auto& e : item.progress()) {
    if (e.has_attainment()) out.push_back(e.attainment());
  }
  return out;
}

// The visible item with `id` in a view (nullptr when absent or redacted).
const v1::CarePlanViewItem* Find(const v1::CarePlanView& view, const std::string& id) {
  for (const auto& i : view.items()) {
    if (!i.redacted() && i.item().id() == id) return &i;
  }
  return nullptr;
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return MessageDifferencer::Equals(a, b);
}

// Whether any withheld marker appears in `bytes`; names it.
std::string LeakedMarker(const std::string& bytes) {
  for (const std::string& m : WithheldMarkers()) {
    if (absl::StrContains(bytes, m)) return m;
  }
  return "";
}

// A member's CarePlans stub; every call names the person `user` (sb-user).
class PlanClient {
 public:
  PlanClient(const std::string& address, const std::string& org, std::string user)
      : stub_(v1::CarePlans::NewStub(MakeChannel(address, TestPki::Get().Member(org)))),
        user_(std::move(user)) {}

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto ctx = Ctx();
    ctx->AddMetadata("sb-user", user_);
    return ctx;
  }

  grpc::Status Get(const v1::ClientIdentifier& client, v1::CarePlanView* out,
                   std::optional<absl::Time> as_of = std::nullopt) {
    v1::GetCarePlanRequest request;
    *request.mutable_client() = client;
    if (as_of.has_value()) *request.mutable_as_of() = ToProtoTime(*as_of);
    return stub_->GetCarePlan(Context().get(), request, out);
  }

  // `current_version`: the trailing metadata `sb-current-version`, if sent.
  grpc::Status Update(const v1::ClientIdentifier& client, int64_t expected,
                      const std::vector<v1::CarePlanItem>& items,
                      v1::UpdateCarePlanResponse* out = nullptr,
                      std::optional<std::string>* current_version = nullptr) {
    v1::UpdateCarePlanRequest request;
    *request.mutable_client() = client;
    request.set_expected_version(expected);
    for (const auto& item : items) *request.add_items() = item;
    v1::UpdateCarePlanResponse ignored;
    auto ctx = Context();
    grpc::Status s = stub_->Update(ctx.get(), request, out != nullptr ? out : &ignored);
    if (current_version != nullptr) {
      current_version->reset();
      const auto& trailers = ctx->GetServerTrailingMetadata();
      auto it = trailers.find("sb-current-version");
      if (it != trailers.end())
        *current_version = std::string(it->second.data(), it->second.size());
    }
    return s;
  }

  grpc::Status History(const v1::ClientIdentifier& client, v1::CarePlanHistoryResponse* out) {
    v1::CarePlanHistoryRequest request;
    *request.mutable_client() = client;
    return stub_->History(Context().get(), request, out);
  }

  grpc::Status Timeline(const v1::GetTimelineRequest& request, v1::GetTimelineResponse* out) {
    return stub_->GetTimeline(Context().get(), request, out);
  }

  grpc::Status Referrals(const v1::ClientIdentifier& client, v1::ListReferralsResponse* out) {
    v1::ListReferralsRequest request;
    *request.mutable_client() = client;
    return stub_->ListReferrals(Context().get(), request, out);
  }

  // Every page of the timeline, following next_page_token; the pages (as
  // received) in `pages` when set. Fails the test on an error or a loop.
  std::vector<v1::TimelineEntry> WholeTimeline(
      const v1::ClientIdentifier& client, int page_size,
      std::vector<std::string> organisations = {}, std::vector<std::string> domains = {},
      std::vector<v1::GetTimelineResponse>* pages = nullptr) {
    std::vector<v1::TimelineEntry> out;
    v1::GetTimelineRequest request;
    *request.mutable_client() = client;
    request.set_page_size(page_size);
    for (const auto& o : organisations) request.add_organisations(o);
    for (const auto& d : domains) request.add_domains(d);
    for (int page = 0; page < 1000; ++page) {
      v1::GetTimelineResponse response;
      grpc::Status s = Timeline(request, &response);
      if (!s.ok()) {
        ADD_FAILURE() << "GetTimeline: " << s.error_message();
        return out;
      }
      EXPECT_LE(response.entries_size(), page_size);
      for (const auto& e : response.entries()) out.push_back(e);
      if (pages != nullptr) pages->push_back(response);
      if (response.next_page_token().empty()) return out;
      EXPECT_GT(response.entries_size(), 0) << "a page with a token must not be empty";
      request.set_page_token(response.next_page_token());
    }
    ADD_FAILURE() << "the timeline's tokens never end";
    return out;
  }

 private:
  std::unique_ptr<v1::CarePlans::Stub> stub_;
  const std::string user_;
};

std::vector<uint64_t> Seqs(const std::vector<v1::TimelineEntry>& entries) {
  std::vector<uint64_t> out;
  for (const auto& e : entries) out.push_back(e.seq());
  return out;
}

const v1::TimelineEntry* FindEntry(const std::vector<v1::TimelineEntry>& entries, uint64_t seq) {
  for (const auto& e : entries) {
    if (e.seq() == seq) return &e;
  }
  return nullptr;
}

// The entries that are not withheld and match `pred`.
template <typename Pred>
std::vector<v1::TimelineEntry> Where(const std::vector<v1::TimelineEntry>& entries, Pred pred) {
  std::vector<v1::TimelineEntry> out;
  for (const auto& e : entries) {
    if (!e.redacted() && pred(e)) out.push_back(e);
  }
  return out;
}

bool HasDetail(const v1::TimelineEntry& e, const std::string& text) {
  for (const auto& d : e.details()) {
    if (absl::StrContains(d, text)) return true;
  }
  return absl::StrContains(e.title(), text);
}

class CarePlanTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.sharing_policy = ReadSource("deploy/demo/sharing-policy.textproto");
    o.extra_seed = kSeed;
    o.extra_config = kExtraConfig;
    return o;
  }

  std::unique_ptr<PlanClient> Plans(const std::string& org, const std::string& user = "") {
    return std::make_unique<PlanClient>(gateway_->address(), org,
                                        user.empty() ? org + " worker" : user);
  }

  std::unique_ptr<v1::Consents::Stub> Consents(const std::string& org) {
    return v1::Consents::NewStub(MakeChannel(gateway_->address(), TestPki::Get().Member(org)));
  }

  // The plan version `client` sees now (0 on an error, which fails the test).
  int64_t VersionNow(PlanClient& client, const v1::ClientIdentifier& id) {
    v1::CarePlanView view;
    grpc::Status s = client.Get(id, &view);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return view.version();
  }

  // A care-plan-change message as another member's system would publish it.
  static v1::Message PlanMessage(const std::string& id, const std::string& source,
                                 const v1::ClientIdentifier& client, int64_t expected,
                                 v1::CarePlanItem item) {
    v1::Message m;
    v1::MessageHeader* h = m.mutable_header();
    h->set_id(id);
    h->set_event(kPlanEvent);
    h->set_source(source);
    *h->mutable_client() = client;
    *h->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Minutes(5));
    h->set_author("Fran Family");
    item.set_owner(source);
    m.mutable_care_plan_change()->set_expected_version(expected);
    *m.mutable_care_plan_change()->add_items() = std::move(item);
    return m;
  }

  // The hospital's PSY content about client A: a PSY goal, an unlabelled goal
  // with one plain and one PSY progress entry (versions 1 and 2 of the plan),
  // and a case note with a plain and a PSY section.
  void AddPsyContent() {
    auto hospital = Plans("st-marys", "Dr Ada");
    v1::CarePlanItem psy =
        Goal("psy-goal", "mental-health", "SECRET-PSY-GOAL attend clinic weekly");
    *psy.add_security_labels() = Psy();
    v1::CarePlanItem meds = Goal("meds-goal", "health", "Takes medication as prescribed");
    *meds.add_progress() = Progress(0, "collects prescriptions");
    v1::UpdateCarePlanResponse r;
    grpc::Status s = hospital->Update(ByMrn(), 0, {psy, meds}, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(r.version(), 1);
    v1::ProgressEntry psy_progress = Progress(1, "SECRET-PSY-PROGRESS seen by the psychiatrist");
    *psy_progress.add_security_labels() = Psy();
    *meds.add_progress() = psy_progress;
    s = hospital->Update(ByMrn(), 1, {meds}, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(r.version(), 2);

    v1::Message note = CaseNote("psy-note", "st-marys", kMrnSystem, "MRN-1");
    note.mutable_header()->set_author("Dr Ada");
    note.mutable_case_note()->set_domain("health");
    note.mutable_case_note()->set_title("Ward review");
    note.mutable_case_note()->clear_sections();
    v1::Section* plain = note.mutable_case_note()->add_sections();
    plain->set_title("Plan");
    plain->set_text("PLAIN-NOTE-TEXT home on Friday");
    v1::Section* secret = note.mutable_case_note()->add_sections();
    secret->set_title("SECRET-PSY-TITLE");
    secret->set_text("SECRET-PSY-NOTE psychotic episode");
    *secret->add_security_labels() = Psy();
    grpc::Status published = As("st-marys")->Publish(note);
    ASSERT_TRUE(published.ok()) << published.error_message();
  }

  std::vector<v1::AuditRecord> Audit() { return As("admin")->AuditRecords(); }
};

// 1. Two members update the same version at once: exactly one wins; the other
// gets ABORTED naming the version to retry on (message and trailer), and wins
// on that version.
TEST_F(CarePlanTest, ConcurrentUpdatesOneWinsOtherRetriesOnTheVersionNamed) {
  auto hospital = Plans("st-marys", "Dr Ada");
  auto housing = Plans("harbour-housing", "Hana Case");
  v1::UpdateCarePlanResponse r;
  grpc::Status s = hospital->Update(ByMrn(), 0, {Goal("h-goal", "health", "round -1")}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.version(), 1);
  int64_t n = 1;

  // Concurrent rounds: both read N, both write on N at the same moment.
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(absl::StrCat("concurrent round ", round));
    ASSERT_EQ(VersionNow(*hospital, ByMrn()), n);
    ASSERT_EQ(VersionNow(*housing, ByHousingCase()), n);
    struct Outcome {
      grpc::Status status;
      v1::UpdateCarePlanResponse response;
      std::optional<std::string> trailer;
    };
    Outcome h, o;
    const std::string text = absl::StrCat("round ", round);
    std::latch start(2);
    std::thread th([&] {
      start.arrive_and_wait();
      h.status =
          hospital->Update(ByMrn(), n, {Goal("h-goal", "health", text)}, &h.response, &h.trailer);
    });
    std::thread to([&] {
      start.arrive_and_wait();
      o.status = housing->Update(ByHousingCase(), n, {Goal("hh-goal", "housing", text)},
                                 &o.response, &o.trailer);
    });
    th.join();
    to.join();
    ASSERT_NE(h.status.ok(), o.status.ok())
        << "exactly one must win: hospital " << h.status.error_message() << " / housing "
        << o.status.error_message();
    Outcome& winner = h.status.ok() ? h : o;
    Outcome& loser = h.status.ok() ? o : h;
    PlanClient& loser_client = h.status.ok() ? *housing : *hospital;
    const v1::ClientIdentifier loser_id = h.status.ok() ? ByHousingCase() : ByMrn();
    const v1::CarePlanItem loser_item =
        h.status.ok() ? Goal("hh-goal", "housing", text) : Goal("h-goal", "health", text);
    EXPECT_EQ(winner.response.version(), n + 1);
    EXPECT_EQ(loser.status.error_code(), grpc::StatusCode::ABORTED) << loser.status.error_message();
    EXPECT_THAT(loser.status.error_message(), HasSubstr(absl::StrCat("at version ", n + 1)));
    EXPECT_EQ(loser.trailer, std::optional<std::string>(absl::StrCat(n + 1)));
    // The loser retries on the version named.
    v1::UpdateCarePlanResponse retried;
    s = loser_client.Update(loser_id, n + 1, {loser_item}, &retried);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(retried.version(), n + 2);
    n += 2;
  }

  // A deterministic round: the hospital first, housing on the stale version.
  ASSERT_EQ(VersionNow(*housing, ByHousingCase()), n);
  s = hospital->Update(ByMrn(), n, {Goal("h-goal", "health", "final")}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.version(), n + 1);
  std::optional<std::string> trailer;
  s = housing->Update(ByHousingCase(), n, {Goal("hh-goal", "housing", "final")}, &r, &trailer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr(absl::StrCat("at version ", n + 1)));
  EXPECT_EQ(trailer, std::optional<std::string>(absl::StrCat(n + 1)));
  // Nothing of the refused change was kept.
  v1::CarePlanView view;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &view).ok());
  EXPECT_EQ(view.version(), n + 1);
  ASSERT_NE(Find(view, "hh-goal"), nullptr);
  EXPECT_EQ(Find(view, "hh-goal")->item().description(), "round 3");
  s = housing->Update(ByHousingCase(), n + 1, {Goal("hh-goal", "housing", "final")}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.version(), n + 2);
  n += 2;

  // Every write that succeeded is one version; each member's last word kept.
  ASSERT_TRUE(hospital->Get(ByMrn(), &view).ok());
  EXPECT_EQ(view.version(), n);
  ASSERT_EQ(view.items_size(), 2);
  ASSERT_NE(Find(view, "h-goal"), nullptr);
  ASSERT_NE(Find(view, "hh-goal"), nullptr);
  EXPECT_EQ(Find(view, "h-goal")->item().description(), "final");
  EXPECT_EQ(Find(view, "h-goal")->item().owner(), "st-marys");
  EXPECT_EQ(Find(view, "hh-goal")->item().description(), "final");
  EXPECT_EQ(Find(view, "hh-goal")->item().owner(), "harbour-housing");
  v1::CarePlanHistoryResponse history;
  ASSERT_TRUE(hospital->History(ByMrn(), &history).ok());
  ASSERT_EQ(history.versions_size(), n);
  for (int i = 0; i < history.versions_size(); ++i) {
    EXPECT_EQ(history.versions(i).version(), n - i);
  }
}

// 2. A member cannot edit another member's item (nor add one in its name);
// the plan is left exactly as it was.
TEST_F(CarePlanTest, EditingAnotherMembersItemIsDeniedAndChangesNothing) {
  auto hospital = Plans("st-marys", "Dr Ada");
  auto housing = Plans("harbour-housing", "Hana Case");
  v1::UpdateCarePlanResponse r;
  ASSERT_TRUE(hospital
                  ->Update(ByMrn(), 0,
                           {Item("med-review", v1::CarePlanItem::ACTIVITY, "health",
                                 "Medication review at two weeks")},
                           &r)
                  .ok());
  ASSERT_TRUE(
      housing->Update(ByHousingCase(), 1, {Goal("tenancy", "housing", "Keep tenancy")}, &r).ok());
  ASSERT_EQ(r.version(), 2);
  v1::CarePlanView before;
  ASSERT_TRUE(hospital->Get(ByMrn(), &before).ok());

  v1::CarePlanItem theirs = Item("med-review", v1::CarePlanItem::ACTIVITY, "health",
                                 "Cancelled by housing", v1::CarePlanItem::CANCELLED);
  // Owner left empty (the caller), then claimed as the hospital's.
  for (const std::string& owner : {std::string(), std::string("st-marys")}) {
    SCOPED_TRACE(absl::StrCat("owner '", owner, "'"));
    theirs.set_owner(owner);
    grpc::Status s = housing->Update(ByHousingCase(), 2, {theirs});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("'med-review'"));
    EXPECT_THAT(s.error_message(), HasSubstr("'st-marys'"));
  }
  // Its own item and the hospital's in one change: refused as a whole.
  grpc::Status s = housing->Update(
      ByHousingCase(), 2, {Goal("tenancy", "housing", "Changed in the refused update"), theirs});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("'med-review'"));
  // A new item in another member's name.
  v1::CarePlanItem forged = Goal("forged", "health", "Added by housing as the hospital");
  forged.set_owner("st-marys");
  s = housing->Update(ByHousingCase(), 2, {forged});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("st-marys"));

  v1::CarePlanView after;
  ASSERT_TRUE(hospital->Get(ByMrn(), &after).ok());
  EXPECT_TRUE(Same(before, after)) << "before:\n"
                                   << before.DebugString() << "after:\n"
                                   << after.DebugString();
  EXPECT_EQ(after.version(), 2);
  ASSERT_NE(Find(after, "med-review"), nullptr);
  EXPECT_EQ(Find(after, "med-review")->item().status(), v1::CarePlanItem::ACTIVE);
  ASSERT_NE(Find(after, "tenancy"), nullptr);
  EXPECT_EQ(Find(after, "tenancy")->item().description(), "Keep tenancy");
  EXPECT_EQ(Find(after, "forged"), nullptr);
  v1::CarePlanHistoryResponse history;
  ASSERT_TRUE(hospital->History(ByMrn(), &history).ok());
  EXPECT_EQ(history.versions_size(), 2);
}

// 3. A goal rated -1 then 0, put on hold with a note, reopened with +1: every
// rating kept in order, every version in the history; REOPENED only from a
// closed state; resent progress entries are not duplicated.
TEST_F(CarePlanTest, GoalOnHoldAndReopenedKeepsEveryRating) {
  auto housing = Plans("harbour-housing", "Hana Case");
  auto coord = Plans("care-coord", "Cora Coord");
  v1::CarePlanItem goal = Goal("tenancy", "housing", "Keep the tenancy");
  *goal.add_progress() = Progress(-1, "rent arrears");
  v1::UpdateCarePlanResponse r;
  grpc::Status s = housing->Update(ByHousingCase(), 0, {goal}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.version(), 1);

  // The item as kept, resent with a new rating (as a member's system would).
  auto kept = [&]() {
    v1::CarePlanView view;
    EXPECT_TRUE(housing->Get(ByHousingCase(), &view).ok());
    const v1::CarePlanViewItem* item = Find(view, "tenancy");
    return item != nullptr ? item->item() : v1::CarePlanItem();
  };
  goal = kept();
  ASSERT_EQ(goal.progress_size(), 1);
  *goal.add_progress() = Progress(0, "payment plan agreed");
  ASSERT_TRUE(housing->Update(ByHousingCase(), 1, {goal}, &r).ok());
  ASSERT_EQ(r.version(), 2);

  // Reopening an active item (or one that does not exist) is refused.
  v1::CarePlanItem reopen_active = kept();
  reopen_active.set_status(v1::CarePlanItem::REOPENED);
  s = housing->Update(ByHousingCase(), 2, {reopen_active});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("tenancy"));
  s = housing->Update(ByHousingCase(), 2,
                      {Goal("never-seen", "housing", "new", v1::CarePlanItem::REOPENED)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(VersionNow(*housing, ByHousingCase()), 2);

  goal = kept();
  goal.set_status(v1::CarePlanItem::ON_HOLD);
  *goal.add_progress() = Progress(std::nullopt, "on hold: client admitted to hospital");
  ASSERT_TRUE(housing->Update(ByHousingCase(), 2, {goal}, &r).ok());
  ASSERT_EQ(r.version(), 3);

  goal = kept();
  ASSERT_EQ(goal.progress_size(), 3);
  goal.set_status(v1::CarePlanItem::REOPENED);
  *goal.add_progress() = Progress(1, "back home, rent paid");
  s = housing->Update(ByHousingCase(), 3, {goal}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(r.version(), 4);

  // Any care-team member sees the same item (it has no label).
  for (PlanClient* reader : {housing.get(), coord.get()}) {
    v1::CarePlanView view;
    ASSERT_TRUE(reader->Get(ByEnterpriseId(), &view).ok());
    EXPECT_EQ(view.version(), 4);
    ASSERT_EQ(view.items_size(), 1);
    const v1::CarePlanItem& item = view.items(0).item();
    EXPECT_EQ(item.status(), v1::CarePlanItem::REOPENED);
    EXPECT_THAT(Ratings(item), ElementsAre(-1, 0, 1));
    ASSERT_EQ(item.progress_size(), 4) << item.DebugString();  // resent entries not added twice
    EXPECT_EQ(item.progress(0).note(), "rent arrears");
    EXPECT_EQ(item.progress(2).note(), "on hold: client admitted to hospital");
    EXPECT_FALSE(item.progress(2).has_attainment());
    EXPECT_EQ(item.progress(3).note(), "back home, rent paid");
    EXPECT_EQ(view.updated_by_organisation(), "harbour-housing");
    EXPECT_EQ(view.updated_by_user(), "Hana Case");
  }

  v1::CarePlanHistoryResponse history;
  ASSERT_TRUE(coord->History(ByMrn(), &history).ok());
  EXPECT_EQ(history.client_id(), "client-a");
  ASSERT_EQ(history.versions_size(), 4);
  const std::vector<v1::CarePlanItem::Status> statuses = {
      v1::CarePlanItem::REOPENED, v1::CarePlanItem::ON_HOLD, v1::CarePlanItem::ACTIVE,
      v1::CarePlanItem::ACTIVE};
  const std::vector<std::vector<int>> ratings = {{-1, 0, 1}, {-1, 0}, {-1, 0}, {-1}};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(absl::StrCat("history[", i, "]"));
    const v1::CarePlanVersion& v = history.versions(i);
    EXPECT_EQ(v.version(), 4 - i);
    EXPECT_EQ(v.organisation(), "harbour-housing");
    EXPECT_EQ(v.user(), "Hana Case");
    EXPECT_FALSE(v.gateway_message_id().empty());
    ASSERT_EQ(v.changed_size(), 1);
    EXPECT_EQ(v.changed(0).item().id(), "tenancy");
    EXPECT_EQ(v.changed(0).item().status(), statuses[i]);
    EXPECT_EQ(Ratings(v.changed(0).item()), ratings[i]);
    if (i > 0) {
      EXPECT_LE(absl::ToUnixNanos(FromProtoTime(v.recorded_at())),
                absl::ToUnixNanos(FromProtoTime(history.versions(i - 1).recorded_at())));
    }
  }
}

// 4. The plan as it was at a time between versions, and before any.
TEST_F(CarePlanTest, AsOfReturnsTheVersionCurrentAtThatTime) {
  auto hospital = Plans("st-marys", "Dr Ada");
  auto housing = Plans("harbour-housing", "Hana Case");
  const absl::Time before_any = absl::Now();
  v1::UpdateCarePlanResponse r;
  ASSERT_TRUE(hospital->Update(ByMrn(), 0, {Goal("g1", "health", "first wording")}, &r).ok());
  ASSERT_EQ(r.version(), 1);
  const absl::Time after_v1 = absl::Now();
  ASSERT_TRUE(
      hospital
          ->Update(ByMrn(), 1,
                   {Goal("g1", "health", "second wording"), Goal("g2", "health", "added in v2")},
                   &r)
          .ok());
  ASSERT_EQ(r.version(), 2);
  const absl::Time after_v2 = absl::Now();
  ASSERT_TRUE(housing->Update(ByHousingCase(), 2, {Goal("g3", "housing", "added in v3")}, &r).ok());
  ASSERT_EQ(r.version(), 3);

  v1::CarePlanView view;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &view, before_any).ok());
  EXPECT_EQ(view.version(), 0);
  EXPECT_THAT(view.items(), IsEmpty());
  EXPECT_EQ(view.client_id(), "client-a");

  ASSERT_TRUE(housing->Get(ByHousingCase(), &view, after_v1).ok());
  EXPECT_EQ(view.version(), 1);
  ASSERT_EQ(view.items_size(), 1);
  EXPECT_EQ(view.items(0).item().id(), "g1");
  EXPECT_EQ(view.items(0).item().description(), "first wording");
  EXPECT_EQ(view.updated_by_organisation(), "st-marys");
  EXPECT_LE(FromProtoTime(view.updated_at()), after_v1);

  ASSERT_TRUE(hospital->Get(ByMrn(), &view, after_v2).ok());
  EXPECT_EQ(view.version(), 2);
  ASSERT_EQ(view.items_size(), 2);
  EXPECT_EQ(view.items(0).item().description(), "second wording");
  EXPECT_EQ(view.items(1).item().id(), "g2");
  EXPECT_GT(FromProtoTime(view.updated_at()), after_v1);

  ASSERT_TRUE(hospital->Get(ByMrn(), &view, absl::Now()).ok());
  EXPECT_EQ(view.version(), 3);
  EXPECT_EQ(view.items_size(), 3);
  ASSERT_TRUE(hospital->Get(ByMrn(), &view).ok());
  EXPECT_EQ(view.version(), 3);
  EXPECT_EQ(view.updated_by_organisation(), "harbour-housing");
}

// 5. PSY content of the plan and the timeline: the hospital and the
// coordinator see it; housing and family see placeholders that say nothing,
// and no byte of it in any response.
TEST_F(CarePlanTest, ConsentFiltersPlanHistoryAndTimelinePerReader) {
  ASSERT_NO_FATAL_FAILURE(AddPsyContent());
  // Version 3 changes only the PSY goal: nothing of it is left for the
  // agencies, so its timeline entry is withheld whole for them.
  {
    v1::CarePlanItem psy =
        Goal("psy-goal", "mental-health", "SECRET-PSY-GOAL attend clinic weekly");
    *psy.add_security_labels() = Psy();
    *psy.add_progress() = Progress(1, "SECRET-PSY-UPDATE attended");
    v1::UpdateCarePlanResponse r;
    grpc::Status s = Plans("st-marys", "Dr Ada")->Update(ByMrn(), 2, {psy}, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(r.version(), 3);
  }
  uint64_t psy_only_seq = 0;  // the timeline entry of version 3

  // The coordinator (allowed PSY) sees everything.
  {
    SCOPED_TRACE("care-coord");
    auto coord = Plans("care-coord", "Cora Coord");
    v1::CarePlanView view;
    ASSERT_TRUE(coord->Get(ByEnterpriseId(), &view).ok());
    EXPECT_EQ(view.redacted_items(), 0);
    ASSERT_EQ(view.items_size(), 2);
    ASSERT_NE(Find(view, "psy-goal"), nullptr);
    EXPECT_THAT(Find(view, "psy-goal")->item().description(), HasSubstr("SECRET-PSY-GOAL"));
    ASSERT_NE(Find(view, "meds-goal"), nullptr);
    EXPECT_EQ(Find(view, "meds-goal")->item().progress_size(), 2);
    EXPECT_EQ(Find(view, "meds-goal")->redacted_progress(), 0);
    auto timeline = coord->WholeTimeline(ByEnterpriseId(), 500);
    auto notes = Where(timeline, [](const auto& e) { return e.event() == "case-note"; });
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_TRUE(HasDetail(notes[0], "SECRET-PSY-NOTE"));
    EXPECT_TRUE(HasDetail(notes[0], "PLAIN-NOTE-TEXT"));
    EXPECT_FALSE(notes[0].partly_redacted());
    auto plan =
        Where(timeline, [](const auto& e) { return e.kind() == v1::TimelineEntry::PLAN_CHANGE; });
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_TRUE(HasDetail(plan[2], "SECRET-PSY-GOAL"));  // version 1 (oldest)
    EXPECT_FALSE(plan[2].partly_redacted());
    EXPECT_TRUE(HasDetail(plan[0], "SECRET-PSY-UPDATE"));  // version 3
    psy_only_seq = plan[0].seq();
  }

  // Housing and family: the PSY goal is a placeholder, the PSY rating and the
  // PSY section are gone.
  for (const std::string org : {"harbour-housing", "northside-family"}) {
    SCOPED_TRACE(org);
    auto agency = Plans(org);
    const v1::ClientIdentifier client =
        org == "harbour-housing" ? ByHousingCase() : ByEnterpriseId();
    std::vector<std::string> responses;  // serialised, every byte it got

    v1::CarePlanView view;
    ASSERT_TRUE(agency->Get(client, &view).ok());
    responses.push_back(view.SerializeAsString());
    EXPECT_EQ(view.version(), 3);
    EXPECT_EQ(view.redacted_items(), 1);
    ASSERT_EQ(view.items_size(), 2);
    // In the order first added: the PSY goal, then the medication goal.
    EXPECT_TRUE(view.items(0).redacted());
    EXPECT_TRUE(Same(view.items(0).item(), v1::CarePlanItem()))
        << "a placeholder must be empty: " << view.items(0).item().DebugString();
    EXPECT_EQ(view.items(0).item().ByteSizeLong(), 0u);
    EXPECT_EQ(view.items(0).redacted_progress(), 0);
    EXPECT_FALSE(view.items(1).redacted());
    const v1::CarePlanItem& meds = view.items(1).item();
    EXPECT_EQ(meds.id(), "meds-goal");
    EXPECT_EQ(meds.owner(), "st-marys");
    EXPECT_EQ(meds.description(), "Takes medication as prescribed");
    ASSERT_EQ(meds.progress_size(), 1);
    EXPECT_EQ(meds.progress(0).note(), "collects prescriptions");
    EXPECT_EQ(view.items(1).redacted_progress(), 1);

    v1::CarePlanHistoryResponse history;
    ASSERT_TRUE(agency->History(client, &history).ok());
    responses.push_back(history.SerializeAsString());
    ASSERT_EQ(history.versions_size(), 3);
    // Version 3 changed only the PSY goal: a placeholder.
    EXPECT_EQ(history.versions(0).version(), 3);
    ASSERT_EQ(history.versions(0).changed_size(), 1);
    EXPECT_TRUE(history.versions(0).changed(0).redacted());
    EXPECT_EQ(history.versions(0).changed(0).item().ByteSizeLong(), 0u);
    // Version 2 changed the medication goal (with the PSY rating withheld).
    ASSERT_EQ(history.versions(1).changed_size(), 1);
    EXPECT_EQ(history.versions(1).changed(0).item().id(), "meds-goal");
    EXPECT_EQ(history.versions(1).changed(0).redacted_progress(), 1);
    EXPECT_EQ(history.versions(1).changed(0).item().progress_size(), 1);
    // Version 1 added both goals: one a placeholder.
    ASSERT_EQ(history.versions(2).changed_size(), 2);
    EXPECT_TRUE(history.versions(2).changed(0).redacted());
    EXPECT_EQ(history.versions(2).changed(0).item().ByteSizeLong(), 0u);
    EXPECT_EQ(history.versions(2).changed(1).item().id(), "meds-goal");

    std::vector<v1::GetTimelineResponse> pages;
    auto timeline = agency->WholeTimeline(client, 2, {}, {}, &pages);
    for (const auto& p : pages) responses.push_back(p.SerializeAsString());
    auto notes = Where(timeline, [](const auto& e) { return e.event() == "case-note"; });
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_TRUE(notes[0].partly_redacted());
    EXPECT_FALSE(notes[0].redacted());
    EXPECT_EQ(notes[0].organisation(), "st-marys");
    EXPECT_TRUE(HasDetail(notes[0], "PLAIN-NOTE-TEXT"));
    EXPECT_FALSE(HasDetail(notes[0], "SECRET-PSY"));
    auto plan =
        Where(timeline, [](const auto& e) { return e.kind() == v1::TimelineEntry::PLAN_CHANGE; });
    ASSERT_EQ(plan.size(), 2u);
    for (const auto& e : plan) EXPECT_TRUE(e.partly_redacted()) << e.DebugString();
    EXPECT_TRUE(HasDetail(plan[1], "meds-goal"));
    // Version 3's entry: withheld whole, only its place is left.
    const v1::TimelineEntry* psy_only = FindEntry(timeline, psy_only_seq);
    ASSERT_NE(psy_only, nullptr);
    EXPECT_TRUE(psy_only->redacted());
    EXPECT_EQ(psy_only->kind(), v1::TimelineEntry::MESSAGE);
    EXPECT_TRUE(psy_only->organisation().empty());
    EXPECT_TRUE(psy_only->title().empty());
    EXPECT_THAT(psy_only->details(), IsEmpty());
    EXPECT_TRUE(psy_only->gateway_message_id().empty());

    v1::ListReferralsResponse referrals;
    ASSERT_TRUE(agency->Referrals(client, &referrals).ok());
    responses.push_back(referrals.SerializeAsString());

    for (size_t i = 0; i < responses.size(); ++i) {
      EXPECT_EQ(LeakedMarker(responses[i]), "") << "response " << i << " leaks withheld content";
    }
  }
}

// 6. The timeline: in the order things happened (newest first; a message
// that arrives late takes its place), pages that cover every entry once,
// filters, who wrote each entry, care-team and consent changes (the latter only
// for the coordinator and the recorder), and bad tokens.
TEST_F(CarePlanTest, TimelinePagesFiltersAndNamesWhoWroteEachEntry) {
  auto coord = Plans("care-coord", "Cora Coord");
  uint64_t baseline = 0;  // entries of the seed are at or below it
  for (const auto& e : coord->WholeTimeline(ByMrn(), 500)) baseline = std::max(baseline, e.seq());

  // A care-team change by the admin.
  {
    v1::AddCareTeamMemberRequest request;
    *request.mutable_client() = ByMrn();
    request.mutable_member()->set_organisation_id("eastside-mh");
    request.mutable_member()->set_role("mental-health");
    auto ctx = Ctx();
    ctx->AddMetadata("sb-user", "Admin Ann");
    v1::CareTeam team;
    grpc::Status s = As("admin")->registry->AddCareTeamMember(ctx.get(), request, &team);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Messages from the hospital and housing about earlier events (an hour and
  // half an hour ago), arriving after the care-team change.
  v1::Message discharge = Discharge("tl-discharge");
  *discharge.mutable_header()->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Hours(1));
  ASSERT_TRUE(As("st-marys")->Publish(discharge).ok());
  v1::Message note = CaseNote("tl-note", "harbour-housing", kHousingSystem, "HH-1");
  *note.mutable_header()->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Minutes(30));
  note.mutable_header()->set_author("Hana Case");
  note.mutable_case_note()->set_domain("housing");
  ASSERT_TRUE(As("harbour-housing")->Publish(note).ok());
  // A consent recorded by the hospital.
  {
    v1::RecordConsentRequest request;
    v1::Consent* c = request.mutable_consent();
    c->set_id("consent-a-hospital");
    c->set_status(v1::Consent::ACTIVE);
    *c->mutable_client() = ByMrn();
    c->set_source_reference("st-marys:forms/consent-a-hospital.pdf");
    c->set_scope("treatment");
    c->mutable_provision()->set_type(v1::ConsentProvision::PERMIT);
    auto ctx = Ctx();
    ctx->AddMetadata("sb-user", "Dr Ada");
    v1::Consent out;
    grpc::Status s = Consents("st-marys")->Record(ctx.get(), request, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Plan changes by housing and the hospital.
  auto housing = Plans("harbour-housing", "Hana Case");
  auto hospital = Plans("st-marys", "Dr Ada");
  ASSERT_TRUE(
      housing->Update(ByHousingCase(), 0, {Goal("tenancy", "housing", "Keep tenancy")}).ok());
  ASSERT_TRUE(hospital->Update(ByMrn(), 1, {Goal("meds", "health", "Medication")}).ok());

  const auto all = coord->WholeTimeline(ByMrn(), 500);
  auto fresh = Where(all, [&](const auto& e) { return e.seq() > baseline; });
  ASSERT_EQ(fresh.size(), 6u);
  struct Want {
    v1::TimelineEntry::Kind kind;
    std::string organisation, user, event, domain;
  };
  // Newest first, by when it happened: the two late messages last.
  const std::vector<Want> want = {
      {v1::TimelineEntry::PLAN_CHANGE, "st-marys", "Dr Ada", kPlanEvent, "health"},
      {v1::TimelineEntry::PLAN_CHANGE, "harbour-housing", "Hana Case", kPlanEvent, "housing"},
      {v1::TimelineEntry::CONSENT_CHANGE, "st-marys", "Dr Ada", "", ""},
      {v1::TimelineEntry::CARE_TEAM_CHANGE, "admin", "Admin Ann", "", ""},
      {v1::TimelineEntry::MESSAGE, "harbour-housing", "Hana Case", "case-note", "housing"},
      {v1::TimelineEntry::MESSAGE, "st-marys", "Dr Test", "discharge", "health"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("fresh[", i, "]: ", fresh[i].DebugString()));
    EXPECT_EQ(fresh[i].kind(), want[i].kind);
    EXPECT_EQ(fresh[i].organisation(), want[i].organisation);
    EXPECT_EQ(fresh[i].user(), want[i].user);
    EXPECT_EQ(fresh[i].event(), want[i].event);
    EXPECT_EQ(fresh[i].domain(), want[i].domain);
    EXPECT_FALSE(fresh[i].title().empty());
    EXPECT_TRUE(fresh[i].has_recorded_at());
    EXPECT_TRUE(fresh[i].has_occurred_at());
  }
  const v1::TimelineEntry& team_entry = fresh[3];
  const v1::TimelineEntry& discharge_entry = fresh[5];
  EXPECT_THAT(team_entry.title(), HasSubstr("eastside-mh"));
  EXPECT_THAT(fresh[2].title(), HasSubstr("consent-a-hospital"));
  EXPECT_EQ(discharge_entry.occurred_at().seconds(), discharge.header().occurred_at().seconds());
  // Recorded after the care-team change, placed before it in the story.
  EXPECT_GT(discharge_entry.seq(), team_entry.seq());
  const uint64_t consent_seq = fresh[2].seq();
  // The seeded consent (recorded by the coordinator) is there too.
  EXPECT_EQ(Where(all, [](const auto& e) { return e.kind() == v1::TimelineEntry::CONSENT_CHANGE; })
                .size(),
            2u);

  for (const std::string org : {"care-coord", "st-marys", "harbour-housing", "eastside-mh"}) {
    SCOPED_TRACE(org);
    auto reader = Plans(org);
    const auto one_page = reader->WholeTimeline(ByEnterpriseId(), 500);
    ASSERT_EQ(one_page.size(), all.size());
    // Newest first: by the time it happened, then by position.
    for (size_t i = 1; i < one_page.size(); ++i) {
      const int64_t newer = absl::ToUnixMicros(FromProtoTime(one_page[i - 1].occurred_at()));
      const int64_t older = absl::ToUnixMicros(FromProtoTime(one_page[i].occurred_at()));
      EXPECT_TRUE(newer > older || (newer == older && one_page[i - 1].seq() > one_page[i].seq()))
          << one_page[i - 1].DebugString() << " before " << one_page[i].DebugString();
    }
    // Pages of 2 cover every entry exactly once, in the same order.
    std::vector<v1::GetTimelineResponse> pages;
    const auto paged = reader->WholeTimeline(ByEnterpriseId(), 2, {}, {}, &pages);
    EXPECT_EQ(Seqs(paged), Seqs(one_page));
    EXPECT_EQ(pages.size(), (one_page.size() + 1) / 2);
    const std::vector<uint64_t> paged_seqs = Seqs(paged);
    EXPECT_EQ(std::set<uint64_t>(paged_seqs.begin(), paged_seqs.end()).size(), paged.size());
    for (size_t i = 0; i < paged.size() && i < one_page.size(); ++i) {
      EXPECT_TRUE(Same(paged[i], one_page[i]));
    }
    // Every entry a reader may see names its organisation and person.
    for (const auto& e : one_page) {
      if (e.seq() <= baseline || e.redacted()) continue;
      EXPECT_FALSE(e.organisation().empty()) << e.DebugString();
      EXPECT_FALSE(e.user().empty()) << e.DebugString();
    }
    // The consent change: the coordinator and the recorder see it; others a
    // withheld entry that says nothing but its place.
    const v1::TimelineEntry* consent = FindEntry(one_page, consent_seq);
    ASSERT_NE(consent, nullptr);
    if (org == "care-coord" || org == "st-marys") {
      EXPECT_FALSE(consent->redacted());
      EXPECT_EQ(consent->kind(), v1::TimelineEntry::CONSENT_CHANGE);
      EXPECT_EQ(consent->organisation(), "st-marys");
      EXPECT_EQ(consent->user(), "Dr Ada");
    } else {
      EXPECT_TRUE(consent->redacted());
      v1::TimelineEntry expected;
      expected.set_seq(consent_seq);
      expected.set_kind(v1::TimelineEntry::MESSAGE);
      *expected.mutable_occurred_at() = consent->occurred_at();
      expected.set_redacted(true);
      EXPECT_TRUE(Same(*consent, expected)) << consent->DebugString();
      EXPECT_TRUE(consent->has_occurred_at());
    }
    // The care-team change: every member sees it.
    const v1::TimelineEntry* team = FindEntry(one_page, team_entry.seq());
    ASSERT_NE(team, nullptr);
    EXPECT_FALSE(team->redacted());
    EXPECT_EQ(team->kind(), v1::TimelineEntry::CARE_TEAM_CHANGE);
    EXPECT_EQ(team->organisation(), "admin");
    EXPECT_EQ(team->user(), "Admin Ann");
  }

  // Filters: by organisation, by domain, both; with paging.
  auto seqs_where = [&](auto pred) { return Seqs(Where(all, pred)); };
  const auto by_housing = coord->WholeTimeline(ByMrn(), 1, {"harbour-housing"});
  EXPECT_EQ(Seqs(by_housing),
            seqs_where([](const auto& e) { return e.organisation() == "harbour-housing"; }));
  EXPECT_EQ(by_housing.size(), 2u);
  const auto housing_domain = coord->WholeTimeline(ByMrn(), 1, {}, {"housing"});
  EXPECT_EQ(Seqs(housing_domain), (std::vector<uint64_t>{fresh[1].seq(), fresh[4].seq()}));
  const auto two_orgs = coord->WholeTimeline(ByMrn(), 2, {"st-marys", "admin"});
  EXPECT_EQ(Seqs(two_orgs), seqs_where([](const auto& e) {
              return e.organisation() == "st-marys" || e.organisation() == "admin";
            }));
  const auto health_hospital = coord->WholeTimeline(ByMrn(), 50, {"st-marys"}, {"health"});
  EXPECT_EQ(Seqs(health_hospital), (std::vector<uint64_t>{fresh[0].seq(), fresh[5].seq()}));
  // A domain filter leaves out care-team and consent changes.
  for (const auto& e : coord->WholeTimeline(ByMrn(), 50, {}, {"health", "housing"})) {
    EXPECT_NE(e.kind(), v1::TimelineEntry::CARE_TEAM_CHANGE);
    EXPECT_NE(e.kind(), v1::TimelineEntry::CONSENT_CHANGE);
  }
  // Housing filtering by the hospital does not get the withheld consent entry.
  for (const auto& e : housing->WholeTimeline(ByHousingCase(), 50, {"st-marys"})) {
    EXPECT_FALSE(e.redacted());
    EXPECT_EQ(e.organisation(), "st-marys");
  }

  // Bad tokens and sizes.
  for (const std::string token :
       {"not-a-token", "0", "zz", "-5", "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcdef00"}) {
    v1::GetTimelineRequest request;
    *request.mutable_client() = ByMrn();
    request.set_page_token(token);
    v1::GetTimelineResponse response;
    grpc::Status s = coord->Timeline(request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << token << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  }
  for (int size : {-1, 501}) {
    v1::GetTimelineRequest request;
    *request.mutable_client() = ByMrn();
    request.set_page_size(size);
    v1::GetTimelineResponse response;
    grpc::Status s = coord->Timeline(request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << size;
    EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
  }
}

// 7. Outside the care team the client does not exist: every read and Update
// is NOT_FOUND with the message an unknown client gets; a care-plan-change
// message from a member changes the plan, from a non-member it is refused.
TEST_F(CarePlanTest, OnlyTheCareTeamSeesOrChangesThePlan) {
  auto housing = Plans("harbour-housing", "Hana Case");
  ASSERT_TRUE(
      housing->Update(ByHousingCase(), 0, {Goal("tenancy", "housing", "Keep tenancy")}).ok());

  // The client is named the same by every identifier a member may use.
  v1::CarePlanView by_case, by_mrn, by_enterprise;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &by_case).ok());
  ASSERT_TRUE(housing->Get(ByMrn(), &by_mrn).ok());
  ASSERT_TRUE(housing->Get(ByEnterpriseId(), &by_enterprise).ok());
  EXPECT_TRUE(Same(by_case, by_mrn));
  EXPECT_TRUE(Same(by_case, by_enterprise));
  EXPECT_EQ(by_case.version(), 1);

  // Each call as `org` about `client`: its status.
  auto calls = [&](PlanClient& c, const v1::ClientIdentifier& client) {
    std::map<std::string, grpc::Status> out;
    v1::CarePlanView view;
    out["GetCarePlan"] = c.Get(client, &view);
    v1::CarePlanHistoryResponse history;
    out["History"] = c.History(client, &history);
    v1::GetTimelineRequest request;
    *request.mutable_client() = client;
    v1::GetTimelineResponse timeline;
    out["GetTimeline"] = c.Timeline(request, &timeline);
    out["Update"] = c.Update(client, 1, {Goal("intruder", "health", "not allowed")});
    v1::ListReferralsResponse referrals;
    out["ListReferrals"] = c.Referrals(client, &referrals);
    return out;
  };
  struct Case {
    std::string org;
    v1::ClientIdentifier known, unknown;
  };
  const std::vector<Case> cases = {
      {"eastside-mh", ByMrn(), Id(kMrnSystem, "MRN-404")},
      {"eastside-mh", ByEnterpriseId(), Id(kEnterpriseSystem, "client-404")},
      {"admin", ByMrn(), Id(kMrnSystem, "MRN-404")},
      {"harbour-housing", Id(kMrnSystem, "MRN-3"),
       Id(kMrnSystem, "MRN-404")},  // not in client-c's team
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.org, " about ", c.known.value()));
    auto outsider = Plans(c.org);
    auto known = calls(*outsider, c.known);
    auto unknown = calls(*outsider, c.unknown);
    ASSERT_EQ(known.size(), 5u);
    for (const auto& [rpc, status] : known) {
      SCOPED_TRACE(rpc);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
      EXPECT_EQ(unknown[rpc].error_code(), grpc::StatusCode::NOT_FOUND)
          << unknown[rpc].error_message();
      // The same words as for a client that does not exist.
      EXPECT_EQ(status.error_message(),
                absl::StrReplaceAll(unknown[rpc].error_message(),
                                    {{c.unknown.value(), c.known.value()}}));
      EXPECT_THAT(status.error_message(), Not(HasSubstr("care team")));
    }
  }
  EXPECT_EQ(VersionNow(*housing, ByHousingCase()), 1);

  // A care-plan-change message through Exchange.Publish, as a member's system
  // would send it.
  v1::Receipt receipt;
  grpc::Status s = As("northside-family")
                       ->Publish(PlanMessage("fam-plan-1", "northside-family", ByEnterpriseId(), 1,
                                             Goal("school", "family", "Children attend school")),
                                 &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = As("eastside-mh")
          ->Publish(PlanMessage("mh-plan-1", "eastside-mh", ByMrn(), 2,
                                Goal("mh-goal", "health", "Not a member")));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("care team"));
  // A stale version through Publish is ABORTED too.
  s = As("northside-family")
          ->Publish(PlanMessage("fam-plan-2", "northside-family", ByMrn(), 1,
                                Goal("school", "family", "stale")));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("at version 2"));

  v1::CarePlanHistoryResponse history;
  ASSERT_TRUE(housing->History(ByHousingCase(), &history).ok());
  ASSERT_EQ(history.versions_size(), 2);
  EXPECT_EQ(history.versions(0).version(), 2);
  EXPECT_EQ(history.versions(0).organisation(), "northside-family");
  EXPECT_EQ(history.versions(0).user(), "Fran Family");
  EXPECT_EQ(history.versions(0).gateway_message_id(), receipt.gateway_message_id());
  ASSERT_EQ(history.versions(0).changed_size(), 1);
  EXPECT_EQ(history.versions(0).changed(0).item().id(), "school");
  EXPECT_EQ(history.versions(0).changed(0).item().owner(), "northside-family");
  v1::CarePlanView view;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &view).ok());
  EXPECT_EQ(view.version(), 2);
  EXPECT_EQ(view.items_size(), 2);
  EXPECT_EQ(Find(view, "mh-goal"), nullptr);
}

// 8. Every read is audited as a VIEW naming the reader, the client, the
// operation and how much was withheld.
TEST_F(CarePlanTest, EveryReadIsAuditedWithWhatWasWithheld) {
  ASSERT_NO_FATAL_FAILURE(AddPsyContent());
  auto housing = Plans("harbour-housing", "Hana Case");
  v1::CarePlanView view;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &view).ok());
  ASSERT_EQ(view.redacted_items(), 1);
  v1::GetTimelineRequest request;
  *request.mutable_client() = ByHousingCase();
  v1::GetTimelineResponse timeline;
  ASSERT_TRUE(housing->Timeline(request, &timeline).ok());
  int withheld = 0, partly = 0;
  for (const auto& e : timeline.entries()) {
    withheld += e.redacted();
    partly += e.partly_redacted();
  }
  ASSERT_GE(withheld, 1);  // the seeded consent's entry
  ASSERT_GE(partly, 3);    // two plan changes and the case note
  v1::CarePlanHistoryResponse history;
  ASSERT_TRUE(housing->History(ByHousingCase(), &history).ok());
  v1::ListReferralsResponse referrals;
  ASSERT_TRUE(housing->Referrals(ByHousingCase(), &referrals).ok());
  // An outsider's attempt is audited as refused.
  auto outsider = Plans("eastside-mh");
  ASSERT_EQ(outsider->Get(ByMrn(), &view).error_code(), grpc::StatusCode::NOT_FOUND);

  std::map<std::string, std::vector<v1::AuditRecord>> views;  // by operation
  std::vector<v1::AuditRecord> refused;
  for (const auto& r : Audit()) {
    if (r.action() != v1::AuditRecord::VIEW) continue;
    if (r.actor_organisation() == "harbour-housing" && r.client_id() == "client-a") {
      views[r.operation()].push_back(r);
    }
    if (r.actor_organisation() == "eastside-mh") refused.push_back(r);
  }
  for (const std::string op : {"CarePlans/GetCarePlan", "CarePlans/GetTimeline",
                               "CarePlans/History", "CarePlans/ListReferrals"}) {
    SCOPED_TRACE(op);
    ASSERT_EQ(views[op].size(), 1u) << "one VIEW record per read";
    const v1::AuditRecord& r = views[op][0];
    EXPECT_EQ(r.outcome(), v1::AuditRecord::SUCCESS);
    EXPECT_EQ(r.actor_user(), "Hana Case");
    EXPECT_THAT(r.detail(), Not(HasSubstr("SECRET")));
  }
  EXPECT_THAT(views["CarePlans/GetCarePlan"][0].detail(), HasSubstr("version 2"));
  EXPECT_THAT(views["CarePlans/GetCarePlan"][0].detail(), HasSubstr("1 withheld"));
  EXPECT_THAT(views["CarePlans/GetTimeline"][0].detail(),
              HasSubstr(absl::StrCat(timeline.entries_size(), " entries")));
  EXPECT_THAT(views["CarePlans/GetTimeline"][0].detail(),
              HasSubstr(absl::StrCat("(", withheld, " withheld")));
  EXPECT_THAT(views["CarePlans/GetTimeline"][0].detail(),
              HasSubstr(absl::StrCat(partly, " partly withheld")));
  EXPECT_THAT(views["CarePlans/History"][0].detail(), HasSubstr("1 changed item(s) withheld"));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].outcome(), v1::AuditRecord::REFUSED);
  EXPECT_EQ(refused[0].operation(), "CarePlans/GetCarePlan");
  EXPECT_EQ(refused[0].client_id(), "client-a");
}

// 9. Ratings outside their scale and unknown scales are refused, naming the
// field, and change nothing; a configured scale is honoured.
TEST_F(CarePlanTest, BadRatingsAreRefusedAndChangeNothing) {
  auto housing = Plans("harbour-housing", "Hana Case");
  v1::CarePlanItem goal = Goal("tenancy", "housing", "Keep tenancy");
  v1::UpdateCarePlanResponse r;
  ASSERT_TRUE(housing->Update(ByHousingCase(), 0, {goal}, &r).ok());
  v1::CarePlanView before;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &before).ok());
  ASSERT_EQ(before.version(), 1);

  auto expect_refused = [&](const v1::ProgressEntry& entry, const std::string& field,
                            const std::string& value) {
    SCOPED_TRACE(entry.DebugString());
    v1::CarePlanItem bad = goal;
    *bad.add_progress() = entry;
    grpc::Status s = housing->Update(ByHousingCase(), before.version(), {bad});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(field));
    EXPECT_THAT(s.error_message(), HasSubstr(value));
    v1::CarePlanView after;
    ASSERT_TRUE(housing->Get(ByHousingCase(), &after).ok());
    EXPECT_TRUE(Same(before, after)) << after.DebugString();
  };
  expect_refused(Progress(3), "progress[0].attainment", "3");
  expect_refused(Progress(-3), "progress[0].attainment", "-3");
  expect_refused(Progress(1, "", "bogus"), "progress[0].scale", "bogus");
  expect_refused(Progress(11, "", "star"), "progress[0].attainment", "11");
  expect_refused(Progress(0, "", "star"), "progress[0].attainment", "0");

  // The configured scale takes 7 (outside gas, inside star).
  *goal.add_progress() = Progress(7, "seven stars", "star");
  grpc::Status s = housing->Update(ByHousingCase(), 1, {goal}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.version(), 2);
  ASSERT_TRUE(housing->Get(ByHousingCase(), &before).ok());
  ASSERT_EQ(before.items(0).item().progress_size(), 1);
  EXPECT_EQ(before.items(0).item().progress(0).attainment(), 7);
  EXPECT_EQ(before.items(0).item().progress(0).scale(), "star");
  // A bad entry after a kept one is named by its own index.
  v1::CarePlanItem resent = before.items(0).item();
  *resent.add_progress() = Progress(11, "", "star");
  s = housing->Update(ByHousingCase(), 2, {resent});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("progress[1].attainment"));
  v1::CarePlanView after;
  ASSERT_TRUE(housing->Get(ByHousingCase(), &after).ok());
  EXPECT_TRUE(Same(before, after)) << after.DebugString();
  v1::CarePlanHistoryResponse history;
  ASSERT_TRUE(housing->History(ByHousingCase(), &history).ok());
  EXPECT_EQ(history.versions_size(), 2);
}

// 10. A restart keeps the plan, its history and the timeline as they were.
TEST_F(CarePlanTest, RestartKeepsPlanHistoryAndTimeline) {
  ASSERT_NO_FATAL_FAILURE(AddPsyContent());
  {
    auto housing = Plans("harbour-housing", "Hana Case");
    v1::CarePlanItem goal = Goal("tenancy", "housing", "Keep tenancy");
    *goal.add_progress() = Progress(-1, "arrears");
    ASSERT_TRUE(housing->Update(ByHousingCase(), 2, {goal}).ok());
  }
  const absl::Time between = absl::Now();
  ASSERT_TRUE(Plans("harbour-housing")
                  ->Update(ByHousingCase(), 3, {Goal("tenancy", "housing", "Kept")})
                  .ok());

  struct Snapshot {
    v1::CarePlanView plan, as_of;
    v1::CarePlanHistoryResponse history;
    std::vector<v1::TimelineEntry> timeline;
  };
  auto take = [&](const std::string& org) {
    auto c = Plans(org);
    Snapshot s;
    EXPECT_TRUE(c->Get(ByMrn(), &s.plan).ok());
    EXPECT_TRUE(c->Get(ByMrn(), &s.as_of, between).ok());
    EXPECT_TRUE(c->History(ByMrn(), &s.history).ok());
    s.timeline = c->WholeTimeline(ByMrn(), 3);
    return s;
  };
  std::map<std::string, Snapshot> before;
  for (const std::string org : {"care-coord", "harbour-housing"}) before[org] = take(org);
  ASSERT_EQ(before["care-coord"].plan.version(), 4);
  ASSERT_EQ(before["care-coord"].as_of.version(), 3);
  ASSERT_EQ(before["harbour-housing"].plan.redacted_items(), 1);

  ASSERT_NO_FATAL_FAILURE(Restart());

  for (const std::string org : {"care-coord", "harbour-housing"}) {
    SCOPED_TRACE(org);
    Snapshot after = take(org);
    const Snapshot& b = before[org];
    EXPECT_TRUE(Same(b.plan, after.plan)) << after.plan.DebugString();
    EXPECT_TRUE(Same(b.as_of, after.as_of)) << after.as_of.DebugString();
    EXPECT_TRUE(Same(b.history, after.history)) << after.history.DebugString();
    ASSERT_EQ(b.timeline.size(), after.timeline.size());
    for (size_t i = 0; i < b.timeline.size(); ++i) {
      EXPECT_TRUE(Same(b.timeline[i], after.timeline[i])) << after.timeline[i].DebugString();
    }
  }
  // And it goes on from the version it had.
  v1::UpdateCarePlanResponse r;
  auto hospital = Plans("st-marys", "Dr Ada");
  grpc::Status s = hospital->Update(ByMrn(), 3, {Goal("meds-goal", "health", "stale")});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  s = hospital->Update(ByMrn(), 4, {Goal("meds-goal", "health", "after restart")}, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.version(), 5);
  v1::CarePlanView view;
  ASSERT_TRUE(hospital->Get(ByMrn(), &view).ok());
  // The rating history of the medication goal survived too.
  ASSERT_NE(Find(view, "meds-goal"), nullptr);
  EXPECT_EQ(Find(view, "meds-goal")->item().progress_size(), 2);
}

}  // namespace
}  // namespace switchboard::testing
