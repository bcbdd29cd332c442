// The coordinator web view end to end: the real binary with the demo config and
// the demo story (client-0004), its real HTTPS listener and RocksDB, two people
// made with the real sbctl (a coordinator of care-coord and a housing worker of
// harbour-housing, each with a one-time password), and a real browser: Debian's
// headless Chromium driven by tests/web_e2e/web_e2e.mjs (playwright-core). The
// script checks the pages (see its README) and reports each check in JSON; this
// test asserts that every one passed.
//
// Screenshots and the report go to <build dir>/test-artifacts/web/.
//
// Needs /usr/bin/chromium (Debian `chromium`; SB_CHROMIUM=<path> for another),
// node and tests/web_e2e/node_modules (tools/test installs both); without them
// the test fails rather than skips, so that a green run always means a browser
// drove the pages.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


std::string ChromiumPath() {
  const char* path = std::getenv("SB_CHROMIUM");
  return path != nullptr && *path != '\0' ? path : "/usr/bin/chromium";
}

std::string E2eDir() { return SourceDir() + "/tests/web_e2e"; }

// Fails the test (no skip) when the browser or the driver is missing here.
::testing::AssertionResult BrowserInstalled() {
  if (!std::filesystem::exists(ChromiumPath())) {
    return ::testing::AssertionFailure()
           << ChromiumPath()
           << " is missing: install Debian's chromium and chromium-driver (tools/test does), "
              "or set SB_CHROMIUM";
  }
  if (!std::filesystem::exists(E2eDir() + "/node_modules/playwright-core/package.json")) {
    return ::testing::AssertionFailure()
           << E2eDir()
           << "/node_modules is missing: run tools/test (it runs `npm ci --prefix "
              "tests/web_e2e`), then this test again";
  }
  if (RunCommand("node --version >/dev/null 2>&1") != 0) {
    return ::testing::AssertionFailure() << "node is not on PATH";
  }
  return ::testing::AssertionSuccess();
}

class WebTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.config_text = DemoConfig(dir_.Sub("data"), /*story=*/true);
    o.sharing_policy = ReadSource("deploy/demo/sharing-policy.textproto");
    return o;
  }

  // The sbctl command line acting as `org` (`args` as the shell reads them).
  std::string SbctlCommand(const std::string& org, const std::string& args) {
    return absl::StrCat(BinaryDir(), "/tools/cli/sbctl --addr ", gateway_->address(),
                        " --certs_dir ", TestPki::Get().dir(), " --as ", org, " ", args);
  }
  std::string Sbctl(const std::string& org, const std::string& args, int* code) {
    std::string out;
    *code = RunCommand(absl::StrCat(SbctlCommand(org, args), " 2>&1"), &out);
    return out;
  }

  // Adds a person with sbctl (as their own organisation) and returns
  // "ORG/USER/ONE_TIME_PASSWORD" for web_e2e.mjs, or "" (with a test failure).
  std::string AddPerson(const std::string& org, const std::string& user,
                        const std::string& display_name) {
    int code = -1;
    const std::string out = Sbctl(
        org,
        absl::StrCat("user add ", org, " ", user, " --display_name ", ShellQuote(display_name)),
        &code);
    EXPECT_EQ(code, 0) << out;
    std::smatch match;
    const std::regex line(
        absl::StrCat("one-time password for ", user, " of ", org, ": ([a-z0-9]+)"));
    if (!std::regex_search(out, match, line)) {
      ADD_FAILURE() << "no one-time password in:\n" << out;
      return "";
    }
    return absl::StrCat(org, "/", user, "/", match[1].str());
  }
};

TEST_F(WebTest, CoordinatorAndHousingWorkerFollowTheDemoStoryInHeadlessChromium) {
  ASSERT_TRUE(BrowserInstalled());
  ASSERT_FALSE(gateway_->https_address().empty()) << "the gateway printed no https= address";

  const std::string coordinator = AddPerson("care-coord", "jo.rivera", "J. Rivera");
  const std::string housing = AddPerson("harbour-housing", "k.mensah", "K. Mensah");
  ASSERT_FALSE(coordinator.empty());
  ASSERT_FALSE(housing.empty());

  const std::string artifacts = BinaryDir() + "/test-artifacts/web";
  std::filesystem::remove_all(artifacts);
  std::filesystem::create_directories(artifacts);
  const std::string log = artifacts + "/web_e2e.log";
  // `timeout` bounds a hung browser; the script's own steps time out in 10 s.
  const std::string command = absl::StrCat(
      "timeout 180 node ", ShellQuote(E2eDir() + "/web_e2e.mjs"), " --url ",
      ShellQuote("https://" + gateway_->https_address()), " --artifacts ", ShellQuote(artifacts),
      " --chromium ", ShellQuote(ChromiumPath()), " --coordinator ", ShellQuote(coordinator),
      " --housing ", ShellQuote(housing), " --disable_housing ",
      ShellQuote(SbctlCommand("harbour-housing", "user disable harbour-housing k.mensah")),
      " 2>", ShellQuote(log));
  std::string out;
  const int code = RunCommand(command, &out);
  const std::string context =
      absl::StrCat("web_e2e.mjs exit code ", code, "\nreport:\n", out, "\nits log (", log, "):\n",
                   ReadFile(log), "\ngateway stderr:\n", gateway_->StderrTail());

  google::protobuf::Struct report;
  const auto parsed = google::protobuf::util::JsonStringToMessage(out, &report);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString() << "\n" << context;
  const auto& fields = report.fields();
  ASSERT_TRUE(fields.contains("checks")) << context;
  const google::protobuf::ListValue& checks = fields.at("checks").list_value();
  // One failure per failed check, then everything once.
  int failed = 0;
  for (const google::protobuf::Value& c : checks.values()) {
    const auto& f = c.struct_value().fields();
    const bool passed = f.contains("passed") && f.at("passed").bool_value();
    if (passed) continue;
    ++failed;
    ADD_FAILURE() << "web_e2e check failed: "
                  << (f.contains("name") ? f.at("name").string_value() : "?") << ": "
                  << (f.contains("detail") ? f.at("detail").string_value() : "");
  }
  const bool passed = fields.contains("passed") && fields.at("passed").bool_value();
  // Every area of tests/web_e2e/README.md has at least one check.
  EXPECT_GE(checks.values_size(), 20);
  EXPECT_EQ(failed, 0);
  EXPECT_TRUE(passed);
  EXPECT_EQ(code, 0);
  if (failed > 0 || !passed || code != 0 || checks.values_size() < 20) ADD_FAILURE() << context;

  // The screenshots are PNG files.
  for (const char* name : {"sign-in.png", "clients.png", "client-coordinator.png",
                           "client-housing.png", "client-phone.png"}) {
    const std::string png = ReadFile(artifacts + "/" + name);
    EXPECT_THAT(png.substr(0, 8), ::testing::Eq(std::string("\x89PNG\r\n\x1a\n", 8)))
        << artifacts << "/" << name;
  }
  EXPECT_THAT(ReadFile(artifacts + "/report.json"), HasSubstr("\"checks\""));
}

}  // namespace
}  // namespace switchboard::testing
