// The vocabularies of disclosure decisions: security labels (HL7 v3
// Confidentiality and ActCode sensitivity codes, as FHIR R4 meta.security
// carries them), the REDACTED integrity label the gateway adds, and the HL7 v3
// PurposeOfUse codes the federation accepts. Pure; thread-safe.
#ifndef SWITCHBOARD_POLICY_LABELS_H_
#define SWITCHBOARD_POLICY_LABELS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "switchboard/v1/common.pb.h"

namespace switchboard::policy {

inline constexpr absl::string_view kConfidentialitySystem =
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
inline constexpr absl::string_view kActCodeSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ActCode";
inline constexpr absl::string_view kObservationValueSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
inline constexpr absl::string_view kRedactedCode = "REDACTED";

// The system a known label code belongs to (codes of the three systems do not
// collide); empty when the code is unknown.
absl::string_view SystemOfCode(absl::string_view code);

// True for the HL7 v3 PurposeOfUse codes the federation accepts (TREAT,
// ETREAT, HPAYMT, HOPERAT, CAREMGT, COC, ...).
bool IsKnownPurpose(absl::string_view code);

// INVALID_ARGUMENT naming `field` unless `label` is a known code of its system
// (`field.system` / `field.code`).
absl::Status CheckLabel(const std::string& field, const v1::SecurityLabel& label);
absl::Status CheckLabels(const std::string& field,
                         const google::protobuf::RepeatedPtrField<v1::SecurityLabel>& labels);

// The label the gateway adds to a message it delivered without some elements.
v1::SecurityLabel RedactedLabel();

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_LABELS_H_
