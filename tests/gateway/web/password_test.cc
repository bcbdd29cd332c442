#include "gateway/web/password.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::gateway::web {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Cheap work factors where the test is about the format, not the cost.
ScryptParams Cheap() {
  ScryptParams p;
  p.n = 1 << 10;
  p.r = 8;
  p.p = 1;
  return p;
}

TEST(PasswordTest, HashIsSelfDescribingWithTheDefaultWorkFactors) {
  ASSERT_OK_AND_ASSIGN(std::string hash, HashPassword("correct horse battery"));
  // scrypt$N$r$p$SALT$KEY: 16 salt bytes (22 base64 characters), 32 key bytes (43).
  EXPECT_THAT(hash, MatchesRegex("scrypt\\$32768\\$8\\$1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}"));
  EXPECT_TRUE(VerifyPassword("correct horse battery", hash));
}

TEST(PasswordTest, VerifiesOnlyTheRightPassword) {
  ASSERT_OK_AND_ASSIGN(std::string hash, HashPassword("correct horse battery", Cheap()));
  EXPECT_TRUE(VerifyPassword("correct horse battery", hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery ", hash));
  EXPECT_FALSE(VerifyPassword("", hash));
}

TEST(PasswordTest, SaltsDifferSoHashesOfOnePasswordDiffer) {
  std::set<std::string> hashes;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string hash, HashPassword("the same password", Cheap()));
    EXPECT_TRUE(VerifyPassword("the same password", hash));
    hashes.insert(hash);
  }
  EXPECT_EQ(hashes.size(), 3u);
}

TEST(PasswordTest, WorkFactorsAreReadFromTheString) {
  // A hash made with other factors still verifies: they can be raised later.
  ScryptParams other = Cheap();
  other.n = 1 << 11;
  other.r = 4;
  other.p = 2;
  ASSERT_OK_AND_ASSIGN(std::string hash, HashPassword("raised later, still fine", other));
  EXPECT_THAT(hash, ::testing::StartsWith("scrypt$2048$4$2$"));
  EXPECT_TRUE(VerifyPassword("raised later, still fine", hash));
}

TEST(PasswordTest, TamperedOrForeignStringsAreFalseNotCrashes) {
  ASSERT_OK_AND_ASSIGN(std::string hash, HashPassword("correct horse battery", Cheap()));
  std::vector<std::string> parts = absl::StrSplit(hash, '$');
  ASSERT_EQ(parts.size(), 6u);
  auto with = [&](size_t i, const std::string& value) {
    std::vector<std::string> p = parts;
    p[i] = value;
    return absl::StrJoin(p, "$");
  };
  // The same key under a flipped character of the key or the salt.
  std::string key = parts[5];
  key[0] = key[0] == 'A' ? 'B' : 'A';
  // The last character of the key, changed: either other bytes or stray
  // trailing bits (a second spelling of the same bytes); both are refused.
  std::string last = parts[5];
  last.back() = last.back() == 'A' ? 'B' : static_cast<char>(last.back() + 1);
  std::string salt = parts[4];
  salt[0] = salt[0] == 'A' ? 'B' : 'A';
  const std::vector<std::string> bad = {
      "",
      "scrypt",
      "argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
      with(0, "bcrypt"),
      with(1, "1000"),  // not a power of two
      with(1, "0"),
      with(1, "-32768"),
      with(1, "x"),
      with(1, "1099511627776"),  // 2^40: memory far past the bound
      with(1, "4194304"),        // 2^22 with r=8: 4 GiB
      with(2, "0"),
      with(2, "4294967295"),
      with(3, "0"),
      with(3, "1000"),
      with(4, ""),
      with(4, "!!!!"),
      with(4, "c2FsdA=="),  // padding is not written, so not accepted
      with(4, "YQ"),        // a 1-byte salt
      with(5, ""),
      with(5, "a2V5"),  // a 3-byte key
      with(5, key),
      with(5, last),
      with(4, salt),
      with(4, parts[4].substr(0, 20)),  // a 15-byte salt
      with(5, parts[5] + "AA"),         // a longer key
      hash + "$extra",
      hash.substr(0, hash.size() - 1),  // a shorter key: scrypt's is a prefix
      hash.substr(0, hash.size() - 6),
      std::string("scrypt$1024$8$1$\0\0$\0\0", 21),
  };
  for (const std::string& s : bad) {
    EXPECT_FALSE(VerifyPassword("correct horse battery", s)) << s;
  }
  EXPECT_TRUE(VerifyPassword("correct horse battery", hash));
}

TEST(PasswordTest, HashingRefusesWorkFactorsOutOfBounds) {
  ScryptParams p = Cheap();
  p.n = 1000;
  EXPECT_THAT(HashPassword("whatever it is", p),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("scrypt")));
}

TEST(PasswordTest, PolicyIsLengthAndNotTheUserName) {
  EXPECT_THAT(CheckPasswordPolicy("twelve chars", "alice"), IsOk());
  EXPECT_THAT(CheckPasswordPolicy(std::string(256, 'x'), "alice"), IsOk());
  // Characters, not bytes: 12 two-byte characters are long enough, 11 are not.
  std::string accented;
  for (int i = 0; i < 12; ++i) accented += "\xC3\xA9";  // é
  EXPECT_THAT(CheckPasswordPolicy(accented, "alice"), IsOk());
  EXPECT_THAT(CheckPasswordPolicy(accented.substr(2), "alice"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 12 characters")));
  EXPECT_THAT(CheckPasswordPolicy("eleven char", "alice"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("new_password: at least 12 characters")));
  EXPECT_THAT(CheckPasswordPolicy("", "alice"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 12")));
  EXPECT_THAT(CheckPasswordPolicy(std::string(257, 'x'), "alice"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("new_password: at most 256 characters")));
  EXPECT_THAT(CheckPasswordPolicy("Alice.Smith@harbour", "alice.smith@harbour"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("new_password: must not be the user name")));
}

TEST(PasswordTest, OneTimePasswordsAreUnambiguousRandomAndPassThePolicy) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string otp, OneTimePassword());
    EXPECT_EQ(otp.size(), kOneTimePasswordLength);
    EXPECT_THAT(otp, MatchesRegex("[2-9a-hjkmnp-z]{16}")) << otp;
    EXPECT_THAT(CheckPasswordPolicy(otp, "alice"), IsOk());
    seen.insert(otp);
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace switchboard::gateway::web
