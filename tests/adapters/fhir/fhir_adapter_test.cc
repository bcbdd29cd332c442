#include "adapters/fhir/fhir_adapter.h"

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "adapters/adapter_registry.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "switchboard/common/text_proto.h"
#include "tests/common/golden.h"
#include "tests/common/status_matchers.h"

namespace switchboard::adapters::fhir {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ReadFile(const std::string& name) {
  return switchboard::testing::ReadTestData("fhir", name);
}

std::unique_ptr<FhirAdapter> MustCreate(const std::string& source, bool pretty = false) {
  v1::adapters::FhirConfig config;
  config.set_source(source);
  config.set_pretty(pretty);
  absl::StatusOr<std::unique_ptr<FhirAdapter>> adapter = FhirAdapter::Create(config);
  EXPECT_THAT(adapter, IsOk());
  return adapter.ok() ? *std::move(adapter) : nullptr;
}

std::string ToText(const google::protobuf::Message& m) {
  return switchboard::testing::ProtoText(m);
}

// Compares with tests/data/fhir/<golden>; SB_UPDATE_GOLDENS=1 rewrites it instead.
void ExpectGoldenMessage(const std::string& golden, const v1::Message& actual) {
  switchboard::testing::ExpectGoldenMessage("fhir", golden, actual);
}

struct Sample {
  std::string name;    // tests/data/fhir/<name>.json, <name>.golden.textproto
  std::string source;  // the member that sends it
};

const std::vector<Sample>& Samples() {
  static const auto* samples = new std::vector<Sample>{
      {"discharge_bundle", "st-marys"},
      {"case_note_bundle", "county-social"},
      {"referral_bundle", "st-marys"},
  };
  return *samples;
}

class FhirSampleTest : public ::testing::TestWithParam<Sample> {};

TEST_P(FhirSampleTest, DecodesToGolden) {
  const Sample& s = GetParam();
  auto adapter = MustCreate(s.source);
  ASSERT_OK_AND_ASSIGN(v1::Message message,
                       adapter->Decode("application/fhir+json", ReadFile(s.name + ".json")));
  ExpectGoldenMessage(s.name + ".golden.textproto", message);
}

TEST_P(FhirSampleTest, EncodeThenDecodeIsIdentity) {
  const Sample& s = GetParam();
  auto adapter = MustCreate(s.source);
  ASSERT_OK_AND_ASSIGN(v1::Message decoded,
                       adapter->Decode("application/json", ReadFile(s.name + ".json")));
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(decoded));
  EXPECT_EQ(encoded.content_type, "application/fhir+json");
  ASSERT_OK_AND_ASSIGN(DecodeReport again,
                       adapter->DecodeWithReport(encoded.content_type, encoded.bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded, again.message))
      << "first:\n"
      << ToText(decoded) << "second:\n"
      << ToText(again.message) << encoded.bytes;
  // What Encode writes, Decode reads in full.
  EXPECT_THAT(again.ignored, ::testing::IsEmpty());
}

TEST_P(FhirSampleTest, EncodedJsonIsDeterministicWithResourceTypeEverywhere) {
  const Sample& s = GetParam();
  auto adapter = MustCreate(s.source, /*pretty=*/true);
  ASSERT_OK_AND_ASSIGN(v1::Message decoded,
                       adapter->Decode("application/fhir+json", ReadFile(s.name + ".json")));
  ASSERT_OK_AND_ASSIGN(PartnerPayload first, adapter->Encode(decoded));
  ASSERT_OK_AND_ASSIGN(PartnerPayload second, adapter->Encode(decoded));
  EXPECT_EQ(first.bytes, second.bytes);

  rapidjson::Document doc;
  doc.Parse(first.bytes.data(), first.bytes.size());
  ASSERT_FALSE(doc.HasParseError()) << first.bytes;
  EXPECT_STREQ(doc["resourceType"].GetString(), "Bundle");
  EXPECT_STREQ(doc["type"].GetString(), "message");
  const rapidjson::Value& entries = doc["entry"];
  ASSERT_TRUE(entries.IsArray());
  ASSERT_GE(entries.Size(), 3u);
  EXPECT_STREQ(entries[0]["resource"]["resourceType"].GetString(), "MessageHeader");
  for (const rapidjson::Value& entry : entries.GetArray()) {
    ASSERT_TRUE(entry["resource"].HasMember("resourceType"));
    const std::string type = entry["resource"]["resourceType"].GetString();
    const std::string id = entry["resource"]["id"].GetString();
    EXPECT_EQ(entry["fullUrl"].GetString(), absl::StrCat("urn:switchboard:", type, ":", id));
    EXPECT_EQ(id, absl::StrReplaceAll(decoded.header().id(), {{"_", "-"}}));
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, FhirSampleTest, ::testing::ValuesIn(Samples()),
                         [](const auto& info) { return info.param.name; });

TEST(FhirAdapterTest, ReportsIgnoredElementsByPath) {
  auto adapter = MustCreate("st-marys");
  ASSERT_OK_AND_ASSIGN(
      DecodeReport report,
      adapter->DecodeWithReport("application/fhir+json", ReadFile("discharge_bundle.json")));
  EXPECT_THAT(report.ignored, Contains("Bundle.meta.lastUpdated"));
  EXPECT_THAT(report.ignored, Contains("Bundle.entry[1].resource(Patient).name"));
  EXPECT_THAT(report.ignored, Contains("Bundle.entry[2].resource(Composition).confidentiality"));
  EXPECT_THAT(report.ignored, Contains("Bundle.entry[4].resource(Practitioner)"));
  EXPECT_THAT(report.ignored, Contains("Bundle.entry[0].resource(MessageHeader).author.reference"));
  // Known elements deliberately not mapped are not reported.
  EXPECT_THAT(report.ignored, Not(Contains("Bundle.entry[0].resource(MessageHeader).source")));
}

// Each case: an edit of a sample, and where the error must point.
struct ErrorCase {
  std::string name;
  std::string sample;
  std::string from;
  std::string to;
  std::string message_prefix;
  std::string message_part;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }
void PrintTo(const Sample& s, std::ostream* os) { *os << s.name; }

class FhirDecodeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(FhirDecodeErrorTest, NamesThePath) {
  const ErrorCase& c = GetParam();
  const std::string source = c.sample == "case_note_bundle" ? "county-social" : "st-marys";
  auto adapter = MustCreate(source);
  std::string bytes = ReadFile(c.sample + ".json");
  ASSERT_NE(bytes.find(c.from), std::string::npos) << c.from;
  bytes = absl::StrReplaceAll(bytes, {{c.from, c.to}});
  absl::StatusOr<v1::Message> decoded = adapter->Decode("application/fhir+json", bytes);
  EXPECT_THAT(decoded,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(StartsWith(c.message_prefix), HasSubstr(c.message_part))));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FhirDecodeErrorTest,
    ::testing::ValuesIn(std::vector<ErrorCase>{
        {"NotJson", "referral_bundle", "\"type\": \"message\",", "\"type\": ", "Bundle: not JSON",
         ""},
        {"NotAMessageBundle", "referral_bundle", "\"type\": \"message\"",
         "\"type\": \"collection\"", "Bundle.type: ", "'collection'"},
        {"FirstEntryNotMessageHeader", "case_note_bundle", "\"resourceType\": \"MessageHeader\"",
         "\"resourceType\": \"Basic\"",
         "Bundle.entry[0].resource: ", "the first entry must be a MessageHeader"},
        {"BadEncounterEnd", "discharge_bundle", "\"end\": \"2024-03-12T14:25:00+00:00\"",
         "\"end\": \"2026-13-01\"",
         "Bundle.entry[3].resource(Encounter).period.end: ", "'2026-13-01' is not a FHIR dateTime"},
        {"BadTimestamp", "referral_bundle", "\"timestamp\": \"2024-03-12T15:00:00Z\"",
         "\"timestamp\": \"2024-02-30T15:00:00Z\"", "Bundle.timestamp: ", "is not a FHIR dateTime"},
        {"OtherSender", "referral_bundle", "\"value\": \"st-marys\"", "\"value\": \"mallory\"",
         "Bundle.entry[0].resource(MessageHeader).sender.identifier.value: ",
         "'mallory' is not this member"},
        {"OtherEventSystem", "case_note_bundle",
         "\"system\": \"https://switchboard.example/fhir/event\"",
         "\"system\": \"http://example.org/events\"",
         "Bundle.entry[0].resource(MessageHeader).eventCoding.system: ", "is not"},
        {"UnresolvedFocus", "case_note_bundle", "{ \"reference\": \"Composition/cn-0017\" }",
         "{ \"reference\": \"Composition/nope\" }",
         "Bundle.entry[0].resource(MessageHeader).focus[0].reference: ", "does not resolve"},
        {"CarePlanNotYet", "discharge_bundle", "\"resourceType\": \"Composition\"",
         "\"resourceType\": \"CarePlan\"", "Bundle.entry[0].resource(MessageHeader).focus[0]: ",
         "CarePlan messages are not supported yet"},
        {"UnknownTaskStatus", "referral_bundle", "\"status\": \"rejected\"",
         "\"status\": \"draft\"", "Bundle.entry[3].resource(Task).status: ", "'draft'"},
        {"NoClientIdentifier", "case_note_bundle",
         "\"identifier\": [ { \"system\": \"https://fhir.nhs.uk/Id/nhs-number\", \"value\": "
         "\"9434765919\" } ]",
         "\"identifier\": []", "Bundle.entry[1].resource(Patient).identifier: ", "required"},
        {"SectionLabelWithoutCoding", "discharge_bundle", "\"valueCoding\"", "\"valueCode\"",
         "Bundle.entry[2].resource(Composition).section[1].extension[0].valueCoding: ", "required"},
    }),
    [](const auto& info) { return info.param.name; });

TEST(FhirAdapterTest, RefusesOtherContentTypes) {
  auto adapter = MustCreate("st-marys");
  EXPECT_THAT(adapter->Decode("application/fhir+xml", ReadFile("referral_bundle.json")),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("content_type: ")));
  EXPECT_THAT(
      adapter->Decode("application/fhir+json; fhirVersion=4.0", ReadFile("referral_bundle.json")),
      IsOk());
}

TEST(FhirAdapterTest, EncodesHeaderLabelsPurposeAndRedactedLabel) {
  auto adapter = MustCreate("st-marys");
  ASSERT_OK_AND_ASSIGN(v1::Message message,
                       adapter->Decode("application/fhir+json", ReadFile("discharge_bundle.json")));
  v1::SecurityLabel* redacted = message.mutable_header()->add_security_labels();
  redacted->set_system("http://terminology.hl7.org/CodeSystem/v3-ObservationValue");
  redacted->set_code("REDACTED");
  message.mutable_header()->set_purpose_of_use("ETREAT");
  message.mutable_header()->set_break_glass_reason("unconscious on arrival");
  message.mutable_header()->set_correlation_id("STM-FHIR-000450");
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  EXPECT_THAT(encoded.bytes, HasSubstr("\"code\":\"REDACTED\""));
  EXPECT_THAT(encoded.bytes, HasSubstr(kSectionSecurityUrl));
  ASSERT_OK_AND_ASSIGN(v1::Message again, adapter->Decode(encoded.content_type, encoded.bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(message, again)) << ToText(again);
}

TEST(FhirAdapterTest, RefusesPayloadsWithoutMapping) {
  auto adapter = MustCreate("st-marys");
  v1::Message message;
  message.mutable_header()->set_id("m-1");
  message.mutable_care_plan_change();
  EXPECT_THAT(adapter->Encode(message), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 StartsWith("message.care_plan_change: ")));
  message.clear_care_plan_change();
  EXPECT_THAT(adapter->Encode(message),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("message.payload: ")));
}

TEST(FhirAdapterTest, ProcessMessageOkIsAResponseBundle) {
  auto adapter = MustCreate("st-marys");
  ProcessMessageResult result;
  result.request_id = "STM-REF-000912";
  result.event = "referral";
  result.response_id = "gw-resp-1";
  result.responded_at.set_seconds(1710255600);
  PartnerPayload payload = adapter->EncodeProcessMessageResponse(result);
  rapidjson::Document doc;
  doc.Parse(payload.bytes.c_str());
  ASSERT_FALSE(doc.HasParseError()) << payload.bytes;
  EXPECT_STREQ(doc["resourceType"].GetString(), "Bundle");
  EXPECT_STREQ(doc["type"].GetString(), "message");
  EXPECT_STREQ(doc["timestamp"].GetString(), "2024-03-12T15:00:00Z");
  const rapidjson::Value& mh = doc["entry"][0]["resource"];
  EXPECT_STREQ(mh["resourceType"].GetString(), "MessageHeader");
  EXPECT_STREQ(mh["response"]["identifier"].GetString(), "STM-REF-000912");
  EXPECT_STREQ(mh["response"]["code"].GetString(), "ok");
}

TEST(FhirAdapterTest, ProcessMessageErrorIsAnOperationOutcome) {
  auto adapter = MustCreate("st-marys");
  ProcessMessageResult result;
  result.request_id = "STM-REF-000912";
  result.status = absl::InvalidArgumentError(
      "Bundle.entry[3].resource(Encounter).period.end: '2026-13-01' is not a FHIR dateTime");
  rapidjson::Document doc;
  std::string bytes = adapter->EncodeProcessMessageResponse(result).bytes;
  doc.Parse(bytes.c_str());
  ASSERT_FALSE(doc.HasParseError()) << bytes;
  EXPECT_STREQ(doc["resourceType"].GetString(), "OperationOutcome");
  const rapidjson::Value& issue = doc["issue"][0];
  EXPECT_STREQ(issue["severity"].GetString(), "error");
  EXPECT_STREQ(issue["code"].GetString(), "invalid");
  EXPECT_EQ(issue["diagnostics"].GetString(), std::string(result.status.message()));
  EXPECT_STREQ(issue["expression"][0].GetString(),
               "Bundle.entry[3].resource(Encounter).period.end");

  result.status = absl::PermissionDeniedError("no consent covers county-social");
  bytes = adapter->EncodeProcessMessageResponse(result).bytes;
  doc.Parse(bytes.c_str());
  EXPECT_STREQ(doc["issue"][0]["code"].GetString(), "forbidden");
  EXPECT_FALSE(doc["issue"][0].HasMember("expression"));
}

TEST(FhirFactoryTest, CreatesThroughTheRegistryFromAny) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  EXPECT_THAT(registry.Names(), Contains("switchboard.adapters.fhir"));
  v1::adapters::FhirConfig config;
  config.set_source("st-marys");
  google::protobuf::Any any;
  any.PackFrom(config);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Adapter> adapter, registry.Create(any));
  EXPECT_THAT(adapter->Decode("application/fhir+json", ReadFile("referral_bundle.json")), IsOk());

  config.clear_source();
  any.PackFrom(config);
  EXPECT_THAT(registry.Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config.source")));
  any.PackFrom(v1::Message());
  EXPECT_THAT(FhirFactory().Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected")));
}

}  // namespace
}  // namespace switchboard::adapters::fhir
