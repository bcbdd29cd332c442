// ConsentChange <-> the Consent of a FHIR R4 message Bundle (the MessageHeader's
// focus). Pure translation for FhirAdapter. Thread-safety: stateless functions.
//
// Everything Encode writes, Decode reads back to the same message, except that an
// empty scope is written as its meaning, `patient-privacy`, which reads back as
// empty, and an empty client reads back as the message's client. Extensions of ours (URLs in
// fhir_adapter.h) carry what R4 has no element for.
//
//   Consent.id             <-> Consent.identifier[0].value
//   status                 <-> Consent.status: draft, active, inactive, rejected,
//                              entered-in-error (`proposed` is refused)
//   scope                  <-> Consent.scope (system consentscope for adr, research,
//                              patient-privacy, treatment; else ours)
//   client                 <-> Consent.patient: the Bundle's Patient entry when it is
//                              the message's client, else a logical reference
//                              (identifier system and value)
//   recorded_at            <-> Consent.dateTime
//   recorded_by            <-> Consent.organization[0] (member identifier); read
//                              from a member performer when there is none
//   source_reference       <-> Consent.sourceReference.identifier.value
//   period                 <-> Consent.provision.period (the root's period is the
//                              consent's, as in R4)
//   version                <-> Consent.meta.versionId (omitted when 0)
//   updated_at             <-> Consent.meta.lastUpdated
//   updated_by             <-> extension consent-updated-by (valueReference, member)
//   status_reason          <-> extension consent-status-reason (valueString)
//   written, not read: category LOINC 59284-0; performer the Patient (the grantor);
//   policyRule v3-ActCode OPTIN (root permit) or OPTOUT (root deny) (FHIR's ppc-1
//   needs a policy or a rule).
// ConsentProvision <-> Consent.provision, nested in provision.provision:
//   type                   <-> type (permit, deny)
//   period                 <-> period; for the root, extension consent-rule-period
//                              (valuePeriod) on the root provision
//   actors[]               <-> actor[]: role v3-ParticipationType IRCP (written, not
//                              read); reference.identifier of system kMemberSystem
//                              (organisation_id) or kMemberRoleSystem (role: hospital,
//                              agency, coordinator, admin)
//   purposes[]             <-> purpose[] (system v3-ActReason; code read from any)
//   security_labels[]      <-> securityLabel[]
//   event_codes[]          <-> class[] (system FhirConfig.event_system; others refused)
//   data_period            <-> dataPeriod
//   provisions[]           <-> provision[]
#ifndef SWITCHBOARD_ADAPTERS_FHIR_FHIR_CONSENT_H_
#define SWITCHBOARD_ADAPTERS_FHIR_FHIR_CONSENT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/fhir/fhir_bundle_reader.h"
#include "adapters/fhir/fhir_json_writer.h"
#include "switchboard/v1/common.pb.h"
#include "switchboard/v1/payloads.pb.h"

namespace switchboard::adapters::fhir::internal {

// The Consent `consent` (marked used). INVALID_ARGUMENT naming the JSON path for
// a missing identifier, an unknown status, provision type or member role, an
// actor that names neither a member nor a role, a class of another system than
// `event_system`, an unresolvable patient, a meta.versionId that is not an
// integer, an invalid dateTime. Unknown elements are not errors (they are
// reported).
absl::StatusOr<v1::ConsentChange> DecodeConsent(BundleReader& bundle, Entry& consent,
                                                absl::string_view event_system);

// Appends the Consent (resource id `id`) to the array `entries`. INVALID_ARGUMENT
// naming the canonical field for a consent without status or root provision type,
// an actor without organisation_id or role, a provision without type.
absl::Status EncodeConsent(const v1::ConsentChange& change, absl::string_view id,
                           const v1::ClientIdentifier& message_client,
                           absl::string_view patient_url, absl::string_view event_system,
                           JsonBuilder& j, rapidjson::Value& entries);

}  // namespace switchboard::adapters::fhir::internal

#endif  // SWITCHBOARD_ADAPTERS_FHIR_FHIR_CONSENT_H_
