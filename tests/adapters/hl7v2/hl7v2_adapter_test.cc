#include "adapters/hl7v2/hl7v2_adapter.h"

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
#include "switchboard/common/text_proto.h"
#include "tests/common/golden.h"
#include "tests/common/status_matchers.h"

namespace switchboard::adapters::hl7v2 {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kMrn[] = "https://st-marys.example.org/fhir/mrn";
constexpr char kNhs[] = "https://fhir.nhs.uk/Id/nhs-number";

std::string DataPath(const std::string& name) {
  return switchboard::testing::TestDataPath("hl7v2", name);
}

std::string ReadFile(const std::string& name) {
  return switchboard::testing::ReadTestData("hl7v2", name);
}

// The \r form of a sample (stored with \n; see README.md there).
std::string Sample(const std::string& name) {
  return absl::StrReplaceAll(ReadFile(name), {{"\n", "\r"}});
}

// St Mary's hospital: ADT and REF messages.
v1::adapters::Hl7v2Config StMarysConfig() {
  v1::adapters::Hl7v2Config config;
  config.set_source("st-marys");
  config.set_sending_facility("ST_MARYS");
  (*config.mutable_assigning_authorities())["STMARYS"] = kMrn;
  (*config.mutable_assigning_authorities())["NHS"] = kNhs;
  config.set_own_assigning_authority("STMARYS");
  (*config.mutable_providers())["COUNTY"] = "county-social";
  return config;
}

// County social care: MDM case notes about St Mary's patients, named by NHS number.
v1::adapters::Hl7v2Config CountyConfig() {
  v1::adapters::Hl7v2Config config;
  config.set_source("county-social");
  config.set_sending_facility("COUNTY_SOCIAL");
  (*config.mutable_assigning_authorities())["STMARYS"] = kMrn;
  (*config.mutable_assigning_authorities())["NHS"] = kNhs;
  config.set_own_assigning_authority("NHS");
  config.set_case_note_domain("health");
  return config;
}

v1::adapters::Hl7v2Config WithAdmissions(v1::adapters::Hl7v2Config config) {
  (*config.mutable_trigger_events())["ADT^A01"] = "admission";
  return config;
}

std::unique_ptr<Hl7v2Adapter> MustCreate(v1::adapters::Hl7v2Config config) {
  absl::StatusOr<std::unique_ptr<Hl7v2Adapter>> adapter = Hl7v2Adapter::Create(std::move(config));
  EXPECT_THAT(adapter, IsOk());
  return adapter.ok() ? *std::move(adapter) : nullptr;
}

std::string ToText(const google::protobuf::Message& m) {
  return switchboard::testing::ProtoText(m);
}

// Compares with tests/data/hl7v2/<golden>; on mismatch prints the actual text for
// review. SB_UPDATE_GOLDENS=1 rewrites the file instead.
void ExpectGoldenText(const std::string& golden, const std::string& actual) {
  if (std::getenv("SB_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(DataPath(golden), std::ios::binary) << actual;
    return;
  }
  EXPECT_EQ(ReadFile(golden), actual) << golden << " differs; actual:\n" << actual;
}

void ExpectGoldenMessage(const std::string& golden, const v1::Message& actual) {
  switchboard::testing::ExpectGoldenMessage("hl7v2", golden, actual);
}

struct GoldenCase {
  std::string sample;  // tests/data/hl7v2/<sample>.hl7
  v1::adapters::Hl7v2Config config;
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.sample; }

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, DecodesToGoldenMessage) {
  const GoldenCase& c = GetParam();
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(c.config);
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message decoded,
                       adapter->Decode(kContentType, Sample(c.sample + ".hl7")));
  ExpectGoldenMessage(c.sample + ".golden.textproto", decoded);
}

// Encode then decode again (as if the gateway's own message came back in, so
// MSH-4 is the gateway's facility) gives the same canonical message.
TEST_P(GoldenTest, EncodeRoundTripsToSameMessage) {
  const GoldenCase& c = GetParam();
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(c.config);
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message decoded,
                       adapter->Decode(kContentType, Sample(c.sample + ".hl7")));
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(decoded));
  EXPECT_EQ(encoded.content_type, kContentType);
  ExpectGoldenText(c.sample + ".golden.er7", absl::StrReplaceAll(encoded.bytes, {{"\r", "\n"}}));

  v1::adapters::Hl7v2Config mirror = c.config;
  mirror.set_sending_facility("SWITCHBOARD");
  std::unique_ptr<Hl7v2Adapter> back = MustCreate(mirror);
  ASSERT_NE(back, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message again, back->Decode(kContentType, encoded.bytes));
  google::protobuf::util::MessageDifferencer differ;
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(decoded, again)) << diff << "ER7:\n"
                                              << absl::StrReplaceAll(encoded.bytes, {{"\r", "\n"}});
}

INSTANTIATE_TEST_SUITE_P(
    Samples, GoldenTest,
    ::testing::Values(GoldenCase{"adt_a03_discharge", StMarysConfig()},
                      GoldenCase{"adt_a01_admit", WithAdmissions(StMarysConfig())},
                      GoldenCase{"mdm_t02_case_note", CountyConfig()},
                      GoldenCase{"ref_i12_referral", StMarysConfig()},
                      GoldenCase{"adt_a03_national_id_first", StMarysConfig()}),
    [](const ::testing::TestParamInfo<GoldenCase>& info) { return info.param.sample; });

// ---------------------------------------------------------------------------
// Inbound errors.

struct DecodeErrorCase {
  std::string name;
  std::string sample;
  std::vector<std::pair<std::string, std::string>> edits;  // applied to the \r form
  v1::adapters::Hl7v2Config config;
  std::string message_prefix;
};

void PrintTo(const DecodeErrorCase& c, std::ostream* os) { *os << c.name; }

class DecodeErrorTest : public ::testing::TestWithParam<DecodeErrorCase> {};

TEST_P(DecodeErrorTest, RefusesNamingTheLocation) {
  const DecodeErrorCase& c = GetParam();
  std::string bytes = Sample(c.sample);
  for (const auto& [from, to] : c.edits) {
    ASSERT_NE(bytes.find(from), std::string::npos) << from;
    bytes = absl::StrReplaceAll(bytes, {{from, to}});
  }
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(c.config);
  ASSERT_NE(adapter, nullptr);
  EXPECT_THAT(adapter->Decode(kContentType, bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(c.message_prefix)));
}

const std::string kPid3 =
    "123456^^^STMARYS&2.16.840.1.113883.3.72.5.1&ISO^MR~9434765919^^^NHS&2.16.840.1.113883.2.1.4."
    "1&ISO^NH~A1234567^^^HMPO&2.16.840.1.113883.2.1.3.2&ISO^PPN";

INSTANTIATE_TEST_SUITE_P(
    Cases, DecodeErrorTest,
    ::testing::Values(
        DecodeErrorCase{"NoKnownAuthority",
                        "adt_a03_discharge.hl7",
                        {{kPid3, "123456^^^STMARYS2^MR~9434765919^^^NHS2"}},
                        StMarysConfig(),
                        "PID-3: no identifier with a known assigning authority (got STMARYS2, "
                        "NHS2)"},
        DecodeErrorCase{"NoPid3",
                        "adt_a03_discharge.hl7",
                        {{kPid3, ""}},
                        StMarysConfig(),
                        "PID-3: no identifier with a known assigning authority (got none)"},
        DecodeErrorCase{"DischargeTimeNotDtm",
                        "adt_a03_discharge.hl7",
                        {{"|20240312142500+0000\r", "|2024-03-12\r"}},
                        StMarysConfig(),
                        "PV1-45: '2024-03-12' is not an HL7 DTM"},
        DecodeErrorCase{"EventTimeWithoutOffset",
                        "adt_a03_discharge.hl7",
                        {{"EVN|A03|20240312142500+0000", "EVN|A03|20240312142500"}},
                        StMarysConfig(),
                        "EVN-2: '20240312142500' is not an HL7 DTM"},
        DecodeErrorCase{"ImpossibleDate",
                        "adt_a03_discharge.hl7",
                        {{"|20240305090000+0000|", "|20240231090000+0000|"}},
                        StMarysConfig(),
                        "PV1-44: '20240231090000+0000' is not an HL7 DTM"},
        DecodeErrorCase{"UnmappedTrigger",
                        "adt_a01_admit.hl7",
                        {},
                        StMarysConfig(),
                        "MSH-9: trigger event 'ADT^A01' is not mapped"},
        DecodeErrorCase{"UnsupportedMessageType",
                        "adt_a03_discharge.hl7",
                        {{"ADT^A03^ADT_A03", "ORU^R01^ORU_R01"}},
                        StMarysConfig(),
                        "MSH-9: message type 'ORU^R01' is not supported"},
        DecodeErrorCase{"OtherFacility",
                        "mdm_t02_case_note.hl7",
                        {},
                        StMarysConfig(),
                        "MSH-4: sending facility 'COUNTY_SOCIAL' is not 'ST_MARYS'"},
        DecodeErrorCase{"DischargeWithoutObxOrDg1",
                        "adt_a03_discharge.hl7",
                        {{"DG1|1||I63.9^Cerebral infarction, unspecified^I10||20240305|F\r", ""}},
                        StMarysConfig(),
                        "OBX: no OBX with TX or FT text and no DG1 diagnosis"},
        DecodeErrorCase{"ReferralTargetUnmapped",
                        "ref_i12_referral.hl7",
                        {},
                        [] {
                          v1::adapters::Hl7v2Config c = StMarysConfig();
                          c.clear_providers();
                          return c;
                        }(),
                        "PRD-7: referred-to provider 'COUNTY'"},
        DecodeErrorCase{"ReferralStatusNotInTable0283",
                        "ref_i12_referral.hl7",
                        {{"RF1|P^Pending^HL70283", "RF1|X"}},
                        StMarysConfig(),
                        "RF1-1: referral status 'X' is not in HL7 table 0283"},
        DecodeErrorCase{"NotEr7",
                        "adt_a03_discharge.hl7",
                        {{"MSH|", "XYZ|"}},
                        StMarysConfig(),
                        "bytes: does not start with MSH"}),
    [](const ::testing::TestParamInfo<DecodeErrorCase>& info) { return info.param.name; });

TEST(Hl7v2AdapterTest, AcceptsEr7ContentTypeAndRefusesOthers) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  ASSERT_NE(adapter, nullptr);
  const std::string bytes = Sample("adt_a03_discharge.hl7");
  EXPECT_THAT(adapter->Decode("x-application/hl7-v2+er7; charset=utf-8", bytes), IsOk());
  EXPECT_THAT(
      adapter->Decode("application/json", bytes),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("content type: 'application/json'")));
}

TEST(Hl7v2AdapterTest, PrefersOwnAuthorityOverEarlierMappedOne) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(CountyConfig());
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(v1::Message m,
                       adapter->Decode(kContentType, Sample("mdm_t02_case_note.hl7")));
  EXPECT_EQ(m.header().client().system(), kNhs);
  EXPECT_EQ(m.header().client().value(), "9434765919");
}

v1::ClientIdentifier Id(const std::string& system, const std::string& value) {
  v1::ClientIdentifier id;
  id.set_system(system);
  id.set_value(value);
  return id;
}

// The samples' PID-3 is STMARYS MRN, NHS number, HMPO passport (not configured).
TEST(Hl7v2AdapterTest, OtherMappedPid3RepetitionsBecomeOtherIdentifiersUnmappedAreReported) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  ASSERT_NE(adapter, nullptr);
  ASSERT_OK_AND_ASSIGN(DecodeResult r,
                       adapter->DecodeWithReport(kContentType, Sample("adt_a03_discharge.hl7")));
  EXPECT_EQ(r.message.header().client().value(), "123456");
  ASSERT_EQ(r.message.header().other_client_identifiers_size(), 1);
  EXPECT_EQ(r.message.header().other_client_identifiers(0).system(), kNhs);
  EXPECT_EQ(r.message.header().other_client_identifiers(0).value(), "9434765919");
  EXPECT_THAT(r.ignored, ElementsAre("PID-3(3)"));
}

TEST(Hl7v2AdapterTest, RepeatedAndValuelessPid3RepetitionsAreDroppedInOrder) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(CountyConfig());
  ASSERT_NE(adapter, nullptr);
  // Primary: the NHS number (own authority), though third. The MRN sent twice (MR
  // and PI type) counts once; an NHS repetition without a value is reported; an
  // empty repetition is nothing.
  const std::string bytes = absl::StrReplaceAll(
      Sample("mdm_t02_case_note.hl7"),
      {{kPid3,
        "123456^^^STMARYS^MR~A1^^^HMPO^PPN~9434765919^^^NHS^NH~~123456^^^STMARYS^PI~^^^NHS~"
        "9434765919^^^NHS^NH"}});
  ASSERT_OK_AND_ASSIGN(DecodeResult r, adapter->DecodeWithReport(kContentType, bytes));
  EXPECT_EQ(r.message.header().client().system(), kNhs);
  ASSERT_EQ(r.message.header().other_client_identifiers_size(), 1);
  EXPECT_EQ(r.message.header().other_client_identifiers(0).system(), kMrn);
  EXPECT_THAT(r.ignored, ElementsAre("PID-3(2)", "PID-3(6)"));
  // Decode alone gives the same message.
  ASSERT_OK_AND_ASSIGN(v1::Message m, adapter->Decode(kContentType, bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(m, r.message));
}

TEST(Hl7v2AdapterTest, OnlyMappedPid3IdentifierIsTheClientWithNothingElse) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  ASSERT_NE(adapter, nullptr);
  const std::string bytes =
      absl::StrReplaceAll(Sample("adt_a03_discharge.hl7"), {{kPid3, "123456^^^STMARYS^MR"}});
  ASSERT_OK_AND_ASSIGN(DecodeResult r, adapter->DecodeWithReport(kContentType, bytes));
  EXPECT_EQ(r.message.header().client().value(), "123456");
  EXPECT_EQ(r.message.header().other_client_identifiers_size(), 0);
  EXPECT_THAT(r.ignored, IsEmpty());
}

// ---------------------------------------------------------------------------
// Outbound.

v1::Message DischargeMessage() {
  v1::Message m;
  m.mutable_header()->set_id("M-1");
  m.mutable_header()->set_event("discharge");
  m.mutable_header()->set_source("st-marys");
  m.mutable_header()->mutable_client()->set_system(kMrn);
  m.mutable_header()->mutable_client()->set_value("123456");
  m.mutable_header()->mutable_occurred_at()->set_seconds(1710253500);
  v1::Section* s = m.mutable_discharge_note()->add_sections();
  s->set_title("Plan");
  s->set_text("Line one ^ & ~ | \\\n\nLine three");
  m.mutable_discharge_note()->set_title("Discharge summary");
  m.mutable_discharge_note()->set_discharge_disposition("shelter");
  return m;
}

TEST(Hl7v2AdapterTest, EncodeDropsSecurityLabelsAndKeepsText) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  v1::adapters::Hl7v2Config mirror = StMarysConfig();
  mirror.set_sending_facility("SWITCHBOARD");
  std::unique_ptr<Hl7v2Adapter> back = MustCreate(mirror);
  ASSERT_NE(adapter, nullptr);
  ASSERT_NE(back, nullptr);
  v1::Message labelled = DischargeMessage();
  labelled.mutable_discharge_note()->mutable_sections(0)->add_security_labels()->set_code("PSY");
  labelled.mutable_header()->add_security_labels()->set_code("R");
  ASSERT_OK_AND_ASSIGN(PartnerPayload out, adapter->Encode(labelled));
  EXPECT_THAT(out.bytes, Not(HasSubstr("PSY")));
  ASSERT_OK_AND_ASSIGN(v1::Message again, back->Decode(kContentType, out.bytes));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(DischargeMessage(), again))
      << ToText(again);
}

TEST(Hl7v2AdapterTest, EncodeRefusesPayloadWithoutHl7Mapping) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  ASSERT_NE(adapter, nullptr);
  v1::Message m = DischargeMessage();
  m.mutable_care_plan_change()->add_items()->set_id("g1");
  EXPECT_THAT(adapter->Encode(m),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "message.payload: payload 'care_plan_change' has no HL7 v2.5 mapping"));
  m.clear_care_plan_change();
  EXPECT_THAT(adapter->Encode(m), StatusIs(absl::StatusCode::kInvalidArgument,
                                           StartsWith("message.payload: no payload")));
}

TEST(Hl7v2AdapterTest, EncodeRefusesUnmappedClientSystemAndTarget) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  ASSERT_NE(adapter, nullptr);
  v1::Message m = DischargeMessage();
  m.mutable_header()->mutable_client()->set_system("https://other.example.org/id");
  EXPECT_THAT(adapter->Encode(m), StatusIs(absl::StatusCode::kInvalidArgument,
                                           StartsWith("message.header.client.system: ")));
  m = DischargeMessage();
  m.mutable_referral()->set_target("housing-trust");
  EXPECT_THAT(adapter->Encode(m), StatusIs(absl::StatusCode::kInvalidArgument,
                                           StartsWith("message.referral.target: ")));
}

TEST(Hl7v2AdapterTest, EncodeWritesOtherIdentifiersWithAnAuthorityAfterTheClient) {
  std::unique_ptr<Hl7v2Adapter> adapter = MustCreate(StMarysConfig());
  ASSERT_NE(adapter, nullptr);
  v1::Message m = DischargeMessage();
  v1::MessageHeader& h = *m.mutable_header();
  *h.add_other_client_identifiers() = Id("https://other.example.org/id", "X-9");  // no authority
  *h.add_other_client_identifiers() = Id(kNhs, "9434765919");
  *h.add_other_client_identifiers() = Id(kMrn, "123456");  // the client again
  *h.add_other_client_identifiers() = Id(kNhs, "9434765919");
  ASSERT_OK_AND_ASSIGN(PartnerPayload out, adapter->Encode(m));
  EXPECT_THAT(out.bytes, HasSubstr("\rPID|1||123456^^^STMARYS~9434765919^^^NHS\r"));
  EXPECT_THAT(out.bytes, Not(HasSubstr("X-9")));
}

// ---------------------------------------------------------------------------
// Config and factory.

struct ConfigErrorCase {
  std::string name;
  void (*edit)(v1::adapters::Hl7v2Config&);
  std::string message_prefix;
};

void PrintTo(const ConfigErrorCase& c, std::ostream* os) { *os << c.name; }

class ConfigErrorTest : public ::testing::TestWithParam<ConfigErrorCase> {};

TEST_P(ConfigErrorTest, NamesTheConfigField) {
  v1::adapters::Hl7v2Config config = StMarysConfig();
  GetParam().edit(config);
  EXPECT_THAT(Hl7v2Adapter::Create(config),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(GetParam().message_prefix)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigErrorTest,
    ::testing::Values(
        ConfigErrorCase{"NoSource", [](auto& c) { c.clear_source(); }, "config.source: required"},
        ConfigErrorCase{"NoFacility", [](auto& c) { c.clear_sending_facility(); },
                        "config.sending_facility: required"},
        ConfigErrorCase{"NoAuthorities",
                        [](auto& c) {
                          c.clear_assigning_authorities();
                          c.clear_own_assigning_authority();
                        },
                        "config.assigning_authorities: "},
        ConfigErrorCase{"DuplicateSystem",
                        [](auto& c) { (*c.mutable_assigning_authorities())["ZZ"] = kMrn; },
                        "config.assigning_authorities['"},
        ConfigErrorCase{"OwnAuthorityUnknown",
                        [](auto& c) { c.set_own_assigning_authority("HMPO"); },
                        "config.own_assigning_authority: 'HMPO'"},
        ConfigErrorCase{"UnsupportedTrigger",
                        [](auto& c) { (*c.mutable_trigger_events())["ORU^R01"] = "result"; },
                        "config.trigger_events['ORU^R01']: unsupported trigger"},
        ConfigErrorCase{"EmptyEvent",
                        [](auto& c) { (*c.mutable_trigger_events())["ADT^A04"] = ""; },
                        "config.trigger_events['ADT^A04']: event code is required"},
        ConfigErrorCase{"EmptyProviderOrg", [](auto& c) { (*c.mutable_providers())["X1"] = ""; },
                        "config.providers['X1']: organisation id is required"}),
    [](const ::testing::TestParamInfo<ConfigErrorCase>& info) { return info.param.name; });

TEST(Hl7v2FactoryTest, RegistryCreatesAdapterFromTypedConfig) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  const AdapterFactory* factory = registry.FindByName("switchboard.adapters.hl7v2");
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->config_type(), "switchboard.v1.adapters.Hl7v2Config");

  google::protobuf::Any any;
  any.PackFrom(StMarysConfig());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Adapter> adapter, registry.Create(any));
  ASSERT_OK_AND_ASSIGN(v1::Message m,
                       adapter->Decode(kContentType, Sample("adt_a03_discharge.hl7")));
  EXPECT_EQ(m.header().event(), "discharge");

  any.PackFrom(v1::adapters::Hl7v2Config());
  EXPECT_THAT(registry.Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument, "config.source: required"));
  any.PackFrom(v1::Message());
  EXPECT_THAT(factory->Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected")));
}

}  // namespace
}  // namespace switchboard::adapters::hl7v2
