// The event codes the federation knows and the payload each carries, from the
// config's `event_types`. Immutable after construction; thread-safe.
#ifndef SWITCHBOARD_GATEWAY_CONFIG_EVENT_CATALOGUE_H_
#define SWITCHBOARD_GATEWAY_CONFIG_EVENT_CATALOGUE_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::config {

class EventCatalogue {
 public:
  EventCatalogue() = default;
  explicit EventCatalogue(const v1::GatewayConfig& config);

  bool Contains(absl::string_view code) const { return by_code_.contains(code); }
  // The payload an event carries; nullopt for an unknown code.
  std::optional<v1::EventType::Payload> PayloadOf(absl::string_view code) const;

 private:
  absl::flat_hash_map<std::string, v1::EventType::Payload> by_code_;
};

// The Message oneof case that carries `payload`.
v1::Message::PayloadCase PayloadCaseOf(v1::EventType::Payload payload);
// The field name of a Message oneof case, e.g. "discharge_note"; "none" if unset.
std::string PayloadFieldName(v1::Message::PayloadCase c);

}  // namespace switchboard::gateway::config

#endif  // SWITCHBOARD_GATEWAY_CONFIG_EVENT_CATALOGUE_H_
