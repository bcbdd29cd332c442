#include "policy/consent_policy.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/labels.h"
#include "switchboard/common/time_util.h"

namespace switchboard::policy {
namespace {

constexpr absl::string_view kDefaultScope = "patient-privacy";

absl::string_view ScopeOf(const v1::Consent& c) {
  return c.scope().empty() ? kDefaultScope : absl::string_view(c.scope());
}

absl::string_view PurposeOf(const Content& content) {
  return content.purpose.empty() ? absl::string_view("TREAT") : absl::string_view(content.purpose);
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, absl::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// True when every dimension `p` sets matches the request.
bool Matches(const v1::ConsentProvision& p, const Recipient& r, const Content& c, absl::Time now) {
  if (p.has_period() && !PeriodContains(p.period(), now)) return false;
  if (!p.actors().empty()) {
    bool any = false;
    for (const v1::ConsentActor& a : p.actors()) {
      if (a.has_organisation_id() && a.organisation_id() == r.organisation_id) any = true;
      if (a.has_role() &&
          std::find(r.roles.begin(), r.roles.end(), a.role()) != r.roles.end()) {
        any = true;
      }
    }
    if (!any) return false;
  }
  if (!p.purposes().empty() && !Contains(p.purposes(), PurposeOf(c))) return false;
  if (!p.security_labels().empty()) {
    bool any = false;
    for (const v1::SecurityLabel& l : p.security_labels()) {
      if (std::find(c.labels.begin(), c.labels.end(), l.code()) != c.labels.end()) any = true;
    }
    if (!any) return false;
  }
  if (!p.event_codes().empty() && !Contains(p.event_codes(), c.event)) return false;
  if (p.has_data_period() && !PeriodContains(p.data_period(), c.data_time)) return false;
  return true;
}

// The deepest matching provisions under a matching node.
struct Match {
  int depth = 0;
  v1::ConsentProvision::Type type = v1::ConsentProvision::TYPE_UNSPECIFIED;
  std::string path;
  // Label codes named on the path from the root to the deciding provision.
  absl::flat_hash_set<std::string> named;
};

// Appends to `out` the deepest matches under `node` (which matches), at
// `depth`, whose path is `path` and whose ancestors name `named`.
void Deepest(const v1::ConsentProvision& node, int depth, const std::string& path,
             absl::flat_hash_set<std::string> named, const Recipient& r, const Content& c,
             absl::Time now, std::vector<Match>* out) {
  for (const v1::SecurityLabel& l : node.security_labels()) named.insert(l.code());
  std::vector<Match> below;
  for (int i = 0; i < node.provisions_size(); ++i) {
    const v1::ConsentProvision& child = node.provisions(i);
    if (!Matches(child, r, c, now)) continue;
    Deepest(child, depth + 1, absl::StrCat(path, ".provisions[", i, "]"), named, r, c, now, &below);
  }
  if (below.empty()) {
    out->push_back(Match{depth, node.type(), path, std::move(named)});
    return;
  }
  for (Match& m : below) out->push_back(std::move(m));
}

enum class Verdict { kNotApplicable, kPermit, kDeny };

struct ConsentVerdict {
  Verdict verdict = Verdict::kNotApplicable;
  std::string reason;
};

std::string ConsentName(const v1::Consent& consent) {
  return absl::StrCat("consent ", consent.id(), " v", consent.version());
}

ConsentVerdict Evaluate(const v1::Consent& consent, const Recipient& r, const Content& c,
                        const SharingPolicy& policy, absl::Time now) {
  if (!Matches(consent.provision(), r, c, now)) return {};
  std::vector<Match> matches;
  Deepest(consent.provision(), 0, "provision", {}, r, c, now, &matches);
  int depth = 0;
  for (const Match& m : matches) depth = std::max(depth, m.depth);
  const Match* permit = nullptr;
  std::string unnamed;
  for (const Match& m : matches) {
    if (m.depth != depth) continue;
    if (m.type == v1::ConsentProvision::DENY) {
      return {Verdict::kDeny, absl::StrCat(ConsentName(consent), " ", m.path, ": deny")};
    }
    if (permit != nullptr) continue;
    std::string missing;
    for (const std::string& code : c.labels) {
      if (policy.IsSensitive(code) && !m.named.contains(code)) {
        missing = code;
        break;
      }
    }
    if (missing.empty()) {
      permit = &m;
    } else if (unnamed.empty()) {
      unnamed = missing;
    }
  }
  if (permit != nullptr) {
    return {Verdict::kPermit, absl::StrCat(ConsentName(consent), " ", permit->path, ": permit")};
  }
  return {Verdict::kNotApplicable,
          absl::StrCat(ConsentName(consent), " does not name sensitive label ", unnamed)};
}

// Orders consents newest first within a scope.
bool Newer(const v1::Consent& a, const v1::Consent& b) {
  const absl::Time au = FromProtoTime(a.updated_at()), bu = FromProtoTime(b.updated_at());
  if (au != bu) return au > bu;
  const absl::Time ar = FromProtoTime(a.recorded_at()), br = FromProtoTime(b.recorded_at());
  if (ar != br) return ar > br;
  return a.id() > b.id();
}

const char* AudienceName(SharingPolicy::Audience a) {
  switch (a) {
    case v1::SharingPolicy::Default::CARE_TEAM: return "the care team";
    case v1::SharingPolicy::Default::ANY_RECIPIENT: return "any recipient";
    default: return "nobody";
  }
}

}  // namespace

std::vector<const v1::Consent*> ApplicableConsents(absl::Span<const v1::Consent> consents,
                                                  absl::Time now) {
  // Ordered by scope, so that decisions list reasons in a stable order.
  std::map<std::string, const v1::Consent*, std::less<>> current;
  for (const v1::Consent& c : consents) {
    if (c.status() != v1::Consent::ACTIVE) continue;
    if (c.has_period() && !PeriodContains(c.period(), now)) continue;
    auto [it, inserted] = current.emplace(std::string(ScopeOf(c)), &c);
    if (!inserted && Newer(c, *it->second)) it->second = &c;
  }
  std::vector<const v1::Consent*> out;
  for (const auto& [scope, consent] : current) out.push_back(consent);
  return out;
}

ContentDecision DecideContent(const Recipient& recipient, const Content& content,
                              absl::Span<const v1::Consent> consents,
                              const SharingPolicy& policy, absl::Time now) {
  if (std::string why = policy.RefusesEvent(recipient.roles, content.event); !why.empty()) {
    return {false, std::move(why)};
  }
  for (const std::string& code : content.labels) {
    if (std::string why = policy.RefusesLabel(recipient.roles, code); !why.empty()) {
      return {false, std::move(why)};
    }
  }
  if (recipient.break_glass_until > now) {
    return {true, absl::StrCat("break-glass by ", recipient.organisation_id, " until ",
                               absl::FormatTime(absl::RFC3339_sec, recipient.break_glass_until,
                                                absl::UTCTimeZone()))};
  }

  std::string permit_reason;
  std::string not_applicable;
  for (const v1::Consent* consent : ApplicableConsents(consents, now)) {
    ConsentVerdict v = Evaluate(*consent, recipient, content, policy, now);
    if (v.verdict == Verdict::kDeny) return {false, std::move(v.reason)};
    if (v.verdict == Verdict::kPermit && permit_reason.empty()) permit_reason = std::move(v.reason);
    if (v.verdict == Verdict::kNotApplicable && !v.reason.empty() && not_applicable.empty()) {
      not_applicable = std::move(v.reason);
    }
  }
  if (!permit_reason.empty()) return {true, std::move(permit_reason)};

  bool sensitive = false;
  for (const std::string& code : content.labels) sensitive = sensitive || policy.IsSensitive(code);
  const absl::string_view purpose = PurposeOf(content);
  const SharingPolicy::Audience audience = policy.DefaultAudience(purpose, sensitive);
  const bool permit = audience == v1::SharingPolicy::Default::ANY_RECIPIENT ||
                      (audience == v1::SharingPolicy::Default::CARE_TEAM && recipient.in_care_team);
  std::string reason = absl::StrCat(
      not_applicable.empty() ? "no consent applies" : not_applicable, "; sharing policy default for ",
      purpose, sensitive ? " sensitive" : " unlabelled", " content: ", AudienceName(audience));
  if (audience == v1::SharingPolicy::Default::CARE_TEAM && !recipient.in_care_team) {
    absl::StrAppend(&reason, " (not in the care team)");
  }
  return {permit, std::move(reason)};
}

namespace {

using Labels = google::protobuf::RepeatedPtrField<v1::SecurityLabel>;

// Calls `fn(path, own labels, inherited labels)` for every element of the
// payload that can carry labels, parents before children.
template <typename Fn>
void ForEachElement(const v1::Message& m, Fn fn) {
  auto sections = [&](const std::string& field, const google::protobuf::RepeatedPtrField<v1::Section>& s) {
    for (int i = 0; i < s.size(); ++i) {
      fn(absl::StrCat(field, "[", i, "]"), s[i].security_labels(), static_cast<const Labels*>(nullptr));
    }
  };
  switch (m.payload_case()) {
    case v1::Message::kDischargeNote:
      sections("discharge_note.sections", m.discharge_note().sections());
      break;
    case v1::Message::kCaseNote:
      sections("case_note.sections", m.case_note().sections());
      break;
    case v1::Message::kCarePlanChange: {
      const auto& items = m.care_plan_change().items();
      for (int i = 0; i < items.size(); ++i) {
        const std::string path = absl::StrCat("care_plan_change.items[", i, "]");
        fn(path, items[i].security_labels(), static_cast<const Labels*>(nullptr));
        for (int j = 0; j < items[i].progress_size(); ++j) {
          fn(absl::StrCat(path, ".progress[", j, "]"), items[i].progress(j).security_labels(),
             &items[i].security_labels());
        }
      }
      break;
    }
    default:
      break;
  }
}

void AddCodes(const Labels& labels, std::vector<std::string>* out) {
  for (const v1::SecurityLabel& l : labels) {
    if (std::find(out->begin(), out->end(), l.code()) == out->end()) out->push_back(l.code());
  }
}

template <typename T>
void RemoveDenied(google::protobuf::RepeatedPtrField<T>* field, const std::string& prefix,
                  const absl::flat_hash_set<std::string>& denied) {
  google::protobuf::RepeatedPtrField<T> kept;
  for (int i = 0; i < field->size(); ++i) {
    if (!denied.contains(absl::StrCat(prefix, "[", i, "]"))) kept.Add()->Swap(field->Mutable(i));
  }
  field->Swap(&kept);
}

}  // namespace

v1::AccessDecision DecideMessage(const Recipient& recipient, const v1::Message& message,
                                 absl::Span<const v1::Consent> consents,
                                 const SharingPolicy& policy, absl::Time now) {
  const v1::MessageHeader& h = message.header();
  Content base;
  base.event = h.event();
  base.purpose = h.purpose_of_use();
  base.data_time = h.has_occurred_at() ? FromProtoTime(h.occurred_at()) : now;
  AddCodes(h.security_labels(), &base.labels);

  v1::AccessDecision out;
  ContentDecision whole = DecideContent(recipient, base, consents, policy, now);
  out.set_reason(whole.reason);
  if (!whole.permit) {
    out.set_effect(v1::AccessDecision::DENY);
    return out;
  }
  out.set_effect(v1::AccessDecision::PERMIT);
  absl::flat_hash_set<std::string> denied;
  ForEachElement(message, [&](const std::string& path, const Labels& own, const Labels* parent) {
    if (own.empty()) return;  // decided as the message (or its parent) is
    // A child of a removed element is gone with it.
    const std::string parent_path = path.substr(0, path.rfind(".progress["));
    if (parent != nullptr && denied.contains(parent_path)) return;
    Content c = base;
    if (parent != nullptr) AddCodes(*parent, &c.labels);
    AddCodes(own, &c.labels);
    ContentDecision d = DecideContent(recipient, c, consents, policy, now);
    if (d.permit) return;
    denied.insert(path);
    auto* e = out.add_elements();
    e->set_path(path);
    e->set_effect(v1::AccessDecision::DENY);
    e->set_reason(std::move(d.reason));
  });
  if (!denied.empty()) {
    out.set_effect(v1::AccessDecision::PERMIT_REDACTED);
    std::vector<std::string> paths;
    for (const auto& e : out.elements()) paths.push_back(e.path());
    out.set_reason(absl::StrCat(whole.reason, "; removed ", absl::StrJoin(paths, ", ")));
  }
  return out;
}

v1::Message Redact(const v1::Message& message, const v1::AccessDecision& decision) {
  v1::Message out = message;
  if (decision.effect() != v1::AccessDecision::PERMIT_REDACTED) return out;
  absl::flat_hash_set<std::string> denied;
  for (const auto& e : decision.elements()) {
    if (e.effect() == v1::AccessDecision::DENY) denied.insert(e.path());
  }
  switch (out.payload_case()) {
    case v1::Message::kDischargeNote:
      RemoveDenied(out.mutable_discharge_note()->mutable_sections(), "discharge_note.sections",
                   denied);
      break;
    case v1::Message::kCaseNote:
      RemoveDenied(out.mutable_case_note()->mutable_sections(), "case_note.sections", denied);
      break;
    case v1::Message::kCarePlanChange: {
      auto* items = out.mutable_care_plan_change()->mutable_items();
      // Children first, while the item indexes still hold.
      for (int i = 0; i < items->size(); ++i) {
        RemoveDenied(items->Mutable(i)->mutable_progress(),
                     absl::StrCat("care_plan_change.items[", i, "].progress"), denied);
      }
      RemoveDenied(items, "care_plan_change.items", denied);
      break;
    }
    default:
      break;
  }
  bool labelled = false;
  for (const v1::SecurityLabel& l : out.header().security_labels()) {
    labelled = labelled || l.code() == kRedactedCode;
  }
  if (!labelled) *out.mutable_header()->add_security_labels() = RedactedLabel();
  return out;
}

}  // namespace switchboard::policy
