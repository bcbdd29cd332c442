// WebhookClient against a real HTTPS partner (WebhookReceiver) on loopback.
#include "gateway/connectors/webhook_client.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/connectors/push_test_util.h"

namespace switchboard::testing {
namespace {

using connectors::PushOutcome;
using connectors::PushResult;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

v1::PushEndpoint Webhook(const std::string& url, uint32_t timeout_ms = 5000) {
  v1::PushEndpoint endpoint;
  endpoint.set_organisation_id("care-coord");
  endpoint.mutable_webhook()->set_url(url);
  endpoint.set_timeout_ms(timeout_ms);
  return endpoint;
}

class WebhookClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(partner_.Start().ok()); }

  WebhookReceiver partner_;
};

TEST_F(WebhookClientTest, PostsTheBytesWithIdsAndClientCertificate) {
  auto client = MustMake(Webhook(partner_.Url("/inbox?x=1")));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Describe(), "webhook " + partner_.Url("/inbox?x=1"));

  connectors::PushRequest request = Request("1", R"({"resourceType":"Bundle"})");
  request.content_type = "application/fhir+json";
  const PushResult result = client->Send(request);

  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
  EXPECT_EQ(result.detail, "HTTP 200");
  const std::vector<WebhookRequest> requests = partner_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const WebhookRequest& got = requests[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/inbox?x=1");
  EXPECT_EQ(got.body, R"({"resourceType":"Bundle"})");
  EXPECT_THAT(got.headers, Contains(Pair("content-type", "application/fhir+json")));
  EXPECT_THAT(got.headers, Contains(Pair("x-switchboard-message-id", "m-1")));
  EXPECT_THAT(got.headers, Contains(Pair("x-switchboard-delivery-id", "d-1")));
  EXPECT_THAT(got.headers, Contains(Pair("host", absl::StrCat("127.0.0.1:", partner_.port()))));
  EXPECT_EQ(got.client_san, ClientSan());
}

TEST_F(WebhookClientTest, KeepsOneConnectionAcrossSends) {
  auto client = MustMake(Webhook(partner_.Url()));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client->Send(Request(std::to_string(i))).outcome, PushOutcome::kDelivered);
  }
  EXPECT_EQ(partner_.requests().size(), 3u);
  EXPECT_EQ(partner_.connections(), 1);
}

TEST_F(WebhookClientTest, ClientErrorIsAPermanentRefusalWithTheBody) {
  partner_.Script({{.status = 422, .body = "unknown patient\nidentifier"}});
  auto client = MustMake(Webhook(partner_.Url()));
  const PushResult result = client->Send(Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kRefused);
  EXPECT_EQ(result.detail, "HTTP 422: unknown patient identifier");
}

TEST_F(WebhookClientTest, ServerErrorAndThrottlingAreRetried) {
  partner_.Script({{.status = 503, .body = "maintenance"}, {.status = 429}, {.status = 408}});
  auto client = MustMake(Webhook(partner_.Url()));
  const PushResult first = client->Send(Request("1"));
  EXPECT_EQ(first.outcome, PushOutcome::kFailed);
  EXPECT_EQ(first.detail, "HTTP 503: maintenance");
  EXPECT_EQ(client->Send(Request("2")).outcome, PushOutcome::kFailed);
  EXPECT_EQ(client->Send(Request("3")).outcome, PushOutcome::kFailed);
  EXPECT_EQ(client->Send(Request("4")).outcome, PushOutcome::kDelivered);
}

TEST_F(WebhookClientTest, LongBodyIsCutTo200BytesInTheDetail) {
  partner_.Script({{.status = 500, .body = std::string(5000, 'x')}});
  auto client = MustMake(Webhook(partner_.Url()));
  const PushResult result = client->Send(Request("1"));
  EXPECT_EQ(result.detail, "HTTP 500: " + std::string(200, 'x'));
}

TEST_F(WebhookClientTest, PartnerThatNeverAnswersTimesOutAndTheConnectionIsDropped) {
  partner_.Script({{.hang = true}});
  auto client = MustMake(Webhook(partner_.Url(), /*timeout_ms=*/200));
  PushResult result;
  const absl::Duration took = Timed([&] { result = client->Send(Request("1")); });
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("no answer within 200 ms"));
  EXPECT_LT(took, absl::Seconds(2));
  // The late answer must not be read as the next one's: a new connection.
  EXPECT_EQ(client->Send(Request("2")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(partner_.connections(), 2);
}

TEST(WebhookClientTimeoutTest, SilentServerTimesOutInTheTlsHandshake) {
  SilentListener silent;
  auto client = MustMake(Webhook(absl::StrCat("https://", silent.Address(), "/"), 200));
  PushResult result;
  const absl::Duration took = Timed([&] { result = client->Send(Request("1")); });
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, AllOf(HasSubstr("TLS handshake with " + silent.Address()),
                                   HasSubstr("no answer within 200 ms")));
  EXPECT_LT(took, absl::Seconds(2));
}

TEST(WebhookClientDownTest, NobodyListeningIsARetryableFailure) {
  const std::string address = absl::StrCat("127.0.0.1:", ClosedPort());
  auto client = MustMake(Webhook(absl::StrCat("https://", address, "/hook")));
  const PushResult result = client->Send(Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail, absl::StrCat("connect ", address, ": Connection refused"));
}

TEST_F(WebhookClientTest, ReconnectsAfterThePartnerComesBack) {
  auto client = MustMake(Webhook(partner_.Url()));
  EXPECT_EQ(client->Send(Request("1")).outcome, PushOutcome::kDelivered);
  partner_.Stop();
  const PushResult down = client->Send(Request("2"));
  EXPECT_EQ(down.outcome, PushOutcome::kFailed);
  EXPECT_THAT(down.detail, HasSubstr("Connection refused"));
  ASSERT_TRUE(partner_.Start().ok());
  EXPECT_EQ(client->Send(Request("3")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(partner_.requests().back().headers.at("x-switchboard-delivery-id"), "d-3");
}

TEST_F(WebhookClientTest, KeptConnectionClosedByThePartnerIsReplacedWithinTheSend) {
  auto client = MustMake(Webhook(partner_.Url()));
  EXPECT_EQ(client->Send(Request("1")).outcome, PushOutcome::kDelivered);
  partner_.Stop();  // the kept connection dies with it
  ASSERT_TRUE(partner_.Start().ok());
  const PushResult result = client->Send(Request("2"));
  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
  EXPECT_EQ(partner_.connections(), 2);
}

TEST_F(WebhookClientTest, ConnectionCloseFromThePartnerIsHonoured) {
  partner_.Script({{.status = 200, .close = true}});
  auto client = MustMake(Webhook(partner_.Url()));
  EXPECT_EQ(client->Send(Request("1")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(client->Send(Request("2")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(partner_.connections(), 2);
}

TEST(WebhookClientTlsTest, ServerCertificateFromAnotherCaIsRefused) {
  WebhookReceiver partner(PartnerOptions{.tls_files = OtherCaPartnerTls()});
  ASSERT_TRUE(partner.Start().ok());
  auto client = MustMake(Webhook(partner.Url()));
  const PushResult result = client->Send(Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, AllOf(HasSubstr("TLS handshake with 127.0.0.1:"),
                                   HasSubstr("certificate verify failed")));
  EXPECT_TRUE(partner.requests().empty());
}

TEST(WebhookClientTlsTest, ServerCertificateForAnotherAddressIsRefused) {
  // The partner's certificate names 127.0.0.1 only; it is reached as 127.0.0.2.
  WebhookReceiver partner(PartnerOptions{.host = "127.0.0.2"});
  ASSERT_TRUE(partner.Start().ok());
  auto client = MustMake(Webhook(partner.Url()));
  const PushResult result = client->Send(Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("IP address mismatch"));
  EXPECT_TRUE(partner.requests().empty());
}

TEST(WebhookClientTlsTest, ReachedByNameTheCertificateMustNameIt) {
  WebhookReceiver partner;
  ASSERT_TRUE(partner.Start().ok());
  // The certificate has DNS:localhost: reached by that name, it is good.
  auto client = MustMake(Webhook(absl::StrCat("https://localhost:", partner.port(), "/hook")));
  const PushResult result = client->Send(Request("1"));
  // localhost may resolve to ::1 first, where nothing listens: then 127.0.0.1.
  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
}

TEST_F(WebhookClientTest, CancelUnblocksASendInProgressAndLaterOnes) {
  partner_.Script({{.hang = true}});
  auto client = MustMake(Webhook(partner_.Url(), /*timeout_ms=*/60000));
  std::thread canceller([&] {
    partner_.WaitForRequests(1);
    client->Cancel();
  });
  PushResult result;
  const absl::Duration took = Timed([&] { result = client->Send(Request("1")); });
  canceller.join();
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail, "cancelled");
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_EQ(client->Send(Request("2")).detail, "cancelled");
  EXPECT_EQ(partner_.requests().size(), 1u);
}

}  // namespace
}  // namespace switchboard::testing
