// GrpcPushClient against a real DeliveryReceiver (GrpcReceiver) on loopback.
#include "gateway/connectors/grpc_push_client.h"

#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/gateway/connectors/push_test_util.h"

namespace switchboard::testing {
namespace {

using connectors::PushOutcome;
using connectors::PushResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::PushEndpoint Grpc(const std::string& address, uint32_t timeout_ms = 5000) {
  v1::PushEndpoint endpoint;
  endpoint.set_organisation_id("care-coord");
  endpoint.mutable_grpc()->set_address(address);
  endpoint.set_timeout_ms(timeout_ms);
  return endpoint;
}

v1::Delivery MakeDelivery(const std::string& n) {
  v1::Delivery delivery;
  delivery.set_id("d-" + n);
  delivery.set_recipient("care-coord");
  delivery.set_message_id("m-" + n);
  delivery.set_source("st-marys");
  delivery.set_event("discharge");
  delivery.mutable_partner()->set_content_type("application/fhir+json");
  delivery.mutable_partner()->set_bytes("{}");
  return delivery;
}

// Sends MakeDelivery(n).
PushResult SendDelivery(connectors::PushTransport& client, const std::string& n) {
  const v1::Delivery delivery = MakeDelivery(n);
  connectors::PushRequest request = Request(n);
  request.delivery = &delivery;
  return client.Send(request);
}

class GrpcPushClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(partner_.Start().ok()); }

  GrpcReceiver partner_;
};

TEST_F(GrpcPushClientTest, OkIsDeliveredAndTheDeliveryArrivesWhole) {
  auto client = MustMake(Grpc(partner_.Address()));
  EXPECT_EQ(client->Describe(), "grpc " + partner_.Address());
  const PushResult result = SendDelivery(*client, "1");
  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
  ASSERT_EQ(partner_.deliveries().size(), 1u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(partner_.deliveries()[0],
                                                                 MakeDelivery("1")));
  EXPECT_THAT(partner_.client_sans()[0], HasSubstr(ClientSan()));
}

TEST_F(GrpcPushClientTest, InvalidArgumentAndFailedPreconditionAreRefusals) {
  partner_.Script({{grpc::StatusCode::INVALID_ARGUMENT, "message.header.event: unknown"},
                   {grpc::StatusCode::FAILED_PRECONDITION, "client not registered"}});
  auto client = MustMake(Grpc(partner_.Address()));
  const PushResult invalid = SendDelivery(*client, "1");
  EXPECT_EQ(invalid.outcome, PushOutcome::kRefused);
  EXPECT_EQ(invalid.detail, "INVALID_ARGUMENT: message.header.event: unknown");
  const PushResult precondition = SendDelivery(*client, "2");
  EXPECT_EQ(precondition.outcome, PushOutcome::kRefused);
  EXPECT_EQ(precondition.detail, "FAILED_PRECONDITION: client not registered");
}

TEST_F(GrpcPushClientTest, OtherStatusesAreRetried) {
  partner_.Script({{grpc::StatusCode::UNAVAILABLE, "overloaded"},
                   {grpc::StatusCode::INTERNAL, "bug"},
                   {grpc::StatusCode::PERMISSION_DENIED, "who are you"}});
  auto client = MustMake(Grpc(partner_.Address()));
  EXPECT_EQ(SendDelivery(*client, "1").detail, "UNAVAILABLE: overloaded");
  EXPECT_EQ(SendDelivery(*client, "2").outcome, PushOutcome::kFailed);
  EXPECT_EQ(SendDelivery(*client, "3").outcome, PushOutcome::kFailed);
  EXPECT_EQ(SendDelivery(*client, "4").outcome, PushOutcome::kDelivered);
}

TEST_F(GrpcPushClientTest, PartnerThatNeverAnswersHitsTheDeadline) {
  partner_.Script({{.hang = true}});
  auto client = MustMake(Grpc(partner_.Address(), /*timeout_ms=*/300));
  PushResult result;
  const absl::Duration took = Timed([&] { result = SendDelivery(*client, "1"); });
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, StartsWith("DEADLINE_EXCEEDED"));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_EQ(SendDelivery(*client, "2").outcome, PushOutcome::kDelivered);
}

TEST(GrpcPushClientDownTest, NobodyListeningIsARetryableFailure) {
  auto client = MustMake(Grpc(absl::StrCat("127.0.0.1:", ClosedPort())));
  const PushResult result = SendDelivery(*client, "1");
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, StartsWith("UNAVAILABLE: "));
}

TEST(GrpcPushClientTimeoutTest, SilentServerTimesOut) {
  SilentListener silent;
  auto client = MustMake(Grpc(silent.Address(), /*timeout_ms=*/200));
  PushResult result;
  const absl::Duration took = Timed([&] { result = SendDelivery(*client, "1"); });
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_LT(took, absl::Seconds(3));
}

TEST_F(GrpcPushClientTest, ReconnectsAfterThePartnerComesBack) {
  auto client = MustMake(Grpc(partner_.Address()));
  EXPECT_EQ(SendDelivery(*client, "1").outcome, PushOutcome::kDelivered);
  partner_.Stop();
  EXPECT_EQ(SendDelivery(*client, "2").outcome, PushOutcome::kFailed);
  ASSERT_TRUE(partner_.Start().ok());
  const PushResult result = SendDelivery(*client, "3");
  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
  EXPECT_EQ(partner_.deliveries().back().id(), "d-3");
}

TEST(GrpcPushClientTlsTest, ServerCertificateFromAnotherCaIsRefused) {
  GrpcReceiver partner(PartnerOptions{.tls_files = OtherCaPartnerTls()});
  ASSERT_TRUE(partner.Start().ok());
  auto client = MustMake(Grpc(partner.Address()));
  const PushResult result = SendDelivery(*client, "1");
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("certificate verify failed"));
  EXPECT_TRUE(partner.deliveries().empty());
}

TEST(GrpcPushClientTlsTest, ServerCertificateForAnotherAddressIsRefused) {
  // The partner's certificate names 127.0.0.1 only; it is reached as 127.0.0.2.
  GrpcReceiver partner(PartnerOptions{.host = "127.0.0.2"});
  ASSERT_TRUE(partner.Start().ok());
  auto client = MustMake(Grpc(partner.Address()));
  const PushResult result = SendDelivery(*client, "1");
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, StartsWith("UNAVAILABLE: "));
  EXPECT_TRUE(partner.deliveries().empty());
}

TEST_F(GrpcPushClientTest, CancelUnblocksASendInProgress) {
  partner_.Script({{.hang = true}});
  auto client = MustMake(Grpc(partner_.Address(), /*timeout_ms=*/60000));
  std::thread canceller([&] {
    partner_.WaitForDeliveries(1);
    client->Cancel();
  });
  PushResult result;
  const absl::Duration took = Timed([&] { result = SendDelivery(*client, "1"); });
  canceller.join();
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail, "cancelled");
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_EQ(SendDelivery(*client, "2").detail, "cancelled");
}

TEST_F(GrpcPushClientTest, RequestWithoutADeliveryIsRefused) {
  auto client = MustMake(Grpc(partner_.Address()));
  const PushResult result = client->Send(Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kRefused);
  EXPECT_TRUE(partner_.deliveries().empty());
}

}  // namespace
}  // namespace switchboard::testing
