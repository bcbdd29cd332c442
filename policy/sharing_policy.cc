#include "policy/sharing_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "policy/labels.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/text_proto.h"

namespace switchboard::policy {
namespace {

std::string RoleName(v1::Organisation::Role role) {
  return v1::Organisation::Role_Name(role);
}

std::string RolesText(const std::vector<v1::Organisation::Role>& roles) {
  if (roles.empty()) return "no role";
  return absl::StrJoin(roles, "/", [](std::string* out, v1::Organisation::Role r) {
    out->append(RoleName(r));
  });
}

absl::Status CheckLabelCode(const std::string& field, const std::string& code, bool allow_star) {
  if (allow_star && code == "*") return absl::OkStatus();
  if (SystemOfCode(code).empty() || code == kRedactedCode) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown security label code '", code.substr(0, 64), "'"));
  }
  return absl::OkStatus();
}

absl::Status Validate(const v1::SharingPolicy& p, EventLookup known_event) {
  absl::flat_hash_set<int> roles;
  for (int i = 0; i < p.roles_size(); ++i) {
    const auto& rule = p.roles(i);
    const std::string f = absl::StrCat("roles[", i, "]");
    if (rule.role() == v1::Organisation::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".role: required"));
    }
    if (!roles.insert(rule.role()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".role: ", RoleName(rule.role()), " has a rule already"));
    }
    for (int j = 0; j < rule.events_size(); ++j) {
      if (rule.events(j) != "*" && !known_event(rule.events(j))) {
        return absl::InvalidArgumentError(absl::StrCat(f, ".events[", j, "]: unknown event code '",
                                                       rule.events(j).substr(0, 64), "'"));
      }
    }
    for (int j = 0; j < rule.labels_size(); ++j) {
      SB_RETURN_IF_ERROR(
          CheckLabelCode(absl::StrCat(f, ".labels[", j, "]"), rule.labels(j), /*allow_star=*/true));
    }
  }
  absl::flat_hash_set<std::string> purposes;
  for (int i = 0; i < p.defaults_size(); ++i) {
    const auto& d = p.defaults(i);
    const std::string f = absl::StrCat("defaults[", i, "]");
    if (!IsKnownPurpose(d.purpose())) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".purpose: unknown purpose of use '",
                                                     d.purpose().substr(0, 64), "'"));
    }
    if (!purposes.insert(d.purpose()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".purpose: '", d.purpose(), "' has a default already"));
    }
    if (d.unlabelled() == v1::SharingPolicy::Default::AUDIENCE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".unlabelled: required (NOBODY, CARE_TEAM or ANY_RECIPIENT)"));
    }
    if (d.sensitive() == v1::SharingPolicy::Default::AUDIENCE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".sensitive: required (NOBODY, CARE_TEAM or ANY_RECIPIENT)"));
    }
  }
  absl::flat_hash_set<std::string> sensitive;
  for (int i = 0; i < p.sensitive_labels_size(); ++i) {
    const std::string f = absl::StrCat("sensitive_labels[", i, "]");
    SB_RETURN_IF_ERROR(CheckLabelCode(f, p.sensitive_labels(i), /*allow_star=*/false));
    if (!sensitive.insert(p.sensitive_labels(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ": '", p.sensitive_labels(i), "' is listed twice"));
    }
  }
  if (p.has_break_glass()) {
    const auto& bg = p.break_glass();
    if (bg.duration_minutes() < 1 || bg.duration_minutes() > 1440) {
      return absl::InvalidArgumentError(
          "break_glass.duration_minutes: required, between 1 and 1440 (24 hours)");
    }
    for (int i = 0; i < bg.roles_size(); ++i) {
      if (bg.roles(i) == v1::Organisation::ROLE_UNSPECIFIED) {
        return absl::InvalidArgumentError(absl::StrCat("break_glass.roles[", i, "]: required"));
      }
    }
    for (int i = 0; i < bg.organisations_size(); ++i) {
      SB_RETURN_IF_ERROR(
          CheckSlug(absl::StrCat("break_glass.organisations[", i, "]"), bg.organisations(i)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

SharingPolicy::SharingPolicy(v1::SharingPolicy proto) : proto_(std::move(proto)) {
  sensitive_.insert(proto_.sensitive_labels().begin(), proto_.sensitive_labels().end());
}

SharingPolicy SharingPolicy::Default() {
  // The text of docs/consent.md's "built-in policy".
  static constexpr char kText[] = R"pb(
    roles { role: HOSPITAL events: "*" labels: "*" }
    roles { role: AGENCY events: "*" labels: "*" }
    roles { role: COORDINATOR events: "*" labels: "*" }
    roles { role: ADMIN events: "*" labels: "*" }
    defaults { purpose: "TREAT" unlabelled: CARE_TEAM sensitive: NOBODY }
    sensitive_labels: [ "R", "V", "BH", "COGN", "DVD", "EMOTDIS", "ETH", "ETHUD", "GDIS", "HIV",
                        "MH", "MST", "OPIOIDUD", "PREGNANT", "PSY", "PSYTHPN", "SCA", "SDV", "SEX",
                        "SICKLE", "SOC", "STD", "SUD", "TBOO" ]
  )pb";
  v1::SharingPolicy p;
  google::protobuf::TextFormat::ParseFromString(kText, &p);
  return SharingPolicy(std::move(p));
}

absl::StatusOr<SharingPolicy> SharingPolicy::Parse(const std::string& text,
                                                   absl::string_view origin,
                                                   EventLookup known_event) {
  v1::SharingPolicy proto;
  SB_RETURN_IF_ERROR(ParseTextProto(text, origin, &proto));
  auto policy = FromProto(std::move(proto), known_event);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", policy.status().message()));
  }
  return policy;
}

absl::StatusOr<SharingPolicy> SharingPolicy::FromProto(v1::SharingPolicy proto,
                                                       EventLookup known_event) {
  SB_RETURN_IF_ERROR(Validate(proto, known_event));
  return SharingPolicy(std::move(proto));
}

std::string SharingPolicy::RefusesEvent(const std::vector<v1::Organisation::Role>& roles,
                                        absl::string_view event) const {
  bool any_rule = false;
  for (const auto& rule : proto_.roles()) {
    if (std::find(roles.begin(), roles.end(), rule.role()) == roles.end()) continue;
    any_rule = true;
    for (const std::string& e : rule.events()) {
      if (e == "*" || e == event) return "";
    }
  }
  if (!any_rule) {
    return absl::StrCat("sharing policy: no rule for ", RolesText(roles),
                        ", which therefore receives nothing");
  }
  return absl::StrCat("sharing policy: ", RolesText(roles), " may never receive event '", event,
                      "'");
}

std::string SharingPolicy::RefusesLabel(const std::vector<v1::Organisation::Role>& roles,
                                        absl::string_view code) const {
  if (!IsSensitive(code)) return "";
  for (const auto& rule : proto_.roles()) {
    if (std::find(roles.begin(), roles.end(), rule.role()) == roles.end()) continue;
    for (const std::string& l : rule.labels()) {
      if (l == "*" || l == code) return "";
    }
  }
  return absl::StrCat("sharing policy: ", RolesText(roles), " may never receive content labelled ",
                      code);
}

SharingPolicy::Audience SharingPolicy::DefaultAudience(absl::string_view purpose,
                                                       bool sensitive) const {
  for (const auto& d : proto_.defaults()) {
    if (d.purpose() == purpose) return sensitive ? d.sensitive() : d.unlabelled();
  }
  return v1::SharingPolicy::Default::NOBODY;
}

bool SharingPolicy::MayBreakGlass(absl::string_view organisation_id,
                                  const std::vector<v1::Organisation::Role>& roles) const {
  if (!proto_.has_break_glass()) return false;
  for (const std::string& org : proto_.break_glass().organisations()) {
    if (org == organisation_id) return true;
  }
  for (int role : proto_.break_glass().roles()) {
    if (std::find(roles.begin(), roles.end(), role) != roles.end()) return true;
  }
  return false;
}

}  // namespace switchboard::policy
