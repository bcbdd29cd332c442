// Publisher: identity across members (auto-link, conflicts, no silent merges).
#include <string>
#include <vector>

#include "gateway/exchange/publisher.h"
#include "gateway/registry/identity_ops.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::exchange {
namespace {

using store::Cf;
using ::switchboard::testing::StatusIs;
using testing::Discharge;
using testing::MemberCaller;
using testing::Mrn;
using ::testing::HasSubstr;
using ::testing::AllOf;
using ::testing::Not;

constexpr char kNhi[] = "https://nhi.example.org";
constexpr char kCase[] = "https://harbour-housing.example.org/case";

v1::ClientIdentifier Id(const std::string& system, const std::string& value) {
  v1::ClientIdentifier id;
  id.set_system(system);
  id.set_value(value);
  return id;
}

class PublisherIdentityTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    Publisher::IdentifierAuthorities authorities;
    authorities[Mrn("x").system()].insert("st-marys");
    publisher_ = std::make_unique<Publisher>(
        store_.get(), committer_.get(), &directory_, &events_, decider_.get(), ConsentContext(),
        testing::DefaultLimits(),
        [](uint64_t, const std::shared_ptr<const v1::Message>&, const std::vector<std::string>&) {},
        authorities, absl::flat_hash_set<std::string>{kNhi},
        [this] { decider_->Invalidate(); });
  }
  void TearDown() override {
    publisher_.reset();
    GatewayTest::TearDown();
  }

  absl::StatusOr<v1::Receipt> Publish(const std::string& caller, v1::Message m) {
    return PublishAndWait(*publisher_, MemberCaller(caller), std::move(m));
  }
  std::optional<std::string> Owner(const v1::ClientIdentifier& id) {
    return *registry::ResolveClient(*store_, id);
  }

  std::unique_ptr<Publisher> publisher_;
};

TEST_F(PublisherIdentityTest, StrongIdentifierLinksAutomaticallyAndTheCacheSeesIt) {
  ASSERT_TRUE(decider_->Load("client-0001").ok());  // cached without the NHI
  v1::Message m = Discharge("d-1");
  *m.mutable_header()->add_other_client_identifiers() = Id(kNhi, "NHI-1");
  ASSERT_TRUE(Publish("st-marys", m).ok());
  EXPECT_EQ(Owner(Id(kNhi, "NHI-1")), "client-0001");
  auto state = decider_->Load("client-0001");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)->identifiers.size(), 2u);
  bool audited = false;
  for (const auto& a : AuditRecords()) {
    audited |= a.action() == v1::AuditRecord::REGISTRY_CHANGE && a.client_id() == "client-0001" &&
               a.detail().find("NHI-1") != std::string::npos;
  }
  EXPECT_TRUE(audited);
}

TEST_F(PublisherIdentityTest, WeakUnknownIdentifierIsNotLinkedButTheMessageIsAccepted) {
  v1::Message m = Discharge("d-1");
  *m.mutable_header()->add_other_client_identifiers() = Id(kCase, "C-7");
  ASSERT_TRUE(Publish("st-marys", m).ok());
  EXPECT_EQ(Owner(Id(kCase, "C-7")), std::nullopt);
}

TEST_F(PublisherIdentityTest, KnownClientByStrongIdentifierAdoptsTheSendersOwnIdentifier) {
  v1::Message first = Discharge("d-1");
  *first.mutable_header()->add_other_client_identifiers() = Id(kNhi, "NHI-1");
  ASSERT_TRUE(Publish("st-marys", first).ok());
  // A new MRN of st-marys for the same person, named with the NHI.
  v1::Message m = Discharge("d-2");
  *m.mutable_header()->mutable_client() = Mrn("MRN-9");
  *m.mutable_header()->add_other_client_identifiers() = Id(kNhi, "NHI-1");
  ASSERT_TRUE(Publish("st-marys", m).ok());
  EXPECT_EQ(Owner(Mrn("MRN-9")), "client-0001");
}

TEST_F(PublisherIdentityTest, IdentifiersOfTwoClientsAreRefusedListedAndNothingStored) {
  // A second client, known by its NHI.
  v1::Message other = Discharge("d-0");
  *other.mutable_header()->mutable_client() = Mrn("MRN-2");
  *other.mutable_header()->add_other_client_identifiers() = Id(kNhi, "NHI-2");
  ASSERT_TRUE(Publish("st-marys", other).ok());
  const auto other_id = Owner(Mrn("MRN-2"));
  ASSERT_TRUE(other_id.has_value());
  const size_t messages = CountKeys(Cf::kMessages);
  const size_t dedup = CountKeys(Cf::kDedup);

  v1::Message m = Discharge("d-1");  // MRN-1 is client-0001
  *m.mutable_header()->add_other_client_identifiers() = Id(kNhi, "NHI-2");
  auto r = Publish("st-marys", m);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition,
                          AllOf(HasSubstr("NHI-2"), HasSubstr("MRN-1"), HasSubstr("review-"),
                                HasSubstr("not stored"))));
  // Never another client's enterprise id in the answer.
  EXPECT_THAT(r.status().message(), Not(HasSubstr(*other_id)));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("client-0001")));
  EXPECT_EQ(CountKeys(Cf::kMessages), messages);
  EXPECT_EQ(CountKeys(Cf::kDedup), dedup);
  EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);

  ASSERT_OK_AND_ASSIGN(auto reviews, registry::ReadClientReviews(*store_, false));
  ASSERT_EQ(reviews.size(), 1u);
  EXPECT_EQ(reviews[0].source(), "st-marys");
  EXPECT_EQ(reviews[0].message_id(), "d-1");
  EXPECT_EQ(reviews[0].status(), v1::ClientReview::OPEN);
  ASSERT_EQ(reviews[0].entries_size(), 2);
  EXPECT_EQ(reviews[0].entries(0).client_id(), "client-0001");
  EXPECT_EQ(reviews[0].entries(1).client_id(), *other_id);

  // A resend is refused again with the same review, not a second one.
  auto again = Publish("st-marys", m);
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(reviews[0].id())));
  ASSERT_OK_AND_ASSIGN(reviews, registry::ReadClientReviews(*store_, false));
  EXPECT_EQ(reviews.size(), 1u);
  // Nothing was merged.
  EXPECT_EQ(Owner(Id(kNhi, "NHI-2")), other_id);
}

TEST_F(PublisherIdentityTest, NewClientTakesTheStrongIdentifiersToo) {
  v1::Message m = Discharge("d-1");
  *m.mutable_header()->mutable_client() = Mrn("MRN-3");
  *m.mutable_header()->add_other_client_identifiers() = Id(kNhi, "NHI-3");
  *m.mutable_header()->add_other_client_identifiers() = Id(kCase, "C-3");
  ASSERT_TRUE(Publish("st-marys", m).ok());
  const auto id = Owner(Mrn("MRN-3"));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(Owner(Id(kNhi, "NHI-3")), id);
  EXPECT_EQ(Owner(Id(kCase, "C-3")), std::nullopt);
}

TEST_F(PublisherIdentityTest, RepeatedIdentifierIsInvalid) {
  v1::Message m = Discharge("d-1");
  *m.mutable_header()->add_other_client_identifiers() = Mrn("MRN-1");
  EXPECT_THAT(Publish("st-marys", m),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("message.header.other_client_identifiers[0]")));
}

}  // namespace
}  // namespace switchboard::gateway::exchange
