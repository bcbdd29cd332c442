#include "policy/labels.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace switchboard::policy {
namespace {

const absl::flat_hash_map<std::string, absl::string_view>& CodeSystems() {
  static const auto* const kCodes = [] {
    auto* m = new absl::flat_hash_map<std::string, absl::string_view>;
    // HL7 v3 Confidentiality (FHIR R4 meta.security confidentiality).
    for (const char* c : {"U", "L", "M", "N", "R", "V"}) (*m)[c] = kConfidentialitySystem;
    // HL7 v3 ActCode, ActInformationSensitivityPolicy.
    for (const char* c : {"BH",  "COGN", "DVD", "EMOTDIS", "ETH", "ETHUD", "GDIS",
                          "HIV", "MH",   "MST", "OPIOIDUD", "PREGNANT", "PSY", "PSYTHPN",
                          "SCA", "SDV",  "SEX", "SICKLE", "SOC", "STD", "SUD", "TBOO"}) {
      (*m)[c] = kActCodeSystem;
    }
    // HL7 v3 ObservationValue, SecurityIntegrityObservationValue.
    (*m)[std::string(kRedactedCode)] = kObservationValueSystem;
    return m;
  }();
  return *kCodes;
}

}  // namespace

absl::string_view SystemOfCode(absl::string_view code) {
  auto it = CodeSystems().find(code);
  return it == CodeSystems().end() ? absl::string_view() : it->second;
}

bool IsKnownPurpose(absl::string_view code) {
  static const auto* const kCodes = new absl::flat_hash_set<std::string>{
      "TREAT", "ETREAT", "HPAYMT", "HOPERAT", "CAREMGT", "COC",
      "PUBHLTH", "HRESCH", "PATRQT", "FAMRQT", "PWATRNY", "SUPNWK"};
  return kCodes->contains(code);
}

absl::Status CheckLabel(const std::string& field, const v1::SecurityLabel& label) {
  if (label.code().empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".code: required"));
  const absl::string_view system = SystemOfCode(label.code());
  if (system.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".code: unknown security label '", label.code().substr(0, 64),
        "' (HL7 v3 Confidentiality U/L/M/N/R/V or an ActCode sensitivity code such as PSY, MH, "
        "SUD, ETH, HIV, SDV, SOC, SEX)"));
  }
  if (label.system() != system) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".system: '", label.code(),
                                                   "' is a code of '", system, "', not of '",
                                                   label.system().substr(0, 128), "'"));
  }
  if (label.display().size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".display: longer than 256 bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckLabels(const std::string& field,
                         const google::protobuf::RepeatedPtrField<v1::SecurityLabel>& labels) {
  for (int i = 0; i < labels.size(); ++i) {
    if (absl::Status s = CheckLabel(absl::StrCat(field, "[", i, "]"), labels[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

v1::SecurityLabel RedactedLabel() {
  v1::SecurityLabel label;
  label.set_system(std::string(kObservationValueSystem));
  label.set_code(std::string(kRedactedCode));
  label.set_display("redacted");
  return label;
}

}  // namespace switchboard::policy
