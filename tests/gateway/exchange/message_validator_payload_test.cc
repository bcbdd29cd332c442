// The payload rules of ValidateMessage, one table row per field rule.
#include <string>
#include <vector>

#include "gateway/exchange/message_validator.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/gateway/exchange/sample_messages.h"

namespace switchboard::gateway::exchange {
namespace {

using samples::AddSection;
using samples::CarePlan;
using samples::CaseNote;
using samples::Change;
using samples::Consent;
using samples::Discharge;
using samples::ExpectEachRuleRefused;
using samples::kNow;
using samples::M;
using samples::Referral;
using samples::Validate;

TEST(MessageValidatorPayloadTest, EachPayloadRuleIsInvalidArgumentNamingTheField) {
  const std::string kLong257(257, 'x');
  ExpectEachRuleRefused({
      {"discharge title at most 256",
       Change(Discharge, [&](M& m) { m.mutable_discharge_note()->set_title(kLong257); }),
       "message.discharge_note.title: "},
      {"discharge admitted_at valid",
       Change(Discharge,
              [](M& m) {
                m.mutable_discharge_note()->mutable_admitted_at()->set_seconds(-70'000'000'000);
              }),
       "message.discharge_note.admitted_at: "},
      {"discharge discharged_at valid",
       Change(Discharge,
              [](M& m) {
                m.mutable_discharge_note()->mutable_discharged_at()->set_nanos(1'000'000'000);
              }),
       "message.discharge_note.discharged_at: "},
      {"discharge disposition no control characters",
       Change(Discharge,
              [](M& m) { m.mutable_discharge_note()->set_discharge_disposition("home\x1b"); }),
       "message.discharge_note.discharge_disposition: "},
      {"discharge needs a section",
       Change(Discharge, [](M& m) { m.mutable_discharge_note()->clear_sections(); }),
       "message.discharge_note.sections: "},
      {"section text required",
       Change(Discharge,
              [](M& m) { m.mutable_discharge_note()->mutable_sections(0)->clear_text(); }),
       "message.discharge_note.sections[0].text: "},
      {"section code at most 64",
       Change(Discharge,
              [](M& m) {
                m.mutable_discharge_note()->mutable_sections(0)->set_code(std::string(65, 'c'));
              }),
       "message.discharge_note.sections[0].code: "},
      {"section title no control characters",
       Change(Discharge,
              [](M& m) {
                m.mutable_discharge_note()->mutable_sections(0)->set_title(std::string("a\0b", 3));
              }),
       "message.discharge_note.sections[0].title: "},
      {"section label code required",
       Change(Discharge,
              [](M& m) {
                m.mutable_discharge_note()->mutable_sections(0)->add_security_labels()->set_system(
                    "s");
              }),
       "message.discharge_note.sections[0].security_labels[0].code: "},
      {"second section checked too",
       Change(
           Discharge,
           [](M& m) { AddSection(m.mutable_discharge_note()->mutable_sections())->clear_text(); }),
       "message.discharge_note.sections[1].text: "},
      {"case note needs a section",
       Change(CaseNote, [](M& m) { m.mutable_case_note()->clear_sections(); }),
       "message.case_note.sections: "},
      {"case note domain at most 64",
       Change(CaseNote, [](M& m) { m.mutable_case_note()->set_domain(std::string(65, 'd')); }),
       "message.case_note.domain: "},
      {"case note title at most 256",
       Change(CaseNote, [&](M& m) { m.mutable_case_note()->set_title(kLong257); }),
       "message.case_note.title: "},
      {"referral id required",
       Change(Referral, [](M& m) { m.mutable_referral()->clear_referral_id(); }),
       "message.referral.referral_id: "},
      {"referral target a slug",
       Change(Referral, [](M& m) { m.mutable_referral()->set_target("-x"); }),
       "message.referral.target: "},
      {"referral service required",
       Change(Referral, [](M& m) { m.mutable_referral()->clear_service(); }),
       "message.referral.service: "},
      {"referral reason no control characters",
       Change(Referral, [](M& m) { m.mutable_referral()->set_reason("a\x07"); }),
       "message.referral.reason: "},
      {"referral status required",
       Change(Referral, [](M& m) { m.mutable_referral()->clear_status(); }),
       "message.referral.status: "},
      {"referral status_reason at most 256",
       Change(Referral, [&](M& m) { m.mutable_referral()->set_status_reason(kLong257); }),
       "message.referral.status_reason: "},
      {"referral note no control characters",
       Change(Referral, [](M& m) { m.mutable_referral()->set_note("\x7f"); }),
       "message.referral.note: "},
      {"care plan needs an item",
       Change(CarePlan, [](M& m) { m.mutable_care_plan_change()->clear_items(); }),
       "message.care_plan_change.items: "},
      {"item id required",
       Change(CarePlan, [](M& m) { m.mutable_care_plan_change()->mutable_items(0)->clear_id(); }),
       "message.care_plan_change.items[0].id: "},
      {"item kind required",
       Change(CarePlan, [](M& m) { m.mutable_care_plan_change()->mutable_items(0)->clear_kind(); }),
       "message.care_plan_change.items[0].kind: "},
      {"item owner a slug",
       Change(CarePlan,
              [](M& m) { m.mutable_care_plan_change()->mutable_items(0)->set_owner("Harbour"); }),
       "message.care_plan_change.items[0].owner: "},
      {"item status required",
       Change(CarePlan,
              [](M& m) { m.mutable_care_plan_change()->mutable_items(0)->clear_status(); }),
       "message.care_plan_change.items[0].status: "},
      {"item domain at most 64",
       Change(CarePlan,
              [](M& m) {
                m.mutable_care_plan_change()->mutable_items(0)->set_domain(std::string(65, 'd'));
              }),
       "message.care_plan_change.items[0].domain: "},
      {"item description required",
       Change(CarePlan,
              [](M& m) { m.mutable_care_plan_change()->mutable_items(0)->clear_description(); }),
       "message.care_plan_change.items[0].description: "},
      {"item period start before end",
       Change(CarePlan,
              [](M& m) {
                auto* p = m.mutable_care_plan_change()->mutable_items(0)->mutable_period();
                *p->mutable_start() = ToProtoTime(kNow);
                *p->mutable_end() = ToProtoTime(kNow);
              }),
       "message.care_plan_change.items[0].period: "},
      {"item label code required",
       Change(CarePlan,
              [](M& m) {
                m.mutable_care_plan_change()->mutable_items(0)->add_security_labels()->set_system(
                    "s");
              }),
       "message.care_plan_change.items[0].security_labels[0].code: "},
      {"progress at valid",
       Change(CarePlan,
              [](M& m) {
                m.mutable_care_plan_change()
                    ->mutable_items(0)
                    ->mutable_progress(0)
                    ->mutable_at()
                    ->set_nanos(-5);
              }),
       "message.care_plan_change.items[0].progress[0].at: "},
      {"progress attainment within -2..2",
       Change(CarePlan,
              [](M& m) {
                m.mutable_care_plan_change()->mutable_items(0)->mutable_progress(0)->set_attainment(
                    3);
              }),
       "message.care_plan_change.items[0].progress[0].attainment: "},
      {"progress note no control characters",
       Change(CarePlan,
              [](M& m) {
                m.mutable_care_plan_change()->mutable_items(0)->mutable_progress(0)->set_note(
                    "\x02");
              }),
       "message.care_plan_change.items[0].progress[0].note: "},
      {"consent required",
       Change(Consent, [](M& m) { m.mutable_consent_change()->clear_consent(); }),
       "message.consent_change.consent: "},
      // The consent's own fields are policy::CheckConsent's (tests/policy) and
      // the publisher's (tests/integration/consent_test.cc).
      {"progress entry label unknown",
       Change(CarePlan,
              [](M& m) {
                auto* l = m.mutable_care_plan_change()->mutable_items(0)->mutable_progress(0)
                              ->add_security_labels();
                l->set_system("http://terminology.hl7.org/CodeSystem/v3-ActCode");
                l->set_code("NOPE");
              }),
       "message.care_plan_change.items[0].progress[0].security_labels[0].code: "},
      {"section label in the wrong system",
       Change(Discharge,
              [](M& m) {
                auto* l = m.mutable_discharge_note()->mutable_sections(0)->add_security_labels();
                l->set_system("http://terminology.hl7.org/CodeSystem/v3-Confidentiality");
                l->set_code("PSY");
              }),
       "message.discharge_note.sections[0].security_labels[0].system: "},
      {"notification from a member",
       Change(Discharge,
              [](M& m) {
                m.mutable_notification()->set_kind("break-glass");
              }),
       "message.notification: "},
  });
}

}  // namespace
}  // namespace switchboard::gateway::exchange
