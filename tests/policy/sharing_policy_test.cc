#include "policy/sharing_policy.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::policy {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using Audience = SharingPolicy::Audience;

constexpr auto kHospital = v1::Organisation::HOSPITAL;
constexpr auto kAgency = v1::Organisation::AGENCY;
constexpr auto kCoordinator = v1::Organisation::COORDINATOR;
constexpr auto kAdmin = v1::Organisation::ADMIN;

bool KnownEvent(absl::string_view e) { return e == "discharge" || e == "case-note"; }

absl::StatusOr<SharingPolicy> Parse(const std::string& text) {
  return SharingPolicy::Parse(text, "sharing.textproto", KnownEvent);
}

absl::StatusOr<SharingPolicy> FromText(const std::string& text) {
  v1::SharingPolicy proto;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &proto)) << text;
  return SharingPolicy::FromProto(proto, KnownEvent);
}

constexpr char kValid[] = R"pb(
  roles { role: HOSPITAL events: "*" labels: "*" }
  roles {
    role: AGENCY
    events: [ "case-note" ]
    labels: [ "SUD" ]
  }
  roles {
    role: COORDINATOR
    events: [ "discharge", "case-note" ]
  }
  defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: NOBODY }
  defaults { purpose: "COC" unlabelled: ANY_RECIPIENT sensitive: CARE_TEAM }
  sensitive_labels: [ "PSY", "SUD", "R" ]
  break_glass {
    roles: [ HOSPITAL ]
    organisations: [ "crisis-team" ]
    duration_minutes: 90
  }
)pb";

TEST(SharingPolicyTest, ParsesAValidPolicy) {
  ASSERT_OK_AND_ASSIGN(const SharingPolicy p, Parse(kValid));
  EXPECT_EQ(p.proto().roles_size(), 3);
  EXPECT_TRUE(p.IsSensitive("PSY"));
  EXPECT_TRUE(p.IsSensitive("R"));
  EXPECT_FALSE(p.IsSensitive("HIV"));  // sensitive only where listed
  EXPECT_FALSE(p.IsSensitive("N"));
  EXPECT_EQ(p.DefaultAudience("TREAT", false), v1::SharingPolicy::Default::CARE_TEAM);
  EXPECT_EQ(p.DefaultAudience("TREAT", true), v1::SharingPolicy::Default::NOBODY);
  EXPECT_EQ(p.DefaultAudience("COC", false), v1::SharingPolicy::Default::ANY_RECIPIENT);
  EXPECT_EQ(p.DefaultAudience("COC", true), v1::SharingPolicy::Default::CARE_TEAM);
  EXPECT_EQ(p.DefaultAudience("HOPERAT", false), v1::SharingPolicy::Default::NOBODY);
  EXPECT_EQ(p.DefaultAudience("HOPERAT", true), v1::SharingPolicy::Default::NOBODY);
  EXPECT_EQ(p.break_glass_duration(), absl::Minutes(90));
}

TEST(SharingPolicyTest, ASyntaxErrorNamesOriginLineAndColumn) {
  // A field SharingPolicy does not have, on line 2 (protobuf reports the
  // token after the name: column 9).
  EXPECT_THAT(Parse("roles { role: HOSPITAL }\n  colour: 3\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("sharing.textproto:2:9: "), HasSubstr("colour"))));
  // A value that is not a string: the token at line 3, column 11.
  EXPECT_THAT(Parse("roles {\n  role: HOSPITAL\n  events: discharge\n}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("sharing.textproto:3:11: ")));
  // An unterminated message is reported where the text ends.
  EXPECT_THAT(Parse("roles {\n  role: HOSPITAL\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("sharing.textproto:")));
  // An unknown enum value.
  EXPECT_THAT(Parse("roles { role: SURGEON }"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("sharing.textproto:1:"), HasSubstr("SURGEON"))));
}

TEST(SharingPolicyTest, AValidationErrorFromParseNamesTheOriginAndField) {
  EXPECT_THAT(Parse(R"pb(roles { role: HOSPITAL events: "admission" })pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("sharing.textproto: roles[0].events[0]: "),
                             HasSubstr("'admission'"))));
}

struct ErrorCase {
  std::string name;
  std::string text;
  std::string field;   // the message starts with it
  std::string quoted;  // and contains it
};

TEST(SharingPolicyTest, EachInvalidFieldIsNamed) {
  const std::vector<ErrorCase> cases = {
      {"unknown event code",
       R"pb(roles { role: HOSPITAL events: "*" }
            roles {
              role: AGENCY
              events: [ "discharge", "discharge-x" ]
            })pb",
       "roles[1].events[1]: ", "unknown event code 'discharge-x'"},
      {"role without a role", R"pb(roles { events: "*" })pb", "roles[0].role: ", "required"},
      {"duplicate role",
       R"pb(roles { role: AGENCY events: "*" }
            roles { role: HOSPITAL events: "*" }
            roles { role: AGENCY events: "discharge" })pb",
       "roles[2].role: ", "AGENCY"},
      {"unknown label code", R"pb(roles {
                                    role: AGENCY
                                    labels: [ "PSY", "PSYCH" ]
                                  })pb",
       "roles[0].labels[1]: ", "'PSYCH'"},
      {"REDACTED is not a label a role receives",
       R"pb(roles { role: AGENCY labels: "REDACTED" })pb", "roles[0].labels[0]: ", "'REDACTED'"},
      {"unknown purpose",
       R"pb(defaults { purpose: "TREAT" unlabelled: NOBODY sensitive: NOBODY }
            defaults { purpose: "GOSSIP" unlabelled: NOBODY sensitive: NOBODY })pb",
       "defaults[1].purpose: ", "'GOSSIP'"},
      {"empty purpose", R"pb(defaults { unlabelled: NOBODY sensitive: NOBODY })pb",
       "defaults[0].purpose: ", "''"},
      {"purpose listed twice",
       R"pb(defaults { purpose: "TREAT" unlabelled: NOBODY sensitive: NOBODY }
            defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: NOBODY })pb",
       "defaults[1].purpose: ", "'TREAT'"},
      {"missing unlabelled audience", R"pb(defaults { purpose: "COC" sensitive: NOBODY })pb",
       "defaults[0].unlabelled: ", "required"},
      {"missing sensitive audience", R"pb(defaults { purpose: "COC" unlabelled: CARE_TEAM })pb",
       "defaults[0].sensitive: ", "required"},
      {"unknown sensitive label", R"pb(sensitive_labels: [ "PSY", "XYZ" ])pb",
       "sensitive_labels[1]: ", "'XYZ'"},
      {"star is no sensitive label", R"pb(sensitive_labels: "*")pb",
       "sensitive_labels[0]: ", "'*'"},
      {"sensitive label listed twice", R"pb(sensitive_labels: [ "PSY", "HIV", "PSY" ])pb",
       "sensitive_labels[2]: ", "'PSY'"},
      {"break-glass duration missing", R"pb(break_glass { roles: HOSPITAL })pb",
       "break_glass.duration_minutes: ", "1440"},
      {"break-glass duration 0", R"pb(break_glass { roles: HOSPITAL duration_minutes: 0 })pb",
       "break_glass.duration_minutes: ", "1440"},
      {"break-glass duration over a day",
       R"pb(break_glass { roles: HOSPITAL duration_minutes: 1441 })pb",
       "break_glass.duration_minutes: ", "1440"},
      {"break-glass role unspecified", R"pb(break_glass {
                                              roles: [ HOSPITAL, ROLE_UNSPECIFIED ]
                                              duration_minutes: 10
                                            })pb",
       "break_glass.roles[1]: ", "required"},
      {"break-glass organisation not an id", R"pb(break_glass {
                                                    organisations: [ "ok-org", "Not An Id" ]
                                                    duration_minutes: 10
                                                  })pb",
       "break_glass.organisations[1]", ""},
  };
  for (const ErrorCase& c : cases) {
    EXPECT_THAT(FromText(c.text), StatusIs(absl::StatusCode::kInvalidArgument,
                                           AllOf(StartsWith(c.field), HasSubstr(c.quoted))))
        << c.name;
  }
}

TEST(SharingPolicyTest, BreakGlassDurationBoundsAreInclusive) {
  ASSERT_OK_AND_ASSIGN(const SharingPolicy one_minute,
                       FromText("break_glass { roles: HOSPITAL duration_minutes: 1 }"));
  EXPECT_EQ(one_minute.break_glass_duration(), absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(const SharingPolicy one_day,
                       FromText("break_glass { roles: HOSPITAL duration_minutes: 1440 }"));
  EXPECT_EQ(one_day.break_glass_duration(), absl::Hours(24));
}

TEST(SharingPolicyTest, AnEmptyPolicyIsValidAndGivesNothing) {
  ASSERT_OK_AND_ASSIGN(const SharingPolicy p, FromText(""));
  EXPECT_THAT(p.RefusesEvent({kHospital}, "discharge"), HasSubstr("no rule"));
  EXPECT_EQ(p.DefaultAudience("TREAT", false), v1::SharingPolicy::Default::NOBODY);
  EXPECT_FALSE(p.MayBreakGlass("crisis-team", {kHospital}));
  EXPECT_FALSE(p.IsSensitive("PSY"));
}

TEST(SharingPolicyTest, DefaultLetsEveryRoleReceiveEverything) {
  const SharingPolicy p = SharingPolicy::Default();
  for (const auto role : {kHospital, kAgency, kCoordinator, kAdmin}) {
    EXPECT_THAT(p.RefusesEvent({role}, "discharge"), IsEmpty()) << role;
    EXPECT_THAT(p.RefusesEvent({role}, "anything-at-all"), IsEmpty()) << role;
    for (const char* code : {"PSY", "HIV", "SUD", "R", "V", "N"}) {
      EXPECT_THAT(p.RefusesLabel({role}, code), IsEmpty()) << role << " " << code;
    }
  }
  // A recipient with no role has no rule.
  EXPECT_THAT(p.RefusesEvent({}, "discharge"), HasSubstr("no rule"));
}

TEST(SharingPolicyTest, DefaultSendsUnlabelledTreatmentToTheCareTeamOnly) {
  const SharingPolicy p = SharingPolicy::Default();
  EXPECT_EQ(p.DefaultAudience("TREAT", false), v1::SharingPolicy::Default::CARE_TEAM);
  EXPECT_EQ(p.DefaultAudience("TREAT", true), v1::SharingPolicy::Default::NOBODY);
  for (const char* purpose : {"ETREAT", "COC", "HPAYMT", "HOPERAT", "PUBHLTH"}) {
    EXPECT_EQ(p.DefaultAudience(purpose, false), v1::SharingPolicy::Default::NOBODY) << purpose;
    EXPECT_EQ(p.DefaultAudience(purpose, true), v1::SharingPolicy::Default::NOBODY) << purpose;
  }
}

TEST(SharingPolicyTest, DefaultMarksActCodeSensitivityAndRestrictedAsSensitive) {
  const SharingPolicy p = SharingPolicy::Default();
  for (const char* code : {"R", "V", "BH", "ETH", "HIV", "MH", "PSY", "SDV", "SOC", "STD", "SUD",
                           "TBOO", "SICKLE", "OPIOIDUD"}) {
    EXPECT_TRUE(p.IsSensitive(code)) << code;
  }
  for (const char* code : {"U", "L", "M", "N", "REDACTED", "", "psy"}) {
    EXPECT_FALSE(p.IsSensitive(code)) << code;
  }
}

TEST(SharingPolicyTest, DefaultLetsNobodyBreakTheGlass) {
  const SharingPolicy p = SharingPolicy::Default();
  for (const auto role : {kHospital, kAgency, kCoordinator, kAdmin}) {
    EXPECT_FALSE(p.MayBreakGlass("st-marys", {role})) << role;
  }
  EXPECT_FALSE(p.MayBreakGlass("st-marys", {kHospital, kAgency, kCoordinator, kAdmin}));
}

TEST(SharingPolicyTest, MayBreakGlassByRoleOrByOrganisation) {
  ASSERT_OK_AND_ASSIGN(const SharingPolicy p, Parse(kValid));
  EXPECT_TRUE(p.MayBreakGlass("st-marys", {kHospital}));
  EXPECT_TRUE(p.MayBreakGlass("st-marys", {kAgency, kHospital}));
  EXPECT_FALSE(p.MayBreakGlass("st-marys", {kAgency}));
  EXPECT_FALSE(p.MayBreakGlass("st-marys", {}));
  EXPECT_TRUE(p.MayBreakGlass("crisis-team", {}));
  EXPECT_TRUE(p.MayBreakGlass("crisis-team", {kAgency}));
  EXPECT_FALSE(p.MayBreakGlass("crisis-team-2", {kAgency}));
}

TEST(SharingPolicyTest, RefusesEventFollowsTheUnionOfTheRolesRules) {
  ASSERT_OK_AND_ASSIGN(const SharingPolicy p, Parse(kValid));
  // HOSPITAL: every event; AGENCY: case-note; COORDINATOR: discharge, case-note.
  EXPECT_THAT(p.RefusesEvent({kHospital}, "discharge"), IsEmpty());
  EXPECT_THAT(p.RefusesEvent({kAgency}, "case-note"), IsEmpty());
  EXPECT_THAT(p.RefusesEvent({kAgency}, "discharge"),
              AllOf(HasSubstr("sharing policy"), HasSubstr("AGENCY"), HasSubstr("'discharge'")));
  EXPECT_THAT(p.RefusesEvent({kAgency, kCoordinator}, "discharge"), IsEmpty());
  EXPECT_THAT(p.RefusesEvent({kAgency, kHospital}, "referral"), IsEmpty());
  EXPECT_THAT(p.RefusesEvent({kCoordinator}, "referral"), HasSubstr("'referral'"));
  // ADMIN has no rule, alone or with a role that does not allow the event.
  EXPECT_THAT(p.RefusesEvent({kAdmin}, "case-note"),
              AllOf(HasSubstr("no rule"), HasSubstr("ADMIN")));
  EXPECT_THAT(p.RefusesEvent({kAdmin, kAgency}, "discharge"), HasSubstr("'discharge'"));
  EXPECT_THAT(p.RefusesEvent({kAdmin, kAgency}, "case-note"), IsEmpty());
}

TEST(SharingPolicyTest, RefusesLabelOnlyRestrictsSensitiveLabels) {
  ASSERT_OK_AND_ASSIGN(const SharingPolicy p, Parse(kValid));
  // Sensitive: PSY, SUD, R. HOSPITAL: all; AGENCY: SUD; COORDINATOR: none.
  EXPECT_THAT(p.RefusesLabel({kHospital}, "PSY"), IsEmpty());
  EXPECT_THAT(p.RefusesLabel({kAgency}, "SUD"), IsEmpty());
  EXPECT_THAT(p.RefusesLabel({kAgency}, "PSY"),
              AllOf(HasSubstr("sharing policy"), HasSubstr("AGENCY"), HasSubstr("PSY")));
  EXPECT_THAT(p.RefusesLabel({kCoordinator}, "R"), HasSubstr("R"));
  EXPECT_THAT(p.RefusesLabel({kCoordinator, kAgency}, "SUD"), IsEmpty());
  EXPECT_THAT(p.RefusesLabel({kCoordinator, kHospital}, "R"), IsEmpty());
  // Labels this policy does not call sensitive are never refused, even to a
  // role without a rule.
  for (const char* code : {"HIV", "N", "ETH"}) {
    EXPECT_THAT(p.RefusesLabel({kCoordinator}, code), IsEmpty()) << code;
    EXPECT_THAT(p.RefusesLabel({kAdmin}, code), IsEmpty()) << code;
  }
  EXPECT_THAT(p.RefusesLabel({kAdmin}, "PSY"), HasSubstr("PSY"));
  EXPECT_THAT(p.RefusesLabel({}, "SUD"), HasSubstr("SUD"));
}

}  // namespace
}  // namespace switchboard::policy
