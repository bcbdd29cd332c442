// Randomised comparison of DecideContent with a brute-force oracle written from
// the specification in policy/consent_policy.h only (not from its .cc), so that
// the two do not share mistakes.
//
// Each case draws a small universe's worth of consents, a recipient, a piece of
// content and a valid sharing policy, and checks that DecideContent permits
// exactly when the oracle does. A failing case is printed in full; rerun it with
// SB_ORACLE_SEED=<seed> (the seed is printed with every failure).
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "policy/consent_policy.h"
#include "policy/labels.h"
#include "policy/sharing_policy.h"
#include "switchboard/common/time_util.h"

namespace switchboard::policy {
namespace {

using Role = v1::Organisation::Role;
using Provision = v1::ConsentProvision;

constexpr uint32_t kDefaultSeed = 20240611;
constexpr int kCases = 20000;

// The universe every case draws from.
const std::vector<std::string> kOrgs = {"org-a", "org-b", "org-c"};
const std::vector<Role> kRoles = {v1::Organisation::HOSPITAL, v1::Organisation::AGENCY};
const std::vector<std::string> kPurposes = {"TREAT", "HOPERAT", "COC"};
// PSY and SUD are sensitive in every generated policy; ETH (an ActCode
// sensitivity code, but not listed by these policies) and N are not.
const std::vector<std::string> kLabels = {"PSY", "SUD", "ETH", "N"};
const std::vector<std::string> kSensitive = {"PSY", "SUD"};
const std::vector<std::string> kEvents = {"discharge", "case-note", "referral"};
const std::vector<std::string> kScopes = {"patient-privacy", "treatment", ""};
const absl::Time kBase = absl::FromUnixSeconds(1'800'000'000);
// Times t[0] < ... < t[4]; decisions are made at t[2], so periods drawn from
// these fall before, around (inclusive start, exclusive end) and after `now`.
absl::Time T(int i) { return kBase + absl::Hours(i); }
const absl::Time kNow = T(2);
constexpr int kTimes = 5;

// ---------------------------------------------------------------------------
// The oracle: a literal reading of consent_policy.h.

std::string EffectivePurpose(const Content& content) {
  return content.purpose.empty() ? "TREAT" : content.purpose;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  for (const std::string& x : v) {
    if (x == s) return true;
  }
  return false;
}

bool OracleSensitive(const v1::SharingPolicy& policy, const std::string& code) {
  for (const std::string& s : policy.sensitive_labels()) {
    if (s == code) return true;
  }
  return false;
}

bool NodeMatches(const Provision& p, const Recipient& r, const Content& c, absl::Time now) {
  if (p.has_period() && !PeriodContains(p.period(), now)) return false;
  if (p.actors_size() > 0) {
    bool any = false;
    for (const v1::ConsentActor& a : p.actors()) {
      if (a.has_organisation_id() && a.organisation_id() == r.organisation_id) any = true;
      if (a.has_role()) {
        for (Role role : r.roles) {
          if (role == a.role()) any = true;
        }
      }
    }
    if (!any) return false;
  }
  if (p.purposes_size() > 0) {
    bool any = false;
    for (const std::string& purpose : p.purposes()) {
      if (purpose == EffectivePurpose(c)) any = true;
    }
    if (!any) return false;
  }
  if (p.security_labels_size() > 0) {
    bool any = false;
    for (const v1::SecurityLabel& l : p.security_labels()) {
      if (Contains(c.labels, l.code())) any = true;
    }
    if (!any) return false;
  }
  if (p.event_codes_size() > 0) {
    bool any = false;
    for (const std::string& e : p.event_codes()) {
      if (e == c.event) any = true;
    }
    if (!any) return false;
  }
  if (p.has_data_period() && !PeriodContains(p.data_period(), c.data_time)) return false;
  return true;
}

// Every root-to-node path of the tree, matching or not.
void AllPaths(const Provision& p, std::vector<const Provision*>& prefix,
              std::vector<std::vector<const Provision*>>& out) {
  prefix.push_back(&p);
  out.push_back(prefix);
  for (const Provision& child : p.provisions()) AllPaths(child, prefix, out);
  prefix.pop_back();
}

enum class Verdict { kNone, kPermit, kDeny };

// What one consent says about the content (kNone: it does not apply).
// `*unreleased` is set when a deepest permit matched but released nothing.
Verdict ConsentVerdict(const v1::Consent& consent, const Recipient& r, const Content& c,
                       const v1::SharingPolicy& policy, absl::Time now, bool* unreleased) {
  std::vector<std::vector<const Provision*>> paths;
  std::vector<const Provision*> prefix;
  AllPaths(consent.provision(), prefix, paths);
  // Keep the paths on which every provision matches.
  std::vector<std::vector<const Provision*>> matching;
  for (const auto& path : paths) {
    bool all = true;
    for (const Provision* p : path) {
      if (!NodeMatches(*p, r, c, now)) all = false;
    }
    if (all) matching.push_back(path);
  }
  if (matching.empty()) return Verdict::kNone;  // the root does not match
  size_t longest = 0;
  for (const auto& path : matching) longest = std::max(longest, path.size());
  bool any_deny = false;
  bool any_releasing_permit = false;
  for (const auto& path : matching) {
    if (path.size() != longest) continue;
    if (path.back()->type() == Provision::DENY) {
      any_deny = true;
      continue;
    }
    // A permit releases sensitive content only if each sensitive label on it
    // is named by some provision on the path.
    bool releases = true;
    for (const std::string& label : c.labels) {
      if (!OracleSensitive(policy, label)) continue;
      bool named = false;
      for (const Provision* p : path) {
        for (const v1::SecurityLabel& l : p->security_labels()) {
          if (l.code() == label) named = true;
        }
      }
      if (!named) releases = false;
    }
    if (releases) any_releasing_permit = true;
  }
  if (any_deny) return Verdict::kDeny;
  if (any_releasing_permit) return Verdict::kPermit;
  *unreleased = true;
  return Verdict::kNone;
}

// Newest first: updated_at, then recorded_at, then id.
bool Newer(const v1::Consent& a, const v1::Consent& b) {
  const absl::Time ua = FromProtoTime(a.updated_at()), ub = FromProtoTime(b.updated_at());
  if (ua != ub) return ua > ub;
  const absl::Time ra = FromProtoTime(a.recorded_at()), rb = FromProtoTime(b.recorded_at());
  if (ra != rb) return ra > rb;
  return a.id() > b.id();
}

// What the oracle decided and by which rule (`rule` is a fixed category for
// coverage counts, `why` adds the detail).
struct OracleDecision {
  bool permit = false;
  std::string rule;
  std::string why;
  bool unreleased_permit = false;  // a consent's permit did not name a sensitive label
};

OracleDecision Oracle(const Recipient& r, const Content& c,
                      const std::vector<v1::Consent>& consents, const v1::SharingPolicy& policy,
                      absl::Time now) {
  OracleDecision out;
  const auto decide = [&out](bool permit, std::string rule, std::string why) {
    out.permit = permit;
    out.rule = std::move(rule);
    out.why = std::move(why);
    return out;
  };
  // 1. Role rules: the union of the rules of the recipient's roles.
  bool any_rule = false, event_ok = false;
  std::vector<std::string> labels_ok;
  for (const auto& rule : policy.roles()) {
    bool has_role = false;
    for (Role role : r.roles) {
      if (role == rule.role()) has_role = true;
    }
    if (!has_role) continue;
    any_rule = true;
    for (const std::string& e : rule.events()) {
      if (e == "*" || e == c.event) event_ok = true;
    }
    labels_ok.insert(labels_ok.end(), rule.labels().begin(), rule.labels().end());
  }
  if (!any_rule || !event_ok) return decide(false, "role rule: event", c.event);
  for (const std::string& label : c.labels) {
    if (OracleSensitive(policy, label) && !Contains(labels_ok, "*") &&
        !Contains(labels_ok, label)) {
      return decide(false, "role rule: label", label);
    }
  }
  // 2. Break-glass.
  if (now < r.break_glass_until) return decide(true, "break-glass", "");
  // 3. Consents: active, in period, newest of each scope.
  std::map<std::string, const v1::Consent*> newest;
  for (const v1::Consent& consent : consents) {
    if (consent.status() != v1::Consent::ACTIVE) continue;
    if (consent.has_period() && !PeriodContains(consent.period(), now)) continue;
    const std::string scope = consent.scope().empty() ? "patient-privacy" : consent.scope();
    auto [it, inserted] = newest.emplace(scope, &consent);
    if (!inserted && Newer(consent, *it->second)) it->second = &consent;
  }
  bool any_permit = false, any_deny = false;
  std::string permit_id, deny_id;
  for (const auto& [scope, consent] : newest) {
    switch (ConsentVerdict(*consent, r, c, policy, now, &out.unreleased_permit)) {
      case Verdict::kDeny:
        any_deny = true;
        deny_id = consent->id();
        break;
      case Verdict::kPermit:
        any_permit = true;
        permit_id = consent->id();
        break;
      case Verdict::kNone:
        break;
    }
  }
  if (any_deny) return decide(false, "consent", deny_id);
  if (any_permit) return decide(true, "consent", permit_id);
  // 4. Defaults.
  bool sensitive = false;
  for (const std::string& label : c.labels) {
    if (OracleSensitive(policy, label)) sensitive = true;
  }
  for (const auto& d : policy.defaults()) {
    if (d.purpose() != EffectivePurpose(c)) continue;
    const auto audience = sensitive ? d.sensitive() : d.unlabelled();
    const std::string rule =
        absl::StrCat("default ", v1::SharingPolicy::Default::Audience_Name(audience));
    if (audience == v1::SharingPolicy::Default::ANY_RECIPIENT) return decide(true, rule, "");
    if (audience == v1::SharingPolicy::Default::CARE_TEAM) {
      return decide(r.in_care_team, rule, "");
    }
    return decide(false, rule, "");
  }
  return decide(false, "no default", EffectivePurpose(c));
}

// ---------------------------------------------------------------------------
// The generator.

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(0, static_cast<int>(v.size()) - 1)];
  }
  template <typename T>
  std::vector<T> Subset(const std::vector<T>& v, int min_size) {
    std::vector<T> out;
    do {
      out.clear();
      for (const T& x : v) {
        if (Chance(0.5)) out.push_back(x);
      }
    } while (static_cast<int>(out.size()) < min_size);
    return out;
  }

  // A valid period (start before end) with at least one bound.
  v1::Period Period() {
    v1::Period p;
    const int start = Chance(0.7) ? Uniform(0, kTimes - 1) : -1;
    int end = Chance(0.7) ? Uniform(0, kTimes - 1) : -1;
    if (start >= 0 && end >= 0 && end <= start) end = -1;
    if (start < 0 && end < 0) end = Uniform(1, kTimes - 1);
    if (start >= 0) *p.mutable_start() = ToProtoTime(T(start));
    if (end >= 0) *p.mutable_end() = ToProtoTime(T(end));
    return p;
  }

  Provision Tree(int depth) {
    Provision p;
    p.set_type(Chance(0.5) ? Provision::PERMIT : Provision::DENY);
    // The root constrains less often, so that consents usually apply.
    const double dim = depth == 0 ? 0.12 : 0.3;
    if (Chance(dim / 2)) *p.mutable_period() = Period();
    if (Chance(dim)) {
      for (int i = Uniform(1, 2); i > 0; --i) {
        if (Chance(0.5)) {
          p.add_actors()->set_organisation_id(Pick(kOrgs));
        } else {
          p.add_actors()->set_role(Pick(kRoles));
        }
      }
    }
    if (Chance(dim)) {
      for (const std::string& s : Subset(kPurposes, 1)) p.add_purposes(s);
    }
    if (Chance(dim + 0.1)) {
      for (const std::string& code : Subset(kLabels, 1)) {
        v1::SecurityLabel* l = p.add_security_labels();
        l->set_system(std::string(SystemOfCode(code)));
        l->set_code(code);
      }
    }
    if (Chance(dim)) {
      for (const std::string& e : Subset(kEvents, 1)) p.add_event_codes(e);
    }
    if (Chance(dim / 2)) *p.mutable_data_period() = Period();
    if (depth < 3) {
      const int children = depth == 0 ? Uniform(0, 3) : Uniform(0, 2 - (depth == 2));
      for (int i = 0; i < children; ++i) *p.add_provisions() = Tree(depth + 1);
    }
    return p;
  }

  std::vector<v1::Consent> Consents() {
    std::vector<v1::Consent> out;
    const int n = Uniform(0, 3);
    for (int i = 0; i < n; ++i) {
      v1::Consent c;
      c.set_id(absl::StrCat("c", i + 1));
      c.set_status(Chance(0.75) ? v1::Consent::ACTIVE
                                : static_cast<v1::Consent::Status>(Uniform(0, 5)));
      c.mutable_client()->set_system("https://example.org/mrn");
      c.mutable_client()->set_value("mrn-1");
      c.set_scope(Pick(kScopes));
      c.set_source_reference("form-1");
      if (Chance(0.25)) *c.mutable_period() = Period();
      // Few distinct times, so that ties on updated_at and recorded_at occur.
      if (Chance(0.9)) *c.mutable_updated_at() = ToProtoTime(T(Uniform(0, 2)));
      if (Chance(0.9)) *c.mutable_recorded_at() = ToProtoTime(T(Uniform(0, 1)));
      c.set_version(Uniform(1, 3));
      *c.mutable_provision() = Tree(0);
      out.push_back(std::move(c));
    }
    // Order in the span must not matter.
    std::shuffle(out.begin(), out.end(), rng_);
    return out;
  }

  Recipient MakeRecipient() {
    Recipient r;
    r.organisation_id = Pick(kOrgs);
    r.roles = Chance(0.05) ? std::vector<Role>{} : Subset(kRoles, 1);
    r.in_care_team = Chance(0.5);
    if (Chance(0.1)) r.break_glass_until = T(Uniform(0, kTimes - 1));
    return r;
  }

  Content MakeContent() {
    Content c;
    c.event = Pick(kEvents);
    c.purpose = Chance(0.25) ? "" : Pick(kPurposes);
    c.labels = Subset(kLabels, 0);
    if (c.labels.size() > 2) c.labels.resize(Uniform(0, 2));
    c.data_time = T(Uniform(0, kTimes - 1));
    return c;
  }

  v1::SharingPolicy Policy() {
    // A std::string, not "*": GCC 12 inlines add_events(const char*) into a
    // spurious -Wrestrict warning.
    static const std::string kStar = "*";
    v1::SharingPolicy p;
    for (Role role : kRoles) {
      if (Chance(0.1)) continue;  // a role without a rule receives nothing
      auto* rule = p.add_roles();
      rule->set_role(role);
      if (Chance(0.7)) {
        rule->add_events(kStar);
      } else {
        for (const std::string& e : Subset(kEvents, 0)) rule->add_events(e);
      }
      if (Chance(0.6)) {
        rule->add_labels(kStar);
      } else {
        for (const std::string& l : Subset(kLabels, 0)) rule->add_labels(l);
      }
    }
    const auto audience = [this] {
      return static_cast<v1::SharingPolicy::Default::Audience>(Uniform(1, 3));
    };
    for (const std::string& purpose : kPurposes) {
      if (Chance(0.3)) continue;  // no default: denied without a consent
      auto* d = p.add_defaults();
      d->set_purpose(purpose);
      d->set_unlabelled(audience());
      d->set_sensitive(audience());
    }
    for (const std::string& s : kSensitive) p.add_sensitive_labels(s);
    if (Chance(0.5)) {
      auto* bg = p.mutable_break_glass();
      bg->set_duration_minutes(60);
      if (Chance(0.5)) bg->add_roles(Pick(kRoles));
    }
    return p;
  }

 private:
  std::mt19937 rng_;
};

std::string Describe(const Recipient& r, const Content& c, const std::vector<v1::Consent>& consents,
                     const v1::SharingPolicy& policy) {
  std::string out = absl::StrCat(
      "now=", absl::FormatTime(kNow), "\nrecipient: org=", r.organisation_id, " roles=[",
      absl::StrJoin(
          r.roles, ",",
          [](std::string* s, Role role) { s->append(v1::Organisation::Role_Name(role)); }),
      "] in_care_team=", r.in_care_team,
      " break_glass_until=", absl::FormatTime(r.break_glass_until), "\ncontent: event=", c.event,
      " purpose='", c.purpose, "' labels=[", absl::StrJoin(c.labels, ","),
      "] data_time=", absl::FormatTime(c.data_time), "\npolicy:\n", policy.DebugString());
  for (const v1::Consent& consent : consents) {
    absl::StrAppend(&out, "consent (updated ",
                    absl::FormatTime(FromProtoTime(consent.updated_at())), ", recorded ",
                    absl::FormatTime(FromProtoTime(consent.recorded_at())), "):\n",
                    consent.DebugString());
  }
  return out;
}

uint32_t Seed() {
  const char* env = std::getenv("SB_ORACLE_SEED");
  if (env != nullptr && *env != '\0') return static_cast<uint32_t>(std::strtoul(env, nullptr, 10));
  return kDefaultSeed;
}

TEST(ConsentOracleTest, DecideContentAgreesWithBruteForceOracle) {
  const uint32_t seed = Seed();
  SCOPED_TRACE(absl::StrCat("SB_ORACLE_SEED=", seed));
  Gen gen(seed);
  const auto known_event = [](absl::string_view e) { return Contains(kEvents, std::string(e)); };
  std::map<std::string, int> outcomes;  // by the oracle's rule, to check coverage
  int mismatches = 0;
  for (int i = 0; i < kCases && mismatches < 5; ++i) {
    const v1::SharingPolicy policy_proto = gen.Policy();
    absl::StatusOr<SharingPolicy> policy = SharingPolicy::FromProto(policy_proto, known_event);
    ASSERT_TRUE(policy.ok()) << policy.status() << "\n" << policy_proto.DebugString();
    const std::vector<v1::Consent> consents = gen.Consents();
    const Recipient recipient = gen.MakeRecipient();
    const Content content = gen.MakeContent();

    const OracleDecision expected = Oracle(recipient, content, consents, policy_proto, kNow);
    const ContentDecision got = DecideContent(recipient, content, consents, *policy, kNow);
    ++outcomes[absl::StrCat(expected.rule, expected.permit ? " -> permit" : " -> deny")];
    if (expected.unreleased_permit) ++outcomes["(a permit did not release a sensitive label)"];
    if (got.permit != expected.permit) {
      ++mismatches;
      ADD_FAILURE() << "case " << i << ": DecideContent says " << (got.permit ? "permit" : "deny")
                    << " (" << got.reason << "), the oracle "
                    << (expected.permit ? "permit" : "deny") << " (" << expected.rule << " "
                    << expected.why << ")\n"
                    << Describe(recipient, content, consents, policy_proto);
    }
  }
  // The generator must reach every rule, both ways where both are possible.
  std::string summary;
  for (const auto& [k, n] : outcomes) absl::StrAppend(&summary, k, ": ", n, "\n");
  SCOPED_TRACE(summary);
  for (const char* k :
       {"role rule: event -> deny", "role rule: label -> deny", "break-glass -> permit",
        "consent -> deny", "consent -> permit", "default ANY_RECIPIENT -> permit",
        "default CARE_TEAM -> permit", "default CARE_TEAM -> deny", "default NOBODY -> deny",
        "no default -> deny", "(a permit did not release a sensitive label)"}) {
    EXPECT_GE(outcomes[k], 100) << k;
  }
}

}  // namespace
}  // namespace switchboard::policy
