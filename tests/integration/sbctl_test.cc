// The README's and docs/consent.md's walk-throughs with the real sbctl, the demo
// config and the demo sharing policy: a member publishes deploy/demo/discharge.json
// and another receives it; the psychiatric section of discharge-psy.json reaches
// only those the seeded consent names; the consent commands and the sample
// consents of deploy/demo/consents/ do what the docs say.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Client 0001 of the demo as st-marys names it, quoted for the shell.
constexpr char kClient[] = "'https://st-marys.example.org/fhir/mrn|MRN-100234'";



class SbctlTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.config_text = DemoConfig(dir_.Sub("data"), /*story=*/false);
    o.sharing_policy = ReadSource("deploy/demo/sharing-policy.textproto");
    return o;
  }
  std::string Sbctl(const std::string& org, const std::string& args, int* code) {
    std::string out;
    *code = RunCommand(absl::StrCat(BinaryDir(), "/tools/cli/sbctl --addr ", gateway_->address(),
                                    " --certs_dir ", TestPki::Get().dir(), " --as ", org, " ", args,
                                    " 2>&1"),
                       &out);
    return out;
  }
};

TEST_F(SbctlTest, DemoDischargeIsPublishedAndReceivedWithTheCli) {
  int code = -1;
  const std::string demo = SourceDir() + "/deploy/demo/";
  std::string out = Sbctl("st-marys", "publish " + demo + "discharge.json", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("accepted stm-discharge-2026-0001 from st-marys"));
  EXPECT_THAT(out, HasSubstr("-> harbour-housing"));
  EXPECT_THAT(out, HasSubstr("-> northside-family"));
  EXPECT_THAT(out, HasSubstr("-> care-coord"));

  // harbour-housing is bound to FHIR in the demo: --out saves its own format.
  const std::string out_dir = dir_.Sub("out");
  std::filesystem::create_directories(out_dir);
  out = Sbctl("harbour-housing", "subscribe --count 1 --out " + out_dir, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("discharge from st-marys"));
  EXPECT_THAT(out, HasSubstr("Hospital course"));
  EXPECT_THAT(out, HasSubstr("wrote " + out_dir + "/dlv-"));
  std::vector<std::filesystem::path> written;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir)) {
    written.push_back(entry.path());
  }
  ASSERT_EQ(written.size(), 1u) << out;
  EXPECT_EQ(written[0].extension(), ".json");
  std::ifstream json_file(written[0]);
  std::stringstream json;
  json << json_file.rdbuf();
  EXPECT_THAT(json.str(), HasSubstr("resourceType"));

  out = Sbctl("st-marys", "status stm-discharge-2026-0001", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("harbour-housing +DELIVERED"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("northside-family +PENDING"))) << out;

  // st-marys' own HL7 v2 (demo adapter binding), raw.
  out = Sbctl("st-marys",
              "publish-raw " + demo + "discharge.hl7 --content_type application/hl7-v2", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("accepted STM-ADT-2026-0003 from st-marys"));
  EXPECT_THAT(out, HasSubstr("-> harbour-housing"));
  out = Sbctl("harbour-housing", "subscribe --count 1", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("Blood pressure medicine reduced"));
  EXPECT_THAT(out, HasSubstr("admitted 2026-11-24T16:00:00Z, discharged 2026-11-26T08:55:00Z"));

  // northside-family's own JSON, through its declarative mapping.
  out = Sbctl("northside-family",
              "publish-raw " + demo + "northside-visit.json --content_type application/json", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("accepted NF-NOTE-88121 from northside-family"));
  EXPECT_THAT(out, HasSubstr("-> st-marys"));

  // The other demo messages are valid too.
  out = Sbctl("harbour-housing", "publish " + demo + "case-note.json", &code);
  EXPECT_EQ(code, 0) << out;
  out = Sbctl("care-coord", "publish " + demo + "referral.json", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("-> northside-family"));

  out = Sbctl("admin", "audit verify", &code);
  EXPECT_EQ(code, 0) << out;
  out = Sbctl("care-coord", "health", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("SERVING"));
}

TEST_F(SbctlTest, BadInputGetsAClearErrorAndANonZeroExit) {
  int code = -1;
  std::string out = Sbctl("st-marys", "publish /nonexistent.json", &code);
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, HasSubstr("cannot read '/nonexistent.json'"));
  const std::string bad_json = dir_.Sub("bad.json");
  std::ofstream(bad_json) << R"({"header": {"id": "x-1", "bogus": 1}})";
  out = Sbctl("st-marys", "publish " + bad_json, &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("json:"));
  out = Sbctl("harbour-housing", "publish " + SourceDir() + "/deploy/demo/discharge.json", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED: message.header.source"));
  out = Sbctl("st-marys", "frobnicate", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("unknown command 'frobnicate'"));
}

// The seeded consent of client 0001 denies content labelled PSY to everyone but
// St Mary's and the coordinator: the agencies get the discharge note without
// its psychiatric section, and are told something was withheld.
TEST_F(SbctlTest, DemoPsychiatricSectionReachesOnlyTheMembersTheConsentNames) {
  int code = -1;
  std::string out =
      Sbctl("st-marys", "publish " + SourceDir() + "/deploy/demo/discharge-psy.json", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("-> harbour-housing"));
  EXPECT_THAT(out, HasSubstr("-> northside-family"));
  EXPECT_THAT(out, HasSubstr("-> care-coord"));

  for (const char* agency : {"harbour-housing", "northside-family"}) {
    out = Sbctl(agency, "subscribe --count 1", &code);
    ASSERT_EQ(code, 0) << agency << ": " << out;
    EXPECT_THAT(out, HasSubstr("Hospital course")) << agency;
    EXPECT_THAT(out, HasSubstr("Readmitted after a second fall")) << agency;
    EXPECT_THAT(out, HasSubstr("Plan of care")) << agency;
    EXPECT_THAT(out, HasSubstr("REDACTED: some content was withheld from you")) << agency;
    EXPECT_THAT(out, Not(HasSubstr("Psychiatric"))) << agency << ": " << out;
    EXPECT_THAT(out, Not(HasSubstr("sertraline"))) << agency << ": " << out;
  }

  out = Sbctl("care-coord", "subscribe --count 1", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("Hospital course"));
  EXPECT_THAT(out, HasSubstr("Psychiatric assessment [PSY]"));
  EXPECT_THAT(out, HasSubstr("sertraline"));
  EXPECT_THAT(out, Not(HasSubstr("REDACTED")));
}

TEST_F(SbctlTest, ConsentListAndCheckExplainTheSeededConsent) {
  int code = -1;
  std::string out = Sbctl("care-coord", absl::StrCat("consent list ", kClient), &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("1 version, newest first"));
  EXPECT_THAT(out, HasSubstr("consent consent-0001-2026-11  version 1  ACTIVE  (scope "
                             "patient-privacy)  [applies now]"));
  EXPECT_THAT(out, HasSubstr(" by care-coord\n"));
  EXPECT_THAT(out, HasSubstr("care-coord:forms/2026-11-02-client-0001-consent.pdf"));
  EXPECT_THAT(out, HasSubstr("    PERMIT (everyone)\n"
                             "      DENY content labelled PSY\n"
                             "        PERMIT actors st-marys, care-coord\n"))
      << out;

  const std::string check = absl::StrCat("consent check ", kClient, " --event discharge ");
  out = Sbctl("care-coord", check + "--recipient harbour-housing --label PSY", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out,
              StartsWith("DENY: harbour-housing may not receive discharge content labelled PSY"));
  EXPECT_THAT(out, HasSubstr("consent consent-0001-2026-11 v1 provision.provisions[0]: deny"));

  out = Sbctl("care-coord", check + "--recipient care-coord --label PSY", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, StartsWith("PERMIT: care-coord may receive discharge content labelled PSY"));
  EXPECT_THAT(out, HasSubstr("consent consent-0001-2026-11 v1"));

  // A member may ask about itself; the flag repeats for several labels.
  out =
      Sbctl("harbour-housing", check + "--recipient harbour-housing --label PSY --label MH", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, StartsWith("DENY: harbour-housing may not receive discharge content labelled "
                              "PSY, MH"));
  out = Sbctl("harbour-housing", check + "--recipient harbour-housing", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, StartsWith("PERMIT: harbour-housing may receive unlabelled discharge content"));

  // But not about another member; and the command line is checked first.
  out = Sbctl("harbour-housing", check + "--recipient care-coord", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED: recipient:"));
  out = Sbctl("care-coord", check + "--recipient care-coord --label XYZ", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("--label: unknown security label 'XYZ'"));
  out = Sbctl("care-coord", absl::StrCat("consent check ", kClient, " --recipient care-coord"),
              &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("--event CODE"));
}

// docs/consent.md's worked examples: each sample consent is valid and, as the
// newest consent of the client, decides as its name says.
TEST_F(SbctlTest, DemoConsentFilesRecordAndDecideAsTheirNamesSay) {
  const std::string dir = SourceDir() + "/deploy/demo/consents/";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files, (std::vector<std::string>{"family-only-appointment-dates.json",
                                             "revoke-everything.json",
                                             "share-all-but-mental-health-with-housing.json"}));
  int code = -1;
  auto check = [&](const std::string& recipient, const std::string& rest) {
    std::string out = Sbctl(
        "care-coord",
        absl::StrCat("consent check ", kClient, " --recipient ", recipient, " ", rest), &code);
    EXPECT_EQ(code, 0) << out;
    return out;
  };

  std::string out =
      Sbctl("care-coord", "consent record " + dir + "share-all-but-mental-health-with-housing.json",
            &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("consent consent-0001-share-all-but-mental-health-with-housing  "
                             "version 1  ACTIVE"));
  EXPECT_THAT(out, HasSubstr("    PERMIT (everyone)\n"
                             "      DENY actors harbour-housing; content labelled MH, PSY, BH\n"));
  out = check("harbour-housing", "--event case-note --label MH");
  EXPECT_THAT(out, StartsWith("DENY"));
  EXPECT_THAT(out, HasSubstr("consent-0001-share-all-but-mental-health-with-housing v1"));
  out = check("harbour-housing", "--event discharge");
  EXPECT_THAT(out, StartsWith("PERMIT"));
  EXPECT_THAT(out, HasSubstr("consent-0001-share-all-but-mental-health-with-housing v1"));
  // The newest of the scope applies; the list says the seeded one no longer does.
  out = Sbctl("care-coord", absl::StrCat("consent list ", kClient), &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("consent-0001-share-all-but-mental-health-with-housing  version 1  "
                             "ACTIVE  (scope patient-privacy)  [applies now]"));
  EXPECT_THAT(out, HasSubstr("consent consent-0001-2026-11  version 1  ACTIVE  (scope "
                             "patient-privacy)  [superseded by consent "
                             "consent-0001-share-all-but-mental-health-with-housing]"));

  out = Sbctl("care-coord", "consent record " + dir + "family-only-appointment-dates.json", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("    DENY actors northside-family\n"
                             "      PERMIT event care-plan-change\n"));
  out = check("northside-family", "--event referral");
  EXPECT_THAT(out, StartsWith("DENY"));
  EXPECT_THAT(out, HasSubstr("consent-0001-family-only-appointment-dates v1 provision: deny"));
  out = check("northside-family", "--event discharge");
  EXPECT_THAT(out, StartsWith("DENY"));
  out = check("northside-family", "--event care-plan-change");
  EXPECT_THAT(out, StartsWith("PERMIT"));
  EXPECT_THAT(out, HasSubstr("consent-0001-family-only-appointment-dates v1"));
  // It says nothing about anyone else: the sharing policy's defaults apply.
  out = check("harbour-housing", "--event discharge");
  EXPECT_THAT(out, StartsWith("PERMIT"));
  EXPECT_THAT(out, HasSubstr("no consent applies"));

  out = Sbctl("care-coord", "consent record " + dir + "revoke-everything.json", &code);
  ASSERT_EQ(code, 0) << out;
  out = check("care-coord", "--event discharge");
  EXPECT_THAT(out, StartsWith("DENY"));
  EXPECT_THAT(out, HasSubstr("consent-0001-revoke-everything v1 provision: deny"));
  // Revoking consents is not the same: the next newest active one applies,
  // and with none the sharing policy's defaults (the care team) apply.
  for (const char* id :
       {"consent-0001-revoke-everything", "consent-0001-family-only-appointment-dates",
        "consent-0001-share-all-but-mental-health-with-housing", "consent-0001-2026-11"}) {
    out = Sbctl("care-coord",
                absl::StrCat("consent revoke ", kClient, " ", id, " --reason 'worked example'"),
                &code);
    ASSERT_EQ(code, 0) << out;
  }
  out = check("care-coord", "--event discharge");
  EXPECT_THAT(out, StartsWith("PERMIT"));
  EXPECT_THAT(out, HasSubstr("no consent applies; sharing policy default"));
}

TEST_F(SbctlTest, ABadConsentFileIsRefusedNamingTheField) {
  int code = -1;
  const std::string bad_label = dir_.Sub("bad-label.json");
  std::ofstream(bad_label) << R"({
    "id": "c-bad", "status": "ACTIVE", "sourceReference": "form-1",
    "client": { "system": "https://st-marys.example.org/fhir/mrn", "value": "MRN-100234" },
    "provision": { "type": "PERMIT", "provisions": [ { "type": "DENY",
      "securityLabels": [ { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                            "code": "XYZ" } ] } ] } })";
  std::string out = Sbctl("care-coord", "consent record " + bad_label, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("INVALID_ARGUMENT: consent.provision.provisions[0].security_labels[0]"
                             ".code: unknown security label 'XYZ'"));
  const std::string bad_json = dir_.Sub("bad-field.json");
  std::ofstream(bad_json) << R"({"id": "c-bad", "provison": {"type": "PERMIT"}})";
  out = Sbctl("care-coord", "consent record " + bad_json, &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("json:"));
  EXPECT_THAT(out, HasSubstr("provison"));
  out = Sbctl("care-coord", "consent list '|MRN-100234'", &code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("'|MRN-100234' is not a client identifier SYSTEM|VALUE"));
  // A word without a bar is an enterprise id, looked up by the gateway.
  out = Sbctl("care-coord", "consent list 'no-such-client'", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("NOT_FOUND: no client with identifier 'urn:switchboard:client|no-such-client'"));
}

TEST_F(SbctlTest, ConsentRevokeMakesAnInactiveVersionOnce) {
  int code = -1;
  const std::string revoke = absl::StrCat("consent revoke ", kClient, " consent-0001-2026-11");
  std::string out = Sbctl("harbour-housing", revoke + " --reason 'not mine to revoke'", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED"));
  out = Sbctl("care-coord", revoke, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("INVALID_ARGUMENT: reason"));

  out = Sbctl("care-coord", revoke + " --reason 'client withdrew consent by phone'", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("consent consent-0001-2026-11  version 2  INACTIVE"));
  EXPECT_THAT(out, HasSubstr("client withdrew consent by phone"));
  out = Sbctl("care-coord", revoke + " --reason 'again'", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("FAILED_PRECONDITION: consent_id: consent 'consent-0001-2026-11' is "
                             "INACTIVE already"));

  out = Sbctl("care-coord", absl::StrCat("consent list ", kClient), &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("2 versions, newest first"));
  const size_t v2 = out.find("version 2  INACTIVE"), v1 = out.find("version 1  ACTIVE");
  ASSERT_NE(v2, std::string::npos) << out;
  ASSERT_NE(v1, std::string::npos) << out;
  EXPECT_LT(v2, v1) << out;
  EXPECT_THAT(out,
              HasSubstr("version 1  ACTIVE  (scope patient-privacy)  [superseded by version 2]"));
  // Without a consent, sensitive content goes to nobody (the demo policy).
  out = Sbctl("care-coord",
              absl::StrCat("consent check ", kClient,
                           " --recipient care-coord --event discharge --label PSY"),
              &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, StartsWith("DENY"));
  EXPECT_THAT(out, HasSubstr("no consent applies"));
}

TEST_F(SbctlTest, BreakGlassIsForHospitalsAndTheCoordinatorIsTold) {
  int code = -1;
  const std::string glass = absl::StrCat("break-glass ", kClient);
  std::string out = Sbctl("harbour-housing", glass + " --reason 'client missing'", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED: purpose ETREAT"));

  out = Sbctl("st-marys", glass + " --reason 'found unresponsive at home'", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("released to st-marys until 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T")))
      << out;
  EXPECT_THAT(out, HasSubstr("found unresponsive at home"));

  out = Sbctl("care-coord", "subscribe --count 1", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("break-glass from gateway"));
  EXPECT_THAT(out, HasSubstr("Gateway notice (break-glass) about st-marys until 20"));
  EXPECT_THAT(out, HasSubstr("st-marys used emergency access"));
}

// docs/coordination.md's walk-through: the demo config seeds client-0004's story;
// the coordinator follows it with sbctl, the housing agency sees it without the
// PSY goal, a member outside the care team sees nothing, and the story is not
// published twice by a restart.
class DemoStoryTest : public SbctlTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o = SbctlTest::Options();
    o.config_text = DemoConfig(dir_.Sub("data"), /*story=*/true);
    return o;
  }
};

TEST_F(DemoStoryTest, CoordinatorFollowsDischargeReferralLapseAndReopenedGoal) {
  int code = -1;
  std::string plan = Sbctl("care-coord", "plan show client-0004", &code);
  ASSERT_EQ(code, 0) << plan;
  EXPECT_THAT(plan, HasSubstr("version 9"));
  EXPECT_THAT(plan, HasSubstr("g-tenancy"));
  EXPECT_THAT(plan, HasSubstr("reopened"));
  EXPECT_THAT(plan, HasSubstr("-2 → -1 → 0 → +1"));
  EXPECT_THAT(plan, HasSubstr("community mental-health team"));  // PSY, the coordinator may

  std::string timeline = Sbctl("care-coord", "plan timeline client-0004 --page_size 100", &code);
  ASSERT_EQ(code, 0) << timeline;
  for (const char* step : {"Discharge summary: Discharge from Ward 7",
                           "Referral ref-0004-housing to harbour-housing",
                           "Referral ref-0004-housing (housing-support) accepted",
                           "harbour-housing joined the care team as housing-support",
                           "Case note: Missed appointments", "goal g-tenancy on-hold",
                           "goal g-tenancy reopened", "Consent consent-0004-2026-10 recorded"}) {
    EXPECT_THAT(timeline, HasSubstr(step));
  }
  // Newest first, in the order things happened.
  EXPECT_LT(timeline.find("2026-11-24"), timeline.find("2026-11-04"));
  EXPECT_LT(timeline.find("2026-11-04"), timeline.find("2026-10-02"));

  std::string history = Sbctl("care-coord", "plan history client-0004", &code);
  ASSERT_EQ(code, 0) << history;
  EXPECT_THAT(history, HasSubstr("9 versions"));
  std::string referrals = Sbctl("care-coord", "referral list client-0004", &code);
  ASSERT_EQ(code, 0) << referrals;
  EXPECT_THAT(referrals, HasSubstr("in-progress"));
  EXPECT_THAT(referrals, HasSubstr("ref-0004-family"));

  // Housing: the PSY goal is a placeholder, and nothing of it is printed.
  std::string housing = Sbctl("harbour-housing", "plan show client-0004", &code);
  ASSERT_EQ(code, 0) << housing;
  EXPECT_THAT(housing, HasSubstr("REDACTED"));
  EXPECT_THAT(housing, Not(HasSubstr("mental-health")));
  EXPECT_THAT(housing, Not(HasSubstr("g-cmht")));
  std::string housing_timeline =
      Sbctl("harbour-housing", "plan timeline client-0004 --page_size 100 --json", &code);
  ASSERT_EQ(code, 0) << housing_timeline;
  EXPECT_THAT(housing_timeline, Not(HasSubstr("CMHT")));
  EXPECT_THAT(housing_timeline, Not(HasSubstr("Mental state")));
  EXPECT_THAT(housing_timeline, Not(HasSubstr("ref-0004-family")));  // not a party

  // Outside the care team the client does not exist.
  std::string family = Sbctl("northside-family", "plan show client-0004", &code);
  EXPECT_EQ(code, 1) << family;
  EXPECT_THAT(family, HasSubstr("NOT_FOUND"));

  // The housing worker rates its own goal; the hospital may not touch it.
  std::string progress =
      Sbctl("harbour-housing", "plan progress client-0004 g-tenancy --rating 2 --note 'Moved in'", &code);
  ASSERT_EQ(code, 0) << progress;
  EXPECT_THAT(progress, HasSubstr("version 10"));
  std::string denied = Sbctl("st-marys", "plan progress client-0004 g-tenancy --note 'not mine'", &code);
  EXPECT_EQ(code, 1) << denied;
  EXPECT_THAT(denied, HasSubstr("PERMISSION_DENIED"));

  // A restart publishes nothing twice.
  Restart();
  plan = Sbctl("care-coord", "plan show client-0004", &code);
  ASSERT_EQ(code, 0) << plan;
  EXPECT_THAT(plan, HasSubstr("version 10"));
}

}  // namespace
}  // namespace switchboard::testing
