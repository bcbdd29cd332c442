// MllpClient against a real MLLP partner (MllpReceiver) on loopback, over TLS
// and plain TCP.
#include "gateway/connectors/mllp_client.h"

#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/connectors/push_test_util.h"

namespace switchboard::testing {
namespace {

using connectors::PushOutcome;
using connectors::PushResult;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::PushEndpoint Mllp(const std::string& address, bool tls, uint32_t timeout_ms = 5000) {
  v1::PushEndpoint endpoint;
  endpoint.set_organisation_id("care-coord");
  endpoint.mutable_mllp()->set_address(address);
  endpoint.mutable_mllp()->set_tls(tls);
  endpoint.set_timeout_ms(timeout_ms);
  return endpoint;
}

connectors::PushRequest Hl7Request(const std::string& n) {
  connectors::PushRequest request = Request(n, Hl7Message("MSG" + n));
  request.content_type = "x-application/hl7-v2+er7";
  return request;
}

// Every behaviour holds over TLS and over plain TCP.
class MllpClientTest : public ::testing::TestWithParam<bool> {
 protected:
  MllpClientTest() : partner_(PartnerOptions{.tls = GetParam()}) {}
  void SetUp() override { ASSERT_TRUE(partner_.Start().ok()); }

  std::unique_ptr<connectors::PushTransport> Client(uint32_t timeout_ms = 5000) {
    return MustMake(Mllp(partner_.Address(), GetParam(), timeout_ms));
  }

  MllpReceiver partner_;
};

INSTANTIATE_TEST_SUITE_P(TlsAndPlain, MllpClientTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tls" : "Plain"; });

TEST_P(MllpClientTest, AcceptAckIsDelivered) {
  auto client = Client();
  EXPECT_EQ(client->Describe(), (GetParam() ? "mllp+tls " : "mllp ") + partner_.Address());
  const PushResult result = client->Send(Hl7Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
  EXPECT_EQ(result.detail, "ACK AA");
  ASSERT_EQ(partner_.messages().size(), 1u);
  EXPECT_EQ(partner_.messages()[0].payload, Hl7Message("MSG1"));
  EXPECT_EQ(partner_.messages()[0].client_san, GetParam() ? ClientSan() : "");
}

TEST_P(MllpClientTest, KeepsOneConnectionAcrossSends) {
  auto client = Client();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client->Send(Hl7Request(std::to_string(i))).outcome, PushOutcome::kDelivered);
  }
  EXPECT_EQ(partner_.connections(), 1);
}

TEST_P(MllpClientTest, ErrorAndRejectAcksAreRefusalsWithTheReason) {
  partner_.Script({{.code = "AE", .text = "PID-3: unknown MRN"}, {.code = "AR", .text = "busy"}});
  auto client = Client();
  const PushResult error = client->Send(Hl7Request("1"));
  EXPECT_EQ(error.outcome, PushOutcome::kRefused);
  EXPECT_EQ(error.detail, "ACK AE: PID-3: unknown MRN");
  const PushResult reject = client->Send(Hl7Request("2"));
  EXPECT_EQ(reject.outcome, PushOutcome::kRefused);
  EXPECT_EQ(reject.detail, "ACK AR: busy");
  // A refusal is an answer: the connection stays.
  EXPECT_EQ(partner_.connections(), 1);
}

TEST_P(MllpClientTest, NoAckTimesOutAndTheConnectionIsDropped) {
  partner_.Script({{.hang = true}});
  auto client = Client(/*timeout_ms=*/200);
  PushResult result;
  const absl::Duration took = Timed([&] { result = client->Send(Hl7Request("1")); });
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail,
            absl::StrCat("read ACK from ", partner_.Address(), ": no answer within 200 ms"));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(client->Send(Hl7Request("2")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(partner_.connections(), 2);
}

TEST_P(MllpClientTest, AckForAnotherMessageIsAFailureAndDropsTheConnection) {
  const std::string other_ack =
      "MSH|^~\\&|P|F|S|G|20240101120000||ACK^A03^ACK|X1|P|2.5\rMSA|AA|MSG999\r";
  partner_.Script({{.raw = "\x0b" + other_ack + "\x1c\x0d"}});
  auto client = Client();
  const PushResult result = client->Send(Hl7Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail, "ACK answers message 'MSG999', not the one sent ('MSG1')");
  EXPECT_EQ(client->Send(Hl7Request("2")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(partner_.connections(), 2);
}

TEST_P(MllpClientTest, BrokenAnswerIsAFailure) {
  partner_.Script({{.raw = "hello\x1c\x0d"}, {.raw = "\x0bnot hl7\x1c\x0d"}});
  auto client = Client();
  const PushResult unframed = client->Send(Hl7Request("1"));
  EXPECT_EQ(unframed.outcome, PushOutcome::kFailed);
  EXPECT_THAT(unframed.detail, HasSubstr("bytes outside an MLLP frame"));
  const PushResult not_hl7 = client->Send(Hl7Request("2"));
  EXPECT_EQ(not_hl7.outcome, PushOutcome::kFailed);
  EXPECT_THAT(not_hl7.detail, StartsWith("invalid ACK: "));
}

TEST_P(MllpClientTest, ReconnectsAfterThePartnerComesBack) {
  auto client = Client();
  EXPECT_EQ(client->Send(Hl7Request("1")).outcome, PushOutcome::kDelivered);
  partner_.Stop();
  const PushResult down = client->Send(Hl7Request("2"));
  EXPECT_EQ(down.outcome, PushOutcome::kFailed);
  EXPECT_THAT(down.detail, HasSubstr("Connection refused"));
  ASSERT_TRUE(partner_.Start().ok());
  EXPECT_EQ(client->Send(Hl7Request("3")).outcome, PushOutcome::kDelivered);
  EXPECT_EQ(partner_.messages().back().payload, Hl7Message("MSG3"));
}

TEST_P(MllpClientTest, KeptConnectionClosedByThePartnerIsReplacedWithinTheSend) {
  auto client = Client();
  EXPECT_EQ(client->Send(Hl7Request("1")).outcome, PushOutcome::kDelivered);
  partner_.Stop();
  ASSERT_TRUE(partner_.Start().ok());
  const PushResult result = client->Send(Hl7Request("2"));
  EXPECT_EQ(result.outcome, PushOutcome::kDelivered) << result.detail;
}

TEST_P(MllpClientTest, CancelUnblocksASendInProgress) {
  partner_.Script({{.hang = true}});
  auto client = Client(/*timeout_ms=*/60000);
  std::thread canceller([&] {
    partner_.WaitForMessages(1);
    client->Cancel();
  });
  const PushResult result = client->Send(Hl7Request("1"));
  canceller.join();
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail, "cancelled");
  EXPECT_EQ(client->Send(Hl7Request("2")).detail, "cancelled");
}

TEST(MllpClientDownTest, NobodyListeningIsARetryableFailure) {
  const std::string address = absl::StrCat("127.0.0.1:", ClosedPort());
  auto client = MustMake(Mllp(address, /*tls=*/false));
  const PushResult result = client->Send(Hl7Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_EQ(result.detail, absl::StrCat("connect ", address, ": Connection refused"));
}

TEST(MllpClientTimeoutTest, SilentServerTimesOut) {
  SilentListener silent;
  for (bool tls : {true, false}) {
    auto client = MustMake(Mllp(silent.Address(), tls, /*timeout_ms=*/200));
    PushResult result;
    const absl::Duration took = Timed([&] { result = client->Send(Hl7Request("1")); });
    EXPECT_EQ(result.outcome, PushOutcome::kFailed);
    EXPECT_THAT(result.detail, HasSubstr("no answer within 200 ms"));
    EXPECT_LT(took, absl::Seconds(2));
  }
}

TEST(MllpClientTlsTest, ServerCertificateFromAnotherCaIsRefused) {
  MllpReceiver partner(PartnerOptions{.tls_files = OtherCaPartnerTls()});
  ASSERT_TRUE(partner.Start().ok());
  auto client = MustMake(Mllp(partner.Address(), /*tls=*/true));
  const PushResult result = client->Send(Hl7Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, AllOf(HasSubstr("TLS handshake with " + partner.Address()),
                                   HasSubstr("certificate verify failed")));
  EXPECT_TRUE(partner.messages().empty());
}

TEST(MllpClientTlsTest, ServerCertificateForAnotherAddressIsRefused) {
  MllpReceiver partner(PartnerOptions{.host = "127.0.0.2"});
  ASSERT_TRUE(partner.Start().ok());
  auto client = MustMake(Mllp(partner.Address(), /*tls=*/true));
  const PushResult result = client->Send(Hl7Request("1"));
  EXPECT_EQ(result.outcome, PushOutcome::kFailed);
  EXPECT_THAT(result.detail, HasSubstr("IP address mismatch"));
}

}  // namespace
}  // namespace switchboard::testing
