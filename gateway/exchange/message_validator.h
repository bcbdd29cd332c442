// Validation of a published message before anything is stored: required header
// fields, known event code, the payload the event calls for, and the payload's own
// required fields. Pure (the caller passes `now`); thread-safe.
#ifndef SWITCHBOARD_GATEWAY_EXCHANGE_MESSAGE_VALIDATOR_H_
#define SWITCHBOARD_GATEWAY_EXCHANGE_MESSAGE_VALIDATOR_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gateway/config/event_catalogue.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::exchange {

// How far in the future `occurred_at` may be (clock skew between members).
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(10);

// Fills defaults that do not change meaning: an empty purpose_of_use becomes
// TREAT. Run before hashing, so a resend with and without the default is the
// same message.
void NormaliseMessage(v1::Message* message);

// An empty purpose_of_use is valid (it means TREAT, see NormaliseMessage).
// OK, or INVALID_ARGUMENT whose message starts with the offending field's path,
// e.g. "message.header.event: unknown event code 'discharge-x'". Does not check
// `source` against the caller, the size limit, the client's existence or the
// destinations (the publisher and the routing policy do).
absl::Status ValidateMessage(const v1::Message& message, const config::EventCatalogue& events,
                             const v1::Limits& limits, absl::Time now);

}  // namespace switchboard::gateway::exchange

#endif  // SWITCHBOARD_GATEWAY_EXCHANGE_MESSAGE_VALIDATOR_H_
