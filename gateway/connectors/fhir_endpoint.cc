#include "gateway/connectors/fhir_endpoint.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/beast/http/field.hpp"
#include "boost/beast/http/verb.hpp"
#include "rapidjson/document.h"
#include "switchboard/v1/exchange.pb.h"

namespace switchboard::gateway::connectors {
namespace {

namespace http = boost::beast::http;
namespace fhir = adapters::fhir;

// Audit operation of refusals made before the raw publisher sees a message.
constexpr char kOperation[] = "FHIR/$process-message";

// What the endpoint reads from the body itself, before the adapter does: whether
// it is shaped as a FHIR message (for 400 vs 422) and its event (the response
// Bundle repeats it). The adapter refuses every body that is not so shaped, so a
// refusal of a body that is shaped is about its content.
struct BundleShape {
  bool message_bundle = false;
  std::string event;
};

absl::string_view StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return absl::string_view(it->value.GetString(), it->value.GetStringLength());
}

BundleShape ShapeOf(absl::string_view body) {
  BundleShape shape;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return shape;
  if (StringMember(doc, "resourceType") != "Bundle" || StringMember(doc, "type") != "message") {
    return shape;
  }
  auto entry = doc.FindMember("entry");
  if (entry == doc.MemberEnd() || !entry->value.IsArray() || entry->value.Empty()) return shape;
  const rapidjson::Value& first = entry->value[0];
  if (!first.IsObject()) return shape;
  auto resource = first.FindMember("resource");
  if (resource == first.MemberEnd() ||
      StringMember(resource->value, "resourceType") != "MessageHeader") {
    return shape;
  }
  shape.message_bundle = true;
  auto coding = resource->value.FindMember("eventCoding");
  if (coding != resource->value.MemberEnd()) {
    shape.event = std::string(StringMember(coding->value, "code"));
  }
  return shape;
}

// The media type of a Content-Type value: lower case, without parameters.
std::string MediaType(absl::string_view content_type) {
  return absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
}

// PublishRaw names the payload as the place of a content error; here the body
// is the payload, and the adapter's own location (`Bundle...`) is what a FHIR
// client can use.
absl::Status WithoutPayloadPrefix(const absl::Status& status) {
  constexpr absl::string_view kPrefix = "payload: ";
  if (!absl::StartsWith(status.message(), kPrefix)) return status;
  return absl::Status(status.code(), status.message().substr(kPrefix.size()));
}

HttpResponse FhirResponse(http::status code, adapters::PartnerPayload payload) {
  HttpResponse response(code, 11);
  response.set(http::field::content_type, payload.content_type);
  response.body() = std::move(payload.bytes);
  return response;
}

// An OperationOutcome for `status` (not OK) with HTTP status `code`.
HttpResponse Outcome(const fhir::FhirAdapter& adapter, http::status code,
                     const absl::Status& status) {
  fhir::ProcessMessageResult result;
  result.status = WithoutPayloadPrefix(status);
  HttpResponse response = FhirResponse(code, adapter.EncodeProcessMessageResponse(result));
  if (code == http::status::service_unavailable) response.set(http::field::retry_after, "1");
  return response;
}

// The status code an OperationOutcome carries for an error the HTTP server
// found itself (its issue code follows it).
absl::StatusCode CodeOfServerError(http::status status) {
  switch (status) {
    case http::status::not_found:
      return absl::StatusCode::kNotFound;
    case http::status::method_not_allowed:
      return absl::StatusCode::kUnimplemented;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

}  // namespace

http::status HttpStatusFor(const absl::Status& status, bool message_bundle) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return http::status::ok;
    case absl::StatusCode::kInvalidArgument:
      return message_bundle ? http::status::unprocessable_entity : http::status::bad_request;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return http::status::unprocessable_entity;
    case absl::StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    case absl::StatusCode::kPermissionDenied:
      return http::status::forbidden;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return http::status::conflict;
    case absl::StatusCode::kResourceExhausted:
      return http::status::too_many_requests;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return http::status::service_unavailable;
    default:
      return http::status::internal_server_error;
  }
}

FhirEndpoint::FhirEndpoint(const identity::RpcGuard* guard, const exchange::RawPublisher* publisher)
    : guard_(guard), publisher_(publisher) {
  v1::adapters::FhirConfig config;
  config.set_source("switchboard");
  // Create fails only for an empty source.
  outcomes_ = *fhir::FhirAdapter::Create(std::move(config));
}

absl::Status FhirEndpoint::AddRoutes(HttpRoutes* routes) const {
  routes->SetErrorRenderer("/fhir/", [this](http::status status, const std::string& message) {
    return Outcome(*outcomes_, status, absl::Status(CodeOfServerError(status), message));
  });
  return routes->Add(
      http::verb::post, kProcessMessagePath,
      [this](HttpRequest request, const identity::PeerInfo& peer, HttpRespond respond) {
        ProcessMessage(std::move(request), peer, std::move(respond));
      });
}

void FhirEndpoint::ProcessMessage(HttpRequest request, const identity::PeerInfo& peer,
                                  HttpRespond respond) const {
  // 1. Who: the verified client certificate, or nobody.
  const bool has_certificate = peer.authenticated || !peer.sans.empty();
  std::optional<identity::Caller> caller = guard_->IdentifyPeer(
      peer, kOperation, [this, respond, has_certificate](const absl::Status& refused) {
        http::status code = HttpStatusFor(refused, /*message_bundle=*/false);
        // A certificate of ours that names no member: authenticating again
        // will not help.
        if (absl::IsUnauthenticated(refused) && has_certificate) code = http::status::forbidden;
        respond(Outcome(*outcomes_, code, refused));
      });
  if (!caller.has_value()) return;  // `respond` is (or will be) called with the refusal

  // A refusal made here, audited before it is answered with `code` (or with the
  // audit write's error when that failed).
  auto refuse = [this, &caller, &respond](const absl::Status& status, http::status code) {
    guard_->Refuse(
        identity::AuditFor(*caller, kOperation, v1::AuditRecord::PUBLISH), status,
        [this, respond, status, code](const absl::Status& answer) {
          respond(
              Outcome(*outcomes_, answer == status ? code : HttpStatusFor(answer, false), answer));
        });
  };

  // 2. What: FHIR JSON only.
  const std::string content_type(request[http::field::content_type]);
  const std::string media = MediaType(content_type);
  if (media != fhir::kContentType && media != fhir::kContentTypeJson) {
    return refuse(absl::InvalidArgumentError(
                      absl::StrCat("Content-Type: '", content_type.substr(0, 64), "' is not ",
                                   fhir::kContentType, " or ", fhir::kContentTypeJson)),
                  http::status::unsupported_media_type);
  }

  // 3. Through the member's FHIR adapter: it reads the Bundle and writes the answer.
  // Held until the answer is written: an activation may swap the live adapter.
  const std::shared_ptr<const adapters::Adapter> bound =
      publisher_->AdapterFor(caller->organisation_id);
  const auto* adapter = dynamic_cast<const fhir::FhirAdapter*>(bound.get());
  if (adapter == nullptr) {
    return refuse(
        absl::FailedPreconditionError(absl::StrCat(
            bound == nullptr ? "no adapter is bound to '" : "the adapter bound to '",
            caller->organisation_id, bound == nullptr ? "'" : "' is not the FHIR adapter",
            " (config adapter_bindings); $process-message needs switchboard.adapters.fhir")),
        http::status::forbidden);
  }

  // 4. Publish; answer once durable (or refused).
  BundleShape shape = ShapeOf(request.body());
  v1::PublishRawRequest raw;
  raw.set_content_type(std::string(fhir::kContentType));
  raw.set_payload(std::move(request.body()));
  publisher_->Publish(
      *caller, raw,
      [respond, adapter, bound, shape = std::move(shape)](absl::StatusOr<v1::Receipt> receipt) {
        if (!receipt.ok()) {
          return respond(Outcome(*adapter, HttpStatusFor(receipt.status(), shape.message_bundle),
                                 receipt.status()));
        }
        fhir::ProcessMessageResult result;
        result.request_id = receipt->message_id();
        result.event = shape.event;
        result.response_id = receipt->gateway_message_id();
        result.responded_at = receipt->accepted_at();
        respond(FhirResponse(http::status::ok, adapter->EncodeProcessMessageResponse(result)));
      });
}

}  // namespace switchboard::gateway::connectors
