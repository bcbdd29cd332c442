#include "gateway/operations/operations_ops.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/delivery/delivery_ops.h"
#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::operations {
namespace {

using delivery::SentDelivery;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MemberCaller;

constexpr char kHospital[] = "st-marys";
constexpr char kHousing[] = "harbour-housing";
constexpr char kCoord[] = "care-coord";

const absl::Time kSentAt = absl::FromUnixSeconds(1'800'000'000);

// Four discharges from st-marys, each delivered to care-coord and harbour-housing,
// published through the real Publisher; what the recipients' streams have in flight
// is whatever a test puts into in_flight_.
class OperationsOpsTest : public testing::GatewayTest {
 protected:
  OperationsOpsTest() { sharing_policy_ = testing::OpenSharingPolicy(); }
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    auto publisher = MakePublisher();
    for (int i = 0; i < 4; ++i) {
      ASSERT_OK_AND_ASSIGN(v1::Receipt r,
                           PublishAndWait(*publisher, MemberCaller(kHospital),
                                          testing::Discharge(absl::StrCat("d-", i))));
      ASSERT_EQ(r.recipients_size(), 2);
      for (const auto& recipient : r.recipients()) {
        seqs_[recipient.organisation_id()].push_back(
            *store::ParseDeliveryId(recipient.delivery_id()));
      }
      receipts_.push_back(std::move(r));
    }
  }

  InFlightFn InFlight() {
    return [this](const std::string& recipient, uint64_t seq) -> std::optional<SentDelivery> {
      auto it = in_flight_.find({recipient, seq});
      if (it == in_flight_.end()) return std::nullopt;
      return it->second;
    };
  }

  // The committer's durable sequence, unless a test pretends the disk lags.
  uint64_t Durable() const {
    return durable_override_.has_value() ? *durable_override_ : committer_->durable_seq();
  }
  std::optional<uint64_t> durable_override_;

  absl::StatusOr<v1::MessageStatus> Status(const std::string& caller, const std::string& id) {
    return GetMessageStatus(*store_, InFlight(), Durable(), caller, id);
  }

  absl::StatusOr<v1::ListDeliveriesResponse> List(const std::string& caller,
                                                  v1::Delivery::State state, uint32_t page_size = 0,
                                                  const std::string& token = "") {
    v1::ListDeliveriesRequest request;
    request.set_state(state);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return ListDeliveries(*store_, InFlight(), Durable(), caller, request);
  }

  absl::Status Ack(const std::string& caller, const std::vector<SentDelivery>& acked) {
    return committer_->Run([&](store::Transaction& txn) {
      return delivery::Acknowledge(txn, MemberCaller(caller), acked);
    });
  }

  // Housing's deliveries: d-0 queued, d-1 acknowledged, d-2 sent and awaiting its
  // ack (2 attempts), d-3 acknowledged. Queued and acknowledged alternate, so
  // listing every state has to merge `outbox` and `deliveries`.
  void MixStates() {
    const std::vector<uint64_t>& h = seqs_[kHousing];
    ASSERT_THAT(Ack(kHousing, {SentDelivery{h[1], 1, kSentAt}, SentDelivery{h[3], 1, kSentAt}}),
                IsOk());
    in_flight_[{kHousing, h[2]}] = SentDelivery{h[2], 2, kSentAt};
  }

  std::map<std::pair<std::string, uint64_t>, SentDelivery> in_flight_;
  std::vector<v1::Receipt> receipts_;
  std::map<std::string, std::vector<uint64_t>> seqs_;  // recipient -> delivery seqs, publish order
};

std::vector<std::string> Ids(const v1::ListDeliveriesResponse& response) {
  std::vector<std::string> out;
  for (const auto& d : response.deliveries()) out.push_back(d.id());
  return out;
}

std::vector<v1::Delivery::State> States(const v1::ListDeliveriesResponse& response) {
  std::vector<v1::Delivery::State> out;
  for (const auto& d : response.deliveries()) out.push_back(d.state());
  return out;
}

// The delivery of `recipient` in a status, or nullptr.
const v1::Delivery* DeliveryTo(const v1::MessageStatus& status, const std::string& recipient) {
  for (const auto& d : status.deliveries()) {
    if (d.recipient() == recipient) return &d;
  }
  return nullptr;
}

TEST_F(OperationsOpsTest, MessageStatusShowsEachRecipientPendingThenInFlightThenDelivered) {
  const v1::Receipt& receipt = receipts_[0];
  ASSERT_OK_AND_ASSIGN(v1::MessageStatus status, Status(kHospital, "d-0"));
  EXPECT_EQ(status.message_id(), "d-0");
  EXPECT_EQ(status.gateway_message_id(), receipt.gateway_message_id());
  EXPECT_EQ(status.event(), "discharge");
  EXPECT_EQ(FromProtoTime(status.accepted_at()), FromProtoTime(receipt.accepted_at()));
  ASSERT_EQ(status.deliveries_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const v1::Delivery& d = status.deliveries(i);
    EXPECT_EQ(d.recipient(), receipt.recipients(i).organisation_id());
    EXPECT_EQ(d.id(), receipt.recipients(i).delivery_id());
    EXPECT_EQ(d.state(), v1::Delivery::PENDING) << d.recipient();
    EXPECT_EQ(d.attempts(), 0u);
    EXPECT_FALSE(d.has_delivered_at());
  }

  // Housing's stream has sent it three times.
  const uint64_t seq = seqs_[kHousing][0];
  in_flight_[{kHousing, seq}] = SentDelivery{seq, 3, kSentAt};
  ASSERT_OK_AND_ASSIGN(status, Status(kHospital, "d-0"));
  const v1::Delivery* housing = DeliveryTo(status, kHousing);
  ASSERT_NE(housing, nullptr);
  EXPECT_EQ(housing->state(), v1::Delivery::IN_FLIGHT);
  EXPECT_EQ(housing->attempts(), 3u);
  EXPECT_EQ(FromProtoTime(housing->last_attempt_at()), kSentAt);
  ASSERT_NE(DeliveryTo(status, kCoord), nullptr);
  EXPECT_EQ(DeliveryTo(status, kCoord)->state(), v1::Delivery::PENDING);

  // Acknowledged (the stream still reports it until it hears back from the commit).
  ASSERT_THAT(Ack(kHousing, {SentDelivery{seq, 3, kSentAt}}), IsOk());
  ASSERT_OK_AND_ASSIGN(status, Status(kHospital, "d-0"));
  housing = DeliveryTo(status, kHousing);
  ASSERT_NE(housing, nullptr);
  EXPECT_EQ(housing->state(), v1::Delivery::DELIVERED);
  EXPECT_EQ(housing->attempts(), 3u);
  EXPECT_TRUE(housing->has_delivered_at());
  ASSERT_NE(DeliveryTo(status, kCoord), nullptr);
  EXPECT_EQ(DeliveryTo(status, kCoord)->state(), v1::Delivery::PENDING);
}

TEST_F(OperationsOpsTest, AnotherMembersMessageIsNotFoundExactlyLikeAnUnknownId) {
  // The recipients and a bystander see nothing of st-marys' message.
  for (const char* caller : {kHousing, kCoord, "northside-family"}) {
    EXPECT_THAT(Status(caller, "d-0"),
                StatusIs(absl::StatusCode::kNotFound, Eq("no message 'd-0'")))
        << caller;
  }
  EXPECT_THAT(Status(kHospital, "d-404"),
              StatusIs(absl::StatusCode::kNotFound, Eq("no message 'd-404'")));
}

TEST_F(OperationsOpsTest, EmptyMessageIdIsInvalidArgument) {
  EXPECT_THAT(Status(kHospital, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("message_id")));
}

TEST_F(OperationsOpsTest, ListingEveryStateMergesQueuedAndDeliveredInSequenceOrder) {
  ASSERT_NO_FATAL_FAILURE(MixStates());
  ASSERT_OK_AND_ASSIGN(auto all, List(kHousing, v1::Delivery::STATE_UNSPECIFIED));
  std::vector<std::string> expected;
  for (uint64_t seq : seqs_[kHousing]) expected.push_back(store::DeliveryId(seq));
  EXPECT_THAT(Ids(all), ElementsAreArray(expected));
  EXPECT_THAT(States(all), ElementsAre(v1::Delivery::PENDING, v1::Delivery::DELIVERED,
                                       v1::Delivery::IN_FLIGHT, v1::Delivery::DELIVERED));
  EXPECT_EQ(all.deliveries(2).attempts(), 2u);
  EXPECT_EQ(FromProtoTime(all.deliveries(2).last_attempt_at()), kSentAt);
  EXPECT_TRUE(all.next_page_token().empty());
  for (const auto& d : all.deliveries()) EXPECT_EQ(d.recipient(), kHousing);
}

TEST_F(OperationsOpsTest, ListingOneStateReturnsOnlyThatState) {
  ASSERT_NO_FATAL_FAILURE(MixStates());
  const std::vector<uint64_t>& h = seqs_[kHousing];
  const std::vector<std::pair<v1::Delivery::State, std::vector<uint64_t>>> cases = {
      {v1::Delivery::PENDING, {h[0]}},
      {v1::Delivery::IN_FLIGHT, {h[2]}},
      {v1::Delivery::DELIVERED, {h[1], h[3]}},
      {v1::Delivery::DEAD_LETTERED, {}},
  };
  for (const auto& [state, seqs] : cases) {
    auto listed = List(kHousing, state);
    ASSERT_THAT(listed, IsOk()) << v1::Delivery::State_Name(state);
    std::vector<std::string> expected;
    for (uint64_t seq : seqs) expected.push_back(store::DeliveryId(seq));
    EXPECT_THAT(Ids(*listed), ElementsAreArray(expected)) << v1::Delivery::State_Name(state);
    for (const auto& d : listed->deliveries()) EXPECT_EQ(d.state(), state);
  }
}

TEST_F(OperationsOpsTest, ListingShowsOnlyTheCallersDeliveries) {
  ASSERT_NO_FATAL_FAILURE(MixStates());
  ASSERT_OK_AND_ASSIGN(auto coord, List(kCoord, v1::Delivery::STATE_UNSPECIFIED));
  std::vector<std::string> expected;
  for (uint64_t seq : seqs_[kCoord]) expected.push_back(store::DeliveryId(seq));
  EXPECT_THAT(Ids(coord), ElementsAreArray(expected));
  for (const auto& d : coord.deliveries()) EXPECT_EQ(d.state(), v1::Delivery::PENDING);
  // The publisher is no recipient.
  ASSERT_OK_AND_ASSIGN(auto hospital, List(kHospital, v1::Delivery::STATE_UNSPECIFIED));
  EXPECT_THAT(Ids(hospital), IsEmpty());
}

TEST_F(OperationsOpsTest, PagesWalkBothFamiliesWithNextPageToken) {
  ASSERT_NO_FATAL_FAILURE(MixStates());
  ASSERT_OK_AND_ASSIGN(auto everything, List(kHousing, v1::Delivery::STATE_UNSPECIFIED));
  for (uint32_t page_size : {1u, 3u}) {
    std::vector<std::string> walked;
    std::string token;
    int pages = 0;
    do {
      auto page = List(kHousing, v1::Delivery::STATE_UNSPECIFIED, page_size, token);
      ASSERT_THAT(page, IsOk()) << "page " << pages;
      ASSERT_LE(page->deliveries_size(), static_cast<int>(page_size));
      for (const auto& id : Ids(*page)) walked.push_back(id);
      token = page->next_page_token();
      ASSERT_LT(++pages, 10) << "paging does not end";
    } while (!token.empty());
    EXPECT_THAT(walked, ElementsAreArray(Ids(everything))) << "page size " << page_size;
    EXPECT_EQ(pages, page_size == 1 ? 4 : 2);
  }
}

TEST_F(OperationsOpsTest, PagesOfOneStateSkipTheOthers) {
  ASSERT_NO_FATAL_FAILURE(MixStates());
  const std::vector<uint64_t>& h = seqs_[kHousing];
  ASSERT_OK_AND_ASSIGN(auto first, List(kHousing, v1::Delivery::DELIVERED, 1));
  EXPECT_THAT(Ids(first), ElementsAre(store::DeliveryId(h[1])));
  ASSERT_FALSE(first.next_page_token().empty());
  ASSERT_OK_AND_ASSIGN(auto second,
                       List(kHousing, v1::Delivery::DELIVERED, 1, first.next_page_token()));
  EXPECT_THAT(Ids(second), ElementsAre(store::DeliveryId(h[3])));
  EXPECT_TRUE(second.next_page_token().empty());
}

TEST_F(OperationsOpsTest, MalformedPageTokenIsInvalidArgument) {
  const std::vector<std::string> tokens = {"garbage", "dlv-", "dlv-zz",
                                           receipts_[0].gateway_message_id()};
  for (const std::string& token : tokens) {
    EXPECT_THAT(List(kHousing, v1::Delivery::STATE_UNSPECIFIED, 0, token),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat("page_token: '", token, "'"))))
        << token;
  }
}

TEST_F(OperationsOpsTest, TokenPastTheLastDeliveryGivesAnEmptyPage) {
  const std::string last = store::DeliveryId(seqs_[kHousing].back());
  ASSERT_OK_AND_ASSIGN(auto page, List(kHousing, v1::Delivery::STATE_UNSPECIFIED, 0, last));
  EXPECT_THAT(Ids(page), IsEmpty());
  EXPECT_TRUE(page.next_page_token().empty());
}

TEST_F(OperationsOpsTest, WhatIsNotOnDiskYetIsNeitherReportedNorListed) {
  ASSERT_OK_AND_ASSIGN(v1::ListDeliveriesResponse listed,
                       List(kHousing, v1::Delivery::STATE_UNSPECIFIED));
  ASSERT_EQ(listed.deliveries_size(), 4);
  ASSERT_THAT(Status(kHospital, "d-3"), IsOk());

  // As if the last message's write had not been synced yet.
  uint64_t message_seq = 0;
  ASSERT_TRUE(absl::SimpleHexAtoi(receipts_[3].gateway_message_id().substr(4), &message_seq));
  durable_override_ = message_seq - 1;
  EXPECT_THAT(Status(kHospital, "d-3"), StatusIs(absl::StatusCode::kNotFound, Eq("no message 'd-3'")));
  EXPECT_THAT(Status(kHospital, "d-2"), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::ListDeliveriesResponse hidden,
                       List(kHousing, v1::Delivery::STATE_UNSPECIFIED));
  const std::vector<std::string> all = Ids(listed);
  EXPECT_THAT(Ids(hidden), ElementsAreArray(all.begin(), all.begin() + 3));
}

}  // namespace
}  // namespace switchboard::gateway::operations
