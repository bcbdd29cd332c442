// FhirAdapter's outbound half: Encode and EncodeProcessMessageResponse (split from
// fhir_adapter.cc to keep each file to one direction).
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapters/fhir/fhir_adapter.h"
#include "adapters/fhir/fhir_care_plan.h"
#include "adapters/fhir/fhir_consent.h"
#include "adapters/fhir/fhir_json.h"
#include "adapters/fhir/fhir_json_writer.h"
#include "rapidjson/document.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::fhir {
namespace {

using internal::FormatDateTime;
using internal::FullUrl;
using internal::MemberEndpoint;
using internal::ResourceId;
using internal::Serialize;
using Json = internal::JsonBuilder;
using rapidjson::Value;

constexpr absl::string_view kLoinc = "http://loinc.org";
constexpr absl::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr absl::string_view kDispositionSystem =
    "http://terminology.hl7.org/CodeSystem/discharge-disposition";
constexpr absl::string_view kOwnDispositionSystem =
    "https://switchboard.example/fhir/discharge-disposition";
constexpr absl::string_view kFhirDispositions[] = {"home",  "alt-home", "other-hcf", "hosp",
                                                   "long",  "aadvice",  "exp",       "psy",
                                                   "rehab", "snf",      "oth"};

absl::string_view TaskStatusOf(v1::Referral::Status status) {
  switch (status) {
    case v1::Referral::RECEIVED:
      return "received";
    case v1::Referral::ACCEPTED:
      return "accepted";
    case v1::Referral::REJECTED:
      return "rejected";
    case v1::Referral::IN_PROGRESS:
      return "in-progress";
    case v1::Referral::ON_HOLD:
      return "on-hold";
    case v1::Referral::COMPLETED:
      return "completed";
    case v1::Referral::CANCELLED:
      return "cancelled";
    case v1::Referral::FAILED:
      return "failed";
    default:
      return "requested";
  }
}

// FHIR R4 IssueType for a status code.
absl::string_view IssueCodeOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "invalid";
    case absl::StatusCode::kPermissionDenied:
      return "forbidden";
    case absl::StatusCode::kUnauthenticated:
      return "login";
    case absl::StatusCode::kNotFound:
      return "not-found";
    case absl::StatusCode::kAlreadyExists:
      return "duplicate";
    case absl::StatusCode::kFailedPrecondition:
      return "business-rule";
    case absl::StatusCode::kAborted:
      return "conflict";
    case absl::StatusCode::kUnavailable:
      return "transient";
    case absl::StatusCode::kResourceExhausted:
      return "throttled";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kUnimplemented:
      return "not-supported";
    default:
      return "exception";
  }
}

Value Sections(Json& j, const google::protobuf::RepeatedPtrField<v1::Section>& sections) {
  Value out = Json::Arr();
  for (const v1::Section& s : sections) {
    Value section = Json::Obj();
    if (s.security_labels_size() > 0) {
      Value extensions = Json::Arr();
      for (const v1::SecurityLabel& l : s.security_labels()) {
        Value ext = Json::Obj();
        j.Set(ext, "url", kSectionSecurityUrl);
        j.Set(ext, "valueCoding", j.Label(l));
        j.Push(extensions, std::move(ext));
      }
      j.Set(section, "extension", std::move(extensions));
    }
    if (!s.title().empty()) j.Set(section, "title", s.title());
    if (!s.code().empty()) j.Set(section, "code", j.Concept(j.Coding(kLoinc, s.code())));
    Value text = Json::Obj();
    j.Set(text, "status", "generated");
    j.Set(text, "div", internal::TextToXhtml(s.text()));
    j.Set(section, "text", std::move(text));
    j.Push(out, std::move(section));
  }
  return out;
}

}  // namespace

absl::StatusOr<PartnerPayload> FhirAdapter::Encode(const v1::Message& message) const {
  const v1::MessageHeader& h = message.header();
  if (h.id().empty()) return absl::InvalidArgumentError("message.header.id: required");
  const char* payload_type = nullptr;
  switch (message.payload_case()) {
    case v1::Message::kDischargeNote:
    case v1::Message::kCaseNote:
      payload_type = "Composition";
      break;
    case v1::Message::kReferral:
      payload_type = "ServiceRequest";
      break;
    case v1::Message::kCarePlanChange:
      payload_type = "CarePlan";
      break;
    case v1::Message::kConsentChange:
      payload_type = "Consent";
      break;
    case v1::Message::kNotification:
      return absl::InvalidArgumentError("message.notification: not supported yet by FHIR");
    default:
      return absl::InvalidArgumentError("message.payload: required");
  }
  const std::string id = ResourceId(h.id());
  const std::string patient_url = FullUrl("Patient", id);
  rapidjson::Document doc(rapidjson::kObjectType);
  Json j(doc);

  j.Set(doc, "resourceType", "Bundle");
  j.Set(doc, "id", id);
  if (h.security_labels_size() > 0 || !h.purpose_of_use().empty()) {
    Value meta = Json::Obj(), security = Json::Arr();
    for (const v1::SecurityLabel& l : h.security_labels()) j.Push(security, j.Label(l));
    if (!h.purpose_of_use().empty()) {
      Value purpose = j.Coding(kPurposeOfUseSystem, h.purpose_of_use());
      if (!h.break_glass_reason().empty()) {
        Value ext = Json::Obj();
        j.Set(ext, "url", kBreakGlassReasonUrl);
        j.Set(ext, "valueString", h.break_glass_reason());
        j.Set(purpose, "extension", j.One(std::move(ext)));
      }
      j.Push(security, std::move(purpose));
    }
    j.Set(meta, "security", std::move(security));
    j.Set(doc, "meta", std::move(meta));
  }
  Value identifier = Json::Obj();
  j.Set(identifier, "value", h.id());
  j.Set(doc, "identifier", std::move(identifier));
  j.Set(doc, "type", "message");
  if (h.has_occurred_at()) j.Set(doc, "timestamp", FormatDateTime(h.occurred_at()));
  Value entries = Json::Arr();

  // MessageHeader.
  Value mh = j.Resource("MessageHeader", id);
  j.Set(mh, "eventCoding", j.Coding(config_.event_system(), h.event()));
  if (h.destinations_size() > 0) {
    Value destinations = Json::Arr();
    for (const std::string& org : h.destinations()) {
      Value d = Json::Obj();
      j.Set(d, "endpoint", MemberEndpoint(org));
      j.Set(d, "receiver", j.MemberRef(org));
      j.Push(destinations, std::move(d));
    }
    j.Set(mh, "destination", std::move(destinations));
  }
  j.Set(mh, "sender", j.MemberRef(h.source()));
  if (!h.author().empty()) {
    Value author = Json::Obj();
    j.Set(author, "display", h.author());
    j.Set(mh, "author", std::move(author));
  }
  Value source = Json::Obj();
  j.Set(source, "endpoint", MemberEndpoint(h.source()));
  j.Set(mh, "source", std::move(source));
  if (!h.correlation_id().empty()) {
    Value response = Json::Obj();
    j.Set(response, "identifier", h.correlation_id());
    j.Set(response, "code", "ok");
    j.Set(mh, "response", std::move(response));
  }
  j.Set(mh, "focus", j.One(j.Ref(FullUrl(payload_type, id))));
  j.Push(entries, j.Entry("MessageHeader", id, std::move(mh)));

  // Patient: the client's identifiers only, header.client first (Decode takes
  // identifier[0] as the client).
  Value patient = j.Resource("Patient", id);
  Value patient_ids = Json::Arr();
  auto add_identifier = [&j, &patient_ids](const v1::ClientIdentifier& c) {
    Value identifier = Json::Obj();
    j.Set(identifier, "system", c.system());
    j.Set(identifier, "value", c.value());
    j.Push(patient_ids, std::move(identifier));
  };
  add_identifier(h.client());
  for (const v1::ClientIdentifier& other : h.other_client_identifiers()) {
    // Without both it names nobody, and Decode would report it as ignored.
    if (other.system().empty() || other.value().empty()) continue;
    add_identifier(other);
  }
  j.Set(patient, "identifier", std::move(patient_ids));
  j.Push(entries, j.Entry("Patient", id, std::move(patient)));

  if (message.has_discharge_note() || message.has_case_note()) {
    const bool discharge = message.has_discharge_note();
    Value composition = j.Resource("Composition", id);
    j.Set(composition, "status", "final");
    j.Set(composition, "type",
          j.Concept(discharge ? j.Coding(kLoinc, "18842-5", "Discharge summary")
                              : j.Coding(kLoinc, "11506-3", "Progress note")));
    if (!discharge && !message.case_note().domain().empty()) {
      j.Set(composition, "category",
            j.One(j.Concept(j.Coding(kDomainSystem, message.case_note().domain()))));
    }
    j.Set(composition, "subject", j.Ref(patient_url));
    if (discharge) j.Set(composition, "encounter", j.Ref(FullUrl("Encounter", id)));
    if (h.has_occurred_at()) j.Set(composition, "date", FormatDateTime(h.occurred_at()));
    Value author = Json::Obj();
    if (!h.author().empty()) {
      j.Set(author, "display", h.author());
    } else {
      author = j.MemberRef(h.source());
    }
    j.Set(composition, "author", j.One(std::move(author)));
    j.Set(composition, "title",
          discharge ? message.discharge_note().title() : message.case_note().title());
    j.Set(composition, "section",
          Sections(
              j, discharge ? message.discharge_note().sections() : message.case_note().sections()));
    j.Push(entries, j.Entry("Composition", id, std::move(composition)));
  }
  if (message.has_discharge_note()) {
    const v1::DischargeNote& note = message.discharge_note();
    Value encounter = j.Resource("Encounter", id);
    j.Set(encounter, "status", "finished");
    j.Set(encounter, "class", j.Coding(kActCode, "IMP", "inpatient encounter"));
    j.Set(encounter, "subject", j.Ref(patient_url));
    if (note.has_admitted_at() || note.has_discharged_at()) {
      Value period = Json::Obj();
      if (note.has_admitted_at()) j.Set(period, "start", FormatDateTime(note.admitted_at()));
      if (note.has_discharged_at()) j.Set(period, "end", FormatDateTime(note.discharged_at()));
      j.Set(encounter, "period", std::move(period));
    }
    if (!note.discharge_disposition().empty()) {
      bool fhir_code = false;
      for (absl::string_view c : kFhirDispositions) fhir_code |= c == note.discharge_disposition();
      Value hospitalization = Json::Obj();
      j.Set(hospitalization, "dischargeDisposition",
            j.Concept(j.Coding(fhir_code ? kDispositionSystem : kOwnDispositionSystem,
                               note.discharge_disposition())));
      j.Set(encounter, "hospitalization", std::move(hospitalization));
    }
    j.Push(entries, j.Entry("Encounter", id, std::move(encounter)));
  }
  if (message.has_referral()) {
    const v1::Referral& r = message.referral();
    const std::string request_url = FullUrl("ServiceRequest", id);
    Value request = j.Resource("ServiceRequest", id);
    Value rid = Json::Obj();
    j.Set(rid, "value", r.referral_id());
    j.Set(request, "identifier", j.One(std::move(rid)));
    j.Set(request, "status", "active");
    j.Set(request, "intent", "order");
    if (!r.service().empty()) j.Set(request, "code", j.Text(r.service()));
    j.Set(request, "subject", j.Ref(patient_url));
    if (!r.target().empty()) j.Set(request, "performer", j.One(j.MemberRef(r.target())));
    if (!r.reason().empty()) j.Set(request, "reasonCode", j.One(j.Text(r.reason())));
    if (!r.note().empty()) j.Set(request, "note", j.One(j.Text(r.note())));
    j.Push(entries, j.Entry("ServiceRequest", id, std::move(request)));

    Value task = j.Resource("Task", id);
    j.Set(task, "status", TaskStatusOf(r.status()));
    if (!r.status_reason().empty()) j.Set(task, "statusReason", j.Text(r.status_reason()));
    j.Set(task, "intent", "order");
    j.Set(task, "focus", j.Ref(request_url));
    j.Set(task, "for", j.Ref(patient_url));
    if (!r.target().empty()) j.Set(task, "owner", j.MemberRef(r.target()));
    j.Push(entries, j.Entry("Task", id, std::move(task)));
  }
  if (message.has_care_plan_change()) {
    SB_RETURN_IF_ERROR(
        internal::EncodeCarePlan(message.care_plan_change(), id, patient_url, j, entries));
  }
  if (message.has_consent_change()) {
    SB_RETURN_IF_ERROR(internal::EncodeConsent(message.consent_change(), id, h.client(),
                                               patient_url, config_.event_system(), j, entries));
  }
  j.Set(doc, "entry", std::move(entries));
  return PartnerPayload{std::string(kContentType), Serialize(doc, config_.pretty())};
}

PartnerPayload FhirAdapter::EncodeProcessMessageResponse(const ProcessMessageResult& result) const {
  rapidjson::Document doc(rapidjson::kObjectType);
  Json j(doc);
  if (!result.status.ok()) {
    const absl::string_view message = result.status.message();
    j.Set(doc, "resourceType", "OperationOutcome");
    Value issue = Json::Obj();
    j.Set(issue, "severity", "error");
    j.Set(issue, "code", IssueCodeOf(result.status.code()));
    j.Set(issue, "diagnostics", message);
    const size_t colon = message.find(": ");
    if (absl::StartsWith(message, "Bundle") && colon != absl::string_view::npos) {
      j.Set(issue, "expression", j.One(j.Str(message.substr(0, colon))));
    }
    j.Set(doc, "issue", j.One(std::move(issue)));
    return PartnerPayload{std::string(kContentType), Serialize(doc, config_.pretty())};
  }
  const std::string id = ResourceId(result.response_id);
  j.Set(doc, "resourceType", "Bundle");
  j.Set(doc, "id", id);
  Value identifier = Json::Obj();
  j.Set(identifier, "value", result.response_id);
  j.Set(doc, "identifier", std::move(identifier));
  j.Set(doc, "type", "message");
  if (result.responded_at.seconds() != 0 || result.responded_at.nanos() != 0) {
    j.Set(doc, "timestamp", FormatDateTime(result.responded_at));
  }
  Value mh = j.Resource("MessageHeader", id);
  j.Set(mh, "eventCoding", j.Coding(config_.event_system(), result.event));
  Value destination = Json::Obj();
  j.Set(destination, "endpoint", MemberEndpoint(config_.source()));
  j.Set(destination, "receiver", j.MemberRef(config_.source()));
  j.Set(mh, "destination", j.One(std::move(destination)));
  Value source = Json::Obj();
  j.Set(source, "name", "Switchboard");
  j.Set(source, "endpoint", "urn:switchboard:gateway");
  j.Set(mh, "source", std::move(source));
  Value response = Json::Obj();
  j.Set(response, "identifier", result.request_id);
  j.Set(response, "code", "ok");
  j.Set(mh, "response", std::move(response));
  Value entries = Json::Arr();
  j.Push(entries, j.Entry("MessageHeader", id, std::move(mh)));
  j.Set(doc, "entry", std::move(entries));
  return PartnerPayload{std::string(kContentType), Serialize(doc, config_.pretty())};
}

}  // namespace switchboard::adapters::fhir
