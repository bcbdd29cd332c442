#include "gateway/config/event_catalogue.h"

namespace switchboard::gateway::config {

EventCatalogue::EventCatalogue(const v1::GatewayConfig& config) {
  for (const v1::EventType& type : config.event_types()) by_code_[type.code()] = type.payload();
}

std::optional<v1::EventType::Payload> EventCatalogue::PayloadOf(absl::string_view code) const {
  auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::nullopt;
  return it->second;
}

v1::Message::PayloadCase PayloadCaseOf(v1::EventType::Payload payload) {
  switch (payload) {
    case v1::EventType::DISCHARGE_NOTE: return v1::Message::kDischargeNote;
    case v1::EventType::CASE_NOTE: return v1::Message::kCaseNote;
    case v1::EventType::REFERRAL: return v1::Message::kReferral;
    case v1::EventType::CARE_PLAN_CHANGE: return v1::Message::kCarePlanChange;
    case v1::EventType::CONSENT_CHANGE: return v1::Message::kConsentChange;
    default: return v1::Message::PAYLOAD_NOT_SET;
  }
}

std::string PayloadFieldName(v1::Message::PayloadCase c) {
  if (c == v1::Message::PAYLOAD_NOT_SET) return "none";
  const auto* field = v1::Message::descriptor()->FindFieldByNumber(static_cast<int>(c));
  return field == nullptr ? "unknown" : field->name();
}

}  // namespace switchboard::gateway::config
