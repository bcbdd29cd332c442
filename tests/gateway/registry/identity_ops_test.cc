#include "gateway/registry/identity_ops.h"

#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
using store::Transaction;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using testing::AdminCaller;
using ::testing::HasSubstr;
using testing::MemberCaller;
using testing::Mrn;

v1::ClientIdentifier Nhi(const std::string& value) {
  v1::ClientIdentifier id;
  id.set_system("https://nhi.example.org");
  id.set_value(value);
  return id;
}

class IdentityOpsTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
  }

  absl::StatusOr<v1::Client> Link(const identity::Caller& who, const v1::ClientIdentifier& client,
                                  const v1::ClientIdentifier& id) {
    v1::Client out;
    absl::Status s = committer_->Run(
        [&](Transaction& txn) { return LinkIdentifier(txn, Context(), who, client, id, &out); });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<v1::Client> Unlink(const identity::Caller& who,
                                    const v1::ClientIdentifier& client,
                                    const v1::ClientIdentifier& id) {
    v1::Client out;
    absl::Status s = committer_->Run(
        [&](Transaction& txn) { return UnlinkIdentifier(txn, Context(), who, client, id, &out); });
    if (!s.ok()) return s;
    return out;
  }
  std::optional<std::string> Owner(const v1::ClientIdentifier& id) {
    return *ResolveClient(*store_, id);
  }
  void RegisterSecondClient() {
    v1::Client c;
    c.set_id("client-0002");
    *c.add_identifiers() = Mrn("MRN-2");
    v1::Client out;
    ASSERT_THAT(committer_->Run([&](Transaction& txn) {
      return RegisterClient(txn, Context(), AdminCaller(), c, &out);
    }),
                IsOk());
  }
};

TEST_F(IdentityOpsTest, CoordinatorLinksAndUnlinksAudited) {
  ASSERT_TRUE(decider_->Load("client-0001").ok());
  ASSERT_OK_AND_ASSIGN(v1::Client c, Link(MemberCaller("care-coord"), Mrn("MRN-1"), Nhi("N-1")));
  EXPECT_EQ(c.identifiers_size(), 2);
  EXPECT_EQ(Owner(Nhi("N-1")), "client-0001");
  EXPECT_EQ((*decider_->Load("client-0001"))->identifiers.size(), 2u);  // cache dropped
  EXPECT_EQ(AuditRecords().back().action(), v1::AuditRecord::REGISTRY_CHANGE);
  EXPECT_THAT(AuditRecords().back().detail(), HasSubstr("linked identifier"));
  // Linking again changes nothing.
  const size_t audits = AuditRecords().size();
  ASSERT_TRUE(Link(AdminCaller(), Nhi("N-1"), Nhi("N-1")).ok());
  EXPECT_EQ(AuditRecords().size(), audits);

  // The client can be named by the new identifier and lose the old one.
  ASSERT_OK_AND_ASSIGN(c, Unlink(MemberCaller("care-coord"), Nhi("N-1"), Mrn("MRN-1")));
  EXPECT_EQ(c.identifiers_size(), 1);
  EXPECT_EQ(Owner(Mrn("MRN-1")), std::nullopt);
  EXPECT_THAT(AuditRecords().back().detail(), HasSubstr("unlinked identifier"));
  // Not the last one.
  EXPECT_THAT(Unlink(AdminCaller(), Nhi("N-1"), Nhi("N-1")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("last identifier")));
  EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);
}

TEST_F(IdentityOpsTest, AnotherClientsIdentifierIsNotMergedSilently) {
  ASSERT_NO_FATAL_FAILURE(RegisterSecondClient());
  EXPECT_THAT(Link(AdminCaller(), Mrn("MRN-1"), Mrn("MRN-2")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("merging")));
  EXPECT_EQ(Owner(Mrn("MRN-2")), "client-0002");
  EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);
}

TEST_F(IdentityOpsTest, OnlyAdminsAndCoordinatorsChangeIdentities) {
  for (const char* org : {"st-marys", "harbour-housing"}) {
    EXPECT_THAT(Link(MemberCaller(org), Mrn("MRN-1"), Nhi("N-1")),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("coordinators")))
        << org;
    EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);
    EXPECT_THAT(Unlink(MemberCaller(org), Mrn("MRN-1"), Mrn("MRN-1")),
                StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  }
  EXPECT_EQ(Owner(Nhi("N-1")), std::nullopt);
}

TEST_F(IdentityOpsTest, UnknownClientAndIdentifierAreNotFound) {
  EXPECT_THAT(Link(AdminCaller(), Mrn("MRN-X"), Nhi("N-1")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("MRN-X")));
  EXPECT_THAT(Unlink(AdminCaller(), Mrn("MRN-1"), Nhi("N-1")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("N-1")));
}

TEST_F(IdentityOpsTest, ReviewIsResolvedOnceWithANote) {
  v1::MessageHeader header;
  header.set_id("d-1");
  header.set_source("st-marys");
  header.set_event("discharge");
  policy::IdentifierLookup a{.identifier = Mrn("MRN-1"), .client_id = "client-0001"};
  policy::IdentifierLookup b{.identifier = Nhi("N-2"), .client_id = "client-0002"};
  std::string id;
  ASSERT_THAT(committer_->Run([&](Transaction& txn) -> absl::Status {
    auto r = OpenClientReview(txn, MemberCaller("st-marys"), "Exchange/Publish", header, {a, b});
    if (!r.ok()) return r.status();
    id = *r;
    return absl::OkStatus();
  }),
              IsOk());
  auto resolve = [&](const identity::Caller& who, const std::string& review,
                     const std::string& note) {
    v1::ClientReview out;
    return committer_->Run([&](Transaction& txn) {
      return ResolveClientReview(txn, Context(), who, review, note, &out);
    });
  };
  EXPECT_THAT(resolve(MemberCaller("st-marys"), id, "x"),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(resolve(AdminCaller(), id, ""), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(resolve(AdminCaller(), "review-nope", "x"), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(resolve(MemberCaller("care-coord"), id, "wrong NHI at st-marys, fixed at source"),
              IsOk());
  EXPECT_THAT(resolve(AdminCaller(), id, "again"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already resolved")));
  ASSERT_OK_AND_ASSIGN(auto open, ReadClientReviews(*store_, false));
  EXPECT_TRUE(open.empty());
  ASSERT_OK_AND_ASSIGN(auto all, ReadClientReviews(*store_, true));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_THAT(all[0].resolved_by(), ::testing::StartsWith("care-coord"));
  EXPECT_EQ(all[0].resolution(), "wrong NHI at st-marys, fixed at source");
}

}  // namespace
}  // namespace switchboard::gateway::registry
