#include "gateway/exchange/publisher.h"

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gateway/audit/audit_chain.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::exchange {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using store::Cf;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::AllOf;
using testing::Discharge;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MemberCaller;
using ::testing::StartsWith;

class PublisherTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    publisher_ = MakePublisher();
  }
  void TearDown() override {
    publisher_.reset();
    GatewayTest::TearDown();
  }

  // Number of keys in each column family that a publish may write.
  std::map<Cf, size_t> Counts() const {
    std::map<Cf, size_t> out;
    for (Cf cf : {Cf::kMessages, Cf::kDedup, Cf::kOutbox, Cf::kDeliveries, Cf::kAudit}) {
      out[cf] = CountKeys(cf);
    }
    return out;
  }

  absl::StatusOr<v1::Receipt> Publish(const std::string& caller, v1::Message m) {
    return PublishAndWait(*publisher_, MemberCaller(caller), std::move(m));
  }

  // The counts after exactly one more audit record.
  static std::map<Cf, size_t> PlusOneAudit(std::map<Cf, size_t> counts) {
    ++counts[Cf::kAudit];
    return counts;
  }

  std::unique_ptr<Publisher> publisher_;
};

TEST_F(PublisherTest, AcceptedMessageIsStoredWithOneDeliveryPerRecipient) {
  const auto before = Counts();
  ASSERT_OK_AND_ASSIGN(v1::Receipt receipt, Publish("st-marys", Discharge("d-1")));
  EXPECT_EQ(receipt.message_id(), "d-1");
  EXPECT_EQ(receipt.source(), "st-marys");
  std::vector<std::string> recipients;
  for (const auto& r : receipt.recipients()) {
    recipients.push_back(r.organisation_id());
    // The receipt's delivery id names a queued delivery of that recipient.
    const auto seq = store::ParseDeliveryId(r.delivery_id());
    ASSERT_TRUE(seq.has_value()) << r.delivery_id();
    const std::string key = store::keys::RecipientSeq(r.organisation_id(), *seq);
    v1::StoredDelivery d;
    ASSERT_TRUE(*store_->GetProto(Cf::kOutbox, key, &d)) << r.delivery_id();
    EXPECT_EQ(d.delivery().id(), r.delivery_id());
    EXPECT_EQ(d.delivery().state(), v1::Delivery::PENDING);
    EXPECT_EQ(d.delivery().recipient(), r.organisation_id());
    EXPECT_EQ(d.delivery().message_id(), "d-1");
    EXPECT_EQ(d.delivery().source(), "st-marys");
    EXPECT_EQ(d.delivery().event(), "discharge");
    EXPECT_EQ(d.delivery().gateway_message_id(), receipt.gateway_message_id());
    EXPECT_EQ(FromProtoTime(d.delivery().created_at()), FromProtoTime(receipt.accepted_at()));
    EXPECT_FALSE(d.delivery().has_message());  // stored once, under `messages`
    EXPECT_EQ(store::GatewayMessageId(d.message_seq()), receipt.gateway_message_id());
    EXPECT_EQ(d.client_id(), "client-0001");
  }
  // Routing chose the care team (harbour-housing) and the discharge subscriber
  // (care-coord); without a consent the built-in policy gives TREAT content to
  // the care team only, so care-coord's delivery is withheld.
  EXPECT_THAT(recipients, ElementsAre("harbour-housing"));
  const auto after = Counts();
  EXPECT_EQ(after.at(Cf::kMessages), before.at(Cf::kMessages) + 1);
  EXPECT_EQ(after.at(Cf::kDedup), before.at(Cf::kDedup) + 1);
  EXPECT_EQ(after.at(Cf::kOutbox), before.at(Cf::kOutbox) + 1);
  // The withheld delivery is final at once; nothing else is delivered yet.
  EXPECT_EQ(after.at(Cf::kDeliveries), before.at(Cf::kDeliveries) + 1);
  const auto deliveries = Contents(Cf::kDeliveries);
  ASSERT_EQ(deliveries.size(), 1u);
  v1::StoredDelivery withheld;
  ASSERT_TRUE(withheld.ParseFromString(deliveries.begin()->second));
  EXPECT_EQ(withheld.delivery().recipient(), "care-coord");
  EXPECT_EQ(withheld.delivery().state(), v1::Delivery::WITHHELD);
  EXPECT_THAT(withheld.decision(), HasSubstr("not in the care team"));
  // The publish and the withholding.
  EXPECT_EQ(after.at(Cf::kAudit), before.at(Cf::kAudit) + 2);
  const auto audit = AuditRecords();
  ASSERT_GE(audit.size(), 2u);
  const v1::AuditRecord& withhold = audit[audit.size() - 2];
  EXPECT_EQ(withhold.action(), v1::AuditRecord::WITHHOLD);
  EXPECT_EQ(withhold.subject_organisation(), "care-coord");
  EXPECT_THAT(withhold.detail(), HasSubstr("not in the care team"));
  EXPECT_THAT(notified_, ElementsAre(ElementsAre("harbour-housing")));
}

TEST_F(PublisherTest, AcceptanceIsToldWithTheMessageOnceItsDeliveriesAreDurable) {
  ASSERT_OK_AND_ASSIGN(v1::Receipt receipt, Publish("st-marys", Discharge("d-1")));
  ASSERT_EQ(accepted_.size(), 1u);
  const Accepted& told = accepted_[0];
  EXPECT_EQ(store::GatewayMessageId(told.message_seq), receipt.gateway_message_id());
  ASSERT_NE(told.message, nullptr);
  EXPECT_TRUE(MessageDifferencer::Equals(*told.message, Discharge("d-1")))
      << told.message->DebugString();
  // A subscriber woken by this reads its queue up to durable_seq(): the new
  // deliveries must be within it.
  for (const auto& r : receipt.recipients()) {
    EXPECT_GE(told.durable_seq, *store::ParseDeliveryId(r.delivery_id())) << r.delivery_id();
  }
}

TEST_F(PublisherTest, StoredMessageParsesToTheFullRecord) {
  v1::Message without = Discharge("d-1");
  without.mutable_header()->clear_purpose_of_use();  // normalised to TREAT
  ASSERT_OK_AND_ASSIGN(v1::Receipt receipt, Publish("st-marys", without));
  const auto messages = Contents(Cf::kMessages);
  ASSERT_EQ(messages.size(), 1u);
  const auto seq = store::DecodeSeq(messages.begin()->first);
  ASSERT_TRUE(seq.has_value());
  EXPECT_EQ(store::GatewayMessageId(*seq), receipt.gateway_message_id());
  v1::StoredMessage stored;
  ASSERT_TRUE(stored.ParseFromString(messages.begin()->second));
  EXPECT_TRUE(MessageDifferencer::Equals(stored.message(), Discharge("d-1")))
      << stored.message().DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(stored.receipt(), receipt))
      << stored.receipt().DebugString() << " vs " << receipt.DebugString();
  EXPECT_EQ(stored.content_sha256().size(), 32u);
  EXPECT_EQ(stored.client_id(), "client-0001");
}

TEST_F(PublisherTest, IdenticalRepublishReturnsTheSameReceiptAndStoresNothing) {
  ASSERT_OK_AND_ASSIGN(v1::Receipt first, Publish("st-marys", Discharge("d-1")));
  const auto before = Counts();
  const auto meta_before = Contents(Cf::kMeta);
  ASSERT_OK_AND_ASSIGN(v1::Receipt again, Publish("st-marys", Discharge("d-1")));
  EXPECT_TRUE(MessageDifferencer::Equals(first, again))
      << first.DebugString() << " vs " << again.DebugString();
  EXPECT_EQ(Counts(), before);
  EXPECT_EQ(Contents(Cf::kMeta), meta_before);
  EXPECT_EQ(notified_.size(), 1u);
}

TEST_F(PublisherTest, RepublishWithoutTheDefaultPurposeOfUseIsTheSameMessage) {
  ASSERT_OK_AND_ASSIGN(v1::Receipt first, Publish("st-marys", Discharge("d-1")));
  const auto before = Counts();
  v1::Message without = Discharge("d-1");
  without.mutable_header()->clear_purpose_of_use();
  ASSERT_OK_AND_ASSIGN(v1::Receipt again, Publish("st-marys", without));
  EXPECT_TRUE(MessageDifferencer::Equals(first, again));
  EXPECT_EQ(Counts(), before);
}

TEST_F(PublisherTest, SameIdWithOtherContentIsAlreadyExistsAndOnlyAudited) {
  ASSERT_OK_AND_ASSIGN(v1::Receipt first, Publish("st-marys", Discharge("d-1", "first text")));
  const auto before = Counts();
  EXPECT_THAT(
      Publish("st-marys", Discharge("d-1", "other text")),
      StatusIs(absl::StatusCode::kAlreadyExists, AllOf(StartsWith("message.header.id: 'd-1'"),
                                                       HasSubstr(first.gateway_message_id()))));
  EXPECT_EQ(Counts(), PlusOneAudit(before));
  const v1::AuditRecord last = AuditRecords().back();
  EXPECT_EQ(last.action(), v1::AuditRecord::PUBLISH);
  EXPECT_EQ(last.outcome(), v1::AuditRecord::REFUSED);
  EXPECT_EQ(last.actor_organisation(), "st-marys");
  EXPECT_EQ(last.message_id(), "d-1");
  EXPECT_THAT(last.detail(), StartsWith("ALREADY_EXISTS"));
  EXPECT_TRUE(audit::VerifyChain(*store_).ok());
}

TEST_F(PublisherTest, ConcurrentIdenticalPublishesStoreOneMessageAndAgreeOnTheReceipt) {
  constexpr int kThreads = 8;
  constexpr int kEach = 4;
  const auto before = Counts();
  std::vector<std::vector<absl::StatusOr<v1::Receipt>>> results(kThreads);
  std::vector<std::thread> threads;
  const v1::Message message = Discharge("d-race");
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) results[t].push_back(Publish("st-marys", message));
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(results[0][0].ok()) << results[0][0].status();
  const v1::Receipt& reference = *results[0][0];
  for (const auto& per_thread : results) {
    for (const auto& r : per_thread) {
      ASSERT_THAT(r, IsOk());
      EXPECT_TRUE(MessageDifferencer::Equals(*r, reference));
    }
  }
  const auto after = Counts();
  EXPECT_EQ(after.at(Cf::kMessages), before.at(Cf::kMessages) + 1);
  EXPECT_EQ(after.at(Cf::kDedup), before.at(Cf::kDedup) + 1);
  EXPECT_EQ(after.at(Cf::kOutbox), before.at(Cf::kOutbox) + 1);
  EXPECT_EQ(after.at(Cf::kDeliveries), before.at(Cf::kDeliveries) + 1);  // withheld
  EXPECT_EQ(after.at(Cf::kAudit), before.at(Cf::kAudit) + 2);
  EXPECT_EQ(notified_.size(), 1u);
  EXPECT_TRUE(audit::VerifyChain(*store_).ok());
}

TEST_F(PublisherTest, PublishingAsAnotherMemberIsPermissionDenied) {
  const auto before = Counts();
  EXPECT_THAT(Publish("harbour-housing", Discharge("d-1")),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       StartsWith("message.header.source: 'st-marys' is not the caller")));
  EXPECT_EQ(Counts(), PlusOneAudit(before));
  const v1::AuditRecord last = AuditRecords().back();
  EXPECT_EQ(last.outcome(), v1::AuditRecord::REFUSED);
  EXPECT_EQ(last.actor_organisation(), "harbour-housing");
}

TEST_F(PublisherTest, UnknownClientIsInvalidArgumentNamingTheClientField) {
  const auto before = Counts();
  v1::Message m = Discharge("d-1");
  *m.mutable_header()->mutable_client() = testing::Mrn("MRN-404");
  EXPECT_THAT(Publish("st-marys", m),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("message.header.client: "), HasSubstr("MRN-404"))));
  EXPECT_EQ(Counts(), PlusOneAudit(before));
  EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);
}

TEST_F(PublisherTest, AnAuthoritativeSenderIntroducesAnUnknownClientOthersCannot) {
  Publisher::IdentifierAuthorities authorities;
  authorities[testing::Mrn("x").system()].insert("st-marys");
  Publisher publisher(
      store_.get(), committer_.get(), &directory_, &events_, decider_.get(), ConsentContext(),
      testing::DefaultLimits(),
      [](uint64_t, const std::shared_ptr<const v1::Message>&, const std::vector<std::string>&) {},
      authorities);
  v1::Message m = Discharge("d-new");
  *m.mutable_header()->mutable_client() = testing::Mrn("MRN-NEW-1");
  // Not authoritative for hospital MRNs: refused, nothing but the refusal stored.
  v1::Message other = m;
  other.mutable_header()->set_source("harbour-housing");
  const size_t clients = CountKeys(Cf::kClients);
  EXPECT_THAT(PublishAndWait(publisher, MemberCaller("harbour-housing"), other),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("authoritative")));
  EXPECT_EQ(CountKeys(Cf::kClients), clients);

  ASSERT_OK_AND_ASSIGN(v1::Receipt r, PublishAndWait(publisher, MemberCaller("st-marys"), m));
  EXPECT_FALSE(r.gateway_message_id().empty());
  EXPECT_EQ(CountKeys(Cf::kClients), clients + 2);  // the client and its identifier
  ASSERT_OK_AND_ASSIGN(auto id, registry::ResolveClient(*store_, testing::Mrn("MRN-NEW-1")));
  ASSERT_TRUE(id.has_value());
  EXPECT_THAT(*id, StartsWith("client-"));
  bool audited = false;
  for (const auto& a : AuditRecords()) {
    audited |= a.action() == v1::AuditRecord::REGISTRY_CHANGE && a.client_id() == *id &&
               a.actor_organisation() == "st-marys";
  }
  EXPECT_TRUE(audited);
  // The next message about it finds the same client; no second one is made.
  ASSERT_OK_AND_ASSIGN(v1::Receipt r2, PublishAndWait(publisher, MemberCaller("st-marys"), [&] {
                         v1::Message again = m;
                         again.mutable_header()->set_id("d-new-2");
                         return again;
                       }()));
  EXPECT_NE(r2.gateway_message_id(), r.gateway_message_id());
  EXPECT_EQ(CountKeys(Cf::kClients), clients + 2);
}

TEST(IdentifierAuthoritiesTest, ConfigErrorsNameTheEntry) {
  google::protobuf::RepeatedPtrField<v1::IdentifierAuthority> config;
  config.Add()->set_system("https://a.example/mrn");
  EXPECT_THAT(Publisher::MakeAuthorities(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("identifier_authorities[0].organisation_ids")));
  config[0].add_organisation_ids("st-marys");
  *config.Add() = config[0];
  EXPECT_THAT(
      Publisher::MakeAuthorities(config),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr("identifier_authorities[1].system: 'https://a.example/mrn' is listed twice")));
  config.RemoveLast();
  ASSERT_OK_AND_ASSIGN(auto map, Publisher::MakeAuthorities(config));
  EXPECT_TRUE(map["https://a.example/mrn"].contains("st-marys"));
}

TEST_F(PublisherTest, InvalidMessageIsRefusedAndOnlyAudited) {
  const auto before = Counts();
  v1::Message m = Discharge("d-1");
  m.mutable_header()->set_event("discharge-x");
  EXPECT_THAT(Publish("st-marys", m),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("message.header.event: ")));
  EXPECT_EQ(Counts(), PlusOneAudit(before));
}

TEST_F(PublisherTest, DestinationNotInvolvedIsPermissionDeniedAndOnlyAudited) {
  const auto before = Counts();
  v1::Message m = Discharge("d-1");
  m.mutable_header()->add_destinations("northside-family");
  EXPECT_THAT(Publish("st-marys", m), StatusIs(absl::StatusCode::kPermissionDenied,
                                               StartsWith("message.header.destinations[0]: ")));
  EXPECT_EQ(Counts(), PlusOneAudit(before));
}

TEST_F(PublisherTest, RepublishAfterARegistryChangeStillReturnsTheOriginalReceipt) {
  ASSERT_OK_AND_ASSIGN(v1::Receipt first, Publish("st-marys", Discharge("d-1")));
  v1::Organisation out;
  ASSERT_THAT(committer_->Run([&](store::Transaction& txn) {
    return registry::SuspendOrganisation(txn, Context(), testing::AdminCaller(), "care-coord",
                                         "testing", &out);
  }),
              IsOk());
  const auto before = Counts();
  ASSERT_OK_AND_ASSIGN(v1::Receipt again, Publish("st-marys", Discharge("d-1")));
  EXPECT_TRUE(MessageDifferencer::Equals(first, again));
  EXPECT_EQ(Counts(), before);
}

TEST_F(PublisherTest, SameIdFromAnotherSourceIsAnotherMessage) {
  ASSERT_OK_AND_ASSIGN(v1::Receipt first, Publish("st-marys", Discharge("d-1")));
  v1::Message note = Discharge("d-1");
  note.mutable_header()->set_source("harbour-housing");
  note.mutable_header()->set_event("case-note");
  const auto sections = note.discharge_note().sections();
  *note.mutable_case_note()->mutable_sections() = sections;  // replaces the discharge note
  ASSERT_OK_AND_ASSIGN(v1::Receipt second, Publish("harbour-housing", note));
  EXPECT_NE(second.gateway_message_id(), first.gateway_message_id());
  EXPECT_EQ(second.source(), "harbour-housing");
  EXPECT_EQ(CountKeys(Cf::kDedup), 2u);
}

TEST_F(PublisherTest, RefusedIdCanBeUsedLaterForAValidMessage) {
  v1::Message bad = Discharge("d-1");
  bad.mutable_discharge_note()->clear_sections();
  EXPECT_THAT(Publish("st-marys", bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 StartsWith("message.discharge_note.sections")));
  EXPECT_THAT(Publish("st-marys", Discharge("d-1")), IsOk());
}

}  // namespace
}  // namespace switchboard::gateway::exchange
