#include "tools/cli/format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "switchboard/common/time_util.h"

namespace switchboard::tools::sbctl {
namespace {

// Indents every line of `text` wrapped at about `width` columns.
std::string Wrap(const std::string& text, const std::string& indent, size_t width = 88) {
  std::string out;
  for (absl::string_view para : absl::StrSplit(text, '\n')) {
    std::string line = indent;
    for (absl::string_view word : absl::StrSplit(para, ' ', absl::SkipEmpty())) {
      if (line.size() > indent.size() && line.size() + 1 + word.size() > width) {
        absl::StrAppend(&out, line, "\n");
        line = indent;
      }
      if (line.size() > indent.size()) line += " ";
      absl::StrAppend(&line, word);
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string Labels(const google::protobuf::RepeatedPtrField<v1::SecurityLabel>& labels) {
  std::vector<std::string> codes;
  for (const auto& l : labels) codes.push_back(l.code());
  return codes.empty() ? "" : absl::StrCat(" [", absl::StrJoin(codes, ","), "]");
}

std::string Sections(const google::protobuf::RepeatedPtrField<v1::Section>& sections) {
  std::string out;
  for (const v1::Section& s : sections) {
    absl::StrAppend(&out, "     ", s.title().empty() ? "(untitled)" : s.title(),
                    Labels(s.security_labels()), "\n", Wrap(s.text(), "       "));
  }
  return out;
}

std::string Payload(const v1::Message& m) {
  switch (m.payload_case()) {
    case v1::Message::kDischargeNote: {
      const auto& n = m.discharge_note();
      return absl::StrCat("   ", n.title().empty() ? "Discharge note" : n.title(), " (admitted ",
                          FormatTime(n.admitted_at()), ", discharged ",
                          FormatTime(n.discharged_at()),
                          n.discharge_disposition().empty() ? "" : ", to " + n.discharge_disposition(),
                          ")\n", Sections(n.sections()));
    }
    case v1::Message::kCaseNote: {
      const auto& n = m.case_note();
      return absl::StrCat("   ", n.title().empty() ? "Case note" : n.title(),
                          n.domain().empty() ? "" : " (" + n.domain() + ")", "\n",
                          Sections(n.sections()));
    }
    case v1::Message::kReferral: {
      const auto& r = m.referral();
      return absl::StrCat("   Referral ", r.referral_id(), " to ", r.target(), " for ", r.service(),
                          ": ", v1::Referral::Status_Name(r.status()),
                          r.status_reason().empty() ? "" : " (" + r.status_reason() + ")", "\n",
                          r.reason().empty() ? "" : Wrap("Reason: " + r.reason(), "     "));
    }
    case v1::Message::kCarePlanChange: {
      std::string out = "   Care plan change\n";
      for (const auto& item : m.care_plan_change().items()) {
        absl::StrAppend(&out, "     ", v1::CarePlanItem::Kind_Name(item.kind()), " ", item.id(),
                        " (", item.owner(), ", ", item.domain(), "): ",
                        v1::CarePlanItem::Status_Name(item.status()), Labels(item.security_labels()),
                        "\n", Wrap(item.description(), "       "));
      }
      return out;
    }
    case v1::Message::kConsentChange: {
      const auto& c = m.consent_change().consent();
      return absl::StrCat("   Consent ", c.id(), ": ", v1::Consent::Status_Name(c.status()),
                          " recorded by ", c.recorded_by(), "\n");
    }
    case v1::Message::PAYLOAD_NOT_SET:
      break;
  }
  return "   (no payload)\n";
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!pretty) out.erase(std::remove(out.begin(), out.end(), '\n'), out.end());
  return out;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTime(ts), absl::UTCTimeZone());
}

std::string FormatReceipt(const v1::Receipt& r) {
  std::string out = absl::StrCat("accepted ", r.message_id(), " from ", r.source(), " as ",
                                 r.gateway_message_id(), " at ", FormatTime(r.accepted_at()), "\n");
  if (r.recipients().empty()) {
    absl::StrAppend(&out, "  routed to nobody (no care team member or subscriber to send it to)\n");
  }
  for (const auto& rec : r.recipients()) {
    absl::StrAppend(&out, absl::StrFormat("  -> %-20s %s\n", rec.organisation_id(), rec.delivery_id()));
  }
  return out;
}

std::string FormatDelivery(const v1::Delivery& d) {
  const v1::MessageHeader& h = d.message().header();
  std::string out = absl::StrCat("== ", d.id(), "  ", d.event(), " from ", d.source(),
                                 "  (attempt ", d.attempts(), ")\n");
  absl::StrAppend(&out, "   message   ", d.message_id(), " (", d.gateway_message_id(), ")\n");
  absl::StrAppend(&out, "   client    ", h.client().system(), "|", h.client().value(), "\n");
  absl::StrAppend(&out, "   occurred  ", FormatTime(h.occurred_at()), "   purpose ",
                  h.purpose_of_use(), h.author().empty() ? "" : "   author " + h.author(),
                  Labels(h.security_labels()), "\n");
  absl::StrAppend(&out, Payload(d.message()));
  return out;
}

std::string FormatDeliveryRow(const v1::Delivery& d) {
  return absl::StrFormat("%-22s %-12s %-18s %-16s %-26s %-20s %-20s %d\n", d.id(),
                         v1::Delivery::State_Name(d.state()), d.recipient(), d.event(),
                         d.message_id(), FormatTime(d.created_at()),
                         FormatTime(d.delivered_at()), d.attempts());
}

std::string FormatMessageStatus(const v1::MessageStatus& s) {
  std::string out = absl::StrCat(s.message_id(), " (", s.gateway_message_id(), ") event ",
                                 s.event(), ", accepted ", FormatTime(s.accepted_at()), "\n");
  absl::StrAppend(&out, absl::StrFormat("  %-18s %-10s %-20s %-20s %s\n", "RECIPIENT", "STATE",
                                        "LAST SENT", "DELIVERED", "ATTEMPTS"));
  for (const auto& d : s.deliveries()) {
    absl::StrAppend(&out, absl::StrFormat("  %-18s %-10s %-20s %-20s %d\n", d.recipient(),
                                          v1::Delivery::State_Name(d.state()),
                                          FormatTime(d.last_attempt_at()),
                                          FormatTime(d.delivered_at()), d.attempts()));
  }
  return out;
}

std::string FormatOrganisations(const google::protobuf::RepeatedPtrField<v1::Organisation>& orgs) {
  std::string out = absl::StrFormat("%-18s %-10s %-22s %s\n", "ID", "STATUS", "ROLES", "NAME");
  for (const auto& o : orgs) {
    std::vector<std::string> roles;
    for (int r : o.roles()) roles.push_back(v1::Organisation::Role_Name(r));
    absl::StrAppend(&out, absl::StrFormat("%-18s %-10s %-22s %s\n", o.id(),
                                          v1::Organisation::Status_Name(o.status()),
                                          absl::StrJoin(roles, ","), o.display_name()));
  }
  return out;
}

std::string FormatCareTeam(const v1::CareTeam& team) {
  std::string out = absl::StrCat("care team of ", team.client_id(), "\n");
  absl::StrAppend(&out, absl::StrFormat("  %-18s %-18s %-20s %s\n", "MEMBER", "ROLE", "SINCE", "UNTIL"));
  for (const auto& m : team.members()) {
    absl::StrAppend(&out, absl::StrFormat("  %-18s %-18s %-20s %s\n", m.organisation_id(), m.role(),
                                          FormatTime(m.period().start()),
                                          m.period().has_end() ? FormatTime(m.period().end()) : "(current)"));
  }
  return out;
}

std::string FormatAuditRecord(const v1::AuditRecord& r) {
  return absl::StrFormat("%6d %s %-16s %-18s %-8s %-12s %s %s\n", r.seq(), FormatTime(r.at()),
                         v1::AuditRecord::Action_Name(r.action()),
                         r.actor_organisation().empty() ? "(unknown)" : r.actor_organisation(),
                         v1::AuditRecord::Outcome_Name(r.outcome()),
                         r.client_id().empty() ? "-" : r.client_id(), r.operation(), r.detail());
}

}  // namespace switchboard::tools::sbctl
