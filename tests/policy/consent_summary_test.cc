#include "policy/consent_summary.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/labels.h"
#include "policy/sharing_policy.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"

namespace switchboard::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Role = v1::Organisation::Role;

const absl::Time kNow = absl::FromUnixSeconds(1'795'000'000);  // 2026-11-17

v1::SecurityLabel Label(const std::string& code) {
  v1::SecurityLabel l;
  l.set_system(std::string(SystemOfCode(code)));
  l.set_code(code);
  return l;
}

// A provision: Prov::Deny().Label("PSY").Sub(Prov::Permit().Org("st-marys")).
class Prov {
 public:
  static Prov Permit() { return Prov(v1::ConsentProvision::PERMIT); }
  static Prov Deny() { return Prov(v1::ConsentProvision::DENY); }
  Prov& Org(const std::string& id) {
    p_.add_actors()->set_organisation_id(id);
    return *this;
  }
  Prov& Role(v1::Organisation::Role role) {
    p_.add_actors()->set_role(role);
    return *this;
  }
  Prov& Label(const std::string& code) {
    *p_.add_security_labels() = policy::Label(code);
    return *this;
  }
  Prov& Purpose(const std::string& purpose) {
    p_.add_purposes(purpose);
    return *this;
  }
  Prov& Event(const std::string& event) {
    p_.add_event_codes(event);
    return *this;
  }
  Prov& DataFrom(absl::Time start) {
    *p_.mutable_data_period()->mutable_start() = ToProtoTime(start);
    return *this;
  }
  Prov& Sub(const Prov& child) {
    *p_.add_provisions() = child.p_;
    return *this;
  }
  const v1::ConsentProvision& proto() const { return p_; }

 private:
  explicit Prov(v1::ConsentProvision::Type type) { p_.set_type(type); }
  v1::ConsentProvision p_;
};

v1::Consent MakeConsent(const std::string& id, const Prov& root) {
  v1::Consent c;
  c.set_id(id);
  c.set_status(v1::Consent::ACTIVE);
  c.set_version(1);
  *c.mutable_period()->mutable_start() = ToProtoTime(kNow - absl::Hours(24 * 30));
  *c.mutable_provision() = root.proto();
  return c;
}

v1::Organisation Org(const std::string& id, const std::string& name, Role role) {
  v1::Organisation o;
  o.set_id(id);
  o.set_display_name(name);
  o.add_roles(role);
  return o;
}

const std::vector<v1::Organisation>& DemoOrganisations() {
  static const auto* const kOrgs = new std::vector<v1::Organisation>{
      Org("st-marys", "St Mary's Hospital", v1::Organisation::HOSPITAL),
      Org("harbour-housing", "Harbour Housing Trust", v1::Organisation::AGENCY),
      Org("northside-family", "Northside Family Services", v1::Organisation::AGENCY),
      Org("care-coord", "Community Care Coordination", v1::Organisation::COORDINATOR),
  };
  return *kOrgs;
}

v1::CareTeam Team(const std::vector<std::string>& ids) {
  v1::CareTeam team;
  team.set_client_id("client-0004");
  for (const std::string& id : ids) {
    v1::CareTeamMember* m = team.add_members();
    m->set_organisation_id(id);
    m->set_role("member");
    *m->mutable_period()->mutable_start() = ToProtoTime(kNow - absl::Hours(24 * 60));
  }
  return team;
}

// The demo federation's policy, read from deploy/demo (what `tools/run` uses).
SharingPolicy DemoPolicy() {
  const char* dir = std::getenv("SB_SOURCE_DIR");
  const std::string path =
      absl::StrCat(dir == nullptr ? "." : dir, "/deploy/demo/sharing-policy.textproto");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<SharingPolicy> policy =
      SharingPolicy::Parse(text.str(), path, [](absl::string_view) { return true; });
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : SharingPolicy::Default();
}

SharingPolicy PolicyFrom(const std::string& text) {
  absl::StatusOr<SharingPolicy> policy =
      SharingPolicy::Parse(text, "test", [](absl::string_view) { return true; });
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : SharingPolicy::Default();
}

// consent-0004-2026-10 of deploy/demo/switchboard.textproto: everything to the care
// team, except PSY, which only st-marys and care-coord see.
v1::Consent DemoConsent() {
  return MakeConsent("consent-0004-2026-10",
                     Prov::Permit().Sub(Prov::Deny().Label("PSY").Sub(
                         Prov::Permit().Org("st-marys").Org("care-coord"))));
}

std::vector<std::string> Summarise(const std::vector<v1::Consent>& consents,
                                   const v1::CareTeam& team, const SharingPolicy& policy) {
  return SummariseConsent(consents, team, DemoOrganisations(), DefaultLabelWords(), policy, kNow);
}

TEST(ConsentSummaryTest, DemoConsentSaysWhoSeesMentalHealthNotes) {
  EXPECT_THAT(
      Summarise({DemoConsent()}, Team({"st-marys", "care-coord", "harbour-housing"}), DemoPolicy()),
      ElementsAre("St Mary's Hospital sees everything including mental health notes, but no other "
                  "sensitive notes.",
                  "Community Care Coordination sees everything including mental health notes, but "
                  "no other sensitive notes.",
                  "Harbour Housing Trust sees everything except mental health notes and other "
                  "sensitive notes."));
}

TEST(ConsentSummaryTest, ReleasedAndWithheldLabelsBothNamed) {
  const v1::Consent consent = MakeConsent(
      "c-1", Prov::Permit().Sub(Prov::Permit().Label("PSY")).Sub(Prov::Deny().Label("SDV")));
  EXPECT_THAT(Summarise({consent}, Team({"st-marys"}), DemoPolicy()),
              ElementsAre("St Mary's Hospital sees everything including mental health notes, but "
                          "not domestic violence notes or other sensitive notes."));
}

TEST(ConsentSummaryTest, ConsentNamingEveryLabelItReleasesSaysEverything) {
  // Sensitive labels the policy counts are all named by a permit: nothing is left to
  // the default.
  const SharingPolicy policy = PolicyFrom(R"pb(
    roles { role: HOSPITAL events: "*" labels: "*" }
    roles { role: AGENCY events: "*" labels: "*" }
    defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: NOBODY }
    sensitive_labels: [ "PSY", "SUD" ]
  )pb");
  const v1::Consent consent =
      MakeConsent("c-all", Prov::Permit()
                               .Sub(Prov::Permit().Label("PSY").Label("SUD"))
                               .Sub(Prov::Deny().Org("harbour-housing").Label("SUD")));
  EXPECT_THAT(Summarise({consent}, Team({"st-marys", "harbour-housing"}), policy),
              ElementsAre("St Mary's Hospital sees everything.",
                          "Harbour Housing Trust sees everything except substance use notes."));
}

TEST(ConsentSummaryTest, NoConsentFallsBackToTheSharingPolicyDefault) {
  EXPECT_THAT(Summarise({}, Team({"northside-family"}), DemoPolicy()),
              ElementsAre("Northside Family Services sees what the care team sees by default (no "
                          "sensitive notes)."));
  const SharingPolicy nobody = PolicyFrom(R"pb(
    roles { role: AGENCY events: "*" labels: "*" }
    defaults { purpose: "TREAT" unlabelled: NOBODY sensitive: NOBODY }
    sensitive_labels: [ "PSY" ]
  )pb");
  EXPECT_THAT(Summarise({}, Team({"northside-family"}), nobody),
              ElementsAre("Northside Family Services sees nothing."));
}

TEST(ConsentSummaryTest, RevokedOrExpiredConsentIsNoConsent) {
  v1::Consent revoked = DemoConsent();
  revoked.set_status(v1::Consent::INACTIVE);
  v1::Consent expired = MakeConsent("c-old", Prov::Deny());
  *expired.mutable_period()->mutable_end() = ToProtoTime(kNow - absl::Hours(1));
  EXPECT_THAT(Summarise({revoked, expired}, Team({"harbour-housing"}), DemoPolicy()),
              ElementsAre("Harbour Housing Trust sees what the care team sees by default (no "
                          "sensitive notes)."));
}

TEST(ConsentSummaryTest, DefaultWithRoleRulesNamesWhatARoleMayNeverReceive) {
  // Sensitive content goes to the care team by default, but agencies may never
  // receive HIV content.
  const SharingPolicy policy = PolicyFrom(R"pb(
    roles { role: HOSPITAL events: "*" labels: "*" }
    roles {
      role: AGENCY
      events: [ "case-note" ]
      labels: [ "PSY" ]
    }
    defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: CARE_TEAM }
    sensitive_labels: [ "PSY", "HIV" ]
  )pb");
  EXPECT_THAT(Summarise({}, Team({"st-marys", "harbour-housing"}), policy),
              ElementsAre("St Mary's Hospital sees what the care team sees by default (sensitive "
                          "notes included).",
                          "Harbour Housing Trust sees what the care team sees by default (no HIV "
                          "status)."));
}

TEST(ConsentSummaryTest, NestedPermitInsideDeny) {
  // Nothing, except that st-marys sees what is not sensitive and harbour-housing
  // sees substance use notes only.
  const v1::Consent consent =
      MakeConsent("c-2", Prov::Deny()
                             .Sub(Prov::Permit().Org("st-marys"))
                             .Sub(Prov::Permit().Org("harbour-housing").Label("SUD")));
  EXPECT_THAT(
      Summarise({consent}, Team({"st-marys", "harbour-housing", "northside-family"}), DemoPolicy()),
      ElementsAre("St Mary's Hospital sees everything except sensitive notes.",
                  "Harbour Housing Trust sees only substance use notes.",
                  "Northside Family Services sees nothing."));
}

TEST(ConsentSummaryTest, ActorByRole) {
  // Hospitals also see domestic violence notes; for agencies the consent names no
  // sensitive label, so they see none.
  const v1::Consent consent = MakeConsent(
      "c-3", Prov::Permit().Sub(Prov::Permit().Role(v1::Organisation::HOSPITAL).Label("SDV")));
  EXPECT_THAT(Summarise({consent}, Team({"st-marys", "harbour-housing"}), DemoPolicy()),
              ElementsAre("St Mary's Hospital sees everything including domestic violence notes, "
                          "but no other sensitive notes.",
                          "Harbour Housing Trust sees everything except sensitive notes."));
}

TEST(ConsentSummaryTest, RootForOneActorLeavesTheOthersToTheDefault) {
  const v1::Consent consent = MakeConsent("c-4", Prov::Deny().Org("harbour-housing"));
  EXPECT_THAT(Summarise({consent}, Team({"harbour-housing", "northside-family"}), DemoPolicy()),
              ElementsAre("Harbour Housing Trust sees nothing.",
                          "Northside Family Services sees what the care team sees by default (no "
                          "sensitive notes)."));
}

TEST(ConsentSummaryTest, PurposeEventOrDataPeriodIsNotSummarised) {
  const std::vector<std::pair<std::string, Prov>> cases = {
      {"purpose", Prov::Permit().Sub(Prov::Deny().Purpose("HOPERAT"))},
      {"event", Prov::Permit().Sub(Prov::Deny().Event("discharge"))},
      {"data period", Prov::Permit().Sub(Prov::Deny().DataFrom(kNow - absl::Hours(24)))},
  };
  for (const auto& [name, root] : cases) {
    SCOPED_TRACE(name);
    EXPECT_THAT(Summarise({MakeConsent("c-5", root)}, Team({"harbour-housing"}), DemoPolicy()),
                ElementsAre("Harbour Housing Trust sees some content; ask the coordinator for the "
                            "details of consent c-5."));
  }
}

TEST(ConsentSummaryTest, ComplexBranchForAnotherActorDoesNotMuddleThisOne) {
  const v1::Consent consent =
      MakeConsent("c-6", Prov::Permit()
                             .Sub(Prov::Deny().Org("st-marys").Purpose("HOPERAT"))
                             .Sub(Prov::Deny().Label("PSY")));
  EXPECT_THAT(Summarise({consent}, Team({"st-marys", "harbour-housing"}), DemoPolicy()),
              ElementsAre("St Mary's Hospital sees some content; ask the coordinator for the "
                          "details of consent c-6.",
                          "Harbour Housing Trust sees everything except mental health notes and "
                          "other sensitive notes."));
}

TEST(ConsentSummaryTest, CurrentMembersOnlyEachOnceUnknownCodesAsCodes) {
  v1::CareTeam team = Team({"st-marys", "harbour-housing", "st-marys"});
  v1::CareTeamMember* past = team.add_members();
  past->set_organisation_id("northside-family");
  *past->mutable_period()->mutable_end() = ToProtoTime(kNow - absl::Hours(1));
  const v1::Consent consent = MakeConsent("c-7", Prov::Permit().Sub(Prov::Deny().Label("PSY")));
  const std::vector<std::string> lines =
      SummariseConsent({consent}, team, DemoOrganisations(), LabelWords{}, DemoPolicy(), kNow);
  EXPECT_THAT(lines, ElementsAre("St Mary's Hospital sees everything except PSY and other "
                                 "sensitive notes.",
                                 "Harbour Housing Trust sees everything except PSY and other "
                                 "sensitive notes."));
}

TEST(ConsentSummaryTest, UnregisteredMemberIsNamedByIdAndReceivesNothing) {
  EXPECT_THAT(Summarise({DemoConsent()}, Team({"gone-org"}), DemoPolicy()),
              ElementsAre("gone-org sees nothing."));
  EXPECT_THAT(Summarise({DemoConsent()}, v1::CareTeam(), DemoPolicy()), IsEmpty());
}

}  // namespace
}  // namespace switchboard::policy
