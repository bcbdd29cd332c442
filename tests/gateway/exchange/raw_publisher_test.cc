// RawPublisher::CreateAdapters: each bad binding is INVALID_ARGUMENT naming
// adapter_bindings[i]; good ones yield one adapter per member.
#include "gateway/exchange/raw_publisher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/text_proto.h"

namespace switchboard::gateway::exchange {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kHl7[] = R"(
  organisation_id: "st-marys"
  config { [type.googleapis.com/switchboard.v1.adapters.Hl7v2Config] {
    source: "st-marys" sending_facility: "ST_MARYS"
    assigning_authorities { key: "STMARYS" value: "https://st-marys.example.org/fhir/mrn" } } })";
constexpr char kFhir[] = R"(
  organisation_id: "harbour-housing"
  config { [type.googleapis.com/switchboard.v1.adapters.FhirConfig] { source: "harbour-housing" } })";

absl::StatusOr<RawPublisher::AdapterMap> Create(const std::string& bindings_text) {
  v1::GatewayConfig config;
  absl::Status parsed = ParseTextProto(bindings_text, "test", &config);
  EXPECT_TRUE(parsed.ok()) << parsed;
  adapters::AdapterRegistry registry;
  adapters::RegisterBuiltinAdapters(registry);
  return RawPublisher::CreateAdapters(config.adapter_bindings(), registry);
}

std::string Binding(const std::string& body) { return "adapter_bindings {" + body + "}\n"; }

TEST(RawPublisherTest, CreatesOneAdapterPerBoundMember) {
  auto adapters = Create(Binding(kHl7) + Binding(kFhir));
  ASSERT_TRUE(adapters.ok()) << adapters.status();
  EXPECT_EQ(adapters->size(), 2u);
  EXPECT_TRUE(adapters->contains("st-marys"));
  EXPECT_TRUE(adapters->contains("harbour-housing"));
}

TEST(RawPublisherTest, BadBindingsAreInvalidArgumentNamingTheBinding) {
  struct Case {
    std::string name;
    std::string text;
    std::string message_start;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"no organisation", Binding(R"(config { [type.googleapis.com/switchboard.v1.adapters.FhirConfig] { source: "x" } })"),
       "adapter_bindings[0].organisation_id: required", ""},
      {"no config", Binding(R"(organisation_id: "x")"), "adapter_bindings[0].config: required", ""},
      {"bound twice", Binding(kHl7) + Binding(kHl7),
       "adapter_bindings[1].organisation_id: 'st-marys' is bound already", "adapter_bindings[0]"},
      {"unknown type",
       Binding(R"(organisation_id: "x" config { [type.googleapis.com/switchboard.v1.Limits] {} })"),
       "adapter_bindings[0].config: no adapter type takes", "switchboard.v1.Limits"},
      {"config refused",
       Binding(R"(organisation_id: "x" config { [type.googleapis.com/switchboard.v1.adapters.FhirConfig] {} })"),
       "adapter_bindings[0].config: ", "source"},
  };
  for (const Case& c : cases) {
    auto adapters = Create(c.text);
    EXPECT_EQ(adapters.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(adapters.status().message()), StartsWith(c.message_start)) << c.name;
    EXPECT_THAT(std::string(adapters.status().message()), HasSubstr(c.message_part)) << c.name;
  }
}

}  // namespace
}  // namespace switchboard::gateway::exchange
