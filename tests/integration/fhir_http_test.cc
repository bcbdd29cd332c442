// FHIR over HTTPS end to end: `POST /fhir/$process-message` to the real gateway
// with real certificates (a Beast HTTPS client here), the response Bundle once
// durable, delivery to the care team, idempotent re-posts, OperationOutcomes with
// the HTTP status of each refusal, HTTP-level errors, and keep-alive after them.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/integration/hl7_samples.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kFhir[] = "application/fhir+json";
constexpr char kPath[] = "/fhir/$process-message";
constexpr uint32_t kLimit = 256 << 10;

using Response = http::response<http::string_body>;

// A minimal HTTPS/1.1 client on one kept-alive connection: trusts the test CA,
// presents `cert` if given. Every operation has a deadline (no hang on a bug).
class HttpsClient {
 public:
  HttpsClient(const std::string& address, const CertFiles* cert)
      : ssl_(asio::ssl::context::tls_client) {
    beast::error_code ec;
    ssl_.load_verify_file(TestPki::Get().ca(), ec);
    ssl_.set_verify_mode(asio::ssl::verify_peer, ec);
    if (cert != nullptr) {
      ssl_.use_certificate_chain_file(cert->cert, ec);
      ssl_.use_private_key_file(cert->key, asio::ssl::context::pem, ec);
    }
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, ssl_);
    const size_t colon = address.rfind(':');
    asio::ip::tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(address.substr(0, colon), address.substr(colon + 1), ec);
    if (!ec) beast::get_lowest_layer(*stream_).connect(endpoints, ec);
    if (!ec) {
      Deadline();
      stream_->async_handshake(asio::ssl::stream_base::client,
                               [&ec](const beast::error_code& e) { ec = e; });
      Run();
    }
    error_ = ec;
  }

  bool connected() const { return !error_; }

  absl::StatusOr<Response> Send(http::verb method, const std::string& target,
                                const std::string& body, const std::string& content_type = kFhir) {
    if (!connected()) return absl::UnavailableError(error_.message());
    http::request<http::string_body> request(method, target, 11);
    request.set(http::field::host, "127.0.0.1");
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    request.body() = body;
    request.keep_alive(true);
    request.prepare_payload();
    beast::error_code ec;
    Deadline();
    http::async_write(*stream_, request, [&ec](const beast::error_code& e, size_t) { ec = e; });
    Run();
    if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
    Response response;
    Deadline();
    http::async_read(*stream_, buffer_, response,
                     [&ec](const beast::error_code& e, size_t) { ec = e; });
    Run();
    if (ec) return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
    return response;
  }

  absl::StatusOr<Response> Post(const std::string& body, const std::string& content_type = kFhir) {
    return Send(http::verb::post, kPath, body, content_type);
  }

 private:
  void Deadline() { beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(20)); }
  void Run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  asio::ssl::context ssl_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  beast::error_code error_;
};

// The sample case note re-addressed to the test federation: sent by
// harbour-housing about client-a (HH-1).
std::string HousingCaseNote(const std::string& id = "CSC-NOTE-20240402-0017") {
  std::string bundle = ReadSource("tests/data/fhir/case_note_bundle.json");
  EXPECT_THAT(bundle, HasSubstr("county-social"));
  return absl::StrReplaceAll(
      bundle, {{R"("value": "county-social")", R"("value": "harbour-housing")"},
               {R"("value": "CSC-NOTE-20240402-0017")", absl::StrCat(R"("value": ")", id, R"(")")},
               {R"({ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919" })",
                absl::StrCat(R"({ "system": ")", kHousingSystem, R"(", "value": "HH-1" })")}});
}

std::string Replace(const std::string& text, const std::string& from, const std::string& to) {
  EXPECT_THAT(text, HasSubstr(from));
  return absl::StrReplaceAll(text, {{from, to}});
}

rapidjson::Document Json(const Response& response) {
  rapidjson::Document doc;
  doc.Parse(response.body().c_str());
  EXPECT_FALSE(doc.HasParseError()) << response.body();
  return doc;
}

// The HTTP status of an answer; `unknown` when there was none.
http::status ResultOf(const absl::StatusOr<Response>& response) {
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? response->result() : http::status::unknown;
}

std::string Field(const Response& response, http::field field) {
  auto value = response[field];
  return std::string(value.data(), value.size());
}

// The single issue of an OperationOutcome answer.
struct Issue {
  std::string severity, code, diagnostics, expression;
};

Issue IssueOf(const Response& response) {
  Issue issue;
  EXPECT_EQ(Field(response, http::field::content_type), kFhir);
  rapidjson::Document doc = Json(response);
  if (!doc.IsObject() || !doc.HasMember("issue")) {
    ADD_FAILURE() << "not an OperationOutcome: " << response.body();
    return issue;
  }
  EXPECT_STREQ(doc["resourceType"].GetString(), "OperationOutcome");
  const rapidjson::Value& first = doc["issue"][0];
  issue.severity = first["severity"].GetString();
  issue.code = first["code"].GetString();
  issue.diagnostics = first["diagnostics"].GetString();
  if (first.HasMember("expression")) issue.expression = first["expression"][0].GetString();
  return issue;
}

class FhirHttpTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions options;
    options.https = true;
    options.max_message_bytes = kLimit;
    // harbour-housing speaks FHIR, st-marys HL7 v2; northside-family has no binding.
    options.extra_config = absl::StrCat(kStMarysHl7Binding, R"(
adapter_bindings {
  organisation_id: "harbour-housing"
  config {
    [type.googleapis.com/switchboard.v1.adapters.FhirConfig] { source: "harbour-housing" }
  }
}
)");
    return options;
  }

  std::unique_ptr<HttpsClient> Connect(const std::string& org) {
    const CertFiles cert = TestPki::Get().Member(org);
    auto client = std::make_unique<HttpsClient>(gateway_->https_address(), &cert);
    EXPECT_TRUE(client->connected());
    return client;
  }

  // Nothing of `message_id` was stored: no status, no delivery to the care team.
  void ExpectNothingStored(const std::string& message_id) {
    EXPECT_EQ(As("harbour-housing")->Status(message_id).error_code(), grpc::StatusCode::NOT_FOUND)
        << message_id;
  }
};

TEST_F(FhirHttpTest, ValidBundleGetsTheResponseBundleAndIsDelivered) {
  ASSERT_THAT(gateway_->https_address(), StartsWith("127.0.0.1:"));
  auto housing = Connect("harbour-housing");
  absl::StatusOr<Response> response = housing->Post(HousingCaseNote());
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->result(), http::status::ok) << response->body();
  EXPECT_EQ(Field(*response, http::field::content_type), kFhir);
  rapidjson::Document doc = Json(*response);
  EXPECT_STREQ(doc["resourceType"].GetString(), "Bundle");
  EXPECT_STREQ(doc["type"].GetString(), "message");
  const rapidjson::Value& header = doc["entry"][0]["resource"];
  EXPECT_STREQ(header["resourceType"].GetString(), "MessageHeader");
  EXPECT_STREQ(header["response"]["identifier"].GetString(), "CSC-NOTE-20240402-0017");
  EXPECT_STREQ(header["response"]["code"].GetString(), "ok");
  EXPECT_STREQ(header["eventCoding"]["code"].GetString(), "case-note");

  // Another member of client-a's care team gets it.
  auto hospital = Subscribe("st-marys");
  auto d = hospital->Next();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_id(), "CSC-NOTE-20240402-0017");
  EXPECT_EQ(d->message().header().source(), "harbour-housing");
  EXPECT_EQ(d->message().header().event(), "case-note");
  EXPECT_EQ(d->message().header().client().value(), "HH-1");
  ASSERT_TRUE(d->message().has_case_note());
  EXPECT_EQ(d->message().case_note().domain(), "housing");
  hospital->Ack({d->id()});
  EXPECT_TRUE(hospital->Close().ok());
}

TEST_F(FhirHttpTest, SameBundleTwiceGetsTheSameAnswerAndOneDelivery) {
  auto housing = Connect("harbour-housing");
  absl::StatusOr<Response> first = housing->Post(HousingCaseNote("HH-TWICE-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->result(), http::status::ok) << first->body();
  absl::StatusOr<Response> second = housing->Post(HousingCaseNote("HH-TWICE-1"));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->result(), http::status::ok) << second->body();
  EXPECT_EQ(first->body(), second->body());

  auto family = Subscribe("northside-family");
  std::vector<v1::Delivery> got = family->Take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), "HH-TWICE-1");
  family->AckAll(got);
  EXPECT_THAT(family->Drain(absl::Seconds(2)), IsEmpty());
}

// Bodies that are not a FHIR message at all are 400; a message whose content is
// refused is 422. Either way the location is named and nothing is stored.
TEST_F(FhirHttpTest, RefusedContentIsAnOperationOutcomeNamingTheProblem) {
  const std::string valid = HousingCaseNote("HH-BAD-1");
  struct Case {
    std::string name;
    std::string body;
    http::status status;
    std::string diagnostics;  // its start
    std::string expression;
    std::string code = "invalid";  // empty: not checked
  };
  const std::vector<Case> cases = {
      {"malformed JSON", R"({"resourceType": "Bundle", )", http::status::bad_request,
       "Bundle: not JSON at offset", "Bundle"},
      {"wrong resourceType",
       Replace(valid, R"("resourceType": "Bundle")", R"("resourceType": "Parameters")"),
       http::status::bad_request, "Bundle.resourceType: 'Parameters' is not a Bundle",
       "Bundle.resourceType"},
      {"no MessageHeader",
       Replace(valid, R"("resourceType": "MessageHeader")", R"("resourceType": "Basic")"),
       http::status::bad_request,
       "Bundle.entry[0].resource: the first entry must be a MessageHeader",
       "Bundle.entry[0].resource"},
      {"bad date",
       Replace(valid, R"("timestamp": "2024-04-02T10:15:30.250+01:00")",
               R"("timestamp": "2024-13-02T10:15:30+01:00")"),
       http::status::unprocessable_entity, "Bundle.timestamp: '2024-13-02T10:15:30+01:00'",
       "Bundle.timestamp"},
      {"missing sender",
       Replace(valid, R"("sender": { "identifier")", R"("origin": { "identifier")"),
       http::status::unprocessable_entity,
       "Bundle.entry[0].resource(MessageHeader).sender: required",
       "Bundle.entry[0].resource(MessageHeader).sender"},
      {"unknown event", Replace(valid, R"("code": "case-note")", R"("code": "case-note-x")"),
       http::status::unprocessable_entity, "message.header.event: unknown event code 'case-note-x'",
       ""},
      // INVALID_ARGUMENT or NOT_FOUND (when unknown clients may be created): 422.
      {"unknown client", Replace(valid, R"("value": "HH-1")", R"("value": "HH-404")"),
       http::status::unprocessable_entity, "message.header.client: ", "", ""},
  };
  auto housing = Connect("harbour-housing");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Response> response = housing->Post(c.body);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result(), c.status) << response->body();
    Issue issue = IssueOf(*response);
    EXPECT_EQ(issue.severity, "error");
    if (!c.code.empty()) {
      EXPECT_EQ(issue.code, c.code);
    }
    EXPECT_THAT(issue.diagnostics, StartsWith(c.diagnostics));
    EXPECT_EQ(issue.expression, c.expression);
  }
  // The same connection still works after all of that.
  absl::StatusOr<Response> ok = housing->Post(HousingCaseNote("HH-GOOD-1"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->result(), http::status::ok) << ok->body();

  ExpectNothingStored("HH-BAD-1");
  auto hospital = Subscribe("st-marys");
  std::vector<v1::Delivery> got = hospital->Take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), "HH-GOOD-1");  // only the good one
  hospital->AckAll(got);
  EXPECT_THAT(hospital->Drain(absl::Seconds(1)), IsEmpty());
}

TEST_F(FhirHttpTest, NoClientCertificateIs401) {
  HttpsClient anonymous(gateway_->https_address(), nullptr);
  ASSERT_TRUE(anonymous.connected());  // the listener asks for a certificate, needs none
  absl::StatusOr<Response> response = anonymous.Post(HousingCaseNote("HH-ANON-1"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::unauthorized) << response->body();
  EXPECT_EQ(IssueOf(*response).code, "login");
  ExpectNothingStored("HH-ANON-1");
}

TEST_F(FhirHttpTest, CertificateOfNoMemberIs403AndForeignCaFailsTls) {
  const CertFiles stranger = TestPki::Get().Stranger();
  HttpsClient client(gateway_->https_address(), &stranger);
  absl::StatusOr<Response> response = client.Post(HousingCaseNote("HH-STRANGER-1"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::forbidden) << response->body();
  EXPECT_EQ(IssueOf(*response).code, "login");

  // A certificate that does not chain to our CA ends the handshake: no answer.
  const CertFiles foreign = TestPki::Get().OtherCa();
  HttpsClient other(gateway_->https_address(), &foreign);
  EXPECT_FALSE(other.Post(HousingCaseNote("HH-STRANGER-1")).ok());
  ExpectNothingStored("HH-STRANGER-1");
}

TEST_F(FhirHttpTest, MemberWithoutAFhirAdapterIs403) {
  for (const char* org : {"northside-family", "st-marys"}) {  // none; HL7 v2
    SCOPED_TRACE(org);
    auto member = Connect(org);
    absl::StatusOr<Response> response = member->Post(HousingCaseNote("HH-UNBOUND-1"));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->result(), http::status::forbidden) << response->body();
    Issue issue = IssueOf(*response);
    EXPECT_EQ(issue.code, "business-rule");
    EXPECT_THAT(issue.diagnostics, HasSubstr("adapter_bindings"));
    EXPECT_THAT(issue.diagnostics, HasSubstr(org));
  }
  ExpectNothingStored("HH-UNBOUND-1");
}

TEST_F(FhirHttpTest, WrongContentTypeIs415) {
  auto housing = Connect("harbour-housing");
  absl::StatusOr<Response> response = housing->Post(HousingCaseNote("HH-XML-1"), "application/xml");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::unsupported_media_type) << response->body();
  EXPECT_THAT(IssueOf(*response).diagnostics, StartsWith("Content-Type: 'application/xml'"));
  // application/json (with parameters) is accepted.
  response = housing->Post(HousingCaseNote("HH-JSON-1"), "application/json; charset=utf-8");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::ok) << response->body();
  ExpectNothingStored("HH-XML-1");
}

TEST_F(FhirHttpTest, BodyOverTheLimitIs413) {
  auto housing = Connect("harbour-housing");
  std::string big = HousingCaseNote("HH-BIG-1");
  big.insert(big.rfind('}'), absl::StrCat(R"(, "padding": ")", std::string(kLimit, 'x'), R"(")"));
  absl::StatusOr<Response> response = housing->Post(big);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::payload_too_large);
  EXPECT_THAT(IssueOf(*response).diagnostics, HasSubstr("over the limit"));
  EXPECT_FALSE(response->keep_alive());
  ExpectNothingStored("HH-BIG-1");
  // A new connection is served.
  auto again = Connect("harbour-housing");
  response = again->Post(HousingCaseNote("HH-AFTER-BIG-1"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::ok) << response->body();
}

TEST_F(FhirHttpTest, WrongMethodIs405AndUnknownPathIs404OnTheSameConnection) {
  auto housing = Connect("harbour-housing");
  absl::StatusOr<Response> response = housing->Send(http::verb::get, kPath, "", "");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::method_not_allowed);
  EXPECT_EQ(Field(*response, http::field::allow), "POST");
  EXPECT_EQ(IssueOf(*response).code, "not-supported");

  response = housing->Send(http::verb::post, "/fhir/Patient", HousingCaseNote());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::not_found);
  EXPECT_EQ(IssueOf(*response).code, "not-found");

  // Outside /fhir/ errors are the web view's pages (docs/web.md).
  response = housing->Send(http::verb::get, "/elsewhere", "", "");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::not_found);
  EXPECT_THAT(Field(*response, http::field::content_type), StartsWith("text/html"));

  // A query string is not part of the path.
  response = housing->Send(http::verb::post, absl::StrCat(kPath, "?_format=json"),
                           HousingCaseNote("HH-QUERY-1"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::ok) << response->body();
}

TEST_F(FhirHttpTest, RefusalsAreAudited) {
  HttpsClient anonymous(gateway_->https_address(), nullptr);
  ASSERT_EQ(ResultOf(anonymous.Post(HousingCaseNote())), http::status::unauthorized);
  auto family = Connect("northside-family");
  ASSERT_EQ(ResultOf(family->Post(HousingCaseNote())), http::status::forbidden);
  auto housing = Connect("harbour-housing");
  ASSERT_EQ(ResultOf(housing->Post(HousingCaseNote(), "text/plain")),
            http::status::unsupported_media_type);

  auto admin = As("admin");
  v1::ListAuditRecordsRequest request;
  request.set_page_size(1000);
  v1::ListAuditRecordsResponse records;
  ASSERT_TRUE(admin->operations->ListAuditRecords(Ctx().get(), request, &records).ok());
  int anonymous_refused = 0, unbound_refused = 0, media_refused = 0;
  for (const v1::AuditRecord& r : records.records()) {
    if (r.operation() != "FHIR/$process-message" || r.outcome() != v1::AuditRecord::REFUSED) {
      continue;
    }
    anonymous_refused += r.action() == v1::AuditRecord::AUTHENTICATE;
    unbound_refused += r.action() == v1::AuditRecord::PUBLISH &&
                       r.actor_organisation() == "northside-family" &&
                       absl::StrContains(r.detail(), "FAILED_PRECONDITION");
    media_refused += r.action() == v1::AuditRecord::PUBLISH &&
                     r.actor_organisation() == "harbour-housing" &&
                     absl::StrContains(r.detail(), "Content-Type");
  }
  EXPECT_EQ(anonymous_refused, 1);
  EXPECT_EQ(unbound_refused, 1);
  EXPECT_EQ(media_refused, 1);
}

// A kept-alive connection does not hold the gateway up when it stops.
TEST_F(FhirHttpTest, StopClosesKeptAliveConnections) {
  auto housing = Connect("harbour-housing");
  absl::StatusOr<Response> response = housing->Post(HousingCaseNote("HH-BEFORE-STOP-1"));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->result(), http::status::ok);
  absl::Status stopped = gateway_->Stop(absl::Seconds(10));
  ASSERT_TRUE(stopped.ok()) << stopped;
  EXPECT_FALSE(housing->Post(HousingCaseNote("HH-AFTER-STOP-1")).ok());
}

// The demo input of docs/exchange.md, addressed to the test federation's client.
TEST_F(FhirHttpTest, DemoCaseNoteIsAccepted) {
  const std::string demo = ReadSource("deploy/demo/harbour-case-note.fhir.json");
  auto housing = Connect("harbour-housing");
  absl::StatusOr<Response> response =
      housing->Post(Replace(demo, R"("value": "HH-2291")", R"("value": "HH-1")"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->result(), http::status::ok) << response->body();
  EXPECT_THAT(response->body(), HasSubstr("hh-fhir-note-2026-0043"));
}

}  // namespace
}  // namespace switchboard::testing
