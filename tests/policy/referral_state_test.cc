// The referral lifecycle: every (from, to, party) against the FHIR Task state
// machine as written out independently here, and the messages of refusals.
#include "policy/referral_state.h"

#include <set>
#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

namespace switchboard::policy {
namespace {

using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using R = v1::Referral;

constexpr ReferralParty kReferrer = ReferralParty::kReferrer;
constexpr ReferralParty kTarget = ReferralParty::kTarget;

// The allowed moves, written out again from FHIR R4's Task state machine (not
// copied from the implementation's table).
const std::set<std::tuple<int, int, ReferralParty>>& Expected() {
  static const auto* const kSet = new std::set<std::tuple<int, int, ReferralParty>>{
      {R::STATUS_UNSPECIFIED, R::REQUESTED, kReferrer},
      {R::REQUESTED, R::RECEIVED, kTarget},
      {R::REQUESTED, R::ACCEPTED, kTarget},
      {R::REQUESTED, R::REJECTED, kTarget},
      {R::REQUESTED, R::CANCELLED, kReferrer},
      {R::RECEIVED, R::ACCEPTED, kTarget},
      {R::RECEIVED, R::REJECTED, kTarget},
      {R::RECEIVED, R::CANCELLED, kReferrer},
      {R::ACCEPTED, R::IN_PROGRESS, kTarget},
      {R::ACCEPTED, R::FAILED, kTarget},
      {R::ACCEPTED, R::CANCELLED, kReferrer},
      {R::IN_PROGRESS, R::ON_HOLD, kTarget},
      {R::IN_PROGRESS, R::COMPLETED, kTarget},
      {R::IN_PROGRESS, R::FAILED, kTarget},
      {R::IN_PROGRESS, R::CANCELLED, kReferrer},
      {R::ON_HOLD, R::IN_PROGRESS, kTarget},
      {R::ON_HOLD, R::FAILED, kTarget},
      {R::ON_HOLD, R::CANCELLED, kReferrer},
  };
  return *kSet;
}

TEST(ReferralStateTest, EveryMoveIsAllowedExactlyWhenTheStateMachineSaysSo) {
  int allowed = 0;
  for (int from = R::Status_MIN; from <= R::Status_MAX; ++from) {
    for (int to = R::Status_MIN; to <= R::Status_MAX; ++to) {
      for (ReferralParty party : {kReferrer, kTarget}) {
        const bool expected = Expected().contains({from, to, party});
        const absl::Status got = CheckReferralTransition(static_cast<R::Status>(from),
                                                         static_cast<R::Status>(to), party);
        EXPECT_EQ(got.ok(), expected)
            << R::Status_Name(from) << " -> " << R::Status_Name(to)
            << (party == kReferrer ? " by referrer" : " by target") << ": " << got;
        allowed += got.ok();
      }
    }
  }
  EXPECT_EQ(allowed, static_cast<int>(Expected().size()));
}

TEST(ReferralStateTest, AllowedNextListsEachPartysMoves) {
  EXPECT_THAT(AllowedNext(R::REQUESTED, kTarget),
              ElementsAre(R::RECEIVED, R::ACCEPTED, R::REJECTED));
  EXPECT_THAT(AllowedNext(R::REQUESTED, kReferrer), ElementsAre(R::CANCELLED));
  EXPECT_THAT(AllowedNext(R::ON_HOLD, kTarget), ElementsAre(R::IN_PROGRESS, R::FAILED));
  EXPECT_THAT(AllowedNext(R::COMPLETED, kTarget), ::testing::IsEmpty());
}

TEST(ReferralStateTest, AnInvalidMoveNamesTheAllowedOnes) {
  EXPECT_THAT(
      CheckReferralTransition(R::REQUESTED, R::COMPLETED, kTarget),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("cannot go from REQUESTED to COMPLETED; from REQUESTED it may go to "
                         "RECEIVED (the target), ACCEPTED (the target), REJECTED (the target), "
                         "CANCELLED (the referrer)")));
  EXPECT_THAT(CheckReferralTransition(R::COMPLETED, R::IN_PROGRESS, kTarget),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("COMPLETED is final")));
}

TEST(ReferralStateTest, TheOtherPartysMoveIsPermissionDenied) {
  EXPECT_THAT(CheckReferralTransition(R::REQUESTED, R::ACCEPTED, kReferrer),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("only the target may move it from REQUESTED to ACCEPTED")));
  EXPECT_THAT(CheckReferralTransition(R::IN_PROGRESS, R::CANCELLED, kTarget),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("only the referrer")));
  EXPECT_THAT(CheckReferralTransition(R::ON_HOLD, R::IN_PROGRESS, kTarget), IsOk());
}

}  // namespace
}  // namespace switchboard::policy
