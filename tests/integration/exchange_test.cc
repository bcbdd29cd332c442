// Publish -> route -> deliver -> acknowledge against the real binary.
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

std::vector<std::string> RecipientsOf(const v1::Receipt& receipt) {
  std::vector<std::string> out;
  for (const auto& r : receipt.recipients()) out.push_back(r.organisation_id());
  return out;
}

std::map<std::string, v1::Delivery::State> StatesOf(Member& member, const std::string& id) {
  v1::MessageStatus status;
  grpc::Status s = member.Status(id, &status);
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::map<std::string, v1::Delivery::State> out;
  for (const auto& d : status.deliveries()) out[d.recipient()] = d.state();
  return out;
}

using ExchangeTest = GatewayTest;

TEST_F(ExchangeTest, PublishRoutesToCareTeamAndSubscribersAndAckMarksDelivered) {
  auto hospital = As("st-marys");
  v1::Message message = Discharge("d-1");
  v1::Receipt receipt;
  ASSERT_TRUE(hospital->Publish(message, &receipt).ok());
  // client-a's care team minus the source, plus care-coord (subscribed to discharge).
  EXPECT_THAT(RecipientsOf(receipt), ElementsAre("care-coord", "harbour-housing", "northside-family"));
  EXPECT_EQ(receipt.message_id(), "d-1");
  EXPECT_EQ(receipt.source(), "st-marys");

  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->recipient(), "harbour-housing");
  EXPECT_EQ(d->message_id(), "d-1");
  EXPECT_EQ(d->attempts(), 1u);
  message.mutable_header()->set_purpose_of_use("TREAT");  // the gateway's default
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(d->message(), message))
      << d->message().DebugString();
  EXPECT_EQ(StatesOf(*hospital, "d-1")["harbour-housing"], v1::Delivery::IN_FLIGHT);
  housing->Ack({d->id()});
  ASSERT_TRUE(housing->Close().ok());

  auto states = StatesOf(*hospital, "d-1");
  EXPECT_EQ(states["harbour-housing"], v1::Delivery::DELIVERED);
  EXPECT_EQ(states["northside-family"], v1::Delivery::PENDING);
  EXPECT_EQ(states["care-coord"], v1::Delivery::PENDING);

  v1::ListDeliveriesResponse pending;
  ASSERT_TRUE(As("northside-family")->Deliveries(v1::Delivery::PENDING, &pending).ok());
  ASSERT_THAT(pending.deliveries(), SizeIs(1));
  EXPECT_EQ(pending.deliveries(0).message_id(), "d-1");
}

TEST_F(ExchangeTest, RepublishReturnsTheOriginalReceiptAndOtherContentIsRefused) {
  auto hospital = As("st-marys");
  const v1::Message message = Discharge("dup-1");
  v1::Receipt first, again;
  ASSERT_TRUE(hospital->Publish(message, &first).ok());
  ASSERT_TRUE(hospital->Publish(message, &again).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, again));

  v1::Message changed = message;
  changed.mutable_discharge_note()->mutable_sections(0)->set_text("something else");
  grpc::Status s = hospital->Publish(changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("message.header.id"));

  auto housing = Subscribe("harbour-housing");
  auto got = housing->Take(1);
  ASSERT_THAT(got, SizeIs(1));
  housing->AckAll(got);
  EXPECT_THAT(housing->Drain(absl::Milliseconds(300)), SizeIs(0));  // no second copy
}

TEST_F(ExchangeTest, DeliveriesKeepPublishOrderPerClient) {
  auto hospital = As("st-marys");
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "order-" + std::to_string(i);
    ASSERT_TRUE(hospital->Publish(Discharge(id, i % 2 == 0 ? "MRN-1" : "MRN-2")).ok());
    ids.push_back(id);
  }
  auto housing = Subscribe("harbour-housing", /*window=*/7);
  std::vector<std::string> seen;
  while (seen.size() < ids.size()) {
    auto batch = housing->Take(1);
    ASSERT_THAT(batch, SizeIs(1)) << "after " << seen.size();
    seen.push_back(batch[0].message_id());
    housing->AckAll(batch);
  }
  EXPECT_EQ(seen, ids);
}

TEST_F(ExchangeTest, WindowLimitsUnacknowledgedDeliveries) {
  auto hospital = As("st-marys");
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(hospital->Publish(Discharge("w-" + std::to_string(i))).ok());
  auto housing = Subscribe("harbour-housing", /*window=*/4);
  auto first = housing->Take(4);
  ASSERT_THAT(first, SizeIs(4));
  EXPECT_THAT(housing->Drain(absl::Milliseconds(300)), SizeIs(0));  // window full
  housing->Ack({first[0].id()});
  auto next = housing->Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->message_id(), "w-4");
}

TEST_F(ExchangeTest, SubscriberThatDropsMidWindowGetsTheUnacknowledgedOnesAgainInOrder) {
  auto hospital = As("st-marys");
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(hospital->Publish(Discharge("r-" + std::to_string(i))).ok());
  {
    auto housing = Subscribe("harbour-housing", /*window=*/4);
    auto got = housing->Take(4);
    ASSERT_THAT(got, SizeIs(4));
    housing->AckAll({got[0], got[1]});
    // Make sure both acks are in before the connection breaks.
    ASSERT_TRUE(housing->Close().ok());
  }
  {
    auto housing = Subscribe("harbour-housing", /*window=*/4);
    auto got = housing->Take(3);
    ASSERT_THAT(got, SizeIs(3));
    EXPECT_EQ(got[0].message_id(), "r-2");
    EXPECT_EQ(got[0].attempts(), 2u);  // sent before, never acknowledged
    EXPECT_EQ(got[1].message_id(), "r-3");
    EXPECT_EQ(got[2].message_id(), "r-4");
    housing->Drop();  // broken connection: nothing acknowledged
  }
  auto housing = Subscribe("harbour-housing", /*window=*/10);
  auto got = housing->Take(4);
  ASSERT_THAT(got, SizeIs(4));
  EXPECT_EQ(got[0].message_id(), "r-2");
  EXPECT_EQ(got[3].message_id(), "r-5");
  EXPECT_THAT(housing->Drain(absl::Milliseconds(200)), SizeIs(0));
}

TEST_F(ExchangeTest, NewerStreamOfTheSameMemberReplacesTheOlder) {
  auto first = Subscribe("harbour-housing");
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("t-1")).ok());
  ASSERT_TRUE(first->Next().has_value());
  auto second = Subscribe("harbour-housing");
  auto ended = first->WaitEnded();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::ABORTED);
  auto again = second->Next();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->message_id(), "t-1");
}

TEST_F(ExchangeTest, QueuedDeliveriesSurviveARestart) {
  auto hospital = As("st-marys");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(hospital->Publish(Discharge("q-" + std::to_string(i))).ok());
  {
    auto housing = Subscribe("harbour-housing");
    auto got = housing->Take(2);
    ASSERT_THAT(got, SizeIs(2));
    housing->Ack({got[0].id()});
    ASSERT_TRUE(housing->Close().ok());
  }
  Restart();
  auto housing = Subscribe("harbour-housing");
  auto got = housing->Take(4);
  ASSERT_THAT(got, SizeIs(4));
  EXPECT_EQ(got[0].message_id(), "q-1");
  EXPECT_EQ(got[3].message_id(), "q-4");
  EXPECT_THAT(housing->Drain(absl::Milliseconds(200)), SizeIs(0));
  EXPECT_EQ(StatesOf(*As("st-marys"), "q-0")["harbour-housing"], v1::Delivery::DELIVERED);
}

TEST_F(ExchangeTest, ExplicitDestinationsMustBeInvolvedWithTheClient) {
  auto hospital = As("st-marys");
  v1::Message to_one = Discharge("x-1");
  to_one.mutable_header()->add_destinations("northside-family");
  v1::Receipt receipt;
  ASSERT_TRUE(hospital->Publish(to_one, &receipt).ok());
  EXPECT_THAT(RecipientsOf(receipt), ElementsAre("northside-family"));

  v1::Message to_stranger = Discharge("x-2");
  to_stranger.mutable_header()->add_destinations("eastside-mh");  // involved with nobody
  grpc::Status s = hospital->Publish(to_stranger);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("message.header.destinations[0]"));

  v1::Message to_unknown = Discharge("x-3");
  to_unknown.mutable_header()->add_destinations("nobody-here");
  EXPECT_EQ(hospital->Publish(to_unknown).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(hospital->Status("x-2").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ExchangeTest, AckTimeoutSendsAgain) {
  // The fixture's default timeout is long; this test needs a short one.
  ASSERT_TRUE(gateway_->Stop().ok());
  GatewayOptions options;
  options.ack_timeout_ms = 200;
  gateway_ = std::make_unique<GatewayProcess>(dir_.Sub("short-timeout"), options);
  std::filesystem::create_directories(dir_.Sub("short-timeout"));
  ASSERT_TRUE(gateway_->Start().ok());

  ASSERT_TRUE(As("st-marys")->Publish(Discharge("a-1")).ok());
  auto housing = Subscribe("harbour-housing");
  auto first = housing->Next();
  ASSERT_TRUE(first.has_value());
  auto again = housing->Next();  // not acknowledged: it comes again
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id(), first->id());
  EXPECT_EQ(again->attempts(), 2u);
  housing->Ack({again->id()});
  ASSERT_TRUE(housing->Close().ok());
  EXPECT_EQ(StatesOf(*As("st-marys"), "a-1")["harbour-housing"], v1::Delivery::DELIVERED);
}

TEST_F(ExchangeTest, SuspendedMemberIsCutOffAndNotRoutedTo) {
  auto housing = Subscribe("harbour-housing");
  auto admin = As("admin");
  v1::SuspendOrganisationRequest req;
  req.set_organisation_id("harbour-housing");
  req.set_reason("certificate compromised");
  v1::Organisation org;
  ASSERT_TRUE(admin->registry->SuspendOrganisation(Ctx().get(), req, &org).ok());
  EXPECT_EQ(org.status(), v1::Organisation::SUSPENDED);
  auto ended = housing->WaitEnded();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::Receipt receipt;
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("s-1"), &receipt).ok());
  EXPECT_THAT(RecipientsOf(receipt), ElementsAre("care-coord", "northside-family"));

  v1::ReactivateOrganisationRequest back;
  back.set_organisation_id("harbour-housing");
  ASSERT_TRUE(admin->registry->ReactivateOrganisation(Ctx().get(), back, &org).ok());
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("s-2"), &receipt).ok());
  EXPECT_THAT(RecipientsOf(receipt), ElementsAre("care-coord", "harbour-housing", "northside-family"));
}

}  // namespace
}  // namespace switchboard::testing
