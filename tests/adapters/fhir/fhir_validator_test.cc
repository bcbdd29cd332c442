// The FHIR adapter's output checked by a third-party FHIR R4 validator:
// tests/fhir_validator/validate.mjs (npm @medplum/core against the R4 base
// StructureDefinitions, plus the required code bindings). Each test writes JSON
// files to a temporary directory and runs `node validate.mjs` on them once.
//
// SB_FHIR_OUTPUT_DIR=<dir> keeps a copy of every file written.
//
// Needs node and tests/fhir_validator/node_modules (tools/test installs it with
// `npm ci`); without them the tests fail rather than skip, so that a green run
// always means the output was validated.
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/fhir/fhir_adapter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/text_proto.h"
#include "tests/common/golden.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

namespace switchboard::adapters::fhir {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::ReadTestData;
using ::switchboard::testing::TempDir;
using ::switchboard::testing::TestDataPath;
using ::testing::HasSubstr;

// Canonical messages under tests/data/fhir/: the decodes of the input samples
// and the canonical-first samples with every field set. Each is encoded by the
// adapter of its header.source.
const std::vector<std::string>& CanonicalSamples() {
  static const auto* samples = new std::vector<std::string>{
      "discharge_bundle.golden.textproto", "case_note_bundle.golden.textproto",
      "referral_bundle.golden.textproto",  "care_plan_bundle.golden.textproto",
      "consent_bundle.golden.textproto",   "care_plan_canonical.textproto",
      "consent_canonical.textproto",       "case_note_two_identifiers_bundle.golden.textproto",
  };
  return *samples;
}

std::string ValidatorDir() {
  const char* source = std::getenv("SB_SOURCE_DIR");
  return absl::StrCat(source == nullptr ? "." : source, "/tests/fhir_validator");
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct ValidatorRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// `node validate.mjs <files>`.
ValidatorRun RunValidator(const std::vector<std::string>& files) {
  std::string command = absl::StrCat("node ", ShellQuote(ValidatorDir() + "/validate.mjs"));
  for (const std::string& f : files) absl::StrAppend(&command, " ", ShellQuote(f));
  absl::StrAppend(&command, " 2>&1");
  ValidatorRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    run.output = "popen failed";
    return run;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Fails the test (no skip) when the validator cannot run here.
::testing::AssertionResult ValidatorInstalled() {
  if (!std::filesystem::exists(ValidatorDir() + "/node_modules/@medplum/core/package.json")) {
    return ::testing::AssertionFailure()
           << ValidatorDir()
           << "/node_modules is missing: run tools/test (it runs `npm ci --prefix "
              "tests/fhir_validator`), then this test again";
  }
  return ::testing::AssertionSuccess();
}

// Runs the validator on `files`; every file must be valid.
void ExpectValid(const std::vector<std::string>& files) {
  ASSERT_TRUE(ValidatorInstalled());
  const ValidatorRun run = RunValidator(files);
  std::vector<std::string> not_valid;
  for (const std::string& f : files) {
    if (!absl::StrContains(run.output, f + ": valid\n")) not_valid.push_back(f);
  }
  EXPECT_TRUE(run.exit_code == 0 && not_valid.empty())
      << "exit code " << run.exit_code << "; not valid: " << absl::StrJoin(not_valid, ", ")
      << "\nvalidator output:\n"
      << run.output;
}

std::unique_ptr<FhirAdapter> MustCreate(const std::string& source) {
  v1::adapters::FhirConfig config;
  config.set_source(source);
  config.set_pretty(true);
  absl::StatusOr<std::unique_ptr<FhirAdapter>> adapter = FhirAdapter::Create(config);
  EXPECT_THAT(adapter, IsOk());
  return adapter.ok() ? *std::move(adapter) : nullptr;
}

v1::Message Canonical(const std::string& file) {
  v1::Message message;
  const absl::Status parsed = ParseTextProto(ReadTestData("fhir", file), file, &message);
  EXPECT_TRUE(parsed.ok()) << parsed;
  return message;
}

// Writes `bytes` to dir/name; SB_FHIR_OUTPUT_DIR=<dir> keeps a copy there (to
// look at what the adapter writes, or to run validate.mjs by hand).
std::string Write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::binary) << bytes;
  if (const char* keep = std::getenv("SB_FHIR_OUTPUT_DIR"); keep != nullptr) {
    std::ofstream(absl::StrCat(keep, "/", name), std::ios::binary) << bytes;
  }
  return path;
}

// The validator itself: an invalid resource must fail, naming the element, or a
// green run would prove nothing.
TEST(FhirValidatorTest, RejectsAnInvalidResource) {
  TempDir dir;
  const std::string bad = Write(dir, "bad_task.json", R"({
    "resourceType": "Task", "status": "not-a-status", "intent": "order",
    "for": { "reference": "Patient/p1" }, "colour": "blue" })");
  ASSERT_TRUE(ValidatorInstalled());
  const ValidatorRun run = RunValidator({bad});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("error Task.status: 'not-a-status' is not in the required"));
  EXPECT_THAT(run.output, HasSubstr("error Task.colour"));
}

TEST(FhirValidatorTest, EncodedSamplesAreValidFhirR4) {
  TempDir dir;
  std::vector<std::string> files;
  for (const std::string& sample : CanonicalSamples()) {
    const v1::Message message = Canonical(sample);
    auto adapter = MustCreate(message.header().source());
    ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
    const std::string name = sample.substr(0, sample.find('.'));
    files.push_back(Write(dir, name + ".encoded.json", encoded.bytes));
  }
  ExpectValid(files);
}

// The header's optional parts (break-glass purpose with its reason, the REDACTED
// obligation label, a correlation id, no author), a consent of the message's
// client, and a message id that must be cut and cleaned to make resource ids.
TEST(FhirValidatorTest, EncodedHeaderVariantsAreValidFhirR4) {
  TempDir dir;
  auto adapter = MustCreate("st-marys");
  v1::Message message = Canonical("discharge_bundle.golden.textproto");
  v1::MessageHeader& h = *message.mutable_header();
  v1::SecurityLabel* redacted = h.add_security_labels();
  redacted->set_system("http://terminology.hl7.org/CodeSystem/v3-ObservationValue");
  redacted->set_code("REDACTED");
  h.set_purpose_of_use("ETREAT");
  h.set_break_glass_reason("unconscious on arrival");
  h.set_correlation_id("STM-FHIR-000450");
  h.clear_author();
  message.mutable_discharge_note()->set_discharge_disposition("shelter");  // not a FHIR code
  ASSERT_OK_AND_ASSIGN(PartnerPayload encoded, adapter->Encode(message));
  std::vector<std::string> files = {Write(dir, "header_variants.json", encoded.bytes)};

  // A consent of the message's client (Consent.patient is then the Patient
  // entry) with a root permit (policyRule OPTIN), no period and an untyped rule.
  message = Canonical("consent_canonical.textproto");
  v1::Consent& consent = *message.mutable_consent_change()->mutable_consent();
  *consent.mutable_client() = message.header().client();
  consent.clear_period();
  consent.clear_scope();
  consent.mutable_provision()->set_type(v1::ConsentProvision::PERMIT);
  consent.mutable_provision()->mutable_provisions(0)->clear_type();
  ASSERT_OK_AND_ASSIGN(encoded, MustCreate("care-coord")->Encode(message));
  files.push_back(Write(dir, "consent_variants.json", encoded.bytes));

  // A message id longer than a FHIR id, with characters an id cannot have.
  message = Canonical("care_plan_canonical.textproto");
  message.mutable_header()->set_id(std::string(80, 'x') + "/plan #1");
  ASSERT_OK_AND_ASSIGN(encoded, MustCreate("care-coord")->Encode(message));
  files.push_back(Write(dir, "care_plan_long_id.json", encoded.bytes));
  ExpectValid(files);
}

TEST(FhirValidatorTest, ProcessMessageResponsesAreValidFhirR4) {
  TempDir dir;
  auto adapter = MustCreate("st-marys");
  std::vector<std::string> files;
  ProcessMessageResult ok;
  ok.request_id = "STM-REF-000912";
  ok.event = "referral";
  ok.response_id = "gw-resp-1";
  ok.responded_at.set_seconds(1710255600);
  files.push_back(Write(dir, "response_ok.json", adapter->EncodeProcessMessageResponse(ok).bytes));

  const std::vector<std::pair<std::string, absl::Status>> errors = {
      {"invalid",
       absl::InvalidArgumentError("Bundle.entry[3].resource(Encounter).period.end: '2026-13-01' "
                                  "is not a FHIR dateTime")},
      {"forbidden", absl::PermissionDeniedError("no consent covers county-social")},
      {"duplicate", absl::AlreadyExistsError("message STM-REF-000912 was sent before")},
      {"unavailable", absl::UnavailableError("store is busy")},
      {"internal", absl::InternalError("bug")},
  };
  for (const auto& [name, status] : errors) {
    ProcessMessageResult result = ok;
    result.status = status;
    files.push_back(Write(dir, "outcome_" + name + ".json",
                          adapter->EncodeProcessMessageResponse(result).bytes));
  }
  ExpectValid(files);
}

// Every JSON sample under tests/data/fhir/ is meant to be valid FHIR R4 (the
// invalid variants are made by the decode tests, by editing a valid one).
TEST(FhirValidatorTest, InputSamplesAreValidFhirR4) {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(TestDataPath("fhir", "")))) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  ExpectValid(files);
}

}  // namespace
}  // namespace switchboard::adapters::fhir
