// Exchange.PublishRaw end to end: partner payloads (HL7 v2 ER7, FHIR R4 Bundle)
// decoded by the adapter bound to the caller, then published as by Publish
// (routing, dedup, delivery); refusals are audited.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/integration/hl7_samples.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kHl7[] = "application/hl7-v2";
constexpr char kFhir[] = "application/fhir+json";

// st-marys speaks HL7 v2, harbour-housing FHIR; northside-family has no binding.
std::string Bindings() {
  return absl::StrCat(kStMarysHl7Binding, R"(
adapter_bindings {
  organisation_id: "harbour-housing"
  config {
    [type.googleapis.com/switchboard.v1.adapters.FhirConfig] { source: "harbour-housing" }
  }
}
)");
}

std::string ReadSource(const std::string& relative) {
  std::ifstream in(SourceDir() + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The sample case note re-addressed to the test federation: sent by
// harbour-housing about client-a (HH-1), with a Patient.name the adapter does not map.
std::string HousingCaseNote() {
  std::string bundle = ReadSource("tests/data/fhir/case_note_bundle.json");
  EXPECT_THAT(bundle, HasSubstr("county-social"));
  return absl::StrReplaceAll(
      bundle,
      {{R"("value": "county-social")", R"("value": "harbour-housing")"},
       {R"("identifier": [ { "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" } ])",
        absl::StrCat(R"("identifier": [ { "system": ")", kHousingSystem,
                     R"(", "value": "HH-1" } ], "name": [ { "family": "Doe" } ])")}});
}

class RawTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions options;
    options.extra_config = Bindings();
    return options;
  }
};

TEST_F(RawTest, Hl7DischargeIsDeliveredAsCanonicalAndRepublishIsDeduplicated) {
  auto hospital = As("st-marys");
  const std::string er7 = AdtA03("RAW-1", "raw-marker-7f3a");
  v1::Receipt receipt;
  grpc::Status s = hospital->PublishRaw(kHl7, er7, &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(receipt.message_id(), "RAW-1");
  EXPECT_EQ(receipt.source(), "st-marys");
  EXPECT_THAT(receipt.ignored_elements(), IsEmpty());

  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "RAW-1");
  const v1::Message& m = d->message();
  EXPECT_EQ(m.header().event(), "discharge");
  EXPECT_EQ(m.header().client().system(), kMrnSystem);
  EXPECT_EQ(m.header().client().value(), "MRN-1");
  ASSERT_TRUE(m.has_discharge_note());
  ASSERT_EQ(m.discharge_note().sections_size(), 1);
  EXPECT_EQ(m.discharge_note().sections(0).text(), "raw-marker-7f3a");
  EXPECT_EQ(m.discharge_note().sections(0).code(), "8648-8");
  housing->Ack({d->id()});
  ASSERT_TRUE(housing->Close().ok());

  v1::Receipt again;
  s = hospital->PublishRaw(kHl7, er7, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(receipt, again))
      << again.DebugString();
}

TEST_F(RawTest, BoundRecipientAlsoGetsItsOwnFormatAndUnboundOnlyCanonical) {
  auto hospital = As("st-marys");
  ASSERT_TRUE(hospital->Publish(Discharge("OUT-1")).ok());

  // harbour-housing is bound to FHIR: the canonical message, plus a Bundle.
  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "OUT-1");
  ASSERT_TRUE(d->has_message());
  ASSERT_TRUE(d->has_partner());
  EXPECT_EQ(d->partner().content_type(), kFhir);
  EXPECT_THAT(d->partner().error(), IsEmpty());
  EXPECT_THAT(d->partner().bytes(), HasSubstr(R"("resourceType")"));
  EXPECT_THAT(d->partner().bytes(), HasSubstr("Bundle"));
  EXPECT_THAT(d->partner().bytes(), HasSubstr("discharged home. (OUT-1)"));
  housing->Ack({d->id()});
  ASSERT_TRUE(housing->Close().ok());

  // northside-family has no binding: the canonical message only.
  auto family = Subscribe("northside-family");
  auto f = family->Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->message_id(), "OUT-1");
  ASSERT_TRUE(f->has_message());
  EXPECT_FALSE(f->has_partner());
  family->Ack({f->id()});
  ASSERT_TRUE(family->Close().ok());
}

// The partner copy is made from what the recipient may see: a section the
// consent policy removes leaves nothing in the FHIR bytes either.
TEST_F(RawTest, ThePartnerCopyIsEncodedFromTheRedactedMessage) {
  v1::Message m = Discharge("OUT-PSY");
  v1::Section* psy = m.mutable_discharge_note()->add_sections();
  psy->set_title("Psychiatric assessment PARTNER-SECRET-TITLE");
  psy->set_text("PARTNER-SECRET-TEXT");
  v1::SecurityLabel* label = psy->add_security_labels();
  label->set_system("http://terminology.hl7.org/CodeSystem/v3-ActCode");
  label->set_code("PSY");
  ASSERT_TRUE(As("st-marys")->Publish(m).ok());

  // No consent: the test policy gives sensitive content to nobody.
  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  ASSERT_TRUE(d->has_partner());
  EXPECT_THAT(d->partner().error(), IsEmpty());
  EXPECT_THAT(d->partner().bytes(), HasSubstr("discharged home. (OUT-PSY)"));
  EXPECT_THAT(d->partner().bytes(), HasSubstr("REDACTED"));
  for (const char* secret : {"PARTNER-SECRET", "Psychiatric", "\"PSY\""}) {
    EXPECT_THAT(d->partner().bytes(), Not(HasSubstr(secret))) << secret;
    EXPECT_THAT(d->message().DebugString(), Not(HasSubstr(secret))) << secret;
  }
  housing->Ack({d->id()});
  ASSERT_TRUE(housing->Close().ok());
}

TEST_F(RawTest, UndecodablePayloadsAreInvalidArgumentWithTheAdapterLocation) {
  auto hospital = As("st-marys");
  grpc::Status s = hospital->PublishRaw(kHl7, AdtA03("RAW-2", "x", "MRN-1^^^ELSEWHERE^MR"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("payload: PID-3")) << s.error_message();

  s = hospital->PublishRaw(kHl7, AdtA03("RAW-3", "x", "MRN-1^^^STMARYS^MR", "OTHER_HOSP"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("payload: MSH-4")) << s.error_message();
}

TEST_F(RawTest, MemberWithoutBindingIsFailedPreconditionAndRefusalsAreAudited) {
  auto family = As("northside-family");
  grpc::Status s = family->PublishRaw(kHl7, AdtA03("RAW-4", "x"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "no adapter is bound to 'northside-family' for raw publishing (no active adapter "
            "version: sbctl adapter, or config adapter_bindings)");
  s = As("st-marys")->PublishRaw(kHl7, "not hl7");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListAuditRecordsRequest req;
  req.set_page_size(1000);
  v1::ListAuditRecordsResponse resp;
  ASSERT_TRUE(As("admin")->operations->ListAuditRecords(Ctx().get(), req, &resp).ok());
  int refused_raw = 0;
  for (const auto& r : resp.records()) {
    if (r.outcome() == v1::AuditRecord::REFUSED &&
        r.operation().find("PublishRaw") != std::string::npos &&
        r.action() == v1::AuditRecord::PUBLISH) {
      ++refused_raw;
    }
  }
  EXPECT_EQ(refused_raw, 2);
}

TEST_F(RawTest, FhirBundleIsAcceptedAndTheReceiptListsIgnoredElements) {
  auto housing = As("harbour-housing");
  v1::Receipt receipt;
  grpc::Status s = housing->PublishRaw(kFhir, HousingCaseNote(), &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(receipt.message_id(), "CSC-NOTE-20240402-0017");
  EXPECT_EQ(receipt.source(), "harbour-housing");
  EXPECT_THAT(receipt.recipients(), Not(IsEmpty()));
  EXPECT_THAT(receipt.ignored_elements(), Contains(HasSubstr("(Patient).name")))
      << receipt.DebugString();

  // Another member's sender is still refused (by the adapter, as a payload error).
  s = housing->PublishRaw(kFhir, ReadSource("tests/data/fhir/case_note_bundle.json"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), StartsWith("payload: Bundle")) << s.error_message();
}

}  // namespace
}  // namespace switchboard::testing
