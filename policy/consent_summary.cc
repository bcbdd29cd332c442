#include "policy/consent_summary.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/consent_policy.h"
#include "switchboard/common/time_util.h"

namespace switchboard::policy {
namespace {

using Role = v1::Organisation::Role;

constexpr char kPurpose[] = "TREAT";

// One member of the care team as the decisions see it.
struct Member {
  std::string id;
  std::string name;
  std::vector<Role> roles;
};

bool ActorsReach(const v1::ConsentProvision& p, const Member& m) {
  if (p.actors().empty()) return true;
  for (const v1::ConsentActor& a : p.actors()) {
    if (a.has_organisation_id() && a.organisation_id() == m.id) return true;
    if (a.has_role() && std::find(m.roles.begin(), m.roles.end(), a.role()) != m.roles.end()) {
      return true;
    }
  }
  return false;
}

// Whether `p` can match content for `m` now, whatever the content: its actors name
// `m` (or nobody in particular) and its period contains `now`.
bool Reaches(const v1::ConsentProvision& p, const Member& m, absl::Time now) {
  return ActorsReach(p, m) && (!p.has_period() || PeriodContains(p.period(), now));
}

// True when a provision that can reach `m` restricts by purpose, event or data
// period (which the sentences below cannot say truthfully).
bool TooComplex(const v1::ConsentProvision& p, const Member& m, absl::Time now) {
  if (!Reaches(p, m, now)) return false;
  if (!p.purposes().empty() || !p.event_codes().empty() || p.has_data_period()) return true;
  for (const v1::ConsentProvision& child : p.provisions()) {
    if (TooComplex(child, m, now)) return true;
  }
  return false;
}

// Adds to `out` the label codes named by the provisions that can reach `m` (a
// label named only for others is, for `m`, like any label the consent leaves out).
void NamedLabels(const v1::ConsentProvision& p, const Member& m, absl::Time now,
                 std::vector<std::string>* out) {
  if (!Reaches(p, m, now)) return;
  for (const v1::SecurityLabel& l : p.security_labels()) {
    if (std::find(out->begin(), out->end(), l.code()) == out->end()) out->push_back(l.code());
  }
  for (const v1::ConsentProvision& child : p.provisions()) NamedLabels(child, m, now, out);
}

// An event the member's roles may receive, so that the probes below ask about
// content, not about events (nullopt: the sharing policy gives it nothing at all).
std::optional<std::string> ProbeEvent(const SharingPolicy& policy, const Member& m) {
  for (const auto& rule : policy.proto().roles()) {
    if (std::find(m.roles.begin(), m.roles.end(), rule.role()) == m.roles.end()) continue;
    for (const std::string& e : rule.events()) return e == "*" ? "" : e;
  }
  return std::nullopt;
}

// "A", "A and B", "A, B and C" (words already deduplicated).
std::string List(const std::vector<std::string>& words, absl::string_view last = "and") {
  if (words.size() <= 1) return words.empty() ? "" : words.front();
  return absl::StrCat(absl::StrJoin(words.begin(), words.end() - 1, ", "), " ", last, " ",
                      words.back());
}

class Sentences {
 public:
  Sentences(const LabelWords& words, const SharingPolicy& policy)
      : words_(words), policy_(policy) {}

  // The words for `codes`, each once, in order.
  std::vector<std::string> Words(const std::vector<std::string>& codes) const {
    std::vector<std::string> out;
    for (const std::string& code : codes) {
      auto it = words_.find(code);
      std::string w = it == words_.end() ? code : it->second;
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
    }
    return out;
  }

  bool Sensitive(const std::string& code) const { return policy_.IsSensitive(code); }

 private:
  const LabelWords& words_;
  const SharingPolicy& policy_;
};

// What one member may see, by label code.
struct Probe {
  bool unlabelled = false;
  // Codes the consents name, and the other sensitive codes, split by decision.
  std::vector<std::string> named_permitted, named_denied, other_permitted, other_denied;
};

std::string ConsentSentence(const Probe& p, const Sentences& s) {
  if (!p.unlabelled) {
    std::vector<std::string> only;
    for (const std::string& c : p.named_permitted) only.push_back(c);
    for (const std::string& c : p.other_permitted) only.push_back(c);
    if (only.empty()) return "sees nothing.";
    return absl::StrCat("sees only ", List(s.Words(only)), ".");
  }
  std::vector<std::string> including;
  for (const std::string& c : p.named_permitted) {
    if (s.Sensitive(c)) including.push_back(c);
  }
  std::vector<std::string> excepts = p.named_denied;
  const bool others_mixed = !p.other_denied.empty() && !p.other_permitted.empty();
  const bool others_denied = !p.other_denied.empty() && p.other_permitted.empty();
  if (others_mixed) excepts.insert(excepts.end(), p.other_denied.begin(), p.other_denied.end());
  if (excepts.empty() && !others_denied) return "sees everything.";

  std::vector<std::string> except_words = s.Words(excepts);
  // "Including" only tells sensitive notes the consent releases apart from the
  // other sensitive notes it does not; without such others, "everything" says it.
  if (!including.empty() && others_denied) {
    std::string out = absl::StrCat("sees everything including ", List(s.Words(including)));
    if (except_words.empty()) return absl::StrCat(out, ", but no other sensitive notes.");
    except_words.push_back("other sensitive notes");
    return absl::StrCat(out, ", but not ", List(except_words, "or"), ".");
  }
  if (others_denied) {
    except_words.push_back(except_words.empty() ? "sensitive notes" : "other sensitive notes");
  }
  return absl::StrCat("sees everything except ", List(except_words), ".");
}

std::string DefaultSentence(const Probe& p, const Sentences& s) {
  std::vector<std::string> permitted, denied;
  for (const auto* list : {&p.named_permitted, &p.other_permitted}) {
    for (const std::string& c : *list) {
      if (s.Sensitive(c)) permitted.push_back(c);
    }
  }
  for (const auto* list : {&p.named_denied, &p.other_denied}) {
    for (const std::string& c : *list) {
      if (s.Sensitive(c)) denied.push_back(c);
    }
  }
  if (!p.unlabelled) {
    if (permitted.empty()) return "sees nothing.";
    return absl::StrCat("sees only ", List(s.Words(permitted)), ".");
  }
  constexpr char kHead[] = "sees what the care team sees by default";
  if (denied.empty() && permitted.empty()) return absl::StrCat(kHead, ".");
  if (denied.empty()) return absl::StrCat(kHead, " (sensitive notes included).");
  if (permitted.empty()) return absl::StrCat(kHead, " (no sensitive notes).");
  return absl::StrCat(kHead, " (no ", List(s.Words(denied), "or"), ").");
}

}  // namespace

LabelWords DefaultLabelWords() {
  return {
      {"PSY", "mental health notes"},
      {"MH", "mental health information"},
      {"PSYTHPN", "psychotherapy notes"},
      {"BH", "behavioural health notes"},
      {"SUD", "substance use notes"},
      {"ETH", "substance use notes"},
      {"ETHUD", "alcohol use notes"},
      {"OPIOIDUD", "opioid use notes"},
      {"HIV", "HIV status"},
      {"STD", "sexually transmitted infection notes"},
      {"SEX", "sexual health notes"},
      {"SDV", "domestic violence notes"},
      {"MST", "military sexual trauma notes"},
      {"SOC", "social care notes"},
      {"GDIS", "genetic information"},
      {"COGN", "cognitive disability notes"},
      {"DVD", "developmental disability notes"},
      {"EMOTDIS", "emotional disturbance notes"},
      {"PREGNANT", "pregnancy information"},
      {"SCA", "sickle cell anaemia information"},
      {"SICKLE", "sickle cell information"},
      {"TBOO", "notes on taboo subjects"},
      {"R", "restricted notes"},
      {"V", "very restricted notes"},
  };
}

std::vector<std::string> SummariseConsent(absl::Span<const v1::Consent> consents,
                                          const v1::CareTeam& care_team,
                                          absl::Span<const v1::Organisation> organisations,
                                          const LabelWords& label_words,
                                          const SharingPolicy& policy, absl::Time now) {
  const std::vector<const v1::Consent*> applicable = ApplicableConsents(consents, now);
  const Sentences sentences(label_words, policy);

  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const v1::CareTeamMember& tm : care_team.members()) {
    if (tm.has_period() && !PeriodContains(tm.period(), now)) continue;
    if (!seen.insert(tm.organisation_id()).second) continue;
    Member m{tm.organisation_id(), tm.organisation_id(), {}};
    for (const v1::Organisation& o : organisations) {
      if (o.id() != m.id) continue;
      if (!o.display_name().empty()) m.name = o.display_name();
      for (int r : o.roles()) m.roles.push_back(static_cast<Role>(r));
    }

    std::vector<std::string> complex_ids;
    std::vector<std::string> named;
    bool reached = false;
    for (const v1::Consent* c : applicable) {
      if (!Reaches(c->provision(), m, now)) continue;
      reached = true;
      if (TooComplex(c->provision(), m, now)) complex_ids.push_back(c->id());
      NamedLabels(c->provision(), m, now, &named);
    }
    std::vector<std::string> others;
    for (const std::string& code : policy.proto().sensitive_labels()) {
      if (std::find(named.begin(), named.end(), code) == named.end()) others.push_back(code);
    }
    if (!complex_ids.empty()) {
      out.push_back(
          absl::StrCat(m.name, " sees some content; ask the coordinator for the details of ",
                       complex_ids.size() == 1 ? "consent " : "consents ", List(complex_ids), "."));
      continue;
    }

    const std::optional<std::string> event = ProbeEvent(policy, m);
    if (!event.has_value()) {
      out.push_back(absl::StrCat(m.name, " sees nothing."));
      continue;
    }
    Recipient recipient{m.id, m.roles, /*in_care_team=*/true, absl::InfinitePast()};
    auto permits = [&](std::vector<std::string> labels) {
      Content content{*event, kPurpose, std::move(labels), now};
      return DecideContent(recipient, content, consents, policy, now).permit;
    };
    Probe probe;
    probe.unlabelled = permits({});
    for (const std::string& code : named) {
      (permits({code}) ? probe.named_permitted : probe.named_denied).push_back(code);
    }
    for (const std::string& code : others) {
      (permits({code}) ? probe.other_permitted : probe.other_denied).push_back(code);
    }
    out.push_back(absl::StrCat(
        m.name, " ",
        reached ? ConsentSentence(probe, sentences) : DefaultSentence(probe, sentences)));
  }
  return out;
}

}  // namespace switchboard::policy
