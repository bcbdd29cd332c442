#include "adapters/mapping/mapping_adapter.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "adapters/adapter_registry.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::adapters::mapping {
namespace {

using ::google::protobuf::TextFormat;
using ::google::protobuf::util::MessageDifferencer;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::HasSubstr;

std::string DataFile(const std::string& name) {
  const char* source = std::getenv("SB_SOURCE_DIR");
  if (source == nullptr) {
    ADD_FAILURE() << "SB_SOURCE_DIR is not set (ctest sets it)";
    return "";
  }
  std::ifstream in(std::string(source) + "/tests/data/mapping/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

template <typename T>
T ParseText(const std::string& text) {
  T message;
  EXPECT_TRUE(TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

absl::StatusOr<std::unique_ptr<MappingAdapter>> FromText(const std::string& config) {
  return MappingAdapter::Create(ParseText<v1::adapters::MappingConfig>(config));
}

std::unique_ptr<MappingAdapter> Northside() {
  auto adapter = FromText(DataFile("northside_family.textproto"));
  EXPECT_THAT(adapter, IsOk());
  return adapter.ok() ? *std::move(adapter) : nullptr;
}

TEST(MappingAdapterTest, InvalidConfigsNameTheRuleAndPart) {
  struct Case {
    const char* config;
    const char* error;
  };
  const Case cases[] = {
      {R"(rules { json_path: "$.a" })", "rules[0].field: required"},
      {R"(rules { json_path: "$.a" field: "header.nope" })",
       "rules[0].field: 'header.nope': 'nope' is not a field of switchboard.v1.MessageHeader"},
      {R"(rules { json_path: "$.a" field: "header.client" })",
       "ends at message switchboard.v1.ClientIdentifier"},
      {R"(rules { json_path: "$.a" field: "case_note.sections.title" })", "'sections' is repeated"},
      {R"(rules { json_path: "$.a" field: "header.id[*]" })", "'id' is not repeated"},
      {R"(rules { json_path: "a.b" field: "header.id" })",
       "rules[0].json_path: json_path 'a.b': must start with '$'"},
      {R"(rules { json_path: "$.a..b" field: "header.id" })", "empty member name"},
      {R"(rules { json_path: "$.a[x]" field: "header.id" })", "index must be"},
      {R"(rules { json_path: "$.a[*]" field: "header.id" })",
       "rules[0].json_path: has '[*]' but field 'header.id' has none"},
      {R"(rules { json_path: "$.a" field: "case_note.sections[*].title" })",
       "rules[0].field: has '[*]' but json_path '$.a' has none"},
      {R"(rules { json_path: "$.a" field: "header.id" date_format: "%Y" })",
       "rules[0].date_format: field 'header.id' is not a google.protobuf.Timestamp"},
      {R"(rules { json_path: "$.a" field: "header.occurred_at" time_zone: "Europe/London" })",
       "rules[0].time_zone: only with date_format"},
      {R"(rules { json_path: "$.a" field: "header.occurred_at" date_format: "%Y" time_zone: "Mars/Olympus" })",
       "rules[0].time_zone: unknown zone 'Mars/Olympus'"},
      {R"(rules { json_path: "$.a" field: "case_note.domain"
                  value_map { partner: "H" canonical: "family" }
                  value_map { partner: "H" canonical: "housing" } })",
       "rules[0].value_map[1]: partner code 'H' is listed twice"},
      {R"(rules { json_path: "$.a" field: "case_note.domain" default_canonical: "x" })",
       "rules[0].default_canonical: only with a value_map"},
      {R"(rules { json_path: "$.a" field: "header.id" constant: "x" })",
       "rules[0].constant: a constant rule takes no json_path"},
      {R"(rules { field: "referral.status" constant: "MAYBE" })",
       "rules[0].constant: 'MAYBE' is not a value of switchboard.v1.Referral.Status"},
      {R"(rules { field: "header.id" })", "rules[0].json_path: required"},
      {R"(rules { json_path: "$.a" field: "header.id" }
          rules { json_path: "$.b" field: "header.id" })",
       "rules[1].field 'header.id': already mapped by rules[0]"},
      {R"(rules { json_path: "$.a" field: "header.id" }
          rules { json_path: "$.a" field: "header.author" })",
       "rules[1].json_path '$.a': already mapped by rules[0]"},
      {R"(rules { json_path: "$.a" field: "case_note.title" }
          rules { json_path: "$.b" field: "referral.note" })",
       "rules[1].field: maps payload 'referral' but rules[0] maps 'case_note'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config);
    EXPECT_THAT(FromText(c.config),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
  }
}

TEST(MappingAdapterTest, NorthsideCaseNoteDecodesToTheExpectedMessage) {
  auto adapter = Northside();
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message decoded, adapter->Decode("application/json; charset=utf-8",
                                                            DataFile("northside_case_note.json")));
  const v1::Message expected =
      ParseText<v1::Message>(DataFile("northside_case_note.expected.textproto"));
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(expected, decoded)) << diff;
}

TEST(MappingAdapterTest, EncodeThenDecodeRoundTrips) {
  auto adapter = Northside();
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message decoded,
                       adapter->Decode("application/json", DataFile("northside_case_note.json")));
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(decoded));
  EXPECT_EQ(encoded.content_type, "application/json");
  // Sorted keys, local dates, partner codes, no constants, unmapped input dropped.
  EXPECT_EQ(encoded.bytes,
            R"({"caseRef":"NF-0457","noteId":"NF-NOTE-88121","notes":[)"
            R"({"body":"Heating repaired; children settled.","heading":"Home environment"},)"
            R"({"body":"Follow up with school on attendance.","heading":"Next steps"}],)"
            R"("summary":"Home visit, week 3",)"
            R"("visit":{"date":"24/11/2026 15:30","type":"HOME","worker":"J. Patel"}})");
  ASSERT_OK_AND_ASSIGN(v1::Message again, adapter->Decode(encoded.content_type, encoded.bytes));
  EXPECT_TRUE(MessageDifferencer::Equals(decoded, again)) << again.DebugString();
  ASSERT_OK_AND_ASSIGN(PartnerPayload twice, adapter->Encode(again));
  EXPECT_EQ(twice.bytes, encoded.bytes);
}

TEST(MappingAdapterTest, DecodeErrorsNameTheJsonPath) {
  auto adapter = Northside();
  ASSERT_NE(adapter, nullptr);
  struct Case {
    const char* json;
    const char* error;
  };
  const Case cases[] = {
      {R"({"noteId":"n","visit":{"date":"24/11/2026 15:30","type":"HOME"},"notes":[]})",
       "$.caseRef: required value is missing"},
      {R"({"noteId":"n","caseRef":null,"visit":{"date":"24/11/2026 15:30","type":"HOME"}})",
       "$.caseRef: required value is missing"},
      {R"({"noteId":"n","caseRef":"c","visit":{"date":"31-02-2026","type":"HOME"}})",
       "$.visit.date: '31-02-2026' does not match %d/%m/%Y %H:%M"},
      {R"({"noteId":"n","caseRef":"c","visit":{"date":"31/02/2026 10:00","type":"HOME"}})",
       "$.visit.date: '31/02/2026 10:00' does not match %d/%m/%Y %H:%M"},
      {R"({"noteId":"n","caseRef":{"id":1},"visit":{"date":"24/11/2026 15:30","type":"HOME"}})",
       "$.caseRef: expected a value, got an object"},
      {R"({"noteId":"n","caseRef":"c","visit":{"date":"24/11/2026 15:30","type":"HOME"},
           "notes":[{"body":"ok"},{"heading":"no body"}]})",
       "$.notes[1].body: required value is missing"},
      {R"({"noteId":"n","caseRef":"c","visit":{"date":"24/11/2026 15:30","type":"HOME"},
           "notes":{"body":"not an array"}})",
       "$.notes: expected an array"},
      {R"({"noteId":"n",)", "json: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_THAT(adapter->Decode("application/json", c.json),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)));
  }
  EXPECT_THAT(adapter->Decode("application/xml", "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not application/json")));
}

constexpr char kDomainMap[] = R"(
  rules { json_path: "$.type" field: "case_note.domain"
          value_map { partner: "HOME" canonical: "family" }
          value_map { partner: "HOME_VISIT" canonical: "family" }
          value_map { partner: "HSG" canonical: "housing" } %s })";

TEST(MappingAdapterTest, ValueMapTranslatesBothWaysWithDefaults) {
  ASSERT_OK_AND_ASSIGN(auto strict, FromText(absl::StrFormat(kDomainMap, "")));
  ASSERT_OK_AND_ASSIGN(v1::Message m, strict->Decode("", R"({"type":"HSG"})"));
  EXPECT_EQ(m.case_note().domain(), "housing");
  ASSERT_OK_AND_ASSIGN(m, strict->Decode("", R"({"type":"HOME_VISIT"})"));
  EXPECT_EQ(m.case_note().domain(), "family");
  // Reverse: several codes for one value write the first listed.
  ASSERT_OK_AND_ASSIGN(PartnerPayload p, strict->Encode(m));
  EXPECT_EQ(p.bytes, R"({"type":"HOME"})");
  EXPECT_THAT(strict->Decode("", R"({"type":"OFFICE"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("$.type: 'OFFICE' is not in the value map")));
  m.mutable_case_note()->set_domain("legal");
  EXPECT_THAT(strict->Encode(m),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("case_note.domain: 'legal' has no partner code in the value "
                                 "map of $.type")));

  ASSERT_OK_AND_ASSIGN(auto lenient,
                       FromText(absl::StrFormat(
                           kDomainMap, R"(default_canonical: "other" default_partner: "MISC")")));
  ASSERT_OK_AND_ASSIGN(m, lenient->Decode("", R"({"type":"OFFICE"})"));
  EXPECT_EQ(m.case_note().domain(), "other");
  m.mutable_case_note()->set_domain("legal");
  ASSERT_OK_AND_ASSIGN(p, lenient->Encode(m));
  EXPECT_EQ(p.bytes, R"({"type":"MISC"})");
}

TEST(MappingAdapterTest, DatesUseTheFormatAndTimeZone) {
  ASSERT_OK_AND_ASSIGN(auto adapter, FromText(R"(
      rules { json_path: "$.local" field: "header.occurred_at"
              date_format: "%d/%m/%Y %H:%M" time_zone: "Europe/London" }
      rules { json_path: "$.rfc" field: "notification.until" })"));
  // British Summer Time in June: 15:30 local is 14:30Z.
  ASSERT_OK_AND_ASSIGN(v1::Message m, adapter->Decode("", R"({"local":"24/06/2026 15:30",)"
                                                          R"("rfc":"2026-06-24T16:00:00+02:00"})"));
  EXPECT_EQ(m.header().occurred_at().seconds(), 1782311400);  // 2026-06-24T14:30:00Z
  EXPECT_EQ(m.notification().until().seconds(), 1782309600);  // 2026-06-24T14:00:00Z
  ASSERT_OK_AND_ASSIGN(PartnerPayload p, adapter->Encode(m));
  EXPECT_EQ(p.bytes, R"({"local":"24/06/2026 15:30","rfc":"2026-06-24T14:00:00Z"})");
  EXPECT_THAT(adapter->Decode("", R"({"rfc":"24/06/2026"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("$.rfc: '24/06/2026' does not match RFC 3339")));
}

TEST(MappingAdapterTest, RepeatedFieldsAlignIndexes) {
  ASSERT_OK_AND_ASSIGN(auto adapter, FromText(R"(
      rules { json_path: "$.to[*]" field: "header.destinations[*]" }
      rules { json_path: "$.labels[0].code" field: "header.security_labels[0].code" }
      rules { json_path: "$.notes[*].h" field: "case_note.sections[*].title" }
      rules { json_path: "$.notes[*].b" field: "case_note.sections[*].text" })"));
  ASSERT_OK_AND_ASSIGN(
      v1::Message m,
      adapter->Decode("", R"({"to":["a","b"],"labels":[{"code":"PSY"},{"code":"ignored"}],)"
                          R"("notes":[{"b":"first"},{"h":"Second","b":"second"}]})"));
  EXPECT_THAT(m.header().destinations(), ::testing::ElementsAre("a", "b"));
  ASSERT_EQ(m.header().security_labels_size(), 1);
  EXPECT_EQ(m.header().security_labels(0).code(), "PSY");
  ASSERT_EQ(m.case_note().sections_size(), 2);
  EXPECT_EQ(m.case_note().sections(0).title(), "");
  EXPECT_EQ(m.case_note().sections(0).text(), "first");
  EXPECT_EQ(m.case_note().sections(1).title(), "Second");
  ASSERT_OK_AND_ASSIGN(PartnerPayload p, adapter->Encode(m));
  EXPECT_EQ(p.bytes, R"({"labels":[{"code":"PSY"}],"notes":[{"b":"first"},)"
                     R"({"b":"second","h":"Second"}],"to":["a","b"]})");
  // No array at all: no elements, not an error (the rules are optional).
  ASSERT_OK_AND_ASSIGN(m, adapter->Decode("", "{}"));
  EXPECT_EQ(m.case_note().sections_size(), 0);
}

TEST(MappingAdapterTest, EnumsIntegersAndNestedRepeatedFields) {
  ASSERT_OK_AND_ASSIGN(auto adapter, FromText(R"(
      rules { json_path: "$.version" field: "care_plan_change.expected_version" }
      rules { json_path: "$.items[*].state" field: "care_plan_change.items[*].status" }
      rules { json_path: "$.items[*].score" field: "care_plan_change.items[*].progress[0].attainment" })"));
  ASSERT_OK_AND_ASSIGN(
      v1::Message m,
      adapter->Decode("", R"({"version":"7","items":[{"state":"ACTIVE","score":-1}]})"));
  EXPECT_EQ(m.care_plan_change().expected_version(), 7);
  ASSERT_EQ(m.care_plan_change().items_size(), 1);
  EXPECT_EQ(m.care_plan_change().items(0).status(), v1::CarePlanItem::ACTIVE);
  EXPECT_EQ(m.care_plan_change().items(0).progress(0).attainment(), -1);
  ASSERT_OK_AND_ASSIGN(PartnerPayload p, adapter->Encode(m));
  EXPECT_EQ(p.bytes, R"({"items":[{"score":-1,"state":"ACTIVE"}],"version":7})");
  EXPECT_THAT(adapter->Decode("", R"({"items":[{"state":"DONE"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("$.items[0].state: 'DONE' is not a value of "
                                 "switchboard.v1.CarePlanItem.Status")));
  EXPECT_THAT(adapter->Decode("", R"({"items":[{"score":3000000000}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("$.items[0].score: '3000000000' is not a valid int32")));
}

TEST(MappingAdapterTest, EncodeRefusesWhatTheMappingCannotExpress) {
  auto adapter = Northside();
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message m, adapter->Decode("", DataFile("northside_case_note.json")));
  v1::Message other_event = m;
  other_event.mutable_header()->set_event("discharge");
  EXPECT_THAT(adapter->Encode(other_event),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("header.event: 'discharge' cannot be expressed")));
  v1::Message no_sections = m;
  no_sections.mutable_case_note()->clear_sections();
  // `required` on a `[*]` rule covers the array too (a case note needs a section).
  EXPECT_THAT(adapter->Encode(no_sections),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("case_note.sections: required by $.notes[*].body but empty")));
  v1::Message no_text = m;
  no_text.mutable_case_note()->mutable_sections(1)->clear_text();
  EXPECT_THAT(adapter->Encode(no_text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("case_note.sections[1].text: required by $.notes[1].body")));
}

TEST(MappingAdapterTest, FactoryIsRegisteredAndTakesAnAny) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  const AdapterFactory* factory = registry.FindByName("switchboard.adapters.mapping");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->config_type(), "switchboard.v1.adapters.MappingConfig");

  google::protobuf::Any any;
  any.PackFrom(ParseText<v1::adapters::MappingConfig>(DataFile("northside_family.textproto")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Adapter> adapter, registry.Create(any));
  ASSERT_OK_AND_ASSIGN(v1::Message m,
                       adapter->Decode("application/json", DataFile("northside_case_note.json")));
  EXPECT_EQ(m.header().client().value(), "NF-0457");

  any.PackFrom(ParseText<v1::adapters::MappingConfig>(R"(rules { field: "header.nope" })"));
  EXPECT_THAT(registry.Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("adapter 'switchboard.adapters.mapping': rules[0].field")));
  any.PackFrom(v1::Message());
  EXPECT_THAT(factory->Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected switchboard.v1.adapters.MappingConfig")));
}

}  // namespace
}  // namespace switchboard::adapters::mapping
