// MakePushTransport's config checks and the transports' pure decisions (URL
// parsing, HTTP status / gRPC status / ACK to outcome). No network.
#include "gateway/connectors/push_transport.h"

#include <string>

#include "gateway/connectors/grpc_push_client.h"
#include "gateway/connectors/mllp_client.h"
#include "gateway/connectors/webhook_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/connectors/push_test_util.h"

namespace switchboard::testing {
namespace {

using connectors::PushOutcome;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPrefix[] = "push_endpoints[3]";

absl::Status MakeError(const v1::PushEndpoint& endpoint,
                       const connectors::PushTls& tls = ClientTls()) {
  return connectors::MakePushTransport(endpoint, tls, kPrefix).status();
}

v1::PushEndpoint WithWebhook(const std::string& url) {
  v1::PushEndpoint endpoint;
  endpoint.mutable_webhook()->set_url(url);
  return endpoint;
}

TEST(MakePushTransportTest, MakesEachTransportWithoutConnecting) {
  // Nothing listens on port 9 (discard): made anyway, connecting is Send's job.
  v1::PushEndpoint webhook = WithWebhook("https://partner.example:8443/hook");
  v1::PushEndpoint mllp;
  mllp.mutable_mllp()->set_address("127.0.0.1:9");
  mllp.mutable_mllp()->set_tls(true);
  v1::PushEndpoint plain_mllp;
  plain_mllp.mutable_mllp()->set_address("[::1]:9");
  v1::PushEndpoint grpc;
  grpc.mutable_grpc()->set_address("partner.example:443");
  EXPECT_EQ(MustMake(webhook)->Describe(), "webhook https://partner.example:8443/hook");
  EXPECT_EQ(MustMake(mllp)->Describe(), "mllp+tls 127.0.0.1:9");
  EXPECT_EQ(MustMake(plain_mllp)->Describe(), "mllp [::1]:9");
  EXPECT_EQ(MustMake(grpc)->Describe(), "grpc partner.example:443");
}

TEST(MakePushTransportTest, NoTransportIsNamed) {
  EXPECT_THAT(MakeError(v1::PushEndpoint()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "push_endpoints[3]: one of webhook, mllp or grpc is required"));
}

TEST(MakePushTransportTest, PlainHttpWebhookIsRefused) {
  EXPECT_THAT(MakeError(WithWebhook("http://partner.example/hook")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("push_endpoints[3].webhook.url: 'http://partner.example/"
                                        "hook' is not https://"),
                             HasSubstr("TLS only"))));
}

TEST(MakePushTransportTest, BadAddressesAreNamed) {
  v1::PushEndpoint mllp;
  mllp.mutable_mllp()->set_address("partner.example");
  EXPECT_THAT(MakeError(mllp),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "push_endpoints[3].mllp.address: 'partner.example' is not HOST:PORT "
                       "(e.g. 10.0.0.5:2575)"));
  v1::PushEndpoint grpc;
  grpc.mutable_grpc()->set_address("partner.example:99999");
  EXPECT_THAT(MakeError(grpc),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("push_endpoints[3].grpc.address: port '99999'")));
}

TEST(MakePushTransportTest, BadTlsMaterialIsNamed) {
  v1::PushEndpoint mllp;
  mllp.mutable_mllp()->set_address("127.0.0.1:2575");
  mllp.mutable_mllp()->set_tls(true);

  connectors::PushTls no_ca = ClientTls();
  no_ca.ca_pem = "not a certificate";
  EXPECT_THAT(MakeError(mllp, no_ca),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("tls.ca_cert_file: ")));

  connectors::PushTls wrong_key = ClientTls();
  wrong_key.key_pem = ReadPushTls(TestPki::Get().Member("st-marys")).key_pem;
  EXPECT_THAT(MakeError(mllp, wrong_key),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("tls.server_key_file: "), HasSubstr("mismatch"))));

  connectors::PushTls bad_webhook_ca = ClientTls();
  bad_webhook_ca.webhook_ca_pem = "garbage";
  EXPECT_THAT(MakeError(WithWebhook("https://127.0.0.1:8443/"), bad_webhook_ca),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("push_endpoints[3].webhook.ca_cert_file: ")));

  // Plain MLLP needs no TLS material at all.
  mllp.mutable_mllp()->set_tls(false);
  EXPECT_THAT(MakeError(mllp, connectors::PushTls()), IsOk());

  v1::PushEndpoint grpc;
  grpc.mutable_grpc()->set_address("127.0.0.1:443");
  EXPECT_THAT(MakeError(grpc, connectors::PushTls()),
              StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("tls.ca_cert_file: ")));
}

TEST(ParseWebhookUrlTest, Table) {
  struct Case {
    std::string url;
    std::string host;  // "" when refused
    int port = 443;
    std::string target = "/";
  };
  const Case cases[] = {
      {"https://partner.example/hook", "partner.example", 443, "/hook"},
      {"HTTPS://partner.example", "partner.example", 443, "/"},
      {"https://partner.example:8443/a/b?c=d", "partner.example", 8443, "/a/b?c=d"},
      {"https://partner.example?c=d", "partner.example", 443, "/?c=d"},
      {"https://10.0.0.5:9443/", "10.0.0.5", 9443, "/"},
      {"https://[::1]:9443/x", "::1", 9443, "/x"},
      {"https://[::1]/x", "::1", 443, "/x"},
      {"http://partner.example/hook", ""},
      {"ftp://partner.example/hook", ""},
      {"partner.example/hook", ""},
      {"https:///hook", ""},
      {"https://user:pw@partner.example/hook", ""},
      {"https://partner.example/hook#frag", ""},
      {"https://partner.example:0/", ""},
      {"https://partner.example:https/", ""},
      {"https://::1/x", ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<connectors::WebhookUrl> url = connectors::ParseWebhookUrl(c.url, "f");
    if (c.host.empty()) {
      EXPECT_THAT(url, StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("f: "))) << c.url;
      continue;
    }
    ASSERT_TRUE(url.ok()) << c.url << ": " << url.status();
    EXPECT_EQ(url->host, c.host) << c.url;
    EXPECT_EQ(url->port, c.port) << c.url;
    EXPECT_EQ(url->target, c.target) << c.url;
  }
}

TEST(WebhookOutcomeTest, Table) {
  const std::pair<int, PushOutcome> cases[] = {
      {200, PushOutcome::kDelivered}, {201, PushOutcome::kDelivered},
      {204, PushOutcome::kDelivered}, {299, PushOutcome::kDelivered},
      {400, PushOutcome::kRefused},   {401, PushOutcome::kRefused},
      {403, PushOutcome::kRefused},   {404, PushOutcome::kRefused},
      {409, PushOutcome::kRefused},   {422, PushOutcome::kRefused},
      {408, PushOutcome::kFailed},    {429, PushOutcome::kFailed},
      {500, PushOutcome::kFailed},    {502, PushOutcome::kFailed},
      {503, PushOutcome::kFailed},    {301, PushOutcome::kFailed},
      {100, PushOutcome::kFailed},
  };
  for (const auto& [status, outcome] : cases) {
    EXPECT_EQ(connectors::WebhookOutcome(status), outcome) << status;
  }
}

TEST(GrpcPushOutcomeTest, Table) {
  EXPECT_EQ(connectors::GrpcPushOutcome(grpc::StatusCode::OK), PushOutcome::kDelivered);
  EXPECT_EQ(connectors::GrpcPushOutcome(grpc::StatusCode::INVALID_ARGUMENT), PushOutcome::kRefused);
  EXPECT_EQ(connectors::GrpcPushOutcome(grpc::StatusCode::FAILED_PRECONDITION),
            PushOutcome::kRefused);
  for (grpc::StatusCode code :
       {grpc::StatusCode::CANCELLED, grpc::StatusCode::UNKNOWN, grpc::StatusCode::DEADLINE_EXCEEDED,
        grpc::StatusCode::NOT_FOUND, grpc::StatusCode::ALREADY_EXISTS,
        grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::RESOURCE_EXHAUSTED,
        grpc::StatusCode::ABORTED, grpc::StatusCode::UNIMPLEMENTED, grpc::StatusCode::INTERNAL,
        grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::UNAUTHENTICATED}) {
    EXPECT_EQ(connectors::GrpcPushOutcome(code), PushOutcome::kFailed) << code;
  }
}

TEST(ReadMllpAckTest, Table) {
  const std::string msh = "MSH|^~\\&|P|F|S|G|20240101120000||ACK^A03^ACK|A1|P|2.5\r";
  struct Case {
    std::string ack;
    PushOutcome outcome;
    std::string detail;
  };
  const Case cases[] = {
      {msh + "MSA|AA|MSG1\r", PushOutcome::kDelivered, "ACK AA"},
      {msh + "MSA|CA|MSG1\r", PushOutcome::kDelivered, "ACK CA"},
      {msh + "MSA|AA\r", PushOutcome::kDelivered, "ACK AA"},  // no MSA-2: not checked
      {msh + "MSA|AE|MSG1\rERR||PID^1^3|101^Required field missing^HL70357|E||||no MRN\r",
       PushOutcome::kRefused, "ACK AE: PID-3: no MRN"},
      {msh + "MSA|AR|MSG1|system down\r", PushOutcome::kRefused, "ACK AR: system down"},
      {msh + "MSA|CR|MSG1\rERR|||207^Application internal error^HL70357|E\r", PushOutcome::kRefused,
       "ACK CR: Application internal error"},
      {msh + "MSA|AE|MSG1\r", PushOutcome::kRefused, "ACK AE: (no reason given)"},
      {msh + "MSA|AE|MSG1\rERR|PID^1^3^101&Required field missing&HL70357\r", PushOutcome::kRefused,
       "ACK AE: PID-3: Required field missing"},  // v2.3: ERR-1 only
      {msh + "MSA|AA|MSG2\r", PushOutcome::kFailed,
       "ACK answers message 'MSG2', not the one sent ('MSG1')"},
      {msh + "MSA|XX|MSG1\r", PushOutcome::kFailed,
       "invalid ACK: MSA-1 'XX' is not AA, AE, AR, CA, CE or CR"},
      {msh, PushOutcome::kFailed, "invalid ACK: no MSA segment"},
  };
  for (const Case& c : cases) {
    const connectors::PushResult result = connectors::ReadMllpAck(c.ack, "MSG1");
    EXPECT_EQ(result.outcome, c.outcome) << c.ack;
    EXPECT_EQ(result.detail, c.detail) << c.ack;
  }
  EXPECT_EQ(connectors::ReadMllpAck(msh + "MSA|AA|ANY\r", "").outcome, PushOutcome::kDelivered);
  EXPECT_THAT(connectors::ReadMllpAck("garbage", "MSG1").detail, StartsWith("invalid ACK: "));
}

}  // namespace
}  // namespace switchboard::testing
