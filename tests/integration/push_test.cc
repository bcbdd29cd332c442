// Push delivery end to end: the real gateway pushes to partner servers run by the
// test (HTTPS webhook, MLLP, gRPC DeliveryReceiver) over real sockets with the
// test PKI, through the members' adapters: retries in order, dead letters and
// replay (through sbctl), consent decided again at replay, a stuck endpoint that
// holds up nobody else, and a pushed member's Subscribe refused.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "adapters/hl7v2/er7.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/v1/consents.grpc.pb.h"
#include "tests/integration/hl7_samples.h"
#include "tests/integration/integration_fixture.h"
#include "tests/integration/mllp_sender.h"
#include "tests/integration/partner_servers.h"

namespace switchboard::testing {
namespace {

namespace hl7 = adapters::hl7v2;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Each member issues its own identifiers; deliveries name the client by the
// recipient's own identifier when the client has one.
constexpr char kAuthorities[] = R"(
identifier_authorities { system: "https://st-marys.example.org/fhir/mrn" organisation_ids: "st-marys" }
identifier_authorities { system: "https://harbour-housing.example.org/case" organisation_ids: "harbour-housing" }
)";

constexpr char kHousingFhirBinding[] = R"(
adapter_bindings {
  organisation_id: "harbour-housing"
  config { [type.googleapis.com/switchboard.v1.adapters.FhirConfig] { source: "harbour-housing" } }
}
)";

// The X-Switchboard-Message-Id of each request, in order.
std::vector<std::string> MessageIds(const std::vector<WebhookRequest>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    auto it = r.headers.find("x-switchboard-message-id");
    out.push_back(it == r.headers.end() ? "<none>" : it->second);
  }
  return out;
}

// Runs sbctl as `org` against the gateway; returns its exit code and stdout.
int Sbctl(const GatewayProcess& gw, const std::string& org, const std::string& args,
          std::string* out) {
  const CertFiles c = TestPki::Get().Member(org);
  out->clear();
  return RunCommand(absl::StrCat(BinaryDir(), "/tools/cli/sbctl --addr ", gw.address(), " --ca ",
                                 c.ca, " --cert ", c.cert, " --key ", c.key, " ", args, " 2>&1"),
                    out);
}

// A webhook endpoint block for harbour-housing.
std::string WebhookEndpoint(const std::string& url, const std::string& extra) {
  return absl::StrCat("push_endpoints { organisation_id: \"harbour-housing\" webhook { url: \"",
                      url, "\" } ", extra, " }\n");
}

class PushTest : public GatewayTest {
 protected:
  // Set by each test before SetUp starts the gateway (see Options()).
  std::string extra_config_;
  bool mllp_ = false;

  GatewayOptions Options() override {
    GatewayOptions o;
    o.extra_config = absl::StrCat(kAuthorities, extra_config_);
    o.mllp = mllp_;
    return o;
  }

  // Starts the gateway now (tests set up their partners first).
  void StartGateway() { GatewayTest::SetUp(); }
  void SetUp() override {}
};

TEST_F(PushTest, Hl7OverMllpReachesHousingAsFhirOnItsWebhookAndFamilyByPull) {
  WebhookReceiver housing;
  ASSERT_TRUE(housing.Start().ok());
  extra_config_ = absl::StrCat(kStMarysHl7Binding, kHousingFhirBinding,
                               WebhookEndpoint(housing.Url("/switchboard/inbox"), ""));
  mllp_ = true;
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto family = Subscribe("northside-family");

  const CertFiles hospital_cert = TestPki::Get().Member("st-marys");
  MllpSender hospital(gateway_->mllp_address(), &hospital_cert);
  ASSERT_TRUE(hospital.connected());
  absl::StatusOr<hl7::Message> ack = hospital.Send(AdtA03("ADT-7001", "PUSH-MARKER-7001"));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(hl7::Get(*ack, "MSA-1").value_or(""), "AA");

  // Housing: a FHIR message Bundle on its webhook, with the ids in headers and
  // the gateway's client certificate.
  ASSERT_TRUE(housing.WaitForRequests(1));
  const WebhookRequest r = housing.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/switchboard/inbox");
  EXPECT_EQ(r.headers.at("content-type"), "application/fhir+json");
  EXPECT_EQ(r.headers.at("x-switchboard-message-id"), "ADT-7001");
  EXPECT_THAT(r.headers.at("x-switchboard-delivery-id"), StartsWith("dlv-"));
  EXPECT_EQ(r.client_san, "spiffe://switchboard.example/gateway");
  EXPECT_THAT(r.body, HasSubstr("\"resourceType\":\"Bundle\""));
  EXPECT_THAT(r.body, HasSubstr("\"type\":\"message\""));
  EXPECT_THAT(r.body, HasSubstr("PUSH-MARKER-7001"));
  // Housing's own case number is how it knows the client.
  EXPECT_THAT(r.body, HasSubstr("HH-1"));

  // Family: pulls the canonical message over gRPC.
  std::optional<v1::Delivery> d = family->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "ADT-7001");
  EXPECT_THAT(d->message().DebugString(), HasSubstr("PUSH-MARKER-7001"));
  family->AckAll({*d});

  // The hospital sees housing's delivery DELIVERED after one attempt.
  v1::MessageStatus status;
  ASSERT_TRUE(As("st-marys")->Status("ADT-7001", &status).ok());
  bool seen = false;
  for (const auto& delivery : status.deliveries()) {
    if (delivery.recipient() != "harbour-housing") continue;
    seen = true;
    EXPECT_EQ(delivery.state(), v1::Delivery::DELIVERED);
    EXPECT_EQ(delivery.attempts(), 1u);
  }
  EXPECT_TRUE(seen);
}

TEST_F(PushTest, FhirInHl7OutOverMllpToTheHospital) {
  MllpReceiver hospital;
  ASSERT_TRUE(hospital.Start().ok());
  extra_config_ = absl::StrCat(kStMarysHl7Binding, kHousingFhirBinding,
                               "push_endpoints { organisation_id: \"st-marys\" mllp { address: \"",
                               hospital.Address(), "\" tls: true } }\n");
  ASSERT_NO_FATAL_FAILURE(StartGateway());

  // harbour-housing's case note as a FHIR message Bundle about its case HH-1.
  std::string bundle = ReadSource("tests/data/fhir/case_note_bundle.json");
  bundle = absl::StrReplaceAll(bundle, {{"county-social", "harbour-housing"},
                                        {"https://fhir.nhs.uk/Id/nhs-number", kHousingSystem},
                                        {"9434765919", "HH-1"}});
  v1::Receipt receipt;
  grpc::Status s = As("harbour-housing")->PublishRaw("application/fhir+json", bundle, &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();

  ASSERT_TRUE(hospital.WaitForMessages(1));
  const MllpMessage m = hospital.messages()[0];
  EXPECT_EQ(m.client_san, "spiffe://switchboard.example/gateway");
  absl::StatusOr<hl7::Message> parsed = hl7::ParseEr7(m.payload);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << m.payload;
  EXPECT_EQ(hl7::Get(*parsed, "MSH-9").value_or(""), "MDM") << m.payload;
  EXPECT_EQ(hl7::Get(*parsed, "MSH-9.2").value_or(""), "T02") << m.payload;
  // st-marys knows the client by its MRN (the gateway's cross-reference).
  EXPECT_EQ(hl7::Get(*parsed, "PID-3").value_or(""), "MRN-1") << m.payload;
  EXPECT_EQ(hl7::Get(*parsed, "PID-3.4").value_or(""), "STMARYS") << m.payload;

  // A pushed member cannot also Subscribe.
  auto sub = Subscribe("st-marys");
  std::optional<grpc::Status> ended = sub->WaitEnded();
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(ended->error_message(), HasSubstr("pushed"));
}

TEST_F(PushTest, AFailingWebhookIsRetriedWithBackoffAndTheOrderIsKept) {
  WebhookReceiver housing;
  ASSERT_TRUE(housing.Start().ok());
  housing.Script({{.status = 503, .body = "busy"}, {.status = 500}});
  extra_config_ = WebhookEndpoint(housing.Url(), "initial_backoff_ms: 20 max_backoff_ms: 50");
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto hospital = As("st-marys");
  for (const char* id : {"d-1", "d-2", "d-3"}) ASSERT_TRUE(hospital->Publish(Discharge(id)).ok());

  ASSERT_TRUE(housing.WaitForRequests(5));
  // The first is tried three times before the second moves.
  EXPECT_THAT(MessageIds(housing.requests()), ElementsAre("d-1", "d-1", "d-1", "d-2", "d-3"));
  // Without an adapter binding, housing gets the Delivery as protobuf JSON.
  EXPECT_EQ(housing.requests()[0].headers.at("content-type"), "application/json");
  EXPECT_THAT(housing.requests()[0].body, HasSubstr("\"messageId\":\"d-1\""));
  v1::MessageStatus status;
  ASSERT_TRUE(hospital->Status("d-1", &status).ok());
  for (const auto& d : status.deliveries()) {
    if (d.recipient() == "harbour-housing") {
      EXPECT_EQ(d.attempts(), 3u);
    }
  }
}

TEST_F(PushTest, AnEndpointThatStaysDownDeadLettersThenReplayDeliversOnceItIsBack) {
  WebhookReceiver housing;
  ASSERT_TRUE(housing.Start().ok());
  // Down (503) for six requests: d-1 and d-2 use up their three attempts each.
  housing.Script(std::vector<WebhookReply>(6, WebhookReply{.status = 503, .body = "down"}));
  extra_config_ = WebhookEndpoint(
      housing.Url(),
      "initial_backoff_ms: 5 max_backoff_ms: 10 max_attempts: 3 breaker_failures: 100");
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto hospital = As("st-marys");
  ASSERT_TRUE(hospital->Publish(Discharge("d-1")).ok());
  ASSERT_TRUE(hospital->Publish(Discharge("d-2")).ok());
  ASSERT_TRUE(housing.WaitForRequests(6));
  // Back up: d-3 goes through, so d-1 and d-2 are dead letters by now (in order).
  ASSERT_TRUE(hospital->Publish(Discharge("d-3")).ok());
  ASSERT_TRUE(housing.WaitForRequests(7));
  EXPECT_THAT(MessageIds(housing.requests()),
              ElementsAre("d-1", "d-1", "d-1", "d-2", "d-2", "d-2", "d-3"));

  std::string out;
  ASSERT_EQ(Sbctl(*gateway_, "harbour-housing", "dlq list", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("d-1"));
  EXPECT_THAT(out, HasSubstr("d-2"));
  EXPECT_THAT(out, HasSubstr("gave up after 3 attempts: HTTP 503"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("d-3")));
  // Another member sees none of them; an admin can look on housing's behalf.
  ASSERT_EQ(Sbctl(*gateway_, "northside-family", "dlq list", &out), 0) << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("d-1")));
  ASSERT_EQ(Sbctl(*gateway_, "admin", "dlq list --org harbour-housing", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("d-2"));
  ASSERT_NE(Sbctl(*gateway_, "northside-family", "dlq list --org harbour-housing", &out), 0);
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED"));

  ASSERT_EQ(Sbctl(*gateway_, "harbour-housing", "endpoint status", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("webhook https://127.0.0.1:"));
  EXPECT_THAT(out, HasSubstr("CLOSED"));
  EXPECT_THAT(out, HasSubstr("2 dead-lettered"));

  ASSERT_EQ(Sbctl(*gateway_, "harbour-housing", "dlq replay --all", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("queued again: 2"));
  ASSERT_TRUE(housing.WaitForRequests(9));
  EXPECT_THAT(MessageIds(housing.requests()),
              ElementsAre("d-1", "d-1", "d-1", "d-2", "d-2", "d-2", "d-3", "d-1", "d-2"));
  // Nothing left to replay; a replay of a delivered one is refused by name.
  ASSERT_EQ(Sbctl(*gateway_, "harbour-housing", "dlq list", &out), 0) << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("d-1")));
  v1::MessageStatus status;
  ASSERT_TRUE(hospital->Status("d-1", &status).ok());
  std::string housing_delivery;
  for (const auto& d : status.deliveries()) {
    if (d.recipient() != "harbour-housing") continue;
    housing_delivery = d.id();
    EXPECT_EQ(d.state(), v1::Delivery::DELIVERED);
  }
  ASSERT_NE(Sbctl(*gateway_, "harbour-housing", "dlq replay " + housing_delivery, &out), 0);
  EXPECT_THAT(out, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(out, HasSubstr("not DEAD_LETTERED"));
}

TEST_F(PushTest, AReplayAfterARevocationIsWithheldNotSent) {
  WebhookReceiver housing;
  ASSERT_TRUE(housing.Start().ok());
  housing.Script({{.status = 422, .body = "unknown case"}});  // refused: a dead letter at once
  extra_config_ = WebhookEndpoint(housing.Url(), "");
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto hospital = As("st-marys");
  ASSERT_TRUE(hospital->Publish(Discharge("d-1")).ok());
  ASSERT_TRUE(housing.WaitForRequests(1));
  // d-2 about another client arrives after d-1 was dead-lettered.
  ASSERT_TRUE(hospital->Publish(Discharge("d-2", "MRN-2")).ok());
  ASSERT_TRUE(housing.WaitForRequests(2));

  // The client now refuses harbour-housing everything.
  v1::RecordConsentRequest request;
  v1::Consent* c = request.mutable_consent();
  c->set_id("no-housing");
  c->set_status(v1::Consent::ACTIVE);
  c->mutable_client()->set_system(kMrnSystem);
  c->mutable_client()->set_value("MRN-1");
  c->set_source_reference("care-coord:forms/no-housing.pdf");
  c->mutable_provision()->set_type(v1::ConsentProvision::PERMIT);
  v1::ConsentProvision* deny = c->mutable_provision()->add_provisions();
  deny->set_type(v1::ConsentProvision::DENY);
  deny->add_actors()->set_organisation_id("harbour-housing");
  v1::Consent recorded;
  auto consents =
      v1::Consents::NewStub(MakeChannel(gateway_->address(), TestPki::Get().Member("st-marys")));
  grpc::Status s = consents->Record(Ctx().get(), request, &recorded);
  ASSERT_TRUE(s.ok()) << s.error_message();

  std::string out;
  ASSERT_EQ(Sbctl(*gateway_, "harbour-housing", "dlq replay --all", &out), 0) << out;
  // Then another message about client B, which housing may still receive.
  ASSERT_TRUE(hospital->Publish(Discharge("d-3", "MRN-2")).ok());
  ASSERT_TRUE(housing.WaitForRequests(3));
  // d-1 was not sent again: the request after d-2 is d-3.
  EXPECT_THAT(MessageIds(housing.requests()), ElementsAre("d-1", "d-2", "d-3"));
  // And it is no longer housing's to see at all.
  ASSERT_EQ(Sbctl(*gateway_, "harbour-housing", "dlq list", &out), 0) << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("d-1")));
  v1::MessageStatus status;
  ASSERT_TRUE(hospital->Status("d-1", &status).ok());
  for (const auto& d : status.deliveries()) {
    if (d.recipient() == "harbour-housing") {
      EXPECT_EQ(d.state(), v1::Delivery::WITHHELD);
    }
  }
}

TEST_F(PushTest, AStuckEndpointHoldsUpNobodyElse) {
  SilentListener stuck;  // housing's endpoint accepts and never answers
  GrpcReceiver family;
  ASSERT_TRUE(family.Start().ok());
  extra_config_ =
      absl::StrCat(WebhookEndpoint(absl::StrCat("https://127.0.0.1:", stuck.port(), "/hook"),
                                   "timeout_ms: 60000"),
                   "push_endpoints { organisation_id: \"northside-family\" grpc { address: \"",
                   family.Address(), "\" } }\n");
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto hospital = As("st-marys");
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    ids.push_back(absl::StrCat("d-", i));
    ASSERT_TRUE(hospital->Publish(Discharge(ids.back())).ok());
  }
  // All five reach the family service while housing's first send hangs.
  ASSERT_TRUE(family.WaitForDeliveries(5));
  std::vector<std::string> got;
  for (const auto& d : family.deliveries()) {
    got.push_back(d.message_id());
    EXPECT_EQ(d.recipient(), "northside-family");
    EXPECT_TRUE(d.has_message());
  }
  EXPECT_THAT(got, ElementsAreArray(ids));
  EXPECT_THAT(family.client_sans(),
              ::testing::Each(HasSubstr("spiffe://switchboard.example/gateway")));
}

}  // namespace
}  // namespace switchboard::testing
