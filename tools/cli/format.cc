#include "tools/cli/format.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "policy/consent_policy.h"
#include "policy/labels.h"
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

// True when the gateway delivered the message without some of its elements.
bool IsRedacted(const v1::MessageHeader& header) {
  for (const v1::SecurityLabel& l : header.security_labels()) {
    if (l.code() == policy::kRedactedCode && l.system() == policy::kObservationValueSystem) {
      return true;
    }
  }
  return false;
}

std::string PeriodText(const v1::Period& p) {
  if (p.has_start() && p.has_end()) {
    return absl::StrCat("from ", FormatTime(p.start()), " until ", FormatTime(p.end()));
  }
  if (p.has_start()) return absl::StrCat("from ", FormatTime(p.start()));
  if (p.has_end()) return absl::StrCat("until ", FormatTime(p.end()));
  return "(any time)";
}

// One provision without its exceptions, e.g. `DENY actors harbour-housing;
// content labelled MH, PSY`. A dimension not set is not shown; none set reads
// `(everyone)`.
std::string ProvisionLine(const v1::ConsentProvision& p) {
  std::vector<std::string> parts;
  if (!p.actors().empty()) {
    std::vector<std::string> who;
    for (const v1::ConsentActor& a : p.actors()) {
      who.push_back(a.has_role() ? "role " + v1::Organisation::Role_Name(a.role())
                                 : a.organisation_id());
    }
    parts.push_back(absl::StrCat("actors ", absl::StrJoin(who, ", ")));
  }
  if (!p.purposes().empty()) {
    parts.push_back(absl::StrCat("purpose ", absl::StrJoin(p.purposes(), ", ")));
  }
  if (!p.security_labels().empty()) {
    std::vector<std::string> codes;
    for (const v1::SecurityLabel& l : p.security_labels()) codes.push_back(l.code());
    parts.push_back(absl::StrCat("content labelled ", absl::StrJoin(codes, ", ")));
  }
  if (!p.event_codes().empty()) {
    parts.push_back(absl::StrCat(p.event_codes_size() == 1 ? "event " : "events ",
                                 absl::StrJoin(p.event_codes(), ", ")));
  }
  if (p.has_data_period()) parts.push_back("content dated " + PeriodText(p.data_period()));
  if (p.has_period()) parts.push_back("in force " + PeriodText(p.period()));
  return absl::StrCat(v1::ConsentProvision::Type_Name(p.type()), " ",
                      parts.empty() ? "(everyone)" : absl::StrJoin(parts, "; "));
}

void AppendProvisions(const v1::ConsentProvision& p, const std::string& indent, std::string* out) {
  absl::StrAppend(out, indent, ProvisionLine(p), "\n");
  for (const v1::ConsentProvision& child : p.provisions()) {
    AppendProvisions(child, indent + "  ", out);
  }
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
      // A member's message does not name the recorder (the gateway sets it).
      return absl::StrCat("   Consent ", c.id(), ": ", v1::Consent::Status_Name(c.status()),
                          c.recorded_by().empty() ? "" : " recorded by " + c.recorded_by(), "\n",
                          FormatProvisions(c.provision(), "     "));
    }
    case v1::Message::kNotification: {
      const auto& n = m.notification();
      return absl::StrCat(
          "   Gateway notice (", n.kind().empty() ? "general" : n.kind(), ")",
          n.subject_organisation().empty() ? "" : " about " + n.subject_organisation(),
          n.has_until() ? " until " + FormatTime(n.until()) : "", "\n", Wrap(n.text(), "     "));
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
    absl::StrAppend(&out,
                    "  routed to nobody (no care-team member or subscriber, or none that the "
                    "client's consent lets receive it)\n");
  }
  for (const auto& rec : r.recipients()) {
    absl::StrAppend(&out, absl::StrFormat("  -> %-20s %s\n", rec.organisation_id(), rec.delivery_id()));
  }
  // Only PublishRaw fills these: partner elements the adapter dropped.
  for (const auto& path : r.ignored_elements()) absl::StrAppend(&out, "  ignored ", path, "\n");
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
  if (IsRedacted(h)) {
    absl::StrAppend(&out,
                    "   REDACTED: some content was withheld from you (by the client's consent or "
                    "the sharing policy)\n");
  }
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
  return absl::StrFormat(
      "%6d %s %-16s %-18s %-8s %-12s %s %s%s\n", r.seq(), FormatTime(r.at()),
      v1::AuditRecord::Action_Name(r.action()),
      r.actor_organisation().empty() ? "(unknown)" : r.actor_organisation(),
      v1::AuditRecord::Outcome_Name(r.outcome()), r.client_id().empty() ? "-" : r.client_id(),
      r.operation(),
      r.subject_organisation().empty() ? "" : absl::StrCat("[", r.subject_organisation(), "] "),
      r.detail());
}

std::string FormatProvisions(const v1::ConsentProvision& root, const std::string& indent) {
  std::string out;
  AppendProvisions(root, indent, &out);
  return out;
}

std::string FormatConsent(const v1::Consent& c, absl::string_view note) {
  std::string out = absl::StrCat("consent ", c.id(), "  version ", c.version(), "  ",
                                 v1::Consent::Status_Name(c.status()), "  (scope ",
                                 c.scope().empty() ? "patient-privacy" : c.scope(), ")",
                                 note.empty() ? "" : "  ", note, "\n");
  auto row = [&out](absl::string_view name, absl::string_view value) {
    absl::StrAppend(&out, absl::StrFormat("  %-10s %s\n", name, value));
  };
  row("client", absl::StrCat(c.client().system(), "|", c.client().value()));
  row("recorded", absl::StrCat(FormatTime(c.recorded_at()), " by ", c.recorded_by()));
  if (!c.source_reference().empty()) row("form", c.source_reference());
  if (c.version() > 1) {
    row("changed", absl::StrCat(FormatTime(c.updated_at()), " by ", c.updated_by()));
  }
  if (!c.status_reason().empty()) row("reason", c.status_reason());
  if (c.has_period()) row("applies", PeriodText(c.period()));
  absl::StrAppend(&out, "  provisions\n", FormatProvisions(c.provision(), "    "));
  return out;
}

std::string FormatConsentHistory(const v1::ClientIdentifier& client,
                                 const google::protobuf::RepeatedPtrField<v1::Consent>& consents) {
  const std::string who = absl::StrCat(client.system(), "|", client.value());
  if (consents.empty()) {
    return absl::StrCat("no consent of ", who,
                        " that you may see (the client's coordinators and admins see every "
                        "consent; other members those they recorded)\n");
  }
  std::string out =
      absl::StrCat("consents of ", who, ": ", consents.size(),
                   consents.size() == 1 ? " version" : " versions", ", newest first\n");
  // Newest first: the first version seen of an id is its current one.
  absl::flat_hash_map<std::string, int64_t> current;
  std::vector<v1::Consent> current_versions;
  for (const v1::Consent& c : consents) {
    if (current.emplace(c.id(), c.version()).second) current_versions.push_back(c);
  }
  // Which of them applies now (the newest active one of each scope), as the
  // gateway decides.
  absl::flat_hash_map<std::string, std::string> applies;  // id -> note
  const auto applicable = policy::ApplicableConsents(current_versions, absl::Now());
  for (const v1::Consent* c : applicable) applies[c->id()] = "[applies now]";
  auto scope = [](const v1::Consent& c) {
    return c.scope().empty() ? std::string("patient-privacy") : c.scope();
  };
  for (const v1::Consent& c : current_versions) {
    if (c.status() != v1::Consent::ACTIVE || applies.contains(c.id())) continue;
    for (const v1::Consent* a : applicable) {
      if (scope(*a) == scope(c)) {
        applies[c.id()] = absl::StrCat("[superseded by consent ", a->id(), "]");
      }
    }
    if (!applies.contains(c.id())) applies[c.id()] = "[not in force now: see its period]";
  }
  for (const v1::Consent& c : consents) {
    const int64_t newest = current.at(c.id());
    const std::string note = c.version() != newest
                                 ? absl::StrCat("[superseded by version ", newest, "]")
                                 : (applies.contains(c.id()) ? applies.at(c.id()) : "");
    absl::StrAppend(&out, "\n", FormatConsent(c, note));
  }
  return out;
}

std::string FormatAccessDecision(const v1::CheckAccessRequest& req, const v1::AccessDecision& d) {
  std::vector<std::string> codes;
  for (const v1::SecurityLabel& l : req.security_labels()) codes.push_back(l.code());
  const bool permit =
      d.effect() == v1::AccessDecision::PERMIT || d.effect() == v1::AccessDecision::PERMIT_REDACTED;
  std::string out =
      absl::StrCat(v1::AccessDecision::Effect_Name(d.effect()), ": ", req.recipient(),
                   permit ? " may receive " : " may not receive ",
                   codes.empty() ? "unlabelled " : "", req.event(), " content",
                   codes.empty() ? "" : absl::StrCat(" labelled ", absl::StrJoin(codes, ", ")),
                   " for purpose ", req.purpose().empty() ? "TREAT" : req.purpose(), "\n");
  absl::StrAppend(&out, "  client   ", req.client().system(), "|", req.client().value(), "\n");
  absl::StrAppend(&out, "  reason   ", d.reason(), "\n");
  for (const auto& e : d.elements()) {
    absl::StrAppend(&out, "  ", e.path(), ": ", v1::AccessDecision::Effect_Name(e.effect()), " (",
                    e.reason(), ")\n");
  }
  return out;
}

std::string FormatBreakGlassGrant(const v1::BreakGlassGrant& g) {
  std::string out =
      absl::StrCat("break-glass: content about client ", g.client_id(), " is released to ",
                   g.organisation_id(), " until ", FormatTime(g.expires_at()), "\n");
  absl::StrAppend(&out, "  granted   ", FormatTime(g.granted_at()),
                  g.user().empty() ? "" : " (user " + g.user() + ")", "\n");
  absl::StrAppend(&out, "  reason    ", g.reason(), "\n");
  absl::StrAppend(
      &out,
      "  What was withheld from you, or sent to you redacted, is delivered again in "
      "full\n  (sbctl subscribe), and so is new content until then, within what the "
      "sharing\n  policy lets your role receive. The client's coordinators are told.\n");
  return out;
}

}  // namespace switchboard::tools::sbctl
