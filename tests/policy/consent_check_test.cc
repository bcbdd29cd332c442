#include "policy/consent_check.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/labels.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"

namespace switchboard::policy {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const absl::Duration kDay = absl::Hours(24);

bool KnownOrganisation(absl::string_view id) { return id == "org-a" || id == "org-b"; }
bool KnownEvent(absl::string_view e) { return e == "discharge" || e == "case-note"; }
const ConsentContext kContext{.known_organisation = KnownOrganisation, .known_event = KnownEvent};

v1::SecurityLabel Label(const std::string& code) {
  v1::SecurityLabel l;
  l.set_system(std::string(SystemOfCode(code)));
  l.set_code(code);
  return l;
}

v1::Period MakePeriod(absl::Time start, absl::Time end) {
  v1::Period p;
  *p.mutable_start() = ToProtoTime(start);
  *p.mutable_end() = ToProtoTime(end);
  return p;
}

// An active consent using every dimension: deny everything; [0] permit org-a
// and the agencies for TREAT discharges since a month ago; [1] permit PSY for
// case notes, for a year; [1][0] deny org-b.
v1::Consent Valid() {
  v1::Consent c;
  c.set_id("consent-1");
  c.set_status(v1::Consent::ACTIVE);
  c.mutable_client()->set_system("https://st-marys.example.org/fhir/mrn");
  c.mutable_client()->set_value("MRN-100234");
  *c.mutable_period() = MakePeriod(kNow - kDay, kNow + 365 * kDay);
  c.set_recorded_by("org-a");
  *c.mutable_recorded_at() = ToProtoTime(kNow - kDay);
  c.set_source_reference("forms/consent-1.pdf");
  c.set_scope("patient-privacy");
  v1::ConsentProvision* root = c.mutable_provision();
  root->set_type(v1::ConsentProvision::DENY);
  v1::ConsentProvision* p0 = root->add_provisions();
  p0->set_type(v1::ConsentProvision::PERMIT);
  p0->add_actors()->set_organisation_id("org-a");
  p0->add_actors()->set_role(v1::Organisation::AGENCY);
  p0->add_purposes("TREAT");
  p0->add_event_codes("discharge");
  *p0->mutable_data_period()->mutable_start() = ToProtoTime(kNow - 30 * kDay);
  v1::ConsentProvision* p1 = root->add_provisions();
  p1->set_type(v1::ConsentProvision::PERMIT);
  *p1->add_security_labels() = Label("PSY");
  p1->add_event_codes("case-note");
  *p1->mutable_period() = MakePeriod(kNow, kNow + 365 * kDay);
  v1::ConsentProvision* p10 = p1->add_provisions();
  p10->set_type(v1::ConsentProvision::DENY);
  p10->add_actors()->set_organisation_id("org-b");
  return c;
}

TEST(ConsentCheckTest, AValidConsentPasses) {
  EXPECT_THAT(CheckConsent(Valid(), kContext), IsOk());
}

TEST(ConsentCheckTest, OptionalFieldsMayBeAbsent) {
  v1::Consent c = Valid();
  c.clear_period();
  c.clear_scope();  // means patient-privacy
  c.clear_recorded_at();
  c.mutable_provision()->clear_provisions();
  EXPECT_THAT(CheckConsent(c, kContext), IsOk());
  c.set_scope("treatment");
  EXPECT_THAT(CheckConsent(c, kContext), IsOk());
  // Only an ACTIVE consent needs its signed form.
  c.clear_source_reference();
  for (const auto status : {v1::Consent::DRAFT, v1::Consent::INACTIVE, v1::Consent::REJECTED,
                            v1::Consent::ENTERED_IN_ERROR}) {
    c.set_status(status);
    EXPECT_THAT(CheckConsent(c, kContext), IsOk()) << v1::Consent::Status_Name(status);
  }
  // Open-ended periods.
  c = Valid();
  c.mutable_period()->clear_end();
  c.mutable_provision()->mutable_provisions(1)->mutable_period()->clear_start();
  EXPECT_THAT(CheckConsent(c, kContext), IsOk());
}

struct ErrorCase {
  std::string name;
  std::function<void(v1::Consent&)> mutate;
  std::string field;   // the message starts with it
  std::string detail;  // and contains it
};

v1::ConsentProvision& Sub(v1::Consent& c, int i) {
  return *c.mutable_provision()->mutable_provisions(i);
}

TEST(ConsentCheckTest, EachInvalidFieldIsNamed) {
  const std::vector<ErrorCase> cases = {
      {"missing id", [](v1::Consent& c) { c.clear_id(); }, "consent.id: ", "required"},
      {"id with a space", [](v1::Consent& c) { c.set_id("consent 1"); },
       "consent.id: ", "consent 1"},
      {"status unspecified", [](v1::Consent& c) { c.set_status(v1::Consent::STATUS_UNSPECIFIED); },
       "consent.status: ", "required"},
      {"client missing", [](v1::Consent& c) { c.clear_client(); }, "consent.client", "required"},
      {"unknown scope", [](v1::Consent& c) { c.set_scope("research"); },
       "consent.scope: ", "'research'"},
      {"ACTIVE without source_reference", [](v1::Consent& c) { c.clear_source_reference(); },
       "consent.source_reference", "required"},
      {"provision missing", [](v1::Consent& c) { c.clear_provision(); },
       "consent.provision: ", "required"},
      {"consent period inverted",
       [](v1::Consent& c) { *c.mutable_period() = MakePeriod(kNow + kDay, kNow); },
       "consent.period: ", "start is not before end"},
      {"consent period empty (start equals end)",
       [](v1::Consent& c) { *c.mutable_period() = MakePeriod(kNow, kNow); },
       "consent.period: ", "start is not before end"},
      {"root type missing",
       [](v1::Consent& c) {
         c.mutable_provision()->set_type(v1::ConsentProvision::TYPE_UNSPECIFIED);
       },
       "consent.provision.type: ", "required (PERMIT or DENY)"},
      {"nested type missing",
       [](v1::Consent& c) {
         Sub(c, 1).mutable_provisions(0)->set_type(v1::ConsentProvision::TYPE_UNSPECIFIED);
       },
       "consent.provision.provisions[1].provisions[0].type: ", "required"},
      {"provision period inverted",
       [](v1::Consent& c) { *Sub(c, 1).mutable_period() = MakePeriod(kNow, kNow - kDay); },
       "consent.provision.provisions[1].period: ", "start is not before end"},
      {"root data period inverted",
       [](v1::Consent& c) {
         *c.mutable_provision()->mutable_data_period() = MakePeriod(kNow, kNow - kDay);
       },
       "consent.provision.data_period: ", "start is not before end"},
      {"nested data period inverted",
       [](v1::Consent& c) { *Sub(c, 0).mutable_data_period() = MakePeriod(kNow, kNow - kDay); },
       "consent.provision.provisions[0].data_period: ", "start is not before end"},
      {"unknown organisation actor",
       [](v1::Consent& c) { Sub(c, 0).add_actors()->set_organisation_id("org-z"); },
       "consent.provision.provisions[0].actors[2].organisation_id: ", "'org-z'"},
      {"actor with neither organisation nor role",
       [](v1::Consent& c) { Sub(c, 0).mutable_actors(1)->clear_actor(); },
       "consent.provision.provisions[0].actors[1]: ", "organisation_id or a role"},
      {"actor with an unspecified role",
       [](v1::Consent& c) {
         Sub(c, 0).mutable_actors(1)->set_role(v1::Organisation::ROLE_UNSPECIFIED);
       },
       "consent.provision.provisions[0].actors[1].role: ", "required"},
      {"unknown purpose", [](v1::Consent& c) { Sub(c, 0).add_purposes("MARKETING"); },
       "consent.provision.provisions[0].purposes[1]: ", "'MARKETING'"},
      {"unknown event code", [](v1::Consent& c) { Sub(c, 1).set_event_codes(0, "admission"); },
       "consent.provision.provisions[1].event_codes[0]: ", "'admission'"},
      {"unknown label code at the root",
       [](v1::Consent& c) {
         v1::SecurityLabel* l = c.mutable_provision()->add_security_labels();
         l->set_system(std::string(kActCodeSystem));
         l->set_code("PSYCH");
       },
       "consent.provision.security_labels[0].code: ", "'PSYCH'"},
      {"unknown label code nested",
       [](v1::Consent& c) { Sub(c, 1).mutable_security_labels(0)->set_code("XYZ"); },
       "consent.provision.provisions[1].security_labels[0].code: ", "'XYZ'"},
      {"label code of another system",
       [](v1::Consent& c) {
         Sub(c, 1).mutable_security_labels(0)->set_system(std::string(kConfidentialitySystem));
       },
       "consent.provision.provisions[1].security_labels[0].system: ", "PSY"},
      {"REDACTED label refused",
       [](v1::Consent& c) { *Sub(c, 1).add_security_labels() = RedactedLabel(); },
       "consent.provision.provisions[1].security_labels[1].code: ", "REDACTED"},
  };
  for (const ErrorCase& c : cases) {
    v1::Consent consent = Valid();
    c.mutate(consent);
    EXPECT_THAT(CheckConsent(consent, kContext),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(StartsWith(c.field), HasSubstr(c.detail))))
        << c.name;
  }
}

TEST(ConsentCheckTest, ErrorsAreNamedUnderTheCallersField) {
  v1::Consent c = Valid();
  Sub(c, 0).add_purposes("MARKETING");
  EXPECT_THAT(CheckConsent(c, kContext, "message.consent_change.consent"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("message.consent_change.consent.provision.provisions[0]"
                                  ".purposes[1]: ")));
}

// A consent whose provisions nest `depth` levels below the root.
v1::Consent Nested(int depth) {
  v1::Consent c = Valid();
  v1::ConsentProvision* p = c.mutable_provision();
  p->clear_provisions();
  for (int i = 0; i < depth; ++i) {
    p = p->add_provisions();
    p->set_type(i % 2 == 0 ? v1::ConsentProvision::PERMIT : v1::ConsentProvision::DENY);
  }
  return c;
}

TEST(ConsentCheckTest, ProvisionsNestAtMostEightDeep) {
  ASSERT_EQ(kMaxProvisionDepth, 8);
  EXPECT_THAT(CheckConsent(Nested(8), kContext), IsOk());
  std::string field = "consent.provision";
  for (int i = 0; i < 9; ++i) field += ".provisions[0]";
  EXPECT_THAT(CheckConsent(Nested(9), kContext),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith(field + ": "), HasSubstr("8"))));
  EXPECT_THAT(CheckConsent(Nested(20), kContext),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(field + ": ")));
}

TEST(ConsentCheckTest, AConsentHasAtMost256Provisions) {
  ASSERT_EQ(kMaxProvisions, 256);
  v1::Consent c = Valid();
  v1::ConsentProvision* root = c.mutable_provision();
  root->clear_provisions();
  for (int i = 0; i < 255; ++i) root->add_provisions()->set_type(v1::ConsentProvision::PERMIT);
  EXPECT_THAT(CheckConsent(c, kContext), IsOk());  // 256 with the root
  root->add_provisions()->set_type(v1::ConsentProvision::PERMIT);
  EXPECT_THAT(CheckConsent(c, kContext),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("consent.provision.provisions[255]: "), HasSubstr("256"))));
  // Counted over the whole tree, not per level.
  c = Valid();
  root = c.mutable_provision();
  root->clear_provisions();
  for (int i = 0; i < 16; ++i) {
    v1::ConsentProvision* mid = root->add_provisions();
    mid->set_type(v1::ConsentProvision::DENY);
    for (int j = 0; j < 16; ++j) mid->add_provisions()->set_type(v1::ConsentProvision::PERMIT);
  }
  // 1 + 16 + 256 provisions.
  EXPECT_THAT(CheckConsent(c, kContext),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("256")));
}

}  // namespace
}  // namespace switchboard::policy
