#include "gateway/registry/seed.h"

#include <cstdlib>
#include <string>

#include "gateway/audit/audit_chain.h"
#include "gateway/config/config_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::StartsWith;

class SeedTest : public testing::GatewayTest {
 protected:
  absl::Status Apply(const v1::Seed& seed) { return ApplySeed(committer_.get(), Context(), seed); }
};

TEST_F(SeedTest, DemoSeedAppliesOnceAndIsANoOpTheSecondTime) {
  const char* source = std::getenv("SB_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "SB_SOURCE_DIR is not set (ctest sets it)";
  ASSERT_OK_AND_ASSIGN(
      v1::GatewayConfig config,
      config::LoadConfig(std::string(source) + "/deploy/demo/switchboard.textproto"));
  ASSERT_THAT(Apply(config.seed()), IsOk());
  const auto registry = Contents(Cf::kRegistry);
  const auto clients = Contents(Cf::kClients);
  const size_t audit = CountKeys(Cf::kAudit);
  EXPECT_EQ(directory_.snapshot()->organisations.size(),
            static_cast<size_t>(config.seed().organisations_size()));

  ASSERT_THAT(Apply(config.seed()), IsOk());
  EXPECT_EQ(Contents(Cf::kRegistry), registry);
  EXPECT_EQ(Contents(Cf::kClients), clients);
  EXPECT_EQ(CountKeys(Cf::kAudit), audit);
  EXPECT_TRUE(audit::VerifyChain(*store_).ok());
}

TEST_F(SeedTest, SeedNeverUndoesRegistryChanges) {
  ASSERT_THAT(Apply(testing::SmallSeed()), IsOk());
  v1::Organisation org_out;
  v1::CareTeam team_out;
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return SuspendOrganisation(txn, Context(), testing::AdminCaller(), "st-marys", "audit",
                               &org_out);
  }),
              IsOk());
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return RemoveCareTeamMember(txn, Context(), testing::AdminCaller(), testing::Mrn("MRN-1"),
                                "harbour-housing", &team_out);
  }),
              IsOk());
  const auto registry = Contents(Cf::kRegistry);
  const auto clients = Contents(Cf::kClients);

  ASSERT_THAT(Apply(testing::SmallSeed()), IsOk());
  EXPECT_EQ(Contents(Cf::kRegistry), registry);
  EXPECT_EQ(Contents(Cf::kClients), clients);
  EXPECT_EQ(directory_.snapshot()->Find("st-marys")->status(), v1::Organisation::SUSPENDED);
}

TEST_F(SeedTest, InvalidEntryIsNamedByItsPlaceInTheSeed) {
  v1::Seed seed = testing::SmallSeed();
  seed.mutable_organisations(2)->set_id("Not A Slug");
  EXPECT_THAT(Apply(seed), StatusIs(absl::StatusCode::kInvalidArgument,
                                    StartsWith("seed.organisations[2]: organisation.id: ")));
}

}  // namespace
}  // namespace switchboard::gateway::registry
