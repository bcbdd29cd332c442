// The `switchboard.adapters.fhir` adapter type: FHIR R4 message Bundles
// (application/fhir+json) of one member to and from the canonical model, and its
// factory. Pure translation (no I/O, no clock). Thread-safety: a FhirAdapter is
// immutable after Create; const calls may run concurrently.
//
// The Bundle (type `message`); entry[0] is the MessageHeader:
//   Bundle.identifier.value            <-> header.id
//   Bundle.timestamp                   <-> header.occurred_at
//   Bundle.meta.security               <-> header.security_labels, except a coding
//       of system v3-ActReason, which is header.purpose_of_use; its extension
//       kBreakGlassReasonUrl (valueString) is header.break_glass_reason
//   MessageHeader.eventCoding.code     <-> header.event (system: config.event_system)
//   MessageHeader.sender.identifier.value must be config.source (inbound);
//       header.source is config.source
//   MessageHeader.destination[].receiver.identifier.value <-> header.destinations
//   MessageHeader.author.display       <-> header.author
//   MessageHeader.response.identifier  <-> header.correlation_id
//   MessageHeader.focus[0]             -> the payload's main resource
//   the Patient entry's identifier[0]  <-> header.client (system, value)
//   its identifier[1..]                <-> header.other_client_identifiers, in order;
//       inbound, one without system or value is reported as ignored and repeats
//       are dropped; outbound, empty ones are left out
// Payloads, by the focus resource:
//   Composition of type LOINC 18842-5 + its Encounter -> DischargeNote
//       (Encounter.period, hospitalization.dischargeDisposition.coding[0].code)
//   Composition of any other type (LOINC 11506-3 written) -> CaseNote
//       (category[0].coding[0].code, else category[0].text -> domain)
//   ServiceRequest + the Task whose focus is it -> Referral
//   Composition.section[]: code.coding[0].code, title, text.div as plain text;
//       section labels are extensions kSectionSecurityUrl (valueCoding).
//   CarePlan + its Goals and Observations -> CarePlanChange (fhir_care_plan.h)
//   Consent -> ConsentChange (fhir_consent.h)
// References resolve against entry fullUrl or `Type/id`. Elements not listed are
// ignored; DecodeWithReport names them.
#ifndef SWITCHBOARD_ADAPTERS_FHIR_FHIR_ADAPTER_H_
#define SWITCHBOARD_ADAPTERS_FHIR_FHIR_ADAPTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"
#include "google/protobuf/timestamp.pb.h"
#include "switchboard/v1/adapters/fhir.pb.h"

namespace switchboard::adapters::fhir {

// Decode accepts both (parameters after ';' are ignored); Encode writes the first.
inline constexpr absl::string_view kContentType = "application/fhir+json";
inline constexpr absl::string_view kContentTypeJson = "application/json";

inline constexpr absl::string_view kDefaultEventSystem = "https://switchboard.example/fhir/event";
inline constexpr absl::string_view kSectionSecurityUrl =
    "https://switchboard.example/fhir/StructureDefinition/section-security";
inline constexpr absl::string_view kBreakGlassReasonUrl =
    "https://switchboard.example/fhir/StructureDefinition/break-glass-reason";
// Identifier.system of member organisations (sender, receiver, performer, owner).
inline constexpr absl::string_view kMemberSystem = "https://switchboard.example/fhir/member";
// Coding.system of CaseNote.domain in Composition.category.
inline constexpr absl::string_view kDomainSystem =
    "https://switchboard.example/fhir/practice-domain";
inline constexpr absl::string_view kPurposeOfUseSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ActReason";

// CarePlanChange (see fhir_care_plan.h for the mapping).
// Goal.identifier.system of a plan item's id.
inline constexpr absl::string_view kPlanItemSystem = "https://switchboard.example/fhir/plan-item";
// Observation.code system of a progress rating's scale (`gas`: -2..+2).
inline constexpr absl::string_view kProgressScaleSystem =
    "https://switchboard.example/fhir/progress-scale";
// Extensions of a Goal or a CarePlan.activity.
inline constexpr absl::string_view kPlanItemIdUrl =
    "https://switchboard.example/fhir/StructureDefinition/plan-item-id";
inline constexpr absl::string_view kPlanItemOwnerUrl =
    "https://switchboard.example/fhir/StructureDefinition/plan-item-owner";
inline constexpr absl::string_view kPlanItemStatusUrl =
    "https://switchboard.example/fhir/StructureDefinition/plan-item-status";
inline constexpr absl::string_view kPlanItemPeriodUrl =
    "https://switchboard.example/fhir/StructureDefinition/plan-item-period";
inline constexpr absl::string_view kPlanItemDomainUrl =
    "https://switchboard.example/fhir/StructureDefinition/plan-item-domain";
inline constexpr absl::string_view kPlanItemSecurityUrl =
    "https://switchboard.example/fhir/StructureDefinition/plan-item-security";

// ConsentChange (see fhir_consent.h for the mapping).
// Identifier.system of a member role (`hospital`, ...) as a Consent actor.
inline constexpr absl::string_view kMemberRoleSystem =
    "https://switchboard.example/fhir/member-role";
inline constexpr absl::string_view kConsentStatusReasonUrl =
    "https://switchboard.example/fhir/StructureDefinition/consent-status-reason";
inline constexpr absl::string_view kConsentUpdatedByUrl =
    "https://switchboard.example/fhir/StructureDefinition/consent-updated-by";
inline constexpr absl::string_view kConsentRulePeriodUrl =
    "https://switchboard.example/fhir/StructureDefinition/consent-rule-period";

// Decode's result; `ignored` holds JSON paths of elements present but not mapped
// (unknown or unused), e.g. `Bundle.entry[1].resource(Patient).name`, in document
// order per object.
using DecodeReport = DecodeResult;

// What the gateway answers a $process-message call with.
struct ProcessMessageResult {
  std::string request_id;   // header.id of the message answered
  std::string event;        // its header.event
  std::string response_id;  // Bundle.identifier of the response
  google::protobuf::Timestamp responded_at;
  absl::Status status;  // OK: accepted
};

class FhirAdapter final : public Adapter {
 public:
  // INVALID_ARGUMENT `config.source: required` when source is empty.
  static absl::StatusOr<std::unique_ptr<FhirAdapter>> Create(v1::adapters::FhirConfig config);

  // INVALID_ARGUMENT naming the JSON path (`Bundle.entry[0].resource: the first
  // entry must be a MessageHeader`, `Bundle.entry[2].resource(Encounter).period.end:
  // '2026-13-01' is not a FHIR dateTime ...`) for bytes that are not JSON, not a
  // message Bundle, another sender, another event system, a missing Patient or
  // identifier, an unresolvable reference, an invalid dateTime or Task.status,
  // the CarePlan and Consent errors of fhir_care_plan.h and fhir_consent.h; or
  // another content type. Unknown elements are not errors.
  absl::StatusOr<v1::Message> Decode(absl::string_view content_type,
                                     absl::string_view bytes) const override;
  absl::StatusOr<DecodeReport> DecodeWithReport(absl::string_view content_type,
                                                absl::string_view bytes) const override;

  // A message Bundle as above; deterministic: resource ids are the message id
  // (characters outside [A-Za-z0-9.-] made '-', cut to 64), fullUrls
  // `urn:switchboard:<Type>:<id>` (Goals and Observations add `-item<n>[-p<k>]`).
  // INVALID_ARGUMENT naming the canonical field when the payload has no FHIR
  // mapping here (notification, none), header.id is empty, or a care plan item or
  // consent lacks what FHIR requires (see fhir_care_plan.h, fhir_consent.h).
  absl::StatusOr<PartnerPayload> Encode(const v1::Message& message) const override;

  // The synchronous answer to $process-message: for an OK status a response
  // message Bundle (MessageHeader.response.identifier = request_id, code `ok`);
  // otherwise an OperationOutcome (issue[0]: severity error, code from the status
  // code, diagnostics = the status message, expression = its leading JSON path when
  // it starts with `Bundle`).
  PartnerPayload EncodeProcessMessageResponse(const ProcessMessageResult& result) const;

 private:
  explicit FhirAdapter(v1::adapters::FhirConfig config) : config_(std::move(config)) {}

  // Constant after construction.
  v1::adapters::FhirConfig config_;
};

// Factory of the type; its config is switchboard.v1.adapters.FhirConfig.
class FhirFactory final : public AdapterFactory {
 public:
  std::string name() const override { return "switchboard.adapters.fhir"; }
  std::string config_type() const override;
  // INVALID_ARGUMENT when `config` holds another type or fails FhirAdapter::Create.
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Any& config) const override;
};

}  // namespace switchboard::adapters::fhir

#endif  // SWITCHBOARD_ADAPTERS_FHIR_FHIR_ADAPTER_H_
