// The README's walk-through with the real sbctl and the demo config: a member
// publishes deploy/demo/discharge.json and another receives it.
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;

// deploy/demo/switchboard.textproto, pointed at the test certificates, a port
// chosen free and the test's data directory.
std::string DemoConfig(const std::string& data_dir) {
  std::ifstream in(SourceDir() + "/deploy/demo/switchboard.textproto");
  std::stringstream ss;
  ss << in.rdbuf();
  const TestPki& pki = TestPki::Get();
  return absl::StrReplaceAll(ss.str(), {{"127.0.0.1:7443", "127.0.0.1:0"},
                                        {"\"certs/ca.pem\"", "\"" + pki.ca() + "\""},
                                        {"\"certs/gateway.pem\"", "\"" + pki.gateway_cert() + "\""},
                                        {"\"certs/gateway.key\"", "\"" + pki.gateway_key() + "\""},
                                        {"data_dir: \"data\"", "data_dir: \"" + data_dir + "\""}});
}

class SbctlTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.config_text = DemoConfig(dir_.Sub("data"));
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

  out = Sbctl("harbour-housing", "subscribe --count 1", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("discharge from st-marys"));
  EXPECT_THAT(out, HasSubstr("Hospital course"));

  out = Sbctl("st-marys", "status stm-discharge-2026-0001", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("harbour-housing +DELIVERED"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("northside-family +PENDING"))) << out;

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

}  // namespace
}  // namespace switchboard::testing
