#include "policy/consent_policy.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "policy/labels.h"
#include "policy/sharing_policy.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"

namespace switchboard::policy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using Role = v1::Organisation::Role;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const absl::Duration kDay = absl::Hours(24);

// ---------------------------------------------------------------------------
// Builders.

v1::SecurityLabel Label(const std::string& code) {
  v1::SecurityLabel l;
  l.set_system(std::string(SystemOfCode(code)));
  l.set_code(code);
  return l;
}

v1::Period MakePeriod(std::optional<absl::Time> start, std::optional<absl::Time> end) {
  v1::Period p;
  if (start) *p.mutable_start() = ToProtoTime(*start);
  if (end) *p.mutable_end() = ToProtoTime(*end);
  return p;
}

// A provision: Prov::Deny().Org("org-b").Sub(Prov::Permit().Label("PSY")).
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
  Prov& Purpose(const std::string& purpose) {
    p_.add_purposes(purpose);
    return *this;
  }
  Prov& Label(const std::string& code) {
    *p_.add_security_labels() = policy::Label(code);
    return *this;
  }
  Prov& Event(const std::string& event) {
    p_.add_event_codes(event);
    return *this;
  }
  Prov& During(std::optional<absl::Time> start, std::optional<absl::Time> end) {
    *p_.mutable_period() = MakePeriod(start, end);
    return *this;
  }
  Prov& DataFrom(std::optional<absl::Time> start, std::optional<absl::Time> end) {
    *p_.mutable_data_period() = MakePeriod(start, end);
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

struct ConsentOptions {
  std::string scope = "";
  v1::Consent::Status status = v1::Consent::ACTIVE;
  // Offsets from kNow; nullopt leaves the field unset.
  std::optional<absl::Duration> updated = -kDay;
  std::optional<absl::Duration> recorded = -2 * kDay;
  std::optional<absl::Duration> from = std::nullopt;
  std::optional<absl::Duration> until = std::nullopt;
};

v1::Consent MakeConsent(const std::string& id, const Prov& root, const ConsentOptions& o = {}) {
  v1::Consent c;
  c.set_id(id);
  c.set_status(o.status);
  c.mutable_client()->set_system("https://st-marys.example.org/fhir/mrn");
  c.mutable_client()->set_value("MRN-1");
  c.set_recorded_by("org-a");
  c.set_source_reference("forms/1");
  c.set_scope(o.scope);
  c.set_version(1);
  if (o.updated) *c.mutable_updated_at() = ToProtoTime(kNow + *o.updated);
  if (o.recorded) *c.mutable_recorded_at() = ToProtoTime(kNow + *o.recorded);
  if (o.from || o.until) {
    *c.mutable_period() = MakePeriod(o.from ? std::optional(kNow + *o.from) : std::nullopt,
                                     o.until ? std::optional(kNow + *o.until) : std::nullopt);
  }
  *c.mutable_provision() = root.proto();
  return c;
}

// org-a, a hospital in the client's care team.
Recipient CareTeamHospital() {
  return Recipient{
      .organisation_id = "org-a", .roles = {v1::Organisation::HOSPITAL}, .in_care_team = true};
}
// org-b, an agency outside the care team (a subscriber).
Recipient OutsideAgency() {
  return Recipient{
      .organisation_id = "org-b", .roles = {v1::Organisation::AGENCY}, .in_care_team = false};
}

Content Discharge(std::vector<std::string> labels = {}, std::string purpose = "TREAT") {
  return Content{.event = "discharge",
                 .purpose = std::move(purpose),
                 .labels = std::move(labels),
                 .data_time = kNow - kDay};
}

bool KnownEvent(absl::string_view e) {
  return e == "discharge" || e == "case-note" || e == "care-plan" || e == "referral";
}

SharingPolicy PolicyFrom(const std::string& text) {
  absl::StatusOr<SharingPolicy> p = SharingPolicy::Parse(text, "test-policy", KnownEvent);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : SharingPolicy::Default();
}

// ---------------------------------------------------------------------------
// DecideContent, table-driven.

struct ContentCase {
  std::string name;
  std::vector<v1::Consent> consents;
  Recipient recipient;
  Content content;
  bool permit;
  // Substrings the reason must contain, and must not.
  std::vector<std::string> reason_has = {};
  std::vector<std::string> reason_lacks = {};
};

void RunCases(const std::vector<ContentCase>& cases, const SharingPolicy& policy) {
  for (const ContentCase& c : cases) {
    const ContentDecision d = DecideContent(c.recipient, c.content, c.consents, policy, kNow);
    EXPECT_EQ(d.permit, c.permit) << c.name << " (reason: " << d.reason << ")";
    EXPECT_THAT(d.reason, Not(IsEmpty())) << c.name;
    for (const std::string& s : c.reason_has) EXPECT_THAT(d.reason, HasSubstr(s)) << c.name;
    for (const std::string& s : c.reason_lacks) {
      EXPECT_THAT(d.reason, Not(HasSubstr(s))) << c.name;
    }
  }
}

TEST(ConsentPolicyTest, WithoutConsentTheSharingPolicyDefaultsApply) {
  const SharingPolicy policy = SharingPolicy::Default();  // TREAT: CARE_TEAM / NOBODY
  Recipient outside_hospital = CareTeamHospital();
  outside_hospital.in_care_team = false;
  RunCases(
      {
          {"TREAT, unlabelled, care team: permitted", {}, CareTeamHospital(), Discharge(), true},
          {"empty purpose means TREAT", {}, CareTeamHospital(), Discharge({}, ""), true},
          {"not in the care team: denied", {}, outside_hospital, Discharge(), false},
          {"subscriber outside the care team: denied", {}, OutsideAgency(), Discharge(), false},
          {"sensitive label, care team: denied", {}, CareTeamHospital(), Discharge({"PSY"}), false},
          {"confidentiality R is sensitive", {}, CareTeamHospital(), Discharge({"R"}), false},
          {"non-sensitive label N, care team: permitted",
           {},
           CareTeamHospital(),
           Discharge({"N"}),
           true},
          {"purpose without a default: denied",
           {},
           CareTeamHospital(),
           Discharge({}, "HOPERAT"),
           false},
      },
      policy);
}

TEST(ConsentPolicyTest, DefaultAudiencesAnyRecipientCareTeamAndNobody) {
  const SharingPolicy policy = PolicyFrom(R"pb(
    roles { role: HOSPITAL events: "*" labels: "*" }
    roles { role: AGENCY events: "*" labels: "*" }
    defaults { purpose: "COC" unlabelled: ANY_RECIPIENT sensitive: CARE_TEAM }
    defaults { purpose: "TREAT" unlabelled: NOBODY sensitive: ANY_RECIPIENT }
    sensitive_labels: [ "PSY", "HIV" ]
  )pb");
  RunCases(
      {
          {"COC unlabelled to anyone", {}, OutsideAgency(), Discharge({}, "COC"), true},
          {"COC sensitive outside the care team",
           {},
           OutsideAgency(),
           Discharge({"HIV"}, "COC"),
           false},
          {"COC sensitive to the care team",
           {},
           CareTeamHospital(),
           Discharge({"HIV"}, "COC"),
           true},
          {"ETH is not sensitive under this policy",
           {},
           OutsideAgency(),
           Discharge({"ETH"}, "COC"),
           true},
          {"TREAT unlabelled to nobody, even the care team",
           {},
           CareTeamHospital(),
           Discharge(),
           false},
          {"TREAT sensitive to anyone", {}, OutsideAgency(), Discharge({"PSY"}), true},
          {"HOPERAT has no default", {}, CareTeamHospital(), Discharge({}, "HOPERAT"), false},
      },
      policy);
}

TEST(ConsentPolicyTest, EachProvisionDimensionNarrowsTheDecision) {
  const SharingPolicy policy = SharingPolicy::Default();
  Recipient outside_hospital = CareTeamHospital();
  outside_hospital.in_care_team = false;
  Recipient agency_a = OutsideAgency();
  agency_a.organisation_id = "org-a";
  const auto one = [](const Prov& root) { return std::vector{MakeConsent("c1", root)}; };
  Content case_note = Discharge();
  case_note.event = "case-note";
  Content old_data = Discharge();
  old_data.data_time = kNow - 10 * kDay;
  Content data_at_start = Discharge();
  data_at_start.data_time = kNow - 30 * kDay;
  Content data_at_end = Discharge();
  data_at_end.data_time = kNow - 7 * kDay;
  const Prov deny_old_data =
      Prov::Permit().Sub(Prov::Deny().DataFrom(kNow - 30 * kDay, kNow - 7 * kDay));
  const std::vector<std::string> sub0 = {"consent c1", "provision.provisions[0]"};
  const std::vector<std::string> root = {"consent c1", "provision"};
  const std::vector<std::string> not_sub = {"provisions["};
  RunCases(
      {
          // The root alone decides, overriding the defaults both ways.
          {"root permit reaches outside the care team", one(Prov::Permit()), OutsideAgency(),
           Discharge(), true, root, not_sub},
          {"root deny withholds from the care team", one(Prov::Deny()), CareTeamHospital(),
           Discharge(), false, root, not_sub},
          // Actor by organisation.
          {"actor organisation matches", one(Prov::Deny().Sub(Prov::Permit().Org("org-b"))),
           OutsideAgency(), Discharge(), true, sub0},
          {"actor organisation differs", one(Prov::Deny().Sub(Prov::Permit().Org("org-b"))),
           CareTeamHospital(), Discharge(), false, root, not_sub},
          {"one of several actors matches",
           one(Prov::Deny().Sub(Prov::Permit().Org("org-c").Role(v1::Organisation::AGENCY))),
           agency_a, Discharge(), true, sub0},
          // Actor by role.
          {"actor role matches",
           one(Prov::Permit().Sub(Prov::Deny().Role(v1::Organisation::AGENCY))), OutsideAgency(),
           Discharge(), false, sub0},
          {"actor role differs",
           one(Prov::Permit().Sub(Prov::Deny().Role(v1::Organisation::AGENCY))), outside_hospital,
           Discharge(), true, root, not_sub},
          // Purpose.
          {"purpose matches", one(Prov::Permit().Sub(Prov::Deny().Purpose("HOPERAT"))),
           OutsideAgency(), Discharge({}, "HOPERAT"), false, sub0},
          {"purpose differs", one(Prov::Permit().Sub(Prov::Deny().Purpose("HOPERAT"))),
           OutsideAgency(), Discharge({}, "TREAT"), true, root, not_sub},
          {"empty purpose matches TREAT", one(Prov::Permit().Sub(Prov::Deny().Purpose("TREAT"))),
           OutsideAgency(), Discharge({}, ""), false, sub0},
          // Security label (a deny needs no naming rule; N is not sensitive).
          {"label on the content", one(Prov::Permit().Sub(Prov::Deny().Label("N"))),
           OutsideAgency(), Discharge({"N"}), false, sub0},
          {"label not on the content", one(Prov::Permit().Sub(Prov::Deny().Label("N"))),
           OutsideAgency(), Discharge({"L"}), true, root, not_sub},
          {"one of several listed labels suffices",
           one(Prov::Permit().Sub(Prov::Deny().Label("L").Label("N"))), OutsideAgency(),
           Discharge({"N"}), false, sub0},
          {"sensitive label denied by a deny", one(Prov::Permit().Sub(Prov::Deny().Label("PSY"))),
           CareTeamHospital(), Discharge({"PSY"}), false, sub0},
          // Event code.
          {"event matches", one(Prov::Permit().Sub(Prov::Deny().Event("case-note"))),
           OutsideAgency(), case_note, false, sub0},
          {"event differs", one(Prov::Permit().Sub(Prov::Deny().Event("case-note"))),
           OutsideAgency(), Discharge(), true, root, not_sub},
          // Data period [now-30d, now-7d).
          {"data inside the data period", one(deny_old_data), OutsideAgency(), old_data, false,
           sub0},
          {"data at the data period's start (inclusive)", one(deny_old_data), OutsideAgency(),
           data_at_start, false, sub0},
          {"data at the data period's end (exclusive)", one(deny_old_data), OutsideAgency(),
           data_at_end, true, root, not_sub},
          {"recent data outside the data period", one(deny_old_data), OutsideAgency(), Discharge(),
           true, root, not_sub},
          // Provision period.
          {"provision period current",
           one(Prov::Permit().Sub(Prov::Deny().During(kNow - kDay, kNow + kDay))), OutsideAgency(),
           Discharge(), false, sub0},
          {"provision period starting now (inclusive)",
           one(Prov::Permit().Sub(Prov::Deny().During(kNow, std::nullopt))), OutsideAgency(),
           Discharge(), false, sub0},
          {"provision period ended now (exclusive)",
           one(Prov::Permit().Sub(Prov::Deny().During(kNow - kDay, kNow))), OutsideAgency(),
           Discharge(), true, root, not_sub},
          {"provision period in the future",
           one(Prov::Permit().Sub(Prov::Deny().During(kNow + kDay, std::nullopt))), OutsideAgency(),
           Discharge(), true, root, not_sub},
          // Several dimensions on one provision: all must match.
          {"all dimensions match",
           one(Prov::Permit().Sub(
               Prov::Deny().Org("org-b").Purpose("TREAT").Event("discharge").Label("N"))),
           OutsideAgency(), Discharge({"N"}), false, sub0},
          {"one dimension of several differs",
           one(Prov::Permit().Sub(
               Prov::Deny().Org("org-b").Purpose("TREAT").Event("case-note").Label("N"))),
           OutsideAgency(), Discharge({"N"}), true, root, not_sub},
      },
      policy);
}

TEST(ConsentPolicyTest, AConsentWhoseRootDoesNotMatchDoesNotApply) {
  const SharingPolicy policy = SharingPolicy::Default();
  RunCases(
      {
          {"root permit for another organisation: defaults deny the outsider",
           {MakeConsent("c1", Prov::Permit().Org("org-c"))},
           OutsideAgency(),
           Discharge(),
           false},
          {"root deny for another organisation: defaults permit the care team",
           {MakeConsent("c1", Prov::Deny().Org("org-c"))},
           CareTeamHospital(),
           Discharge(),
           true},
          {"root deny of another event: defaults permit the care team",
           {MakeConsent("c1", Prov::Deny().Event("case-note").Sub(Prov::Deny()))},
           CareTeamHospital(),
           Discharge(),
           true},
          {"root matching, another consent's root not: the first decides",
           {MakeConsent("c1", Prov::Deny().Org("org-c")),
            MakeConsent("c2", Prov::Permit(), {.scope = "treatment"})},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c2"}},
      },
      policy);
}

TEST(ConsentPolicyTest, TheDeepestMatchingProvisionDecides) {
  const SharingPolicy policy = SharingPolicy::Default();
  // deny
  //  [0] permit org-b
  //   [0][0] deny purpose HOPERAT
  //    [0][0][0] permit event discharge
  //  [1] deny event referral
  const std::vector<v1::Consent> consents = {MakeConsent(
      "c1", Prov::Deny()
                .Sub(Prov::Permit().Org("org-b").Sub(
                    Prov::Deny().Purpose("HOPERAT").Sub(Prov::Permit().Event("discharge"))))
                .Sub(Prov::Deny().Event("referral")))};
  Content case_note_hoperat = Discharge({}, "HOPERAT");
  case_note_hoperat.event = "case-note";
  Content referral = Discharge();
  referral.event = "referral";
  Content referral_hoperat = Discharge({}, "HOPERAT");
  referral_hoperat.event = "referral";
  Recipient org_c = OutsideAgency();
  org_c.organisation_id = "org-c";
  RunCases(
      {
          {"depth 3 permit",
           consents,
           OutsideAgency(),
           Discharge({}, "HOPERAT"),
           true,
           {"consent c1", "provision.provisions[0].provisions[0].provisions[0]"}},
          {"depth 2 deny",
           consents,
           OutsideAgency(),
           case_note_hoperat,
           false,
           {"consent c1", "provision.provisions[0].provisions[0]"},
           {"provision.provisions[0].provisions[0].provisions[0]"}},
          {"depth 1 permit",
           consents,
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c1", "provision.provisions[0]"},
           {"provisions[0].provisions["}},
          {"depth 0 deny for another organisation",
           consents,
           org_c,
           Discharge(),
           false,
           {"consent c1"},
           {"provisions["}},
          {"depth 2 deny beats a depth 1 deny's sibling permit",
           consents,
           OutsideAgency(),
           referral_hoperat,
           false,
           {"provision.provisions[0].provisions[0]"}},
          // permit; [0] deny discharge; [1] deny org-b, [1][0] permit TREAT.
          {"a deeper permit beats a shallower deny on another branch",
           {MakeConsent("c1",
                        Prov::Permit()
                            .Sub(Prov::Deny().Event("discharge"))
                            .Sub(Prov::Deny().Org("org-b").Sub(Prov::Permit().Purpose("TREAT"))))},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c1", "provision.provisions[1].provisions[0]"}},
          {"equally deep: deny [1] wins over permit [0]",
           consents,
           OutsideAgency(),
           referral,
           false,
           {"consent c1", "provision.provisions[1]"}},
      },
      policy);
}

TEST(ConsentPolicyTest, AMatchingProvisionUnderANonMatchingParentIsIgnored) {
  const SharingPolicy policy = SharingPolicy::Default();
  // deny
  //  [0] permit org-c
  //   [0][0] permit event discharge  (matches org-b's request on its own)
  const std::vector<v1::Consent> consents = {MakeConsent(
      "c1", Prov::Deny().Sub(Prov::Permit().Org("org-c").Sub(Prov::Permit().Event("discharge"))))};
  RunCases({{"org-b is denied by the root",
             consents,
             OutsideAgency(),
             Discharge(),
             false,
             {"consent c1"},
             {"provisions["}}},
           policy);
}

TEST(ConsentPolicyTest, AmongEquallyDeepMatchesADenyWins) {
  const SharingPolicy policy = SharingPolicy::Default();
  RunCases(
      {
          {"permit [0], deny [1]",
           {MakeConsent(
               "c1",
               Prov::Deny().Sub(Prov::Permit().Org("org-b")).Sub(Prov::Deny().Event("discharge")))},
           OutsideAgency(),
           Discharge(),
           false,
           {"provision.provisions[1]"}},
          {"deny [0], permit [1]",
           {MakeConsent("c1", Prov::Permit()
                                  .Sub(Prov::Deny().Event("discharge"))
                                  .Sub(Prov::Permit().Org("org-b")))},
           OutsideAgency(),
           Discharge(),
           false,
           {"provision.provisions[0]"}},
          {"at depth 2 under different parents",
           {MakeConsent("c1",
                        Prov::Deny()
                            .Sub(Prov::Permit().Org("org-b").Sub(Prov::Permit().Purpose("TREAT")))
                            .Sub(Prov::Permit()
                                     .Event("discharge")
                                     .Sub(Prov::Deny().Role(v1::Organisation::AGENCY))))},
           OutsideAgency(),
           Discharge(),
           false,
           {"provision.provisions[1].provisions[0]"}},
          {"two permits, no deny",
           {MakeConsent("c1", Prov::Deny()
                                  .Sub(Prov::Permit().Org("org-b"))
                                  .Sub(Prov::Permit().Event("discharge")))},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c1", "provision.provisions["}},
      },
      policy);
}

TEST(ConsentPolicyTest, TheNewestActiveConsentOfAScopeSupersedesOlderOnes) {
  const SharingPolicy policy = SharingPolicy::Default();
  const v1::Consent older_permit = MakeConsent("c1", Prov::Permit(), {.updated = -2 * kDay});
  const v1::Consent newer_deny = MakeConsent("c2", Prov::Deny(), {.updated = -kDay});
  const v1::Consent older_deny = MakeConsent("c1", Prov::Deny(), {.updated = -2 * kDay});
  const v1::Consent newer_permit = MakeConsent("c2", Prov::Permit(), {.updated = -kDay});
  RunCases(
      {
          {"newer deny supersedes older permit",
           {older_permit, newer_deny},
           OutsideAgency(),
           Discharge(),
           false,
           {"consent c2"}},
          {"order in the list does not matter",
           {newer_deny, older_permit},
           OutsideAgency(),
           Discharge(),
           false,
           {"consent c2"}},
          {"newer permit supersedes older deny",
           {newer_permit, older_deny},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c2"}},
          {"same updated_at: later recorded_at wins",
           {MakeConsent("c1", Prov::Deny(), {.updated = -kDay, .recorded = -3 * kDay}),
            MakeConsent("c2", Prov::Permit(), {.updated = -kDay, .recorded = -2 * kDay})},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c2"}},
          {"same updated_at: later recorded_at wins (reversed)",
           {MakeConsent("c1", Prov::Deny(), {.updated = -kDay, .recorded = -2 * kDay}),
            MakeConsent("c2", Prov::Permit(), {.updated = -kDay, .recorded = -3 * kDay})},
           OutsideAgency(),
           Discharge(),
           false,
           {"consent c1"}},
          {"same times: greatest id wins (ids compare as strings)",
           {MakeConsent("c9", Prov::Permit()), MakeConsent("c10", Prov::Deny())},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c9"}},
          {"updated_at outranks recorded_at",
           {MakeConsent("c1", Prov::Permit(), {.updated = -kDay, .recorded = -5 * kDay}),
            MakeConsent("c2", Prov::Deny(), {.updated = -2 * kDay, .recorded = -2 * kDay})},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c1"}},
          {"empty scope is patient-privacy",
           {MakeConsent("c1", Prov::Deny(), {.scope = "", .updated = -2 * kDay}),
            MakeConsent("c2", Prov::Permit(), {.scope = "patient-privacy", .updated = -kDay})},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c2"}},
          {"a newer inactive consent does not supersede",
           {older_permit,
            MakeConsent("c2", Prov::Deny(), {.status = v1::Consent::INACTIVE, .updated = -kDay})},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c1"}},
          {"a superseded consent does not apply even where the newest does not match",
           {MakeConsent("c1", Prov::Permit(), {.updated = -2 * kDay}),
            MakeConsent("c2", Prov::Deny().Org("org-c"), {.updated = -kDay})},
           OutsideAgency(),
           Discharge(),
           false},
      },
      policy);
}

TEST(ConsentPolicyTest, AcrossScopesAnyDenyDenies) {
  const SharingPolicy policy = SharingPolicy::Default();
  RunCases(
      {
          {"newer privacy permit, older treatment deny",
           {MakeConsent("c1", Prov::Permit(), {.scope = "patient-privacy", .updated = -kDay}),
            MakeConsent("c2", Prov::Deny(), {.scope = "treatment", .updated = -3 * kDay})},
           OutsideAgency(),
           Discharge(),
           false,
           {"consent c2"}},
          {"privacy deny, treatment permit",
           {MakeConsent("c1", Prov::Deny(), {.scope = ""}),
            MakeConsent("c2", Prov::Permit(), {.scope = "treatment"})},
           CareTeamHospital(),
           Discharge(),
           false,
           {"consent c1"}},
          {"both permit",
           {MakeConsent("c1", Prov::Permit(), {.scope = ""}),
            MakeConsent("c2", Prov::Permit(), {.scope = "treatment"})},
           OutsideAgency(),
           Discharge(),
           true},
          {"treatment deny does not apply to org-b; privacy permit does",
           {MakeConsent("c1", Prov::Permit()),
            MakeConsent("c2", Prov::Deny().Org("org-c"), {.scope = "treatment"})},
           OutsideAgency(),
           Discharge(),
           true,
           {"consent c1"}},
      },
      policy);
}

TEST(ConsentPolicyTest, OnlyActiveConsentsInTheirPeriodApply) {
  const SharingPolicy policy = SharingPolicy::Default();
  std::vector<ContentCase> cases;
  for (const v1::Consent::Status status :
       {v1::Consent::STATUS_UNSPECIFIED, v1::Consent::DRAFT, v1::Consent::INACTIVE,
        v1::Consent::REJECTED, v1::Consent::ENTERED_IN_ERROR}) {
    const std::string name = v1::Consent::Status_Name(status);
    cases.push_back({name + " deny ignored: care team permitted by default",
                     {MakeConsent("c1", Prov::Deny(), {.status = status})},
                     CareTeamHospital(),
                     Discharge(),
                     true,
                     {},
                     {"consent c1"}});
    cases.push_back({name + " permit ignored: outsider denied by default",
                     {MakeConsent("c1", Prov::Permit(), {.status = status})},
                     OutsideAgency(),
                     Discharge(),
                     false,
                     {},
                     {"consent c1"}});
  }
  cases.push_back({"expired deny (ended a day ago) ignored",
                   {MakeConsent("c1", Prov::Deny(), {.from = -10 * kDay, .until = -kDay})},
                   CareTeamHospital(),
                   Discharge(),
                   true,
                   {},
                   {"consent c1"}});
  cases.push_back({"deny ending now (exclusive) ignored",
                   {MakeConsent("c1", Prov::Deny(), {.until = absl::ZeroDuration()})},
                   CareTeamHospital(),
                   Discharge(),
                   true,
                   {},
                   {"consent c1"}});
  cases.push_back({"expired permit ignored",
                   {MakeConsent("c1", Prov::Permit(), {.until = -kDay})},
                   OutsideAgency(),
                   Discharge(),
                   false,
                   {},
                   {"consent c1"}});
  cases.push_back({"deny not started yet ignored",
                   {MakeConsent("c1", Prov::Deny(), {.from = kDay})},
                   CareTeamHospital(),
                   Discharge(),
                   true,
                   {},
                   {"consent c1"}});
  cases.push_back({"deny starting now applies",
                   {MakeConsent("c1", Prov::Deny(), {.from = absl::ZeroDuration()})},
                   CareTeamHospital(),
                   Discharge(),
                   false,
                   {"consent c1"}});
  cases.push_back({"newer expired permit: the older current deny applies",
                   {MakeConsent("c1", Prov::Deny(), {.updated = -3 * kDay}),
                    MakeConsent("c2", Prov::Permit(), {.updated = -kDay, .until = -kDay})},
                   OutsideAgency(),
                   Discharge(),
                   false,
                   {"consent c1"}});
  RunCases(cases, policy);
}

TEST(ConsentPolicyTest, APermitReleasesSensitiveContentOnlyWhereItNamesTheLabel) {
  const SharingPolicy policy = SharingPolicy::Default();  // sensitive default: NOBODY
  const SharingPolicy lenient = PolicyFrom(R"pb(
    roles { role: HOSPITAL events: "*" labels: "*" }
    roles { role: AGENCY events: "*" labels: "*" }
    defaults { purpose: "TREAT" unlabelled: NOBODY sensitive: ANY_RECIPIENT }
    sensitive_labels: [ "PSY", "HIV" ]
  )pb");
  RunCases(
      {
          {"root permit does not release PSY to the care team",
           {MakeConsent("c1", Prov::Permit())},
           CareTeamHospital(),
           Discharge({"PSY"}),
           false},
          {"root permit does not release PSY to an outsider",
           {MakeConsent("c1", Prov::Permit())},
           OutsideAgency(),
           Discharge({"PSY"}),
           false},
          {"root permit still releases unlabelled content",
           {MakeConsent("c1", Prov::Permit())},
           OutsideAgency(),
           Discharge({"N"}),
           true,
           {"consent c1"}},
          {"permit under a provision naming PSY releases it",
           {MakeConsent("c1", Prov::Deny().Sub(Prov::Permit().Label("PSY")))},
           OutsideAgency(),
           Discharge({"PSY"}),
           true,
           {"consent c1", "provision.provisions[0]"}},
          {"PSY named at the root, permit deeper",
           {MakeConsent("c1", Prov::Permit().Label("PSY").Sub(Prov::Permit().Org("org-b")))},
           OutsideAgency(),
           Discharge({"PSY"}),
           true,
           {"consent c1", "provision.provisions[0]"}},
          {"PSY named at depth 1, permit at depth 2",
           {MakeConsent("c1", Prov::Deny().Sub(Prov::Permit().Label("PSY").Sub(
                                  Prov::Permit().Role(v1::Organisation::AGENCY))))},
           OutsideAgency(),
           Discharge({"PSY"}),
           true,
           {"provision.provisions[0].provisions[0]"}},
          {"PSY named, HIV not: not released",
           {MakeConsent("c1", Prov::Deny().Sub(Prov::Permit().Label("PSY")))},
           OutsideAgency(),
           Discharge({"PSY", "HIV"}),
           false},
          {"PSY and HIV both named on the path",
           {MakeConsent("c1", Prov::Deny().Sub(
                                  Prov::Permit().Label("PSY").Sub(Prov::Permit().Label("HIV"))))},
           OutsideAgency(),
           Discharge({"PSY", "HIV"}),
           true},
          {"a label named on another branch does not count",
           {MakeConsent("c1", Prov::Permit()
                                  .Sub(Prov::Permit().Org("org-b"))
                                  .Sub(Prov::Deny().Label("PSY").Org("org-c")))},
           OutsideAgency(),
           Discharge({"PSY"}),
           false},
          {"a deny needs no naming",
           {MakeConsent("c1", Prov::Deny())},
           CareTeamHospital(),
           Discharge({"PSY"}),
           false,
           {"consent c1"}},
          {"an unreleasing permit does not outvote another consent's release",
           {MakeConsent("c1", Prov::Permit()),
            MakeConsent("c2", Prov::Permit().Label("PSY"), {.scope = "treatment"})},
           OutsideAgency(),
           Discharge({"PSY"}),
           true,
           {"consent c2"}},
      },
      policy);
  RunCases(
      {
          // The consent does not apply to PSY content, so the default (here
          // ANY_RECIPIENT for sensitive content) decides.
          {"unnamed sensitive label falls to the default",
           {MakeConsent("c1", Prov::Permit())},
           OutsideAgency(),
           Discharge({"PSY"}),
           true},
      },
      lenient);
}

TEST(ConsentPolicyTest, RoleRulesDenyWhateverTheConsentSays) {
  const SharingPolicy policy = PolicyFrom(R"pb(
    roles {
      role: HOSPITAL
      events: [ "discharge", "referral" ]
      labels: [ "PSY" ]
    }
    roles { role: AGENCY events: "*" }
    defaults { purpose: "TREAT" unlabelled: ANY_RECIPIENT sensitive: ANY_RECIPIENT }
    sensitive_labels: [ "PSY", "HIV" ]
    break_glass {
      roles: [ HOSPITAL, AGENCY ]
      duration_minutes: 60
    }
  )pb");
  const std::vector<v1::Consent> permit_all = {
      MakeConsent("c1", Prov::Permit().Label("PSY").Label("HIV").Sub(Prov::Permit()))};
  Content case_note = Discharge();
  case_note.event = "case-note";
  Content case_note_psy = Discharge({"PSY"});
  case_note_psy.event = "case-note";
  Recipient both = OutsideAgency();
  both.roles = {v1::Organisation::AGENCY, v1::Organisation::HOSPITAL};
  Recipient coordinator = OutsideAgency();
  coordinator.roles = {v1::Organisation::COORDINATOR};
  Recipient no_role = OutsideAgency();
  no_role.roles.clear();
  RunCases(
      {
          {"agency may not receive PSY",
           permit_all,
           OutsideAgency(),
           Discharge({"PSY"}),
           false,
           {"sharing policy", "PSY"},
           {"consent c1"}},
          {"agency may receive non-sensitive labels", permit_all, OutsideAgency(), Discharge({"N"}),
           true},
          {"hospital may not receive HIV",
           permit_all,
           CareTeamHospital(),
           Discharge({"HIV"}),
           false,
           {"sharing policy", "HIV"}},
          {"hospital may receive PSY", permit_all, CareTeamHospital(), Discharge({"PSY"}), true},
          {"hospital may never receive case notes",
           permit_all,
           CareTeamHospital(),
           case_note,
           false,
           {"sharing policy", "case-note"}},
          {"hospital and agency: the union of their rules", permit_all, both, case_note_psy, true},
          {"a role without a rule receives nothing",
           permit_all,
           coordinator,
           Discharge(),
           false,
           {"sharing policy"}},
          {"no role receives nothing", permit_all, no_role, Discharge(), false, {"sharing policy"}},
      },
      policy);
}

TEST(ConsentPolicyTest, BreakGlassPermitsUntilItExpiresButNotBeyondRoleRules) {
  const SharingPolicy policy = PolicyFrom(R"pb(
    roles { role: HOSPITAL events: "*" labels: "*" }
    roles {
      role: AGENCY
      events: [ "discharge" ]
      labels: []
    }
    defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: NOBODY }
    sensitive_labels: [ "PSY", "HIV" ]
    break_glass {
      roles: [ HOSPITAL, AGENCY ]
      duration_minutes: 60
    }
  )pb");
  const auto glass = [](Recipient r, absl::Duration left) {
    r.break_glass_until = kNow + left;
    return r;
  };
  const std::vector<v1::Consent> deny = {MakeConsent("c1", Prov::Deny())};
  Content case_note = Discharge();
  case_note.event = "case-note";
  RunCases(
      {
          {"unexpired grant overrides a deny",
           deny,
           glass(OutsideAgency(), absl::Minutes(30)),
           Discharge(),
           true,
           {},
           {"consent c1"}},
          {"unexpired grant releases sensitive content without consent",
           {},
           glass(CareTeamHospital(), absl::Minutes(1)),
           Discharge({"PSY"}, "ETREAT"),
           true},
          {"grant expiring now no longer permits",
           deny,
           glass(OutsideAgency(), absl::ZeroDuration()),
           Discharge(),
           false,
           {"consent c1"}},
          {"expired grant no longer permits",
           deny,
           glass(OutsideAgency(), -absl::Minutes(1)),
           Discharge(),
           false,
           {"consent c1"}},
          {"grant does not release a label the role may never receive",
           {},
           glass(OutsideAgency(), absl::Minutes(30)),
           Discharge({"PSY"}),
           false,
           {"sharing policy"}},
          {"grant does not release an event the role may never receive",
           {},
           glass(OutsideAgency(), absl::Minutes(30)),
           case_note,
           false,
           {"sharing policy"}},
      },
      policy);
}

// ---------------------------------------------------------------------------
// DecideMessage and Redact.

constexpr char kSecret[] = "ZEBRA-7731";  // only in the elements that are withheld

v1::Section MakeSection(const std::string& code, const std::string& title, const std::string& text,
                        std::vector<std::string> labels = {}) {
  v1::Section s;
  s.set_code(code);
  s.set_title(title);
  s.set_text(text);
  for (const std::string& l : labels) {
    v1::SecurityLabel* label = s.add_security_labels();
    *label = Label(l);
    label->set_display(title);  // so a removed section's labels carry its secret too
  }
  return s;
}

v1::Message Header(const std::string& event, std::vector<std::string> labels = {}) {
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  h->set_id("m-1");
  h->set_event(event);
  h->set_source("org-src");
  h->mutable_client()->set_system("https://st-marys.example.org/fhir/mrn");
  h->mutable_client()->set_value("MRN-1");
  *h->mutable_occurred_at() = ToProtoTime(kNow - absl::Hours(1));
  for (const std::string& l : labels) *h->add_security_labels() = Label(l);
  return m;
}

// A discharge note whose section [1] is labelled PSY and [3] HIV.
v1::Message DischargeMessage(std::vector<std::string> header_labels = {}) {
  v1::Message m = Header("discharge", std::move(header_labels));
  v1::DischargeNote* note = m.mutable_discharge_note();
  note->set_title("Discharge summary");
  *note->add_sections() = MakeSection("8648-8", "Hospital course", "Uneventful stay.");
  *note->add_sections() =
      MakeSection(absl::StrCat("code-", kSecret), absl::StrCat("Psychiatry ", kSecret),
                  absl::StrCat("Assessment ", kSecret), {"PSY"});
  *note->add_sections() = MakeSection("10183-2", "Medications", "Paracetamol.", {"N"});
  *note->add_sections() = MakeSection("11450-4", absl::StrCat("Serology ", kSecret),
                                      absl::StrCat("Result ", kSecret), {"HIV"});
  return m;
}

std::vector<std::string> Paths(const v1::AccessDecision& d) {
  std::vector<std::string> out;
  for (const auto& e : d.elements()) out.push_back(e.path());
  return out;
}

int RedactedLabels(const v1::Message& m) {
  int n = 0;
  for (const auto& l : m.header().security_labels()) {
    if (l.code() == kRedactedCode) {
      EXPECT_EQ(l.system(), kObservationValueSystem);
      ++n;
    }
  }
  return n;
}

TEST(ConsentPolicyTest, DecideMessagePermitsAMessageWithoutSensitiveElements) {
  v1::Message m = Header("discharge");
  *m.mutable_discharge_note()->add_sections() = MakeSection("8648-8", "Course", "Fine.", {"N"});
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), m, {}, SharingPolicy::Default(), kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT) << d.DebugString();
  EXPECT_THAT(d.elements(), IsEmpty());
  EXPECT_THAT(d.reason(), Not(IsEmpty()));
}

TEST(ConsentPolicyTest, DecideMessageDeniesWhenTheMessageLevelIsDenied) {
  const SharingPolicy policy = SharingPolicy::Default();
  const std::vector<v1::Consent> deny = {MakeConsent("c1", Prov::Deny())};
  v1::AccessDecision d = DecideMessage(CareTeamHospital(), DischargeMessage(), deny, policy, kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::DENY) << d.DebugString();
  EXPECT_THAT(d.reason(), AllOf(HasSubstr("consent c1"), HasSubstr("provision")));

  // A sensitive header label without a releasing consent withholds everything.
  d = DecideMessage(CareTeamHospital(), DischargeMessage({"PSY"}), {}, policy, kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::DENY) << d.DebugString();

  // Outside the care team, without consent.
  d = DecideMessage(OutsideAgency(), DischargeMessage(), {}, policy, kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::DENY) << d.DebugString();

  // The header's purpose of use decides the default: HOPERAT has none.
  v1::Message hoperat = DischargeMessage();
  hoperat.mutable_header()->set_purpose_of_use("HOPERAT");
  d = DecideMessage(CareTeamHospital(), hoperat, {}, policy, kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::DENY) << d.DebugString();

  // A role rule on the event.
  const SharingPolicy no_discharge = PolicyFrom(R"pb(
    roles {
      role: HOSPITAL
      events: [ "case-note" ]
      labels: "*"
    }
    defaults { purpose: "TREAT" unlabelled: ANY_RECIPIENT sensitive: ANY_RECIPIENT }
  )pb");
  d = DecideMessage(CareTeamHospital(), DischargeMessage(), {}, no_discharge, kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::DENY) << d.DebugString();
  EXPECT_THAT(d.reason(), HasSubstr("sharing policy"));
}

TEST(ConsentPolicyTest, DecideMessageRemovesSensitiveSectionsByPath) {
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), DischargeMessage(), {}, SharingPolicy::Default(), kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  EXPECT_THAT(Paths(d),
              UnorderedElementsAre("discharge_note.sections[1]", "discharge_note.sections[3]"));
  for (const auto& e : d.elements()) {
    EXPECT_EQ(e.effect(), v1::AccessDecision::DENY) << e.path();
    EXPECT_THAT(e.reason(), Not(IsEmpty())) << e.path();
  }
}

TEST(ConsentPolicyTest, DecideMessageReleasesAnElementTheConsentNames) {
  // permit; [0] permit PSY. Outside the care team, the root releases the
  // unlabelled and N content, [0] the PSY section; HIV is not named anywhere.
  const std::vector<v1::Consent> consents = {
      MakeConsent("c1", Prov::Permit().Sub(Prov::Permit().Label("PSY")))};
  const v1::AccessDecision d =
      DecideMessage(OutsideAgency(), DischargeMessage(), consents, SharingPolicy::Default(), kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  EXPECT_THAT(Paths(d), UnorderedElementsAre("discharge_note.sections[3]"));
}

TEST(ConsentPolicyTest, RoleRulesRemoveAnElementAConsentReleases) {
  const SharingPolicy policy = PolicyFrom(R"pb(
    roles {
      role: AGENCY
      events: "*"
      labels: [ "HIV" ]
    }
    defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: NOBODY }
    sensitive_labels: [ "PSY", "HIV" ]
  )pb");
  const std::vector<v1::Consent> consents = {
      MakeConsent("c1", Prov::Permit().Sub(Prov::Permit().Label("PSY").Label("HIV")))};
  const v1::AccessDecision d =
      DecideMessage(OutsideAgency(), DischargeMessage(), consents, policy, kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  ASSERT_EQ(d.elements_size(), 1) << d.DebugString();
  EXPECT_EQ(d.elements(0).path(), "discharge_note.sections[1]");
  EXPECT_THAT(d.elements(0).reason(), AllOf(HasSubstr("sharing policy"), HasSubstr("PSY")));
}

TEST(ConsentPolicyTest, ElementDecisionsIncludeTheHeaderLabels) {
  // deny; [0] permit PSY. The header carries PSY, so the message is released
  // by [0], and so is each element, since it carries PSY too (with N, say);
  // its own HIV is not named, so that element is removed.
  const std::vector<v1::Consent> consents = {
      MakeConsent("c1", Prov::Deny().Sub(Prov::Permit().Label("PSY")))};
  const v1::AccessDecision d = DecideMessage(OutsideAgency(), DischargeMessage({"PSY"}), consents,
                                             SharingPolicy::Default(), kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  EXPECT_THAT(Paths(d), UnorderedElementsAre("discharge_note.sections[3]"));
}

TEST(ConsentPolicyTest, DecideMessageCoversCaseNoteSections) {
  v1::Message m = Header("case-note");
  m.mutable_case_note()->set_title("Visit");
  *m.mutable_case_note()->add_sections() = MakeSection("s", "Housing", "Stable.");
  *m.mutable_case_note()->add_sections() = MakeSection("s", "Use", kSecret, {"SUD"});
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), m, {}, SharingPolicy::Default(), kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  EXPECT_THAT(Paths(d), UnorderedElementsAre("case_note.sections[1]"));
  const v1::Message out = Redact(m, d);
  ASSERT_EQ(out.case_note().sections_size(), 1);
  EXPECT_EQ(out.case_note().sections(0).title(), "Housing");
  EXPECT_THAT(out.DebugString(), Not(HasSubstr(kSecret)));
}

v1::ProgressEntry Progress(const std::string& note, std::vector<std::string> labels = {}) {
  v1::ProgressEntry p;
  *p.mutable_at() = ToProtoTime(kNow - absl::Hours(2));
  p.set_attainment(1);
  p.set_note(note);
  p.set_author("worker");
  for (const std::string& l : labels) *p.add_security_labels() = Label(l);
  return p;
}

// items[0]: unlabelled, progress[0] labelled SUD, progress[1] unlabelled.
// items[1]: labelled PSY, with an unlabelled progress entry.
// items[2]: unlabelled.
v1::Message CarePlanMessage() {
  v1::Message m = Header("care-plan");
  v1::CarePlanChange* change = m.mutable_care_plan_change();
  change->set_expected_version(3);
  v1::CarePlanItem* housing = change->add_items();
  housing->set_id("goal-housing");
  housing->set_kind(v1::CarePlanItem::GOAL);
  housing->set_description("Stable housing");
  *housing->add_progress() = Progress(absl::StrCat("Relapse ", kSecret), {"SUD"});
  *housing->add_progress() = Progress("Viewed two flats");
  v1::CarePlanItem* therapy = change->add_items();
  therapy->set_id(absl::StrCat("goal-", kSecret));
  therapy->set_kind(v1::CarePlanItem::ACTIVITY);
  therapy->set_description(absl::StrCat("Therapy ", kSecret));
  *therapy->add_security_labels() = Label("PSY");
  *therapy->add_progress() = Progress(absl::StrCat("Session ", kSecret));
  v1::CarePlanItem* income = change->add_items();
  income->set_id("goal-income");
  income->set_description("Benefits claim");
  return m;
}

TEST(ConsentPolicyTest, DecideMessageCoversCarePlanItemsAndProgressEntries) {
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), CarePlanMessage(), {}, SharingPolicy::Default(), kNow);
  EXPECT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  EXPECT_THAT(Paths(d), UnorderedElementsAre("care_plan_change.items[0].progress[0]",
                                             "care_plan_change.items[1]"));

  const v1::Message out = Redact(CarePlanMessage(), d);
  const v1::CarePlanChange& change = out.care_plan_change();
  EXPECT_EQ(change.expected_version(), 3);
  ASSERT_EQ(change.items_size(), 2);
  EXPECT_EQ(change.items(0).id(), "goal-housing");
  ASSERT_EQ(change.items(0).progress_size(), 1);
  EXPECT_EQ(change.items(0).progress(0).note(), "Viewed two flats");
  EXPECT_EQ(change.items(1).id(), "goal-income");
  EXPECT_THAT(out.SerializeAsString(), Not(HasSubstr(kSecret)));
  EXPECT_THAT(out.DebugString(), Not(HasSubstr(kSecret)));
  EXPECT_EQ(RedactedLabels(out), 1);
}

TEST(ConsentPolicyTest, RedactLeavesNoTraceOfRemovedSections) {
  const v1::Message in = DischargeMessage();
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), in, {}, SharingPolicy::Default(), kNow);
  ASSERT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  const v1::Message out = Redact(in, d);

  const v1::DischargeNote& note = out.discharge_note();
  ASSERT_EQ(note.sections_size(), 2) << out.DebugString();
  EXPECT_EQ(note.sections(0).title(), "Hospital course");
  EXPECT_EQ(note.sections(1).title(), "Medications");
  EXPECT_EQ(note.title(), "Discharge summary");
  for (const std::string& bytes : {out.SerializeAsString(), out.DebugString()}) {
    EXPECT_THAT(bytes, Not(HasSubstr(kSecret)));
    EXPECT_THAT(bytes, Not(HasSubstr("Psychiatry")));
    EXPECT_THAT(bytes, Not(HasSubstr("PSY")));
    EXPECT_THAT(bytes, Not(HasSubstr("HIV")));
  }
  EXPECT_EQ(RedactedLabels(out), 1);
  // The rest of the header is untouched.
  v1::MessageHeader header = out.header();
  header.clear_security_labels();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(header, [&] {
    v1::MessageHeader h = in.header();
    h.clear_security_labels();
    return h;
  }()));
}

TEST(ConsentPolicyTest, RedactKeepsTheHeaderLabelsAndAddsOneRedactedLabel) {
  // A header already labelled N and, from an earlier hop, REDACTED.
  v1::Message in = DischargeMessage({"N"});
  *in.mutable_header()->add_security_labels() = RedactedLabel();
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), in, {}, SharingPolicy::Default(), kNow);
  ASSERT_EQ(d.effect(), v1::AccessDecision::PERMIT_REDACTED) << d.DebugString();
  const v1::Message out = Redact(in, d);
  EXPECT_EQ(RedactedLabels(out), 1) << out.header().DebugString();
  bool has_n = false;
  for (const auto& l : out.header().security_labels()) has_n = has_n || l.code() == "N";
  EXPECT_TRUE(has_n);
}

TEST(ConsentPolicyTest, RedactLeavesAPermittedMessageUnchanged) {
  const v1::Message in = DischargeMessage();
  // permit; [0] permit PSY or HIV: every section is released.
  const std::vector<v1::Consent> both = {
      MakeConsent("c1", Prov::Permit().Sub(Prov::Permit().Label("PSY").Label("HIV")))};
  const v1::AccessDecision d =
      DecideMessage(CareTeamHospital(), in, both, SharingPolicy::Default(), kNow);
  ASSERT_EQ(d.effect(), v1::AccessDecision::PERMIT) << d.DebugString();
  const v1::Message out = Redact(in, d);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(out, in)) << out.DebugString();
  EXPECT_EQ(RedactedLabels(out), 0);
}

}  // namespace
}  // namespace switchboard::policy
