// Contract samples: replaying one records what decode and encode give (or the
// failing step), and differences read well: field paths for messages, a line
// diff for outputs; JSON outputs compare as JSON, HL7 v2 across line ends.
#include "gateway/registry/adapter_contract.h"

#include "adapters/adapter_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/v1/adapters/canonical_json.pb.h"

namespace switchboard::gateway::registry {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::unique_ptr<adapters::Adapter> CanonicalJson() {
  adapters::AdapterRegistry types;
  adapters::RegisterBuiltinAdapters(types);
  google::protobuf::Any config;
  config.PackFrom(v1::adapters::CanonicalJsonConfig());
  return *types.Create(config);
}

v1::ContractSample Input(const std::string& json) {
  v1::ContractSample sample;
  sample.set_name("s");
  sample.set_content_type("application/json");
  sample.set_input(json);
  return sample;
}

constexpr char kNote[] = R"({"header": {"id": "n-1", "event": "case-note", "source": "x",
  "client": {"system": "s", "value": "v"}, "occurredAt": "2026-01-01T00:00:00Z"},
  "caseNote": {"domain": "family", "sections": [{"text": "t"}]}})";

TEST(AdapterContractTest, ReplayRecordsDecodeAndEncodeOrTheFailingStep) {
  auto adapter = CanonicalJson();
  v1::ContractSample ok = Replay(*adapter, Input(kNote));
  EXPECT_EQ(ok.expected_message().case_note().domain(), "family");
  EXPECT_EQ(ok.expected_output_content_type(), "application/json");
  EXPECT_THAT(ok.expected_output(), HasSubstr("family"));
  EXPECT_THAT(ok.expected_error(), IsEmpty());
  EXPECT_TRUE(HasExpectations(ok));
  EXPECT_FALSE(HasExpectations(Input(kNote)));

  v1::ContractSample bad = Replay(*adapter, Input("{not json"));
  EXPECT_THAT(bad.expected_error(), StartsWith("decode: "));
  EXPECT_FALSE(bad.has_expected_message());
  EXPECT_THAT(bad.expected_output(), IsEmpty());
}

TEST(AdapterContractTest, DifferencesNameTheFieldAndDiffTheOutput) {
  auto adapter = CanonicalJson();
  const v1::ContractSample before = Replay(*adapter, Input(kNote));
  std::string changed = kNote;
  changed.replace(changed.find("family"), 6, "health");
  const v1::ContractSample after = Replay(*adapter, Input(changed));
  const std::vector<std::string> lines = Differences(before, after);
  EXPECT_THAT(lines, Contains(R"(message: modified: case_note.domain: "family" -> "health")"));
  EXPECT_THAT(lines, Contains("output:"));
  EXPECT_THAT(lines, Contains(R"(  -     "domain": "family",)"));
  EXPECT_THAT(lines, Contains(R"(  +     "domain": "health",)"));
  EXPECT_THAT(Differences(before, before), IsEmpty());

  const v1::ContractSample failed = Replay(*adapter, Input("{"));
  EXPECT_THAT(Differences(before, failed), Contains(StartsWith("error: (none) -> 'decode: ")));
  EXPECT_THAT(Differences(before, failed), Contains("message: no longer decoded"));
}

TEST(AdapterContractTest, OutputsCompareAsTheRecipientReadsThem) {
  EXPECT_TRUE(
      SameOutput("application/json", R"({"a":1,"b":[true]})", "{ \"b\": [ true ],\n \"a\": 1 }"));
  EXPECT_FALSE(SameOutput("application/json", R"({"a":1})", R"({"a":2})"));
  EXPECT_TRUE(SameOutput("application/fhir+json; charset=utf-8", "{}", " {}\n"));
  EXPECT_TRUE(SameOutput("application/hl7-v2", "MSH|x\rPID|y\r", "MSH|x\nPID|y\n"));
  EXPECT_FALSE(SameOutput("text/plain", "a", "a\n"));
  EXPECT_EQ(ReadableOutput("application/json", R"({"a":[1,2]})"),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
  EXPECT_EQ(ReadableOutput("application/hl7-v2", "MSH|x\rPID|y\r"), "MSH|x\nPID|y\n");
  EXPECT_EQ(ReadableOutput("application/json", "not json"), "not json");
}

TEST(AdapterContractTest, DescribeChangesListsEachSampleWithItsDifferences) {
  v1::SampleChange change;
  change.set_sample("home-visit");
  change.set_of_version(2);
  change.add_differences("message: modified: a: 1 -> 2");
  EXPECT_EQ(DescribeChanges({change}), "sample home-visit (v2):\n  message: modified: a: 1 -> 2\n");
  EXPECT_THAT(DescribeChanges({change, change, change}, 40), HasSubstr("... and 2 more"));
}

}  // namespace
}  // namespace switchboard::gateway::registry
