// People (web view accounts) against the real binary and the real sbctl: a member
// manages its own people with its certificate (`sbctl user add|reset|disable|
// list`), another member's organisation does not exist for it, a federation
// admin manages any organisation's, and every change is in the audit trail
// without a password.
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class UsersTest : public GatewayTest {
 protected:
  std::string Sbctl(const std::string& org, const std::string& args, int* code) {
    std::string out;
    *code = RunCommand(
        absl::StrCat(BinaryDir(), "/tools/cli/sbctl --addr ", gateway_->address(), " --certs_dir ",
                     TestPki::Get().dir(), " --as ", org, " ", args, " 2>&1"),
        &out);
    return out;
  }

  // The one-time password sbctl printed, or "" (with a test failure).
  static std::string OneTimePassword(const std::string& out) {
    std::smatch match;
    if (!std::regex_search(out, match, std::regex("one-time password for [^:]+: ([a-z0-9]{16})"))) {
      ADD_FAILURE() << "no one-time password in:\n" << out;
      return "";
    }
    return match[1].str();
  }
};

TEST_F(UsersTest, AMemberManagesItsOwnPeople) {
  int code = 0;
  std::string out = Sbctl("harbour-housing",
                          "user add harbour-housing aroha --display_name 'Aroha Smith'", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("added user aroha to harbour-housing"));
  EXPECT_THAT(out, HasSubstr("must be changed at first sign-in"));
  const std::string first = OneTimePassword(out);

  out = Sbctl("harbour-housing", "user list harbour-housing", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("aroha"));
  EXPECT_THAT(out, HasSubstr("Aroha Smith"));
  EXPECT_THAT(out, HasSubstr("ACTIVE"));
  EXPECT_THAT(out, HasSubstr("one-time"));
  // Listing never shows a password.
  EXPECT_THAT(out, Not(HasSubstr(first)));

  // A reset gives a new one-time password.
  out = Sbctl("harbour-housing", "user reset harbour-housing aroha", &code);
  ASSERT_EQ(code, 0) << out;
  const std::string second = OneTimePassword(out);
  EXPECT_NE(second, first);
  EXPECT_THAT(out, HasSubstr("must be changed at first sign-in"));

  out = Sbctl("harbour-housing", "user add harbour-housing aroha", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("ALREADY_EXISTS"));
  out = Sbctl("harbour-housing", "user add harbour-housing 'Aroha Smith'", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("INVALID_ARGUMENT: username:"));

  out = Sbctl("harbour-housing", "user disable harbour-housing aroha", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("disabled user aroha"));
  out = Sbctl("harbour-housing", "user list harbour-housing --json", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("\"status\":\"DISABLED\""));
  EXPECT_THAT(out, Not(HasSubstr("password_hash")));
  EXPECT_THAT(out, Not(HasSubstr("passwordHash")));

  out = Sbctl("harbour-housing", "user disable harbour-housing nobody", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("NOT_FOUND: no user 'nobody' in 'harbour-housing'"));

  // The audit trail has each change, never a password.
  out = Sbctl("admin", "audit list --page_size 500", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("Registry/AddUser"));
  EXPECT_THAT(out, HasSubstr("Registry/ResetUserPassword"));
  EXPECT_THAT(out, HasSubstr("Registry/DisableUser"));
  EXPECT_THAT(out, Not(HasSubstr(first)));
  EXPECT_THAT(out, Not(HasSubstr(second)));
}

TEST_F(UsersTest, AnotherOrganisationIsNotFoundAndAnAdminManagesAny) {
  int code = 0;
  std::string out =
      Sbctl("admin", "user add st-marys ward.clerk --display_name 'Ward clerk'", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("added user ward.clerk to st-marys"));
  OneTimePassword(out);

  // Another member: as if st-marys did not exist, for every command.
  for (const std::string args :
       {"user list st-marys", "user add st-marys intruder", "user reset st-marys ward.clerk",
        "user disable st-marys ward.clerk"}) {
    out = Sbctl("harbour-housing", args, &code);
    EXPECT_EQ(code, 1) << args << "\n" << out;
    EXPECT_THAT(out, HasSubstr("NOT_FOUND: no organisation 'st-marys'")) << args;
  }
  out = Sbctl("harbour-housing", "user list nowhere", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("NOT_FOUND: no organisation 'nowhere'"));

  // st-marys itself sees what the admin made; the admin resets and disables.
  out = Sbctl("st-marys", "user list st-marys", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("ward.clerk"));
  out = Sbctl("admin", "user reset st-marys ward.clerk", &code);
  ASSERT_EQ(code, 0) << out;
  OneTimePassword(out);
  out = Sbctl("admin", "user disable st-marys ward.clerk", &code);
  ASSERT_EQ(code, 0) << out;
  out = Sbctl("admin", "user list st-marys", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("DISABLED"));

  // The refusals are audited.
  out = Sbctl("admin", "audit list --page_size 500", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("Registry/ListUsers"));
  EXPECT_THAT(out, HasSubstr("REFUSED"));

  // Wrong command lines are usage errors (nothing sent).
  out = Sbctl("admin", "user add st-marys", &code);
  EXPECT_EQ(code, 2) << out;
}

}  // namespace
}  // namespace switchboard::testing
