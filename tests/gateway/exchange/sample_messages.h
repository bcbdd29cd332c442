// Test-only samples for the message validator tests: one valid message per payload
// type (at a fixed `kNow`), a way to derive broken variants, and the table runner.
#ifndef SWITCHBOARD_TESTS_GATEWAY_EXCHANGE_SAMPLE_MESSAGES_H_
#define SWITCHBOARD_TESTS_GATEWAY_EXCHANGE_SAMPLE_MESSAGES_H_

#include <functional>
#include <string>
#include <vector>

#include "gateway/config/event_catalogue.h"
#include "gateway/exchange/message_validator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::exchange::samples {

inline const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

inline v1::Limits TestLimits() {
  v1::Limits limits;
  limits.set_max_message_bytes(1 << 20);
  limits.set_max_destinations(3);
  return limits;
}

inline v1::Message WithHeader(const std::string& event) {
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  h->set_id("msg-0001");
  h->set_event(event);
  h->set_source("st-marys");
  h->mutable_client()->set_system("https://st-marys.example.org/fhir/mrn");
  h->mutable_client()->set_value("MRN-100234");
  *h->mutable_occurred_at() = ToProtoTime(kNow - absl::Hours(1));
  h->set_purpose_of_use("TREAT");
  return m;
}

inline v1::Section* AddSection(google::protobuf::RepeatedPtrField<v1::Section>* sections) {
  v1::Section* s = sections->Add();
  s->set_code("8648-8");
  s->set_title("Hospital course");
  s->set_text("Observed for eight days.");
  return s;
}

inline v1::Message Discharge() {
  v1::Message m = WithHeader("discharge");
  v1::DischargeNote* note = m.mutable_discharge_note();
  note->set_title("Discharge summary");
  *note->mutable_admitted_at() = ToProtoTime(kNow - absl::Hours(100));
  *note->mutable_discharged_at() = ToProtoTime(kNow - absl::Hours(2));
  note->set_discharge_disposition("home");
  AddSection(note->mutable_sections());
  return m;
}

inline v1::Message CaseNote() {
  v1::Message m = WithHeader("case-note");
  m.mutable_case_note()->set_title("Home visit");
  m.mutable_case_note()->set_domain("housing");
  AddSection(m.mutable_case_note()->mutable_sections());
  return m;
}

inline v1::Message Referral() {
  v1::Message m = WithHeader("referral");
  v1::Referral* r = m.mutable_referral();
  r->set_referral_id("ref-7");
  r->set_target("northside-family");
  r->set_service("family-support-visit");
  r->set_status(v1::Referral::REQUESTED);
  return m;
}

inline v1::Message CarePlan() {
  v1::Message m = WithHeader("care-plan-change");
  v1::CarePlanItem* item = m.mutable_care_plan_change()->add_items();
  item->set_id("goal-1");
  item->set_kind(v1::CarePlanItem::GOAL);
  item->set_owner("harbour-housing");
  item->set_status(v1::CarePlanItem::ACTIVE);
  item->set_description("Move to a ground-floor flat");
  item->add_progress()->set_attainment(1);
  return m;
}

inline v1::Message Consent() {
  v1::Message m = WithHeader("consent-change");
  v1::Consent* c = m.mutable_consent_change()->mutable_consent();
  c->set_id("consent-1");
  c->set_status(v1::Consent::ACTIVE);
  c->mutable_provision()->set_type(v1::ConsentProvision::PERMIT);
  return m;
}

inline absl::Status Validate(const v1::Message& m) {
  static const config::EventCatalogue* const kEvents =
      new config::EventCatalogue(gateway::testing::EventConfig());
  return ValidateMessage(m, *kEvents, TestLimits(), kNow);
}

// One field rule: a broken variant of a valid message and the field path the
// error message must start with.
struct FieldRule {
  std::string rule;
  std::function<v1::Message()> make;
  std::string prefix;  // the message must start with this field path
};

template <typename F>
inline std::function<v1::Message()> Change(v1::Message (*base)(), F f) {
  return [base, f] {
    v1::Message m = base();
    f(m);
    return m;
  };
}

using M = v1::Message;

// Each rule's message is refused with INVALID_ARGUMENT starting with its prefix.
inline void ExpectEachRuleRefused(const std::vector<FieldRule>& rules) {
  for (const FieldRule& r : rules) {
    EXPECT_THAT(Validate(r.make()),
                ::switchboard::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                 ::testing::StartsWith(r.prefix)))
        << r.rule;
  }
}

}  // namespace switchboard::gateway::exchange::samples

#endif  // SWITCHBOARD_TESTS_GATEWAY_EXCHANGE_SAMPLE_MESSAGES_H_
