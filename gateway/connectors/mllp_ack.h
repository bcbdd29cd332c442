// How the MLLP listener answers: the HL7 ACK for the outcome of publishing one
// framed message, and the MLLP framing of it. Pure functions, thread-safe.
//
//   OK                                   AA  (sent only once the message is durable)
//   INVALID_ARGUMENT                     AE  one ERR, located from the status message
//                                            (`payload: PID-3: ...` -> PID, field 3),
//                                            code 101 when it says "required" or
//                                            "no identifier", else 102
//   ALREADY_EXISTS                       AE  ERR code 205 (duplicate key identifier)
//   anything else (UNAUTHENTICATED,      AR  ERR code 207: the gateway refused or could
//   PERMISSION_DENIED, FAILED_PRECONDITION,  not take the message; the content itself
//   UNAVAILABLE, ...)                        was not judged
#ifndef SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_ACK_H_
#define SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_ACK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapters/hl7v2/er7.h"

namespace switchboard::gateway::connectors {

inline constexpr char kMllpStart = 0x0B;
inline constexpr char kMllpEnd[] = "\x1C\x0D";

// `payload` framed as 0x0B payload 0x1C 0x0D.
std::string MllpFrame(absl::string_view payload);

// The ERR entry for a refusal `status` (not OK): location and code as above, ERR-8
// the status message.
adapters::hl7v2::ErrEntry ErrFor(const absl::Status& status);

// The ACK (MakeAck) answering `in` for `status`; `control_id` becomes its MSH-10.
adapters::hl7v2::Message AckFor(const adapters::hl7v2::Message& in, const absl::Status& status,
                                absl::string_view control_id, absl::Time now);

}  // namespace switchboard::gateway::connectors

#endif  // SWITCHBOARD_GATEWAY_CONNECTORS_MLLP_ACK_H_
