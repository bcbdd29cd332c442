// Consent against the real binary: what each subscriber actually receives under
// several consents, revocation of queued deliveries, break-glass, bad consents,
// consents carried by messages, CheckAccess, and the audit of every decision.
//
// Every labelled element carries unique marker strings (in its title and text),
// and the tests look for them in the raw bytes of every delivery a member got:
// a denied element must leave nothing behind, not even its title or its label.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/labels.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/consents.grpc.pb.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr char kClientA[] = "MRN-1";

v1::SecurityLabel Label(const std::string& code) {
  v1::SecurityLabel l;
  l.set_system(std::string(policy::SystemOfCode(code)));
  l.set_code(code);
  return l;
}

v1::ClientIdentifier ClientA() {
  v1::ClientIdentifier id;
  id.set_system(kMrnSystem);
  id.set_value(kClientA);
  return id;
}

// A section whose title and text carry `marker`, labelled with `labels`.
void AddSection(v1::Message* m, const std::string& marker, std::vector<std::string> labels = {}) {
  v1::Section* s = m->mutable_discharge_note()->add_sections();
  s->set_title("Title " + marker);
  s->set_text("Text " + marker);
  for (const auto& code : labels) *s->add_security_labels() = Label(code);
}

// A discharge about client A with the given sections (and message labels).
v1::Message Note(const std::string& id, const std::vector<std::pair<std::string, std::vector<std::string>>>& sections,
                 std::vector<std::string> header_labels = {}, const std::string& source = "st-marys") {
  v1::Message m = Discharge(id, kClientA, source);
  m.mutable_discharge_note()->clear_sections();
  for (const auto& [marker, labels] : sections) AddSection(&m, marker, labels);
  for (const auto& code : header_labels) *m.mutable_header()->add_security_labels() = Label(code);
  return m;
}

v1::ConsentProvision Provision(v1::ConsentProvision::Type type, std::vector<std::string> actors = {},
                               std::vector<std::string> labels = {}) {
  v1::ConsentProvision p;
  p.set_type(type);
  for (const auto& a : actors) p.add_actors()->set_organisation_id(a);
  for (const auto& l : labels) *p.add_security_labels() = Label(l);
  return p;
}

v1::Consent Consent(const std::string& id, v1::ConsentProvision root) {
  v1::Consent c;
  c.set_id(id);
  c.set_status(v1::Consent::ACTIVE);
  *c.mutable_client() = ClientA();
  c.set_source_reference("care-coord:forms/" + id + ".pdf");
  *c.mutable_provision() = std::move(root);
  return c;
}

// Whether `marker` appears anywhere in what was delivered (bytes or text form).
bool Contains(const v1::Delivery& d, const std::string& marker) {
  return absl::StrContains(d.SerializeAsString(), marker) ||
         absl::StrContains(d.DebugString(), marker);
}

bool HasLabel(const google::protobuf::RepeatedPtrField<v1::SecurityLabel>& labels,
              const std::string& code) {
  for (const auto& l : labels) {
    if (l.code() == code) return true;
  }
  return false;
}

// Every label code anywhere in a delivered message.
std::set<std::string> LabelCodes(const v1::Message& m) {
  std::set<std::string> out;
  for (const auto& l : m.header().security_labels()) out.insert(l.code());
  for (const auto& s : m.discharge_note().sections()) {
    for (const auto& l : s.security_labels()) out.insert(l.code());
  }
  for (const auto& s : m.case_note().sections()) {
    for (const auto& l : s.security_labels()) out.insert(l.code());
  }
  return out;
}

class ConsentTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.sharing_policy = ReadSource("deploy/demo/sharing-policy.textproto");
    // care-coord, the demo's coordinator, in client A's care team.
    o.extra_seed = R"(
  care_teams { client_id: "client-a" members { organisation_id: "care-coord" role: "coordinator" } }
)";
    return o;
  }

  std::unique_ptr<v1::Consents::Stub> Consents(const std::string& org) {
    return v1::Consents::NewStub(MakeChannel(gateway_->address(), TestPki::Get().Member(org)));
  }

  void Record(const v1::Consent& consent, const std::string& as = "care-coord") {
    v1::RecordConsentRequest request;
    *request.mutable_consent() = consent;
    v1::Consent out;
    grpc::Status s = Consents(as)->Record(Ctx().get(), request, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Reads from `sub` until the delivery of `sentinel_id` arrives; returns all
  // received before it (acked), keyed by message id.
  std::map<std::string, v1::Delivery> UntilSentinel(Subscriber* sub, const std::string& sentinel_id) {
    std::map<std::string, v1::Delivery> out;
    for (int i = 0; i < 20; ++i) {
      auto d = sub->Next();
      if (!d.has_value()) {
        ADD_FAILURE() << "no delivery of " << sentinel_id;
        break;
      }
      sub->Ack({d->id()});
      if (d->message_id() == sentinel_id) break;
      out[d->message_id()] = *d;
    }
    return out;
  }

  std::vector<v1::AuditRecord> Audit() { return As("admin")->AuditRecords(); }
};

// Three recipients, three messages, one consent: each gets exactly what the
// consent and the sharing policy allow, and nothing of the rest.
TEST_F(ConsentTest, LabelledContentReachesOnlyWhomTheConsentAllows) {
  // Share with the care team; SUD content explicitly with housing and the
  // coordinator; PSY content with the coordinator only.
  v1::ConsentProvision root = Provision(v1::ConsentProvision::PERMIT);
  *root.add_provisions() =
      Provision(v1::ConsentProvision::PERMIT, {"harbour-housing", "care-coord"}, {"SUD"});
  v1::ConsentProvision psy = Provision(v1::ConsentProvision::DENY, {}, {"PSY"});
  *psy.add_provisions() = Provision(v1::ConsentProvision::PERMIT, {"care-coord"});
  *root.add_provisions() = psy;
  ASSERT_NO_FATAL_FAILURE(Record(Consent("c-share", root)));

  auto housing = Subscribe("harbour-housing");
  auto family = Subscribe("northside-family");
  auto coord = Subscribe("care-coord");
  auto hospital = As("st-marys");
  // m1: sections of each kind; m2: a psychiatric document as a whole; m3: plain.
  ASSERT_TRUE(hospital->Publish(Note("m1", {{"PLAIN-1", {}},
                                            {"PSY-1", {"PSY"}},
                                            {"SUD-1", {"SUD"}},
                                            {"HIV-1", {"HIV"}}}))
                  .ok());
  v1::Receipt r2;
  ASSERT_TRUE(hospital->Publish(Note("m2", {{"PSYDOC-2", {}}}, {"PSY"}), &r2).ok());
  ASSERT_TRUE(hospital->Publish(Note("m3", {{"PLAIN-3", {}}})).ok());
  ASSERT_TRUE(hospital->Publish(Note("end", {{"END", {}}})).ok());
  // The receipt of m2 names only the recipient that will get it.
  ASSERT_EQ(r2.recipients_size(), 1);
  EXPECT_EQ(r2.recipients(0).organisation_id(), "care-coord");

  // Each marker and the message it is in.
  const std::map<std::string, std::string> all_markers = {
      {"PLAIN-1", "m1"}, {"PSY-1", "m1"},    {"SUD-1", "m1"},
      {"HIV-1", "m1"},   {"PSYDOC-2", "m2"}, {"PLAIN-3", "m3"}};
  struct Expect {
    Subscriber* sub;
    std::set<std::string> messages;
    std::set<std::string> markers;
    std::set<std::string> redacted;  // messages that must carry REDACTED
  };
  std::map<std::string, Expect> expect = {
      {"harbour-housing", {housing.get(), {"m1", "m3"}, {"PLAIN-1", "SUD-1", "PLAIN-3"}, {"m1"}}},
      {"northside-family", {family.get(), {"m1", "m3"}, {"PLAIN-1", "PLAIN-3"}, {"m1"}}},
      {"care-coord",
       {coord.get(), {"m1", "m2", "m3"}, {"PLAIN-1", "PSY-1", "SUD-1", "PSYDOC-2", "PLAIN-3"}, {"m1"}}},
  };
  for (auto& [org, e] : expect) {
    SCOPED_TRACE(org);
    auto got = UntilSentinel(e.sub, "end");
    std::set<std::string> ids;
    for (const auto& [id, d] : got) ids.insert(id);
    EXPECT_EQ(ids, e.messages);
    for (const auto& [id, d] : got) {
      SCOPED_TRACE(id);
      for (const auto& [marker, in] : all_markers) {
        EXPECT_EQ(Contains(d, marker), in == id && e.markers.count(marker) > 0) << marker;
      }
      const v1::Message& m = d.message();
      EXPECT_EQ(HasLabel(m.header().security_labels(), "REDACTED"), e.redacted.count(id) > 0);
      // Only labels of content it may see, and REDACTED.
      for (const std::string& code : LabelCodes(m)) {
        EXPECT_TRUE(code == "REDACTED" || (code == "SUD" && e.markers.count("SUD-1")) ||
                    (code == "PSY" && e.markers.count("PSY-1")))
            << "label " << code;
      }
      // No placeholder: exactly the sections it may see.
      int visible = 0;
      for (const std::string& marker : e.markers) {
        visible += all_markers.at(marker) == id && Contains(d, "Title " + marker);
      }
      EXPECT_EQ(m.discharge_note().sections_size(), visible);
    }
  }
  for (auto* s : {housing.get(), family.get(), coord.get()}) EXPECT_TRUE(s->Close().ok());

  // Every decision is in the audit chain with its reason.
  int withheld = 0, redacted_deliveries = 0;
  for (const auto& r : Audit()) {
    if (r.action() == v1::AuditRecord::WITHHOLD) {
      ++withheld;
      EXPECT_EQ(r.message_id(), "m2");
      EXPECT_THAT(r.detail(), HasSubstr("consent c-share v1 provision.provisions[1]: deny"));
    }
    if (r.action() == v1::AuditRecord::DELIVER && r.message_id() == "m1") {
      ++redacted_deliveries;
      EXPECT_THAT(r.detail(), HasSubstr("disclosed redacted"));
      EXPECT_THAT(r.detail(), HasSubstr("removed discharge_note.sections["));
    }
  }
  EXPECT_EQ(withheld, 2);  // m2 to housing and family
  EXPECT_EQ(redacted_deliveries, 3);
  v1::AuditVerification verification;
  ASSERT_TRUE(As("admin")->operations->VerifyAudit(Ctx().get(), {}, &verification).ok());
  EXPECT_TRUE(verification.ok()) << verification.problem();
}

// A revocation stops what was queued for an offline member: sent redacted or
// withheld when it reconnects, decided with the consents of that moment.
TEST_F(ConsentTest, RevocationStopsDeliveriesQueuedForAnOfflineMember) {
  v1::ConsentProvision root = Provision(v1::ConsentProvision::PERMIT);
  *root.add_provisions() = Provision(v1::ConsentProvision::PERMIT, {"harbour-housing"}, {"PSY"});
  ASSERT_NO_FATAL_FAILURE(Record(Consent("c-psy-housing", root)));

  auto hospital = As("st-marys");
  v1::Receipt q1, q2;
  ASSERT_TRUE(hospital->Publish(Note("q1", {{"PLAIN-Q1", {}}, {"PSY-Q1", {"PSY"}}}), &q1).ok());
  ASSERT_TRUE(hospital->Publish(Note("q2", {{"PSYDOC-Q2", {}}}, {"PSY"}), &q2).ok());
  // Permitted when routed: queued for housing.
  auto routed_to_housing = [](const v1::Receipt& r) {
    for (const auto& x : r.recipients()) {
      if (x.organisation_id() == "harbour-housing") return true;
    }
    return false;
  };
  EXPECT_TRUE(routed_to_housing(q1));
  EXPECT_TRUE(routed_to_housing(q2));

  v1::RevokeConsentRequest revoke;
  *revoke.mutable_client() = ClientA();
  revoke.set_consent_id("c-psy-housing");
  revoke.set_reason("client withdrew consent by phone");
  v1::Consent revoked;
  grpc::Status s = Consents("care-coord")->Revoke(Ctx().get(), revoke, &revoked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(revoked.status(), v1::Consent::INACTIVE);
  EXPECT_EQ(revoked.version(), 2);
  ASSERT_TRUE(hospital->Publish(Note("q3", {{"PLAIN-Q3", {}}})).ok());

  auto housing = Subscribe("harbour-housing");
  auto got = UntilSentinel(housing.get(), "q3");
  ASSERT_EQ(got.count("q1"), 1u);
  EXPECT_EQ(got.count("q2"), 0u);  // withheld: the whole message is PSY
  EXPECT_TRUE(Contains(got["q1"], "PLAIN-Q1"));
  EXPECT_FALSE(Contains(got["q1"], "PSY-Q1"));
  EXPECT_TRUE(HasLabel(got["q1"].message().header().security_labels(), "REDACTED"));
  EXPECT_TRUE(housing->Close().ok());

  // The member does not see that something was withheld from it.
  v1::ListDeliveriesResponse listed;
  ASSERT_TRUE(As("harbour-housing")->Deliveries(v1::Delivery::STATE_UNSPECIFIED, &listed).ok());
  for (const auto& d : listed.deliveries()) EXPECT_NE(d.message_id(), "q2");

  bool withheld_at_delivery = false;
  for (const auto& r : Audit()) {
    // (q2 was withheld from the others when it was routed.)
    if (r.action() == v1::AuditRecord::WITHHOLD && r.message_id() == "q2" &&
        r.subject_organisation() == "harbour-housing") {
      withheld_at_delivery = true;
      EXPECT_EQ(r.operation(), "Exchange/Subscribe");
      EXPECT_THAT(r.detail(), HasSubstr("sharing policy default for TREAT sensitive content"));
    }
  }
  EXPECT_TRUE(withheld_at_delivery);
}

// Break-glass: refused and audited without the right; with it, what was
// withheld or redacted is sent again whole, and the coordinator is told.
TEST_F(ConsentTest, BreakGlassReleasesWithheldContentToAMemberAllowedToUseIt) {
  // Nobody may see PSY content.
  v1::ConsentProvision root = Provision(v1::ConsentProvision::PERMIT);
  *root.add_provisions() = Provision(v1::ConsentProvision::DENY, {}, {"PSY"});
  ASSERT_NO_FATAL_FAILURE(Record(Consent("c-no-psy", root)));

  auto hospital_sub = Subscribe("st-marys");
  auto coord = Subscribe("care-coord");
  auto family = As("northside-family");
  v1::Message n1 = Note("n1", {{"PLAIN-N1", {}}, {"PSY-N1", {"PSY"}}}, {}, "northside-family");
  v1::Message n2 = Note("n2", {{"PSYDOC-N2", {}}}, {"PSY"}, "northside-family");
  ASSERT_TRUE(family->Publish(n1).ok());
  ASSERT_TRUE(family->Publish(n2).ok());
  ASSERT_TRUE(family->Publish(Note("n-end", {{"N-END", {}}}, {}, "northside-family")).ok());
  auto before = UntilSentinel(hospital_sub.get(), "n-end");
  ASSERT_EQ(before.count("n1"), 1u);
  EXPECT_EQ(before.count("n2"), 0u);
  EXPECT_FALSE(Contains(before["n1"], "PSY-N1"));

  // Without the right (an agency): refused, for the RPC and for a publish.
  v1::BreakGlassRequest request;
  *request.mutable_client() = ClientA();
  request.set_reason("client unreachable, worried");
  v1::BreakGlassGrant grant;
  grpc::Status s = Consents("harbour-housing")->BreakGlass(Ctx().get(), request, &grant);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  v1::Message etreat = CaseNote("e-1", "harbour-housing", kMrnSystem, kClientA);
  etreat.mutable_header()->set_purpose_of_use("ETREAT");
  etreat.mutable_header()->set_break_glass_reason("emergency");
  s = As("harbour-housing")->Publish(etreat);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();

  // With it (a hospital).
  request.set_reason("admitted unconscious; medication history needed");
  s = Consents("st-marys")->BreakGlass(Ctx().get(), request, &grant);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const absl::Duration left = FromProtoTime(grant.expires_at()) - absl::Now();
  EXPECT_GT(left, absl::Minutes(235));
  EXPECT_LE(left, absl::Minutes(240));
  std::map<std::string, v1::Delivery> released;
  for (const auto& d : hospital_sub->Take(2)) {
    hospital_sub->Ack({d.id()});
    released[d.message_id()] = d;
  }
  ASSERT_EQ(released.count("n1"), 1u);
  ASSERT_EQ(released.count("n2"), 1u);
  EXPECT_TRUE(Contains(released["n1"], "PSY-N1"));
  EXPECT_TRUE(Contains(released["n2"], "PSYDOC-N2"));
  EXPECT_NE(released["n1"].id(), before["n1"].id());  // a new delivery
  EXPECT_FALSE(HasLabel(released["n1"].message().header().security_labels(), "REDACTED"));

  // The coordinator is told (after what it had received itself).
  bool told = false;
  for (int i = 0; i < 6 && !told; ++i) {
    auto d = coord->Next();
    ASSERT_TRUE(d.has_value());
    coord->Ack({d->id()});
    if (d->event() == "break-glass") {
      told = true;
      EXPECT_EQ(d->source(), "gateway");
      EXPECT_EQ(d->message().notification().subject_organisation(), "st-marys");
      EXPECT_THAT(d->message().notification().text(), HasSubstr("medication history needed"));
      EXPECT_FALSE(Contains(*d, "PSY-N1"));
    }
  }
  EXPECT_TRUE(told);
  EXPECT_TRUE(hospital_sub->Close().ok());
  EXPECT_TRUE(coord->Close().ok());

  int refused = 0, granted = 0;
  for (const auto& r : Audit()) {
    if (r.action() != v1::AuditRecord::BREAK_GLASS) continue;
    if (r.outcome() == v1::AuditRecord::REFUSED) {
      ++refused;
      EXPECT_EQ(r.actor_organisation(), "harbour-housing");
    } else {
      ++granted;
      EXPECT_EQ(r.actor_organisation(), "st-marys");
      EXPECT_THAT(r.detail(), HasSubstr("released 2 delivery(ies)"));
      EXPECT_THAT(r.detail(), HasSubstr("coordinators notified: [care-coord]"));
    }
  }
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(granted, 1);
}

TEST_F(ConsentTest, BadConsentsAreRefusedNamingTheFieldAndChangeNothing) {
  auto valid = [] {
    v1::ConsentProvision root = Provision(v1::ConsentProvision::PERMIT);
    *root.add_provisions() = Provision(v1::ConsentProvision::DENY, {}, {"PSY"});
    return Consent("c-bad", root);
  };
  struct Case {
    const char* name;
    std::function<void(v1::Consent&)> change;
    const char* field;
  };
  const Case cases[] = {
      {"unknown label code",
       [](v1::Consent& c) {
         c.mutable_provision()->mutable_provisions(0)->mutable_security_labels(0)->set_code("XYZ");
       },
       "consent.provision.provisions[0].security_labels[0].code"},
      {"unknown purpose",
       [](v1::Consent& c) { c.mutable_provision()->add_purposes("FUN"); },
       "consent.provision.purposes[0]"},
      {"unknown event",
       [](v1::Consent& c) { c.mutable_provision()->add_event_codes("no-such-event"); },
       "consent.provision.event_codes[0]"},
      {"root without a type",
       [](v1::Consent& c) { c.mutable_provision()->clear_type(); }, "consent.provision.type"},
      {"nested without a type",
       [](v1::Consent& c) { c.mutable_provision()->mutable_provisions(0)->clear_type(); },
       "consent.provision.provisions[0].type"},
      {"inverted period",
       [](v1::Consent& c) {
         *c.mutable_period()->mutable_start() = ToProtoTime(absl::Now());
         *c.mutable_period()->mutable_end() = ToProtoTime(absl::Now() - absl::Hours(24));
       },
       "consent.period"},
      {"inverted data period",
       [](v1::Consent& c) {
         auto* p = c.mutable_provision()->mutable_provisions(0)->mutable_data_period();
         *p->mutable_start() = ToProtoTime(absl::Now());
         *p->mutable_end() = ToProtoTime(absl::Now() - absl::Hours(1));
       },
       "consent.provision.provisions[0].data_period"},
      {"unknown client",
       [](v1::Consent& c) { c.mutable_client()->set_value("MRN-404"); }, "consent.client"},
      {"unknown actor",
       [](v1::Consent& c) {
         c.mutable_provision()->add_actors()->set_organisation_id("nobody-here");
       },
       "consent.provision.actors[0].organisation_id"},
      {"no status", [](v1::Consent& c) { c.clear_status(); }, "consent.status"},
      {"active without its signed form",
       [](v1::Consent& c) { c.clear_source_reference(); }, "consent.source_reference"},
  };
  auto coord = Consents("care-coord");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::RecordConsentRequest request;
    *request.mutable_consent() = valid();
    c.change(*request.mutable_consent());
    v1::Consent out;
    grpc::Status s = coord->Record(Ctx().get(), request, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::StartsWith(std::string(c.field) + ":"));
  }
  // A member outside the care team is told the client does not exist.
  v1::RecordConsentRequest request;
  *request.mutable_consent() = valid();
  v1::Consent out;
  grpc::Status s = Consents("eastside-mh")->Record(Ctx().get(), request, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("consent.client: no client with identifier"));
  // Nothing changed.
  v1::ListConsentsRequest list;
  *list.mutable_client() = ClientA();
  v1::ListConsentsResponse listed;
  ASSERT_TRUE(coord->List(Ctx().get(), list, &listed).ok());
  EXPECT_THAT(listed.consents(), IsEmpty());
}

// A member that holds the signed form may send the consent as a message; the
// same checks and rights apply, and later versions keep the history.
TEST_F(ConsentTest, ConsentChangeMessagesRecordConsentsWithTheirHistory) {
  auto message = [](const std::string& id, v1::Consent consent, const std::string& source) {
    v1::Message m;
    v1::MessageHeader* h = m.mutable_header();
    h->set_id(id);
    h->set_event("consent-change");
    h->set_source(source);
    *h->mutable_client() = ClientA();
    *h->mutable_occurred_at() = ToProtoTime(absl::Now() - absl::Minutes(5));
    *m.mutable_consent_change()->mutable_consent() = std::move(consent);
    return m;
  };
  v1::Consent consent = Consent("c-msg", Provision(v1::ConsentProvision::PERMIT));
  ASSERT_TRUE(As("care-coord")->Publish(message("cc-1", consent, "care-coord")).ok());
  consent.set_status(v1::Consent::INACTIVE);
  consent.set_status_reason("superseded by the paper form of 2026-11-20");
  ASSERT_TRUE(As("care-coord")->Publish(message("cc-2", consent, "care-coord")).ok());
  // harbour-housing did not record it and is not the coordinator.
  consent.set_status(v1::Consent::ACTIVE);
  grpc::Status s = As("harbour-housing")->Publish(message("cc-3", consent, "harbour-housing"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  // A member outside the care team cannot record one either.
  s = As("eastside-mh")->Publish(message("cc-4", consent, "eastside-mh"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  v1::ListConsentsRequest list;
  *list.mutable_client() = ClientA();
  v1::ListConsentsResponse listed;
  // A member that is not the coordinator sees only the consents it recorded.
  ASSERT_TRUE(Consents("st-marys")->List(Ctx().get(), list, &listed).ok());
  EXPECT_THAT(listed.consents(), IsEmpty());
  ASSERT_TRUE(Consents("care-coord")->List(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.consents_size(), 2);
  EXPECT_EQ(listed.consents(0).version(), 2);
  EXPECT_EQ(listed.consents(0).status(), v1::Consent::INACTIVE);
  EXPECT_EQ(listed.consents(1).version(), 1);
  EXPECT_EQ(listed.consents(1).recorded_by(), "care-coord");
  // Outside the care team the client does not exist.
  s = Consents("eastside-mh")->List(Ctx().get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // A consent naming HIV would tell a recipient that such content exists: a
  // ConsentChange reaches the coordinator only, and the recorder lists its own.
  auto housing = Subscribe("harbour-housing");
  auto coord = Subscribe("care-coord");
  v1::Consent hiv = Consent("c-hiv", Provision(v1::ConsentProvision::PERMIT));
  *hiv.mutable_provision()->add_provisions() =
      Provision(v1::ConsentProvision::DENY, {"harbour-housing"}, {"HIV"});
  ASSERT_TRUE(As("st-marys")->Publish(message("cc-hiv", hiv, "st-marys")).ok());
  ASSERT_TRUE(As("st-marys")->Publish(Note("after-hiv", {{"AFTER", {}}})).ok());
  auto housing_got = UntilSentinel(housing.get(), "after-hiv");
  EXPECT_THAT(housing_got, IsEmpty());
  auto coord_got = UntilSentinel(coord.get(), "after-hiv");
  ASSERT_EQ(coord_got.count("cc-hiv"), 1u);
  EXPECT_TRUE(Contains(coord_got["cc-hiv"], "HIV"));
  ASSERT_TRUE(Consents("st-marys")->List(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.consents_size(), 1);
  EXPECT_EQ(listed.consents(0).id(), "c-hiv");
  ASSERT_TRUE(Consents("harbour-housing")->List(Ctx().get(), list, &listed).ok());
  EXPECT_THAT(listed.consents(), IsEmpty());
}

// Any care-team member may record a consent (it holds the signed form), and the
// newest of a scope applies: the coordinator is told of every change it did
// not make itself.
TEST_F(ConsentTest, AConsentChangedByAnotherMemberIsToldToTheCoordinator) {
  auto coord = Subscribe("care-coord");
  v1::ConsentProvision root = Provision(v1::ConsentProvision::PERMIT);
  *root.add_provisions() = Provision(v1::ConsentProvision::PERMIT, {"harbour-housing"}, {"PSY"});
  ASSERT_NO_FATAL_FAILURE(Record(Consent("c-housing", root), "harbour-housing"));
  auto notice = coord->Next();
  ASSERT_TRUE(notice.has_value());
  coord->Ack({notice->id()});
  EXPECT_EQ(notice->event(), "consent-notice");
  EXPECT_EQ(notice->source(), "gateway");
  EXPECT_EQ(notice->message().notification().subject_organisation(), "harbour-housing");
  EXPECT_THAT(notice->message().notification().text(),
              HasSubstr("recorded consent c-housing v1 ACTIVE"));
  // The coordinator's own revocation is not told back to it.
  v1::RevokeConsentRequest revoke;
  *revoke.mutable_client() = ClientA();
  revoke.set_consent_id("c-housing");
  revoke.set_reason("not what the client signed");
  v1::Consent out;
  ASSERT_TRUE(Consents("care-coord")->Revoke(Ctx().get(), revoke, &out).ok());
  ASSERT_TRUE(As("st-marys")->Publish(Note("after-revoke", {{"AFTER", {}}})).ok());
  EXPECT_THAT(UntilSentinel(coord.get(), "after-revoke"), IsEmpty());
  EXPECT_TRUE(coord->Close().ok());
}

TEST_F(ConsentTest, CheckAccessExplainsAndIsLimitedToOneselfUnlessCoordinator) {
  v1::ConsentProvision root = Provision(v1::ConsentProvision::PERMIT);
  *root.add_provisions() = Provision(v1::ConsentProvision::DENY, {"harbour-housing"}, {"MH"});
  ASSERT_NO_FATAL_FAILURE(Record(Consent("c-mh", root)));
  auto check = [&](const std::string& as, const std::string& recipient,
                   std::vector<std::string> labels, v1::CheckAccessResponse* out) {
    v1::CheckAccessRequest request;
    request.set_recipient(recipient);
    *request.mutable_client() = ClientA();
    request.set_event("case-note");
    for (const auto& l : labels) *request.add_security_labels() = Label(l);
    return Consents(as)->CheckAccess(Ctx().get(), request, out);
  };
  v1::CheckAccessResponse response;
  ASSERT_TRUE(check("harbour-housing", "harbour-housing", {"MH"}, &response).ok());
  EXPECT_EQ(response.decision().effect(), v1::AccessDecision::DENY);
  EXPECT_THAT(response.decision().reason(), HasSubstr("consent c-mh v1 provision.provisions[0]: deny"));
  ASSERT_TRUE(check("care-coord", "northside-family", {}, &response).ok());
  EXPECT_EQ(response.decision().effect(), v1::AccessDecision::PERMIT);
  // northside-family may not ask about harbour-housing; eastside-mh about anyone.
  grpc::Status s = check("northside-family", "harbour-housing", {}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = check("eastside-mh", "eastside-mh", {}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace switchboard::testing
