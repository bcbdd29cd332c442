#include "adapters/canonical_json/canonical_json_adapter.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "adapters/canonical_json/config.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::adapters::canonical_json {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string DemoFile(const std::string& name) {
  const char* source = std::getenv("SB_SOURCE_DIR");
  if (source == nullptr) {
    ADD_FAILURE() << "SB_SOURCE_DIR is not set (ctest sets it)";
    return "";
  }
  std::ifstream in(std::string(source) + "/deploy/demo/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

CanonicalJsonAdapter Adapter(bool ignore_unknown = false, bool pretty = false) {
  v1::adapters::CanonicalJsonConfig config;
  config.set_ignore_unknown_fields(ignore_unknown);
  config.set_pretty(pretty);
  return CanonicalJsonAdapter(config);
}

TEST(CanonicalJsonAdapterTest, DemoMessagesRoundTrip) {
  const CanonicalJsonAdapter adapter = Adapter();
  for (const char* name : {"discharge.json", "case-note.json", "referral.json"}) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(v1::Message decoded, adapter.Decode(kContentType, DemoFile(name)));
    EXPECT_TRUE(decoded.has_header());
    EXPECT_NE(decoded.payload_case(), v1::Message::PAYLOAD_NOT_SET);
    ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter.Encode(decoded));
    EXPECT_EQ(encoded.content_type, kContentType);
    ASSERT_OK_AND_ASSIGN(v1::Message again, adapter.Decode(encoded.content_type, encoded.bytes));
    EXPECT_TRUE(MessageDifferencer::Equals(decoded, again)) << encoded.bytes;
  }
}

TEST(CanonicalJsonAdapterTest, DischargeDecodesIntoTheCanonicalFields) {
  ASSERT_OK_AND_ASSIGN(v1::Message m, Adapter().Decode(kContentType, DemoFile("discharge.json")));
  EXPECT_EQ(m.header().event(), "discharge");
  EXPECT_EQ(m.header().source(), "st-marys");
  EXPECT_TRUE(m.header().has_occurred_at());
  ASSERT_EQ(m.payload_case(), v1::Message::kDischargeNote);
  EXPECT_GT(m.discharge_note().sections_size(), 0);
  for (const v1::Section& s : m.discharge_note().sections()) EXPECT_FALSE(s.text().empty());
}

TEST(CanonicalJsonAdapterTest, EncodeUsesJsonNamesAndPrettyIndents) {
  v1::Message m;
  m.mutable_header()->set_id("x-1");
  m.mutable_header()->set_purpose_of_use("TREAT");
  ASSERT_OK_AND_ASSIGN(PartnerPayload compact, Adapter().Encode(m));
  EXPECT_THAT(compact.bytes, HasSubstr("\"purposeOfUse\""));
  EXPECT_EQ(compact.bytes.find('\n'), std::string::npos);
  ASSERT_OK_AND_ASSIGN(PartnerPayload pretty, Adapter(false, true).Encode(m));
  EXPECT_NE(pretty.bytes.find('\n'), std::string::npos);
}

TEST(CanonicalJsonAdapterTest, UnknownFieldIsInvalidArgumentUnlessIgnored) {
  const std::string json = R"({"header": {"id": "x-1", "mood": "cheerful"}})";
  EXPECT_THAT(Adapter().Decode(kContentType, json),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("json:")));
  ASSERT_OK_AND_ASSIGN(v1::Message m, Adapter(true).Decode(kContentType, json));
  EXPECT_EQ(m.header().id(), "x-1");
}

TEST(CanonicalJsonAdapterTest, MalformedJsonAndWrongTypesAreInvalidArgument) {
  for (const std::string& json : {std::string(R"({"header": )"), std::string("[]"),
                                  std::string(R"({"header": {"destinations": {"id": 1}}})"),
                                  std::string(R"({"referral": {"status": "MAYBE"}})"),
                                  std::string(R"({"header": {"occurredAt": "yesterday"}})")}) {
    EXPECT_THAT(Adapter().Decode(kContentType, json),
                StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("json:")))
        << json;
  }
}

TEST(CanonicalJsonAdapterTest, ContentTypeMustBeJson) {
  const std::string json = R"({"header": {"id": "x-1"}})";
  for (const char* type :
       {"text/plain", "application/xml", "application/fhir+json", "application/jsonx"}) {
    EXPECT_THAT(Adapter().Decode(type, json),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(type)))
        << type;
  }
  for (const char* type : {"application/json", "application/json; charset=utf-8",
                           "Application/JSON", " application/json ;charset=utf-8"}) {
    EXPECT_THAT(Adapter().Decode(type, json), IsOk()) << type;
  }
}

TEST(CanonicalJsonFactoryTest, CreatesFromItsTypedConfigOnly) {
  const CanonicalJsonFactory factory;
  EXPECT_EQ(factory.name(), "switchboard.adapters.canonical_json");
  EXPECT_EQ(factory.config_type(), "switchboard.v1.adapters.CanonicalJsonConfig");
  google::protobuf::Any any;
  v1::adapters::CanonicalJsonConfig config;
  config.set_ignore_unknown_fields(true);
  any.PackFrom(config);
  ASSERT_OK_AND_ASSIGN(auto adapter, factory.Create(any));
  // The config was applied: unknown fields are accepted.
  EXPECT_THAT(adapter->Decode(kContentType, R"({"header": {"mood": "x"}})"), IsOk());

  any.PackFrom(v1::Message());
  EXPECT_THAT(factory.Create(any),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("switchboard.v1.adapters.CanonicalJsonConfig")));
}

}  // namespace
}  // namespace switchboard::adapters::canonical_json
