#include "gateway/exchange/message_validator.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"
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
using ::switchboard::testing::IsOk;

TEST(MessageValidatorTest, AValidMessageOfEachPayloadTypePasses) {
  for (const v1::Message& m : {Discharge(), CaseNote(), Referral(), CarePlan(), Consent()}) {
    EXPECT_THAT(Validate(m), IsOk()) << m.header().event();
  }
}

TEST(MessageValidatorTest, OptionalFieldsAtTheirLimitsPass) {
  std::vector<std::pair<std::string, v1::Message>> cases;
  auto add = [&](std::string name, v1::Message m, const std::function<void(v1::Message&)>& f) {
    f(m);
    cases.emplace_back(std::move(name), std::move(m));
  };
  add("occurred_at exactly at the allowed skew", Discharge(), [](v1::Message& m) {
    *m.mutable_header()->mutable_occurred_at() = ToProtoTime(kNow + kMaxClockSkew);
  });
  add("destinations up to the limit, not checked for membership", Discharge(), [](v1::Message& m) {
    for (const char* d : {"x1", "x2", "x3"}) m.mutable_header()->add_destinations(d);
  });
  add("another accepted purpose of use", Discharge(),
      [](v1::Message& m) {
        m.mutable_header()->set_purpose_of_use("ETREAT");
        m.mutable_header()->set_break_glass_reason("unconscious in A&E, history needed");
      });
  add("attainment outside -2..2 on another scale", CarePlan(), [](v1::Message& m) {
    auto* p = m.mutable_care_plan_change()->mutable_items(0)->mutable_progress(0);
    p->set_attainment(7);
    p->set_scale("percent");
  });
  add("labelled section", Discharge(), [](v1::Message& m) {
    auto* l = m.mutable_discharge_note()->mutable_sections(0)->add_security_labels();
    l->set_system("http://terminology.hl7.org/CodeSystem/v3-ActCode");
    l->set_code("PSY");
  });
  for (const auto& [name, m] : cases) EXPECT_THAT(Validate(m), IsOk()) << name;
}

TEST(MessageValidatorTest, EachHeaderRuleIsInvalidArgumentNamingTheField) {
  const std::string kLong257(257, 'x');
  ExpectEachRuleRefused({
      {"header required", Change(Discharge, [](M& m) { m.clear_header(); }), "message.header: "},
      {"id required", Change(Discharge, [](M& m) { m.mutable_header()->clear_id(); }),
       "message.header.id: "},
      {"id without spaces", Change(Discharge, [](M& m) { m.mutable_header()->set_id("a b"); }),
       "message.header.id: "},
      {"id at most 128",
       Change(Discharge, [](M& m) { m.mutable_header()->set_id(std::string(129, 'i')); }),
       "message.header.id: "},
      {"event required", Change(Discharge, [](M& m) { m.mutable_header()->clear_event(); }),
       "message.header.event: "},
      {"event known", Change(Discharge, [](M& m) { m.mutable_header()->set_event("discharge-x"); }),
       "message.header.event: unknown event code 'discharge-x'"},
      {"source required", Change(Discharge, [](M& m) { m.mutable_header()->clear_source(); }),
       "message.header.source: "},
      {"source a slug", Change(Discharge, [](M& m) { m.mutable_header()->set_source("St_Marys"); }),
       "message.header.source: "},
      {"destinations limited",
       Change(Discharge,
              [](M& m) {
                for (const char* d : {"a1", "a2", "a3", "a4"}) {
                  m.mutable_header()->add_destinations(d);
                }
              }),
       "message.header.destinations: "},
      {"client required", Change(Discharge, [](M& m) { m.mutable_header()->clear_client(); }),
       "message.header.client: "},
      {"client system required",
       Change(Discharge, [](M& m) { m.mutable_header()->mutable_client()->clear_system(); }),
       "message.header.client.system: "},
      {"client value printable",
       Change(Discharge, [](M& m) { m.mutable_header()->mutable_client()->set_value("MRN 1"); }),
       "message.header.client.value: "},
      {"occurred_at required",
       Change(Discharge, [](M& m) { m.mutable_header()->clear_occurred_at(); }),
       "message.header.occurred_at: "},
      {"occurred_at valid",
       Change(Discharge, [](M& m) { m.mutable_header()->mutable_occurred_at()->set_nanos(-1); }),
       "message.header.occurred_at: "},
      {"occurred_at not in the future",
       Change(Discharge,
              [](M& m) {
                *m.mutable_header()->mutable_occurred_at() =
                    ToProtoTime(kNow + kMaxClockSkew + absl::Seconds(1));
              }),
       "message.header.occurred_at: "},
      {"purpose of use known",
       Change(Discharge, [](M& m) { m.mutable_header()->set_purpose_of_use("FUN"); }),
       "message.header.purpose_of_use: "},
      {"label system required",
       Change(Discharge, [](M& m) { m.mutable_header()->add_security_labels()->set_code("PSY"); }),
       "message.header.security_labels[0].system: "},
      {"label code a token",
       Change(Discharge,
              [](M& m) {
                auto* l = m.mutable_header()->add_security_labels();
                l->set_system("s");
                l->set_code("P S");
              }),
       "message.header.security_labels[0].code: "},
      {"correlation_id no control characters",
       Change(Discharge, [](M& m) { m.mutable_header()->set_correlation_id("a\x01"); }),
       "message.header.correlation_id: "},
      {"author at most 256",
       Change(Discharge, [&](M& m) { m.mutable_header()->set_author(kLong257); }),
       "message.header.author: "},
      {"payload required", Change(Discharge, [](M& m) { m.clear_payload(); }),
       "message.discharge_note: "},
      {"payload matches the event",
       Change(Discharge, [](M& m) { *m.mutable_case_note() = CaseNote().case_note(); }),
       "message.case_note: "},
  });
}

TEST(MessageValidatorTest, NormaliseMessageDefaultsPurposeOfUseToTreat) {
  v1::Message m = Discharge();
  m.mutable_header()->clear_purpose_of_use();
  NormaliseMessage(&m);
  EXPECT_EQ(m.header().purpose_of_use(), "TREAT");
  EXPECT_THAT(Validate(m), IsOk());
}

TEST(MessageValidatorTest, NormaliseMessageKeepsAnExplicitPurposeOfUse) {
  v1::Message m = Discharge();
  m.mutable_header()->set_purpose_of_use("ETREAT");
  const v1::Message before = m;
  NormaliseMessage(&m);
  EXPECT_EQ(m.SerializeAsString(), before.SerializeAsString());
}

}  // namespace
}  // namespace switchboard::gateway::exchange
