#include "adapters/fhir/fhir_adapter.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <ostream>
#include <set>
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

// A canonical message, tests/data/fhir/<name>.textproto.
v1::Message ReadCanonical(const std::string& name) {
  v1::Message message;
  const absl::Status parsed = ParseTextProto(ReadFile(name + ".textproto"), name, &message);
  EXPECT_TRUE(parsed.ok()) << parsed;
  return message;
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
      {"discharge_bundle", "st-marys"}, {"case_note_bundle", "county-social"},
      {"referral_bundle", "st-marys"},  {"care_plan_bundle", "care-coord"},
      {"consent_bundle", "care-coord"}, {"case_note_two_identifiers_bundle", "county-social"},
  };
  return *samples;
}

std::string SourceOf(const std::string& sample) {
  for (const Sample& s : Samples()) {
    if (s.name == sample) return s.source;
  }
  ADD_FAILURE() << "no sample " << sample;
  return "";
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
    // The message id; further resources of a type (Goals, Observations) add a suffix.
    EXPECT_THAT(id, StartsWith(absl::StrReplaceAll(decoded.header().id(), {{"_", "-"}})));
    EXPECT_LE(id.size(), 64u);
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

TEST(FhirAdapterTest, ReportsIgnoredCarePlanAndConsentElementsByPath) {
  auto adapter = MustCreate("care-coord");
  ASSERT_OK_AND_ASSIGN(
      DecodeReport plan,
      adapter->DecodeWithReport("application/fhir+json", ReadFile("care_plan_bundle.json")));
  EXPECT_THAT(plan.ignored,
              ::testing::UnorderedElementsAre("Bundle.entry[1].resource(Patient).name",
                                              "Bundle.entry[2].resource(CarePlan).title",
                                              "Bundle.entry[3].resource(Goal).achievementStatus"));
  ASSERT_OK_AND_ASSIGN(
      DecodeReport consent,
      adapter->DecodeWithReport("application/fhir+json", ReadFile("consent_bundle.json")));
  EXPECT_THAT(consent.ignored, ::testing::IsEmpty());
}

// Patient.identifier[0] is the client; the others with a system and a value are
// other_client_identifiers (a repeat of one counts once); the rest are reported.
TEST(FhirAdapterTest, FurtherPatientIdentifiersAreOtherClientIdentifiers) {
  auto adapter = MustCreate("county-social");
  ASSERT_OK_AND_ASSIGN(DecodeReport report, adapter->DecodeWithReport(
                                                "application/fhir+json",
                                                ReadFile("case_note_two_identifiers_bundle.json")));
  const v1::MessageHeader& h = report.message.header();
  EXPECT_EQ(h.client().system(), "https://fhir.nhs.uk/Id/nhs-number");
  ASSERT_EQ(h.other_client_identifiers_size(), 1);
  EXPECT_EQ(h.other_client_identifiers(0).system(), "https://st-marys.example.org/fhir/mrn");
  EXPECT_EQ(h.other_client_identifiers(0).value(), "123456");
  EXPECT_THAT(report.ignored,
              ::testing::ElementsAre("Bundle.entry[1].resource(Patient).identifier[3]"));

  // Encode writes the client first, then the others, and drops empty ones.
  v1::Message message = report.message;
  message.mutable_header()->add_other_client_identifiers()->set_value("no-system");
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  rapidjson::Document doc;
  doc.Parse(encoded.bytes.c_str());
  const rapidjson::Value& ids = doc["entry"][1]["resource"]["identifier"];
  ASSERT_TRUE(ids.IsArray());
  ASSERT_EQ(ids.Size(), 2u) << encoded.bytes;
  EXPECT_STREQ(ids[0]["system"].GetString(), "https://fhir.nhs.uk/Id/nhs-number");
  EXPECT_STREQ(ids[1]["value"].GetString(), "123456");
}

// Goals and Observations get ids of their own, within FHIR's 64 characters.
TEST(FhirAdapterTest, LongMessageIdsGiveDistinctValidResourceIds) {
  v1::Message message = ReadCanonical("care_plan_canonical");
  message.mutable_header()->set_id(std::string(100, 'x') + "/1");
  auto adapter = MustCreate("care-coord");
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  rapidjson::Document doc;
  doc.Parse(encoded.bytes.c_str());
  std::set<std::string> urls;
  for (const rapidjson::Value& entry : doc["entry"].GetArray()) {
    const std::string id = entry["resource"]["id"].GetString();
    EXPECT_LE(id.size(), 64u) << id;
    EXPECT_EQ(
        id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."),
        std::string::npos)
        << id;
    EXPECT_TRUE(urls.insert(entry["fullUrl"].GetString()).second) << id;
  }
  EXPECT_EQ(urls.size(), doc["entry"].Size());
  ASSERT_OK_AND_ASSIGN(v1::Message decoded, adapter->Decode(encoded.content_type, encoded.bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(message, decoded));
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
  auto adapter = MustCreate(SourceOf(c.sample));
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
        {"FocusNotAPayload", "discharge_bundle", "\"resourceType\": \"Composition\"",
         "\"resourceType\": \"Basic\"",
         "Bundle.entry[0].resource(MessageHeader).focus[0]: ", "a Basic is not a payload"},
        {"UnknownTaskStatus", "referral_bundle", "\"status\": \"rejected\"",
         "\"status\": \"draft\"", "Bundle.entry[3].resource(Task).status: ", "'draft'"},
        {"NoClientIdentifier", "case_note_bundle",
         "\"identifier\": [ { \"system\": \"https://fhir.nhs.uk/Id/nhs-number\", \"value\": "
         "\"9434765919\" } ]",
         "\"identifier\": []", "Bundle.entry[1].resource(Patient).identifier: ", "required"},
        {"SectionLabelWithoutCoding", "discharge_bundle", "\"valueCoding\"", "\"valueCode\"",
         "Bundle.entry[2].resource(Composition).section[1].extension[0].valueCoding: ", "required"},
        // CarePlan (entries: 2 CarePlan, 3-4 Goals, 5-7 Observations).
        {"GoalStatusWithoutCanonical", "care_plan_bundle", "\"lifecycleStatus\": \"proposed\"",
         "\"lifecycleStatus\": \"rejected\"",
         "Bundle.entry[4].resource(Goal).lifecycleStatus: ", "'rejected' has no plan item status"},
        {"ReopenedNeedsNearestActiveStatus", "care_plan_bundle", "\"status\": \"in-progress\"",
         "\"status\": \"completed\"",
         "Bundle.entry[2].resource(CarePlan).activity[1].detail.status: ",
         "with plan-item-status 'reopened'"},
        {"UnknownPlanItemStatus", "care_plan_bundle", "\"valueCode\": \"reopened\"",
         "\"valueCode\": \"paused\"",
         "Bundle.entry[2].resource(CarePlan).activity[1].extension[2].valueCode: ",
         "'paused' is not a plan item status"},
        {"ActivityWithoutItemId", "care_plan_bundle",
         "{ \"url\": \"https://switchboard.example/fhir/StructureDefinition/plan-item-id\", "
         "\"valueString\": \"act-boiler-repair\" },",
         "", "Bundle.entry[2].resource(CarePlan).activity[0].extension: ", "plan-item-id"},
        {"ActivityByReference", "care_plan_bundle", "\"detail\": {", "\"plannedDetail\": {",
         "Bundle.entry[2].resource(CarePlan).activity[0].detail: ", "by reference"},
        {"GoalWithoutItemIdentifier", "care_plan_bundle",
         "\"system\": \"https://switchboard.example/fhir/plan-item\", \"value\": \"goal-mood\"",
         "\"system\": \"https://care-coord.example.org/goals\", \"value\": \"goal-mood\"",
         "Bundle.entry[4].resource(Goal).identifier: ", "required"},
        {"PlanVersionNotAnInteger", "care_plan_bundle", "\"versionId\": \"7\"",
         "\"versionId\": \"v7\"", "Bundle.entry[2].resource(CarePlan).meta.versionId: ", "'v7'"},
        {"PartialGoalDueDate", "care_plan_bundle", "\"dueDate\": \"2024-07-01\"",
         "\"dueDate\": \"2024-07\"",
         "Bundle.entry[4].resource(Goal).target[0].dueDate: ", "is not a FHIR date"},
        {"AttainmentNotAnInteger", "care_plan_bundle", "\"valueInteger\": 4",
         "\"valueInteger\": 4.5",
         "Bundle.entry[6].resource(Observation).valueInteger: ", "FHIR integer"},
        {"GoalRefersToAnObservation", "care_plan_bundle", "{ \"reference\": \"Goal/goal-mood\" }",
         "{ \"reference\": \"urn:uuid:5f0c2b8e-1a61-4c55-9c1e-7d3a00000006\" }",
         "Bundle.entry[2].resource(CarePlan).goal[1]: ", "expected a Goal"},
        {"ProgressWithoutScale", "care_plan_bundle",
         "\"system\": \"https://switchboard.example/fhir/progress-scale\", \"code\": "
         "\"warmth-0-10\"",
         "\"system\": \"http://loinc.org\", \"code\": \"warmth-0-10\"",
         "Bundle.entry[6].resource(Observation).code.coding: ", "no coding of system"},
        {"BadScheduledPeriod", "care_plan_bundle", "\"end\": \"2024-04-19T17:00:00+01:00\"",
         "\"end\": \"2024-04-19T17:00\"",
         "Bundle.entry[2].resource(CarePlan).activity[0].detail.scheduledPeriod.end: ",
         "is not a FHIR dateTime"},
        // Consent (entry 2).
        {"ConsentStatusWithoutCanonical", "consent_bundle", "\"status\": \"active\"",
         "\"status\": \"proposed\"",
         "Bundle.entry[2].resource(Consent).status: ", "'proposed' has no consent status"},
        {"UnknownProvisionType", "consent_bundle", "\"type\": \"deny\"", "\"type\": \"maybe\"",
         "Bundle.entry[2].resource(Consent).provision.provision[0].type: ", "'maybe'"},
        {"UnknownMemberRole", "consent_bundle", "\"value\": \"agency\"", "\"value\": \"pharmacy\"",
         "Bundle.entry[2].resource(Consent).provision.provision[1].actor[0].reference.identifier"
         ".value: ",
         "'pharmacy' is not a member role"},
        {"ActorOfAnotherSystem", "consent_bundle", "https://switchboard.example/fhir/member-role",
         "http://example.org/roles",
         "Bundle.entry[2].resource(Consent).provision.provision[1].actor[0].reference.identifier"
         ".system: ",
         "is neither"},
        {"ClassOfAnotherSystem", "consent_bundle",
         "{ \"system\": \"https://switchboard.example/fhir/event\", \"code\": \"discharge\" }",
         "{ \"system\": \"http://hl7.org/fhir/resource-types\", \"code\": \"Composition\" }",
         "Bundle.entry[2].resource(Consent).provision.provision[0].provision[0].class[0].system: ",
         "is not the event system"},
        {"PartialDataPeriod", "consent_bundle", "\"end\": \"2025-01-01T00:00:00Z\"",
         "\"end\": \"2025-01-01\"",
         "Bundle.entry[2].resource(Consent).provision.provision[1].dataPeriod.end: ",
         "is not a FHIR dateTime"},
        {"ConsentWithoutIdentifier", "consent_bundle",
         "{ \"system\": \"https://care-coord.example.org/fhir/consent-id\", \"value\": "
         "\"consent-0001-share-all-but-mental-health-with-housing\" }",
         "", "Bundle.entry[2].resource(Consent).identifier: ", "required"},
        {"ConsentPatientIsNotAPatient", "consent_bundle",
         "\"patient\": { \"reference\": \"urn:uuid:9b2e4d10-3c0f-4f7e-8a55-1c2d00000002\" }",
         "\"patient\": { \"reference\": \"urn:uuid:9b2e4d10-3c0f-4f7e-8a55-1c2d00000003\" }",
         "Bundle.entry[2].resource(Consent).patient: ", "expected a Patient"},
    }),
    [](const auto& info) { return info.param.name; });

// Canonical messages with every field set (tests/data/fhir/<name>.textproto):
// Encode then Decode gives them back, and Decode reads everything Encode wrote.
class FhirCanonicalTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FhirCanonicalTest, EncodeThenDecodeIsIdentity) {
  const v1::Message message = ReadCanonical(GetParam());
  auto adapter = MustCreate(message.header().source());
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  ASSERT_OK_AND_ASSIGN(DecodeReport decoded,
                       adapter->DecodeWithReport(encoded.content_type, encoded.bytes));
  google::protobuf::util::MessageDifferencer differ;
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(message, decoded.message)) << diff << encoded.bytes;
  EXPECT_THAT(decoded.ignored, ::testing::IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Messages, FhirCanonicalTest,
                         ::testing::Values("care_plan_canonical", "consent_canonical"));

// FHIR R4 has no `reopened`: the nearest status plus the plan-item-status
// extension, on the Goal and on the activity.
TEST(FhirAdapterTest, ReopenedIsTheNearestStatusPlusAnExtension) {
  const v1::Message message = ReadCanonical("care_plan_canonical");
  auto adapter = MustCreate("care-coord");
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  rapidjson::Document doc;
  doc.Parse(encoded.bytes.c_str());
  ASSERT_FALSE(doc.HasParseError());
  const rapidjson::Value& plan = doc["entry"][2]["resource"];
  ASSERT_STREQ(plan["resourceType"].GetString(), "CarePlan");
  EXPECT_STREQ(plan["meta"]["versionId"].GetString(), "8");
  const rapidjson::Value& goal = doc["entry"][3]["resource"];
  ASSERT_STREQ(goal["resourceType"].GetString(), "Goal");
  EXPECT_STREQ(goal["lifecycleStatus"].GetString(), "active");
  EXPECT_THAT(encoded.bytes, HasSubstr(absl::StrCat("{\"url\":\"", kPlanItemStatusUrl,
                                                    "\",\"valueCode\":\"reopened\"}")));
  EXPECT_STREQ(goal["startDate"].GetString(), "2024-03-15");
  EXPECT_STREQ(goal["target"][0]["dueDate"].GetString(), "2024-06-30");
  const rapidjson::Value& reopened = plan["activity"][1];
  EXPECT_STREQ(reopened["detail"]["status"].GetString(), "in-progress");
  EXPECT_STREQ(reopened["extension"][2]["valueCode"].GetString(), "reopened");
}

TEST(FhirAdapterTest, CarePlanItemsComeBackGoalsFirst) {
  auto adapter = MustCreate("care-coord");
  v1::Message message = ReadCanonical("care_plan_canonical");
  auto* items = message.mutable_care_plan_change()->mutable_items();
  // Activity, goal, activity, ...: FHIR keeps goals and activities apart.
  items->SwapElements(0, items->size() - 1);
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  ASSERT_OK_AND_ASSIGN(v1::Message decoded, adapter->Decode(encoded.content_type, encoded.bytes));
  std::vector<std::string> ids;
  for (const v1::CarePlanItem& item : decoded.care_plan_change().items()) ids.push_back(item.id());
  EXPECT_THAT(ids, ::testing::ElementsAre("goal-mood", "goal-income", "goal-job", "goal-warm-home",
                                          "act-dropped", "act-boiler-repair", "act-cmht-review",
                                          "act-benefits-check", "act-food-bank", "act-done"));
}

// Defaults are written as what they mean and read back as the default.
TEST(FhirAdapterTest, DefaultScaleAndScopeAreWrittenExplicitlyAndReadAsDefault) {
  v1::Message plan = ReadCanonical("care_plan_canonical");
  plan.mutable_care_plan_change()->mutable_items(0)->mutable_progress(1)->set_scale("gas");
  auto adapter = MustCreate("care-coord");
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(plan));
  EXPECT_THAT(encoded.bytes, HasSubstr(absl::StrCat("\"system\":\"", kProgressScaleSystem,
                                                    "\",\"code\":\"gas\"")));
  ASSERT_OK_AND_ASSIGN(v1::Message decoded, adapter->Decode(encoded.content_type, encoded.bytes));
  EXPECT_EQ(decoded.care_plan_change().items(0).progress(1).scale(), "");

  v1::Message consent = ReadCanonical("consent_canonical");
  consent.mutable_consent_change()->mutable_consent()->clear_scope();
  ASSERT_OK_AND_ASSIGN(encoded, adapter->Encode(consent));
  EXPECT_THAT(encoded.bytes, HasSubstr("\"code\":\"patient-privacy\""));
  ASSERT_OK_AND_ASSIGN(decoded, adapter->Decode(encoded.content_type, encoded.bytes));
  EXPECT_EQ(decoded.consent_change().consent().scope(), "");
}

TEST(FhirAdapterTest, ConsentOfTheMessageClientRefersToThePatientEntry) {
  v1::Message message = ReadCanonical("consent_canonical");
  v1::Consent& consent = *message.mutable_consent_change()->mutable_consent();
  *consent.mutable_client() = message.header().client();
  consent.mutable_provision()->set_type(v1::ConsentProvision::PERMIT);
  auto adapter = MustCreate("care-coord");
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  rapidjson::Document doc;
  doc.Parse(encoded.bytes.c_str());
  const rapidjson::Value& resource = doc["entry"][2]["resource"];
  ASSERT_STREQ(resource["resourceType"].GetString(), "Consent");
  EXPECT_STREQ(resource["patient"]["reference"].GetString(),
               doc["entry"][1]["fullUrl"].GetString());
  EXPECT_STREQ(resource["policyRule"]["coding"][0]["code"].GetString(), "OPTIN");
  ASSERT_OK_AND_ASSIGN(v1::Message decoded, adapter->Decode(encoded.content_type, encoded.bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(message, decoded))
      << ToText(decoded);
}

// Encode refuses what it cannot write as valid FHIR, naming the canonical field.
TEST(FhirAdapterTest, EncodeRefusesIncompleteCarePlansAndConsents) {
  auto adapter = MustCreate("care-coord");
  struct Case {
    std::string sample;
    std::function<void(v1::Message&)> edit;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"care_plan_canonical",
       [](v1::Message& m) { m.mutable_care_plan_change()->mutable_items(1)->clear_kind(); },
       "message.care_plan_change.items[1].kind: required"},
      {"care_plan_canonical",
       [](v1::Message& m) { m.mutable_care_plan_change()->mutable_items(4)->clear_status(); },
       "message.care_plan_change.items[4].status: required"},
      {"care_plan_canonical",
       [](v1::Message& m) { m.mutable_care_plan_change()->mutable_items(0)->clear_description(); },
       "message.care_plan_change.items[0].description: required"},
      {"consent_canonical",
       [](v1::Message& m) { m.mutable_consent_change()->mutable_consent()->clear_status(); },
       "message.consent_change.consent.status: required"},
      {"consent_canonical",
       [](v1::Message& m) {
         m.mutable_consent_change()->mutable_consent()->mutable_provision()->clear_type();
       },
       "message.consent_change.consent.provision.type: required"},
      {"consent_canonical",
       [](v1::Message& m) {
         m.mutable_consent_change()
             ->mutable_consent()
             ->mutable_provision()
             ->mutable_provisions(0)
             ->add_actors();
       },
       "message.consent_change.consent.provision.provisions[0].actors[0]: an organisation_id or "
       "a role is required"},
  };
  for (const Case& c : cases) {
    v1::Message message = ReadCanonical(c.sample);
    c.edit(message);
    EXPECT_THAT(adapter->Encode(message),
                StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(c.error)))
        << c.error;
  }
}

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
  message.mutable_notification();
  EXPECT_THAT(adapter->Encode(message),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("message.notification: ")));
  message.clear_notification();
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
