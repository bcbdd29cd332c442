#include "gateway/exchange/message_validator.h"

#include "absl/strings/str_cat.h"
#include "policy/labels.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::exchange {
namespace {

constexpr size_t kMaxText = 256;
constexpr size_t kMaxNarrative = 512 * 1024;
// Identifiers one message may carry besides header.client (HL7 PID-3 rarely
// has more than a handful).
constexpr int kMaxOtherIdentifiers = 16;

using policy::CheckLabels;

absl::Status CheckSections(const std::string& field,
                           const google::protobuf::RepeatedPtrField<v1::Section>& sections) {
  if (sections.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at least one section is required"));
  }
  for (int i = 0; i < sections.size(); ++i) {
    const std::string f = absl::StrCat(field, "[", i, "]");
    const v1::Section& s = sections[i];
    SB_RETURN_IF_ERROR(CheckText(f + ".code", s.code(), 64, false));
    SB_RETURN_IF_ERROR(CheckText(f + ".title", s.title(), kMaxText, false));
    SB_RETURN_IF_ERROR(CheckText(f + ".text", s.text(), kMaxNarrative, true));
    SB_RETURN_IF_ERROR(CheckLabels(f + ".security_labels", s.security_labels()));
  }
  return absl::OkStatus();
}

absl::Status CheckHeader(const v1::MessageHeader& h, const config::EventCatalogue& events,
                         const v1::Limits& limits, absl::Time now) {
  SB_RETURN_IF_ERROR(CheckToken("message.header.id", h.id()));
  if (h.event().empty()) return absl::InvalidArgumentError("message.header.event: required");
  if (!events.Contains(h.event())) {
    return absl::InvalidArgumentError(
        absl::StrCat("message.header.event: unknown event code '", h.event().substr(0, 64), "'"));
  }
  SB_RETURN_IF_ERROR(CheckSlug("message.header.source", h.source()));
  if (static_cast<uint32_t>(h.destinations_size()) > limits.max_destinations()) {
    return absl::InvalidArgumentError(absl::StrCat("message.header.destinations: more than ",
                                                   limits.max_destinations(), " destinations"));
  }
  SB_RETURN_IF_ERROR(CheckIdentifier("message.header.client", h.client()));
  if (h.other_client_identifiers_size() > kMaxOtherIdentifiers) {
    return absl::InvalidArgumentError(absl::StrCat("message.header.other_client_identifiers: more than ",
                                                   kMaxOtherIdentifiers, " identifiers"));
  }
  for (int i = 0; i < h.other_client_identifiers_size(); ++i) {
    const std::string field = absl::StrCat("message.header.other_client_identifiers[", i, "]");
    const v1::ClientIdentifier& id = h.other_client_identifiers(i);
    SB_RETURN_IF_ERROR(CheckIdentifier(field, id));
    if (IdentifierText(id) == IdentifierText(h.client())) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", IdentifierText(id),
                                                     "' repeats message.header.client"));
    }
    for (int j = 0; j < i; ++j) {
      if (IdentifierText(id) == IdentifierText(h.other_client_identifiers(j))) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": '", IdentifierText(id),
                                                       "' is listed twice"));
      }
    }
  }
  if (!h.has_occurred_at()) {
    return absl::InvalidArgumentError("message.header.occurred_at: required");
  }
  SB_RETURN_IF_ERROR(CheckTimestamp("message.header.occurred_at", h.occurred_at()));
  if (FromProtoTime(h.occurred_at()) > now + kMaxClockSkew) {
    return absl::InvalidArgumentError(
        "message.header.occurred_at: is in the future (more than 10 minutes ahead of the gateway)");
  }
  if (!h.purpose_of_use().empty() && !policy::IsKnownPurpose(h.purpose_of_use())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message.header.purpose_of_use: unknown purpose of use '", h.purpose_of_use().substr(0, 64),
        "' (HL7 v3 PurposeOfUse, e.g. TREAT)"));
  }
  SB_RETURN_IF_ERROR(CheckLabels("message.header.security_labels", h.security_labels()));
  SB_RETURN_IF_ERROR(CheckText("message.header.correlation_id", h.correlation_id(), kMaxText, false));
  SB_RETURN_IF_ERROR(CheckText("message.header.author", h.author(), kMaxText, false));
  if (h.purpose_of_use() == "ETREAT") {
    SB_RETURN_IF_ERROR(CheckText("message.header.break_glass_reason", h.break_glass_reason(), 1024,
                                 /*required=*/true));
  } else if (!h.break_glass_reason().empty()) {
    return absl::InvalidArgumentError(
        "message.header.break_glass_reason: only with purpose_of_use ETREAT (break-glass)");
  }
  return absl::OkStatus();
}

absl::Status CheckReferral(const v1::Referral& r) {
  SB_RETURN_IF_ERROR(CheckToken("message.referral.referral_id", r.referral_id()));
  SB_RETURN_IF_ERROR(CheckSlug("message.referral.target", r.target()));
  SB_RETURN_IF_ERROR(CheckText("message.referral.service", r.service(), kMaxText, true));
  SB_RETURN_IF_ERROR(CheckText("message.referral.reason", r.reason(), kMaxNarrative, false));
  if (r.status() == v1::Referral::STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError("message.referral.status: required");
  }
  SB_RETURN_IF_ERROR(CheckText("message.referral.status_reason", r.status_reason(), kMaxText, false));
  return CheckText("message.referral.note", r.note(), kMaxNarrative, false);
}

absl::Status CheckCarePlanChange(const v1::CarePlanChange& c) {
  if (c.items().empty()) {
    return absl::InvalidArgumentError("message.care_plan_change.items: at least one item is required");
  }
  for (int i = 0; i < c.items_size(); ++i) {
    const std::string f = absl::StrCat("message.care_plan_change.items[", i, "]");
    const v1::CarePlanItem& item = c.items(i);
    SB_RETURN_IF_ERROR(CheckToken(f + ".id", item.id()));
    if (item.kind() == v1::CarePlanItem::KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(f + ".kind: required (GOAL or ACTIVITY)");
    }
    SB_RETURN_IF_ERROR(CheckSlug(f + ".owner", item.owner()));
    if (item.status() == v1::CarePlanItem::STATUS_UNSPECIFIED) {
      return absl::InvalidArgumentError(f + ".status: required");
    }
    SB_RETURN_IF_ERROR(CheckText(f + ".domain", item.domain(), 64, false));
    SB_RETURN_IF_ERROR(CheckText(f + ".description", item.description(), kMaxNarrative, true));
    SB_RETURN_IF_ERROR(CheckPeriod(f + ".period", item.period()));
    SB_RETURN_IF_ERROR(CheckLabels(f + ".security_labels", item.security_labels()));
    for (int j = 0; j < item.progress_size(); ++j) {
      const std::string p = absl::StrCat(f, ".progress[", j, "]");
      const v1::ProgressEntry& e = item.progress(j);
      if (e.has_at()) SB_RETURN_IF_ERROR(CheckTimestamp(p + ".at", e.at()));
      if (e.has_attainment() && e.scale().empty() && (e.attainment() < -2 || e.attainment() > 2)) {
        return absl::InvalidArgumentError(
            absl::StrCat(p, ".attainment: ", e.attainment(), " is outside the -2..+2 scale"));
      }
      SB_RETURN_IF_ERROR(CheckText(p + ".note", e.note(), kMaxNarrative, false));
      SB_RETURN_IF_ERROR(CheckLabels(p + ".security_labels", e.security_labels()));
    }
  }
  return absl::OkStatus();
}

// The consent itself is checked by the publisher (policy::CheckConsent needs
// the registry).
absl::Status CheckConsentChange(const v1::ConsentChange& c) {
  if (!c.has_consent()) return absl::InvalidArgumentError("message.consent_change.consent: required");
  return absl::OkStatus();
}

}  // namespace

void NormaliseMessage(v1::Message* message) {
  if (message->header().purpose_of_use().empty()) {
    message->mutable_header()->set_purpose_of_use("TREAT");
  }
}

absl::Status ValidateMessage(const v1::Message& message, const config::EventCatalogue& events,
                             const v1::Limits& limits, absl::Time now) {
  if (!message.has_header()) return absl::InvalidArgumentError("message.header: required");
  SB_RETURN_IF_ERROR(CheckHeader(message.header(), events, limits, now));

  const auto expected = config::PayloadCaseOf(*events.PayloadOf(message.header().event()));
  if (message.payload_case() == v1::Message::PAYLOAD_NOT_SET) {
    return absl::InvalidArgumentError(absl::StrCat("message.", config::PayloadFieldName(expected),
                                                   ": required for event '",
                                                   message.header().event(), "'"));
  }
  if (message.payload_case() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message.", config::PayloadFieldName(message.payload_case()), ": event '",
        message.header().event(), "' carries a ", config::PayloadFieldName(expected)));
  }
  switch (message.payload_case()) {
    case v1::Message::kDischargeNote: {
      const v1::DischargeNote& note = message.discharge_note();
      SB_RETURN_IF_ERROR(CheckText("message.discharge_note.title", note.title(), kMaxText, false));
      if (note.has_admitted_at()) {
        SB_RETURN_IF_ERROR(CheckTimestamp("message.discharge_note.admitted_at", note.admitted_at()));
      }
      if (note.has_discharged_at()) {
        SB_RETURN_IF_ERROR(
            CheckTimestamp("message.discharge_note.discharged_at", note.discharged_at()));
      }
      SB_RETURN_IF_ERROR(CheckText("message.discharge_note.discharge_disposition",
                                   note.discharge_disposition(), kMaxText, false));
      return CheckSections("message.discharge_note.sections", note.sections());
    }
    case v1::Message::kCaseNote: {
      const v1::CaseNote& note = message.case_note();
      SB_RETURN_IF_ERROR(CheckText("message.case_note.title", note.title(), kMaxText, false));
      SB_RETURN_IF_ERROR(CheckText("message.case_note.domain", note.domain(), 64, false));
      return CheckSections("message.case_note.sections", note.sections());
    }
    case v1::Message::kReferral:
      return CheckReferral(message.referral());
    case v1::Message::kCarePlanChange:
      return CheckCarePlanChange(message.care_plan_change());
    case v1::Message::kConsentChange:
      return CheckConsentChange(message.consent_change());
    case v1::Message::kNotification:
      return absl::InvalidArgumentError(
          "message.notification: only the gateway itself sends notifications");
    case v1::Message::PAYLOAD_NOT_SET:
      break;
  }
  return absl::OkStatus();
}

}  // namespace switchboard::gateway::exchange
