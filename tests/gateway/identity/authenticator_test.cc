#include "gateway/identity/authenticator.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::identity {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::SanOf;

// The directory holds the small seed's members, with harbour-housing suspended
// and st-marys registered with two roles, one of them ADMIN.
class AuthenticatorTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    v1::Organisation out;
    ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
      return registry::SuspendOrganisation(txn, Context(), testing::AdminCaller(),
                                           "harbour-housing", "testing", &out);
    }),
                IsOk());
    v1::Organisation both = testing::MakeOrganisation("st-marys", v1::Organisation::HOSPITAL);
    both.add_roles(v1::Organisation::ADMIN);
    ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
      return registry::UpdateOrganisation(txn, Context(), testing::AdminCaller(), both, &out);
    }),
                IsOk());
  }

  absl::StatusOr<Caller> Identify(bool authenticated, std::vector<std::string> sans,
                                  std::string user = "") {
    PeerInfo peer;
    peer.authenticated = authenticated;
    peer.sans = std::move(sans);
    peer.user = std::move(user);
    return identity::Identify(peer, *directory_.snapshot());
  }
};

struct RefusedPeer {
  std::string name;
  bool authenticated;
  std::vector<std::string> sans;
  absl::StatusCode code;
  std::string message;  // substring
};

TEST_F(AuthenticatorTest, PeersThatAreNotOneActiveMemberAreRefused) {
  const std::vector<RefusedPeer> cases = {
      {"no verified certificate",
       false,
       {SanOf("care-coord")},
       absl::StatusCode::kUnauthenticated,
       "certificate"},
      {"a certificate without SANs", true, {}, absl::StatusCode::kUnauthenticated, ""},
      {"an unregistered SAN",
       true,
       {"spiffe://switchboard.example/org/stranger"},
       absl::StatusCode::kUnauthenticated,
       "spiffe://switchboard.example/org/stranger"},
      {"a registered id spelt as a SAN of another form",
       true,
       {"care-coord"},
       absl::StatusCode::kUnauthenticated,
       ""},
      {"SANs of two members",
       true,
       {SanOf("care-coord"), SanOf("northside-family")},
       absl::StatusCode::kUnauthenticated,
       "'northside-family'"},
      {"SANs of two members, one suspended",
       true,
       {SanOf("care-coord"), SanOf("harbour-housing")},
       absl::StatusCode::kUnauthenticated,
       "two members"},
      {"a suspended member",
       true,
       {SanOf("harbour-housing")},
       absl::StatusCode::kPermissionDenied,
       "'harbour-housing'"},
  };
  for (const RefusedPeer& c : cases) {
    EXPECT_THAT(Identify(c.authenticated, c.sans), StatusIs(c.code, HasSubstr(c.message)))
        << c.name;
  }
}

TEST_F(AuthenticatorTest, MemberIsIdentifiedByItsRegisteredSan) {
  ASSERT_OK_AND_ASSIGN(Caller caller, Identify(true, {SanOf("care-coord")}, "J. Rivera"));
  EXPECT_EQ(caller.organisation_id, "care-coord");
  EXPECT_FALSE(caller.admin);
  EXPECT_EQ(caller.user, "J. Rivera");
}

TEST_F(AuthenticatorTest, UnregisteredExtraSansDoNotPreventIdentification) {
  ASSERT_OK_AND_ASSIGN(Caller caller,
                       Identify(true, {"dns:care-coord.example", SanOf("care-coord")}));
  EXPECT_EQ(caller.organisation_id, "care-coord");
  ASSERT_OK_AND_ASSIGN(Caller twice, Identify(true, {SanOf("care-coord"), SanOf("care-coord")}));
  EXPECT_EQ(twice.organisation_id, "care-coord");
}

TEST_F(AuthenticatorTest, AdminFlagFollowsTheAdminRole) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"admin", true},        // ADMIN only
      {"st-marys", true},     // HOSPITAL and ADMIN
      {"care-coord", false},  // COORDINATOR
      {"northside-family", false},
  };
  for (const auto& [id, admin] : cases) {
    ASSERT_OK_AND_ASSIGN(Caller caller, Identify(true, {SanOf(id)}));
    EXPECT_EQ(caller.organisation_id, id);
    EXPECT_EQ(caller.admin, admin) << id;
  }
}

TEST_F(AuthenticatorTest, ReactivatedMemberIsIdentifiedAgain) {
  ASSERT_THAT(Identify(true, {SanOf("harbour-housing")}),
              StatusIs(absl::StatusCode::kPermissionDenied, AllOf(HasSubstr("suspended"))));
  v1::Organisation out;
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return registry::ReactivateOrganisation(txn, Context(), testing::AdminCaller(),
                                            "harbour-housing", &out);
  }),
              IsOk());
  EXPECT_THAT(Identify(true, {SanOf("harbour-housing")}), IsOk());
}

TEST_F(AuthenticatorTest, ChangedSanIdentifiesOnlyUnderTheNewSan) {
  v1::Organisation moved = testing::MakeOrganisation("care-coord", v1::Organisation::COORDINATOR);
  moved.set_certificate_san("spiffe://switchboard.example/org/care-coord-2027");
  v1::Organisation out;
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return registry::UpdateOrganisation(txn, Context(), testing::AdminCaller(), moved, &out);
  }),
              IsOk());
  EXPECT_THAT(Identify(true, {SanOf("care-coord")}),
              StatusIs(absl::StatusCode::kUnauthenticated, ::testing::_));
  ASSERT_OK_AND_ASSIGN(Caller caller, Identify(true, {moved.certificate_san()}));
  EXPECT_EQ(caller.organisation_id, "care-coord");
}

}  // namespace
}  // namespace switchboard::gateway::identity
