#include "gateway/web/user_ops.h"

#include <functional>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/store/keys.h"
#include "gateway/web/password.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::web {
namespace {

using store::Cf;
using store::Transaction;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using testing::AdminCaller;
using ::testing::Eq;
using ::testing::HasSubstr;
using testing::MemberCaller;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class UserOpsTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
  }

  absl::StatusOr<v1::AddUserResponse> Add(const identity::Caller& actor, const std::string& org,
                                          const std::string& username,
                                          const std::string& display_name = "") {
    v1::AddUserRequest request;
    request.set_organisation_id(org);
    request.set_username(username);
    request.set_display_name(display_name);
    const absl::StatusOr<NewPassword> password = MakeOneTimePassword();
    v1::AddUserResponse out;
    absl::Status s = committer_->Run(
        [&](Transaction& txn) { return AddUser(txn, actor, request, password, &out); });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<v1::User> Disable(const identity::Caller& actor, const std::string& org,
                                   const std::string& username) {
    v1::DisableUserRequest request;
    request.set_organisation_id(org);
    request.set_username(username);
    v1::User out;
    absl::Status s =
        committer_->Run([&](Transaction& txn) { return DisableUser(txn, actor, request, &out); });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<v1::ResetUserPasswordResponse> Reset(const identity::Caller& actor,
                                                      const std::string& org,
                                                      const std::string& username) {
    v1::ResetUserPasswordRequest request;
    request.set_organisation_id(org);
    request.set_username(username);
    const absl::StatusOr<NewPassword> password = MakeOneTimePassword();
    v1::ResetUserPasswordResponse out;
    absl::Status s = committer_->Run(
        [&](Transaction& txn) { return ResetUserPassword(txn, actor, request, password, &out); });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<v1::ListUsersResponse> List(const identity::Caller& actor,
                                             const std::string& org) {
    v1::ListUsersRequest request;
    request.set_organisation_id(org);
    return ListUsers(*store_, actor, request);
  }

  // Both steps of a sign-in, at `now`.
  absl::StatusOr<v1::User> SignInAt(const std::string& org, const std::string& username,
                                    const std::string& password, absl::Time now) {
    absl::StatusOr<PasswordCheck> check = CheckPassword(*store_, org, username, password);
    if (!check.ok()) return check.status();
    absl::StatusOr<v1::User> result = absl::UnknownError("not run");
    absl::Status s =
        committer_->Run([&](Transaction& txn) { return SignIn(txn, *check, now, &result); });
    if (!s.ok()) return s;
    return result;
  }
  absl::StatusOr<v1::User> ChangeAt(const std::string& org, const std::string& username,
                                    const std::string& old_password,
                                    const std::string& new_password, absl::Time now) {
    absl::StatusOr<PasswordChange> change =
        PrepareChangePassword(*store_, org, username, old_password, new_password);
    if (!change.ok()) return change.status();
    absl::StatusOr<v1::User> result = absl::UnknownError("not run");
    absl::Status s = committer_->Run(
        [&](Transaction& txn) { return ChangePassword(txn, *change, now, &result); });
    if (!s.ok()) return s;
    return result;
  }

  v1::StoredUser Stored(const std::string& org, const std::string& username) {
    v1::StoredUser stored;
    auto found = store_->GetProto(Cf::kRegistry, store::keys::User(org, username), &stored);
    EXPECT_TRUE(found.ok() && *found) << org << "/" << username;
    return stored;
  }

  // The people records of the registry, raw.
  std::map<std::string, std::string> People() const {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : Contents(Cf::kRegistry)) {
      if (absl::StartsWith(k, absl::string_view("user\0", 5))) out[k] = v;
    }
    return out;
  }

  const v1::AuditRecord& LastAudit() {
    audit_ = AuditRecords();
    return audit_.back();
  }

  std::vector<v1::AuditRecord> audit_;
};

auto IsRefusedSignIn() {
  return StatusIs(absl::StatusCode::kUnauthenticated, Eq(std::string(kSignInRefused)));
}

TEST_F(UserOpsTest, AMemberManagesItsOwnPeople) {
  const identity::Caller housing = MemberCaller("harbour-housing");
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added,
                       Add(housing, "harbour-housing", "aroha", "Aroha Smith"));
  EXPECT_EQ(added.user().organisation_id(), "harbour-housing");
  EXPECT_EQ(added.user().username(), "aroha");
  EXPECT_EQ(added.user().display_name(), "Aroha Smith");
  EXPECT_EQ(added.user().status(), v1::User::ACTIVE);
  EXPECT_TRUE(added.user().must_change_password());
  EXPECT_EQ(added.one_time_password().size(), kOneTimePasswordLength);
  EXPECT_EQ(LastAudit().action(), v1::AuditRecord::REGISTRY_CHANGE);
  EXPECT_EQ(LastAudit().outcome(), v1::AuditRecord::SUCCESS);
  EXPECT_EQ(LastAudit().subject_organisation(), "harbour-housing");
  EXPECT_THAT(LastAudit().detail(), HasSubstr("added user 'aroha'"));

  // An empty organisation means the caller's own.
  ASSERT_THAT(Add(housing, "", "ben"), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::ListUsersResponse list, List(housing, ""));
  ASSERT_EQ(list.users_size(), 2);
  EXPECT_EQ(list.users(0).username(), "aroha");
  EXPECT_EQ(list.users(1).username(), "ben");

  // A reset issues a new one-time password; only it signs in.
  ASSERT_OK_AND_ASSIGN(v1::ResetUserPasswordResponse reset,
                       Reset(housing, "harbour-housing", "aroha"));
  EXPECT_NE(reset.one_time_password(), added.one_time_password());
  EXPECT_TRUE(reset.user().must_change_password());
  EXPECT_THAT(SignInAt("harbour-housing", "aroha", added.one_time_password(), kT0),
              IsRefusedSignIn());
  ASSERT_OK_AND_ASSIGN(v1::User signed_in,
                       SignInAt("harbour-housing", "aroha", reset.one_time_password(), kT0));
  EXPECT_TRUE(signed_in.must_change_password());

  ASSERT_OK_AND_ASSIGN(v1::User disabled, Disable(housing, "harbour-housing", "aroha"));
  EXPECT_EQ(disabled.status(), v1::User::DISABLED);
  EXPECT_THAT(LastAudit().detail(), HasSubstr("disabled user 'aroha'"));
  // Again: nothing changes, still audited.
  const auto before = People();
  ASSERT_THAT(Disable(housing, "harbour-housing", "aroha"), IsOk());
  EXPECT_EQ(People(), before);
  EXPECT_THAT(LastAudit().detail(), HasSubstr("already disabled"));
  ASSERT_OK_AND_ASSIGN(list, List(housing, "harbour-housing"));
  EXPECT_EQ(list.users(0).status(), v1::User::DISABLED);

  // A disabled name stays taken.
  EXPECT_THAT(Add(housing, "harbour-housing", "aroha"),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       Eq("username: 'aroha' is already taken in 'harbour-housing'")));
  // A reset keeps the status.
  ASSERT_OK_AND_ASSIGN(reset, Reset(housing, "harbour-housing", "aroha"));
  EXPECT_EQ(reset.user().status(), v1::User::DISABLED);
  EXPECT_THAT(SignInAt("harbour-housing", "aroha", reset.one_time_password(), kT0),
              IsRefusedSignIn());
}

TEST_F(UserOpsTest, AFederationAdminManagesAnyOrganisation) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(AdminCaller(), "st-marys", "ward.clerk"));
  EXPECT_EQ(added.user().organisation_id(), "st-marys");
  EXPECT_EQ(LastAudit().actor_organisation(), "admin");
  EXPECT_EQ(LastAudit().subject_organisation(), "st-marys");
  EXPECT_THAT(Reset(AdminCaller(), "st-marys", "ward.clerk"), IsOk());
  EXPECT_THAT(Disable(AdminCaller(), "st-marys", "ward.clerk"), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::ListUsersResponse list, List(AdminCaller(), "st-marys"));
  EXPECT_EQ(list.users_size(), 1);
  // The member sees what the admin made.
  ASSERT_OK_AND_ASSIGN(list, List(MemberCaller("st-marys"), "st-marys"));
  EXPECT_EQ(list.users_size(), 1);
  // Even an admin cannot manage people of an organisation that does not exist.
  EXPECT_THAT(Add(AdminCaller(), "nowhere", "someone"),
              StatusIs(absl::StatusCode::kNotFound, Eq("no organisation 'nowhere'")));
  EXPECT_THAT(List(AdminCaller(), "nowhere"),
              StatusIs(absl::StatusCode::kNotFound, Eq("no organisation 'nowhere'")));
  EXPECT_THAT(Reset(AdminCaller(), "st-marys", "nobody"),
              StatusIs(absl::StatusCode::kNotFound, Eq("no user 'nobody' in 'st-marys'")));
  EXPECT_THAT(Disable(AdminCaller(), "st-marys", "nobody"),
              StatusIs(absl::StatusCode::kNotFound, Eq("no user 'nobody' in 'st-marys'")));
}

TEST_F(UserOpsTest, AnotherOrganisationIsNotFoundExactlyAsAnUnknownOne) {
  ASSERT_THAT(Add(AdminCaller(), "st-marys", "ward.clerk"), IsOk());
  const auto before = People();
  const identity::Caller housing = MemberCaller("harbour-housing");
  for (const std::string org : {"st-marys", "nowhere"}) {
    const std::string message = "no organisation '" + org + "'";
    EXPECT_THAT(Add(housing, org, "intruder"), StatusIs(absl::StatusCode::kNotFound, Eq(message)));
    EXPECT_EQ(LastAudit().outcome(), v1::AuditRecord::REFUSED);
    EXPECT_EQ(LastAudit().subject_organisation(), org);
    EXPECT_THAT(Reset(housing, org, "ward.clerk"),
                StatusIs(absl::StatusCode::kNotFound, Eq(message)));
    EXPECT_EQ(LastAudit().outcome(), v1::AuditRecord::REFUSED);
    EXPECT_THAT(Disable(housing, org, "ward.clerk"),
                StatusIs(absl::StatusCode::kNotFound, Eq(message)));
    EXPECT_THAT(List(housing, org), StatusIs(absl::StatusCode::kNotFound, Eq(message)));
  }
  EXPECT_EQ(People(), before);
}

TEST_F(UserOpsTest, BadInputChangesNothing) {
  const identity::Caller housing = MemberCaller("harbour-housing");
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse aroha, Add(housing, "", "aroha"));
  const auto before = People();
  struct Case {
    std::string username;
    std::string display_name;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "", "username: required"},
      {"Aroha", "", "username: 'Aroha' is not a valid user name"},
      {"aroha smith", "", "is not a valid user name"},
      {".aroha", "", "is not a valid user name"},
      {std::string(65, 'a'), "", "is not a valid user name"},
      {"caf\xC3\xA9", "", "is not a valid user name"},
      {"bob", "Bob\x01", "display_name: contains a control character"},
      {"bob", std::string(201, 'B'), "display_name: longer than 200 bytes"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Add(housing, "", c.username, c.display_name),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.username;
    EXPECT_EQ(LastAudit().outcome(), v1::AuditRecord::REFUSED);
  }
  EXPECT_THAT(Reset(housing, "", "Aroha"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a valid user name")));
  EXPECT_THAT(Add(housing, "", "aroha"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already taken")));

  // A new password the policy refuses: nothing read, nothing counted.
  const std::string otp = aroha.one_time_password();
  EXPECT_THAT(ChangeAt("harbour-housing", "aroha", otp, "too short", kT0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password: at least 12")));
  EXPECT_THAT(ChangeAt("harbour-housing", "aroha", otp, "Aroha", kT0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password")));
  EXPECT_THAT(ChangeAt("harbour-housing", "aroha", otp, otp, kT0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("new_password: must differ from the current password")));
  // Also with a wrong current password: the policy answers first.
  EXPECT_THAT(ChangeAt("harbour-housing", "aroha", "wrong current password", "short", kT0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password")));
  EXPECT_EQ(People(), before);
}

TEST_F(UserOpsTest, EveryFailedSignInLooksTheSame) {
  const identity::Caller housing = MemberCaller("harbour-housing");
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse good, Add(housing, "", "good"));
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse off, Add(housing, "", "off"));
  ASSERT_THAT(Disable(housing, "", "off"), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse locked, Add(housing, "", "locked"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(SignInAt("harbour-housing", "locked", "not the password", kT0), IsRefusedSignIn());
  }
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse ward, Add(AdminCaller(), "northside-family", "ward"));
  ASSERT_THAT(committer_->Run([&](Transaction& txn) {
    v1::Organisation out;
    return registry::SuspendOrganisation(txn, Context(), AdminCaller(), "northside-family", "test",
                                         &out);
  }),
              IsOk());

  struct Case {
    std::string org, username, password, reason;
  };
  const std::vector<Case> cases = {
      {"nowhere", "good", good.one_time_password(), "unknown organisation"},
      {"harbour-housing", "nobody", good.one_time_password(), "unknown user"},
      {"harbour-housing", "good", "not the password", "wrong password"},
      {"harbour-housing", "off", off.one_time_password(), "disabled"},
      {"harbour-housing", "locked", locked.one_time_password(), "locked until"},
      {"northside-family", "ward", ward.one_time_password(), "suspended"},
      {"harbour-housing", "not a name!", "x", "not a valid"},
      {"Not An Org", "good", good.one_time_password(), "not a valid"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(SignInAt(c.org, c.username, c.password, kT0), IsRefusedSignIn())
        << c.org << "/" << c.username;
    // The audit trail (admin-only) says why.
    const v1::AuditRecord& record = LastAudit();
    EXPECT_EQ(record.action(), v1::AuditRecord::AUTHENTICATE);
    EXPECT_EQ(record.outcome(), v1::AuditRecord::REFUSED);
    EXPECT_EQ(record.operation(), "Web/SignIn");
    EXPECT_EQ(record.actor_organisation(), "");
    EXPECT_THAT(record.detail(), HasSubstr(c.reason)) << c.org << "/" << c.username;
    EXPECT_THAT(record.detail(), Not(HasSubstr(c.password)));
  }
  // The same attempts through ChangePassword look the same too.
  EXPECT_THAT(ChangeAt("harbour-housing", "nobody", "any old password", "a new passphrase!", kT0),
              IsRefusedSignIn());
  EXPECT_THAT(ChangeAt("harbour-housing", "off", off.one_time_password(), "a new passphrase!", kT0),
              IsRefusedSignIn());
  // Sign-in ignores the case typed; the right password works.
  ASSERT_OK_AND_ASSIGN(v1::User user,
                       SignInAt("Harbour-Housing", "GOOD", good.one_time_password(), kT0));
  EXPECT_EQ(user.username(), "good");
  EXPECT_EQ(LastAudit().outcome(), v1::AuditRecord::SUCCESS);
  EXPECT_EQ(LastAudit().actor_organisation(), "harbour-housing");
  EXPECT_EQ(LastAudit().actor_user(), "good");
}

TEST_F(UserOpsTest, LockoutTable) {
  EXPECT_EQ(LockoutAfter(0), absl::ZeroDuration());
  EXPECT_EQ(LockoutAfter(4), absl::ZeroDuration());
  EXPECT_EQ(LockoutAfter(5), absl::Seconds(30));
  EXPECT_EQ(LockoutAfter(6), absl::Seconds(60));
  EXPECT_EQ(LockoutAfter(7), absl::Seconds(120));
  EXPECT_EQ(LockoutAfter(8), absl::Seconds(240));
  EXPECT_EQ(LockoutAfter(9), absl::Seconds(480));
  EXPECT_EQ(LockoutAfter(10), absl::Minutes(15));
  EXPECT_EQ(LockoutAfter(11), absl::Minutes(15));
  EXPECT_EQ(LockoutAfter(4'000'000'000u), absl::Minutes(15));
}

TEST_F(UserOpsTest, LockoutBacksOffAndASuccessResets) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("st-marys"), "st-marys", "kim"));
  const std::string right = added.one_time_password();
  const std::string wrong = "not the password";
  // Four failures: not locked yet.
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(SignInAt("st-marys", "kim", wrong, kT0), IsRefusedSignIn());
  }
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 4u);
  EXPECT_FALSE(Stored("st-marys", "kim").has_locked_until());
  // The fifth: locked for 30 s. Even the right password fails meanwhile, and
  // such attempts are not counted.
  ASSERT_THAT(SignInAt("st-marys", "kim", wrong, kT0), IsRefusedSignIn());
  EXPECT_THAT(LastAudit().detail(), HasSubstr("locked for 30s"));
  EXPECT_EQ(FromProtoTime(Stored("st-marys", "kim").locked_until()), kT0 + absl::Seconds(30));
  EXPECT_THAT(SignInAt("st-marys", "kim", right, kT0 + absl::Seconds(29)), IsRefusedSignIn());
  EXPECT_THAT(LastAudit().detail(), HasSubstr("right password; not counted"));
  EXPECT_THAT(SignInAt("st-marys", "kim", wrong, kT0 + absl::Seconds(29)), IsRefusedSignIn());
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 5u);
  // Once the lock has run out, one more failure locks again, twice as long.
  const absl::Time t1 = kT0 + absl::Seconds(31);
  ASSERT_THAT(SignInAt("st-marys", "kim", wrong, t1), IsRefusedSignIn());
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 6u);
  EXPECT_EQ(FromProtoTime(Stored("st-marys", "kim").locked_until()), t1 + absl::Seconds(60));
  EXPECT_THAT(SignInAt("st-marys", "kim", right, t1 + absl::Seconds(59)), IsRefusedSignIn());
  // After it, the right password signs in and ends the count.
  ASSERT_THAT(SignInAt("st-marys", "kim", right, t1 + absl::Seconds(60)), IsOk());
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 0u);
  EXPECT_FALSE(Stored("st-marys", "kim").has_locked_until());
  // So the next failure does not lock.
  ASSERT_THAT(SignInAt("st-marys", "kim", wrong, t1 + absl::Seconds(61)), IsRefusedSignIn());
  EXPECT_FALSE(Stored("st-marys", "kim").has_locked_until());
}

TEST_F(UserOpsTest, TheFailureCountSurvivesARestart) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("st-marys"), "", "kim"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(SignInAt("st-marys", "kim", "not the password", kT0), IsRefusedSignIn());
  }
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 3u);
  for (int i = 0; i < 2; ++i) {
    ASSERT_THAT(SignInAt("st-marys", "kim", "not the password", kT0), IsRefusedSignIn());
  }
  ASSERT_NO_FATAL_FAILURE(Restart());
  // Locked by the fifth, across restarts.
  EXPECT_THAT(SignInAt("st-marys", "kim", added.one_time_password(), kT0 + absl::Seconds(1)),
              IsRefusedSignIn());
  EXPECT_THAT(LastAudit().detail(), HasSubstr("locked until"));
}

TEST_F(UserOpsTest, ChangingThePasswordClearsMustChange) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("care-coord"), "", "rangi"));
  const std::string otp = added.one_time_password();
  ASSERT_OK_AND_ASSIGN(v1::User first, SignInAt("care-coord", "rangi", otp, kT0));
  EXPECT_TRUE(first.must_change_password());
  EXPECT_THAT(LastAudit().detail(), HasSubstr("must change"));

  // A wrong current password is a failed attempt like any other.
  EXPECT_THAT(ChangeAt("care-coord", "rangi", "not the password", "my own passphrase", kT0),
              IsRefusedSignIn());
  EXPECT_EQ(LastAudit().operation(), "Web/ChangePassword");
  EXPECT_EQ(Stored("care-coord", "rangi").failed_attempts(), 1u);

  const absl::Time t1 = kT0 + absl::Minutes(1);
  ASSERT_OK_AND_ASSIGN(v1::User changed,
                       ChangeAt("care-coord", "rangi", otp, "my own passphrase", t1));
  EXPECT_FALSE(changed.must_change_password());
  EXPECT_EQ(FromProtoTime(changed.password_changed_at()), t1);
  EXPECT_EQ(Stored("care-coord", "rangi").failed_attempts(), 0u);
  EXPECT_EQ(LastAudit().action(), v1::AuditRecord::REGISTRY_CHANGE);
  EXPECT_EQ(LastAudit().outcome(), v1::AuditRecord::SUCCESS);
  EXPECT_EQ(LastAudit().actor_user(), "rangi");

  EXPECT_THAT(SignInAt("care-coord", "rangi", otp, t1), IsRefusedSignIn());
  ASSERT_OK_AND_ASSIGN(v1::User again, SignInAt("care-coord", "rangi", "my own passphrase", t1));
  EXPECT_FALSE(again.must_change_password());

  // A reset makes it a one-time password again.
  ASSERT_OK_AND_ASSIGN(v1::ResetUserPasswordResponse reset,
                       Reset(AdminCaller(), "care-coord", "rangi"));
  EXPECT_TRUE(reset.user().must_change_password());
  EXPECT_THAT(SignInAt("care-coord", "rangi", "my own passphrase", t1), IsRefusedSignIn());
}

TEST_F(UserOpsTest, AResetEndsALockout) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("st-marys"), "", "kim"));
  for (int i = 0; i < 7; ++i) {
    ASSERT_THAT(SignInAt("st-marys", "kim", "not the password", kT0 + absl::Hours(i)),
                IsRefusedSignIn());
  }
  ASSERT_TRUE(Stored("st-marys", "kim").has_locked_until());
  ASSERT_OK_AND_ASSIGN(v1::ResetUserPasswordResponse reset,
                       Reset(MemberCaller("st-marys"), "", "kim"));
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 0u);
  EXPECT_THAT(SignInAt("st-marys", "kim", reset.one_time_password(), kT0 + absl::Hours(6)), IsOk());
}

TEST_F(UserOpsTest, APasswordResetDuringAnAttemptRefusesItUncounted) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("st-marys"), "", "kim"));
  ASSERT_OK_AND_ASSIGN(PasswordCheck check,
                       CheckPassword(*store_, "st-marys", "kim", added.one_time_password()));
  ASSERT_TRUE(check.password_ok);
  ASSERT_THAT(Reset(AdminCaller(), "st-marys", "kim"), IsOk());
  absl::StatusOr<v1::User> result = absl::UnknownError("not run");
  ASSERT_THAT(committer_->Run([&](Transaction& txn) { return SignIn(txn, check, kT0, &result); }),
              IsOk());
  EXPECT_THAT(result, IsRefusedSignIn());
  EXPECT_THAT(LastAudit().detail(), HasSubstr("changed or reset during the attempt"));
  EXPECT_EQ(Stored("st-marys", "kim").failed_attempts(), 0u);
}

TEST_F(UserOpsTest, NoPasswordOrHashReachesTheAuditTrail) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("st-marys"), "", "kim"));
  const std::string otp = added.one_time_password();
  ASSERT_THAT(SignInAt("st-marys", "kim", "a wrong guess here", kT0), IsRefusedSignIn());
  ASSERT_THAT(ChangeAt("st-marys", "kim", otp, "kim's own passphrase", kT0), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::ResetUserPasswordResponse reset,
                       Reset(AdminCaller(), "st-marys", "kim"));
  const std::string hash = Stored("st-marys", "kim").password_hash();
  ASSERT_THAT(SignInAt("st-marys", "kim", reset.one_time_password(), kT0), IsOk());
  for (const auto& [key, bytes] : Contents(Cf::kAudit)) {
    for (const std::string& secret :
         {otp, reset.one_time_password(), std::string("a wrong guess here"),
          std::string("kim's own passphrase"), hash}) {
      EXPECT_FALSE(absl::StrContains(bytes, secret)) << secret;
    }
  }
}

TEST_F(UserOpsTest, SubmitSignInRunsBothSteps) {
  ASSERT_OK_AND_ASSIGN(v1::AddUserResponse added, Add(MemberCaller("st-marys"), "", "kim"));
  std::promise<absl::StatusOr<v1::User>> promise;
  SubmitSignIn(*store_, committer_.get(), "st-marys", "kim", added.one_time_password(),
               [&](absl::StatusOr<v1::User> r) { promise.set_value(std::move(r)); });
  EXPECT_THAT(promise.get_future().get(), IsOk());
  std::promise<absl::StatusOr<v1::User>> changed;
  SubmitChangePassword(*store_, committer_.get(), "st-marys", "kim", added.one_time_password(),
                       "short",
                       [&](absl::StatusOr<v1::User> r) { changed.set_value(std::move(r)); });
  EXPECT_THAT(changed.get_future().get(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("new_password")));
}

}  // namespace
}  // namespace switchboard::gateway::web
