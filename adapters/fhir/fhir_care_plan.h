// CarePlanChange <-> the CarePlan of a FHIR R4 message Bundle (the
// MessageHeader's focus) with its Goal and Observation entries. Pure translation
// for FhirAdapter. Thread-safety: stateless functions.
//
// Where FHIR R4 has no element for a canonical field, an extension of ours
// carries it (URLs in fhir_adapter.h); everything Encode writes, Decode reads back
// to the same message, except that items come back goals first, then activities
// (FHIR keeps them in two lists; each list keeps its order).
//
//   CarePlanChange.expected_version  <-> CarePlan.meta.versionId (omitted when 0)
//   CarePlan.status `active`, intent `plan`, subject the Patient: written, not read
//   GOAL item -> a Goal entry, listed in CarePlan.goal[]:
//     id            <-> Goal.identifier (system kPlanItemSystem)
//     owner         <-> extension plan-item-owner (valueReference, member identifier):
//                       Goal.expressedBy does not allow an Organization
//     domain        <-> Goal.category[0] (system kDomainSystem)
//     status        <-> Goal.lifecycleStatus: proposed, active, on-hold, completed,
//                       cancelled; REOPENED is `active` + extension plan-item-status
//                       (valueCode `reopened`). planned, accepted, rejected and
//                       entered-in-error are refused.
//     description   <-> Goal.description.text (required by FHIR)
//     period        <-> extension plan-item-period (valuePeriod, exact); also written
//                       as Goal.startDate / target[0].dueDate (the UTC days), which
//                       are read (as 00:00 UTC) only when the extension is absent
//     labels        <-> Goal.meta.security
//     progress[]    <-> Goal.outcomeReference[] -> Observation entries (below)
//   ACTIVITY item -> CarePlan.activity[] with a detail (activity.reference refused):
//     id            <-> extension plan-item-id (valueString)
//     owner         <-> activity.detail.performer[0] (member identifier)
//     domain        <-> extension plan-item-domain (valueCoding, kDomainSystem)
//     status        <-> activity.detail.status: not-started (PROPOSED),
//                       in-progress (ACTIVE), on-hold, completed, cancelled; REOPENED
//                       is `in-progress` + extension plan-item-status. scheduled,
//                       stopped, unknown and entered-in-error are refused.
//     description   <-> activity.detail.description
//     period        <-> activity.detail.scheduledPeriod
//     labels        <-> extensions plan-item-security (valueCoding), one per label
//     progress[]    <-> activity.outcomeReference[] -> Observation entries
//   Decode also reads each extension above where the other kind would carry it
//   (e.g. plan-item-security on a Goal, adding to meta.security) when the
//   element it stands in for is absent, so that nothing is dropped silently.
//   ProgressEntry -> an Observation (status `final`, subject the Patient):
//     at            <-> effectiveDateTime
//     attainment    <-> valueInteger (absent when unset)
//     scale         <-> code.coding (system kProgressScaleSystem); the default scale
//                       is written `gas` and `gas` is read as the default ("")
//     note          <-> note[0].text
//     author        <-> performer[0].display
//     labels        <-> meta.security
#ifndef SWITCHBOARD_ADAPTERS_FHIR_FHIR_CARE_PLAN_H_
#define SWITCHBOARD_ADAPTERS_FHIR_FHIR_CARE_PLAN_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/fhir/fhir_bundle_reader.h"
#include "adapters/fhir/fhir_json_writer.h"
#include "switchboard/v1/payloads.pb.h"

namespace switchboard::adapters::fhir::internal {

// The CarePlan `plan` and the Goals and Observations it references (marked used).
// INVALID_ARGUMENT naming the JSON path for an unresolvable or mistyped reference,
// a status FHIR has and the canonical model does not, a misplaced or unknown
// plan-item-status, a Goal without a plan-item identifier, an activity without
// plan-item-id or detail, a meta.versionId that is not an integer, an invalid
// date, dateTime or integer. Unknown elements are not errors (they are reported).
absl::StatusOr<v1::CarePlanChange> DecodeCarePlan(BundleReader& bundle, Entry& plan);

// Appends the CarePlan (resource id `id`), then each goal's Goal and
// Observations, then the activities' Observations, to the array `entries`.
// INVALID_ARGUMENT naming the canonical field (`message.care_plan_change.items[2]
// .status: required`) for an item without kind, status or (a goal) description.
absl::Status EncodeCarePlan(const v1::CarePlanChange& change, absl::string_view id,
                            absl::string_view patient_url, JsonBuilder& j,
                            rapidjson::Value& entries);

}  // namespace switchboard::adapters::fhir::internal

#endif  // SWITCHBOARD_ADAPTERS_FHIR_FHIR_CARE_PLAN_H_
