// HL7 v2 material shared by the integration tests of raw publishing and MLLP:
// st-marys' adapter binding and an ADT^A03 builder.
#ifndef SWITCHBOARD_TESTS_INTEGRATION_HL7_SAMPLES_H_
#define SWITCHBOARD_TESTS_INTEGRATION_HL7_SAMPLES_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace switchboard::testing {

// st-marys speaks HL7 v2 (facility ST_MARYS, MRNs of authority STMARYS).
inline constexpr char kStMarysHl7Binding[] = R"(
adapter_bindings {
  organisation_id: "st-marys"
  config {
    [type.googleapis.com/switchboard.v1.adapters.Hl7v2Config] {
      source: "st-marys"
      sending_facility: "ST_MARYS"
      assigning_authorities { key: "STMARYS" value: "https://st-marys.example.org/fhir/mrn" }
      own_assigning_authority: "STMARYS"
    }
  }
}
)";

// An ADT^A03 from `facility` about `pid3` with one OBX TX section holding
// `marker` (segments end with \r).
inline std::string AdtA03(const std::string& control_id, const std::string& marker,
                          const std::string& pid3 = "MRN-1^^^STMARYS^MR",
                          const std::string& facility = "ST_MARYS") {
  return absl::StrCat(
      "MSH|^~\\&|EPIC_ADT|", facility,
      "|SWITCHBOARD|SWITCHBOARD|20240312143000+0000||ADT^A03^ADT_A03|", control_id, "|P|2.5\r",
      "EVN|A03|20240312142500+0000\r", "PID|1||", pid3, "||DOE^JOHN\r",
      "PV1|1|I|WARD7||||||||||||||||V0001|||||||||||||||||||||||||20240305090000+0000|"
      "20240312142500+0000\r",
      "OBX|1|TX|8648-8^Hospital course||", marker, "||||||F\r");
}

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_INTEGRATION_HL7_SAMPLES_H_
