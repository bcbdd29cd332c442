#include "policy/consent_check.h"

#include "absl/strings/str_cat.h"
#include "policy/labels.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::policy {
namespace {

absl::Status CheckProvision(const v1::ConsentProvision& p, const ConsentContext& ctx,
                            const std::string& f, int depth, int* count) {
  if (++*count > kMaxProvisions) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ": more than ", kMaxProvisions, " provisions in one consent"));
  }
  if (depth > kMaxProvisionDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, ": provisions nest deeper than ", kMaxProvisionDepth, " levels"));
  }
  if (p.type() == v1::ConsentProvision::TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(f, ".type: required (PERMIT or DENY)"));
  }
  if (p.has_period()) SB_RETURN_IF_ERROR(CheckPeriod(absl::StrCat(f, ".period"), p.period()));
  if (p.has_data_period()) SB_RETURN_IF_ERROR(CheckPeriod(absl::StrCat(f, ".data_period"), p.data_period()));
  for (int i = 0; i < p.actors_size(); ++i) {
    const std::string a = absl::StrCat(f, ".actors[", i, "]");
    const v1::ConsentActor& actor = p.actors(i);
    if (actor.has_organisation_id()) {
      if (!ctx.known_organisation(actor.organisation_id())) {
        return absl::InvalidArgumentError(absl::StrCat(
            a, ".organisation_id: no member '", actor.organisation_id().substr(0, 64), "'"));
      }
    } else if (actor.has_role()) {
      if (actor.role() == v1::Organisation::ROLE_UNSPECIFIED) {
        return absl::InvalidArgumentError(absl::StrCat(a, ".role: required (HOSPITAL, AGENCY, COORDINATOR, ADMIN)"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(a, ": an organisation_id or a role is required"));
    }
  }
  for (int i = 0; i < p.purposes_size(); ++i) {
    if (!IsKnownPurpose(p.purposes(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".purposes[", i, "]: unknown purpose of use '",
                       p.purposes(i).substr(0, 64), "' (HL7 v3 PurposeOfUse, e.g. TREAT)"));
    }
  }
  for (int i = 0; i < p.security_labels_size(); ++i) {
    const std::string l = absl::StrCat(f, ".security_labels[", i, "]");
    SB_RETURN_IF_ERROR(CheckLabel(l, p.security_labels(i)));
    if (p.security_labels(i).code() == kRedactedCode) {
      return absl::InvalidArgumentError(
          absl::StrCat(l, ".code: REDACTED marks delivered content; a consent cannot be about it"));
    }
  }
  for (int i = 0; i < p.event_codes_size(); ++i) {
    if (!ctx.known_event(p.event_codes(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          f, ".event_codes[", i, "]: unknown event code '", p.event_codes(i).substr(0, 64), "'"));
    }
  }
  for (int i = 0; i < p.provisions_size(); ++i) {
    SB_RETURN_IF_ERROR(CheckProvision(p.provisions(i), ctx, absl::StrCat(f, ".provisions[", i, "]"),
                                      depth + 1, count));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckConsent(const v1::Consent& c, const ConsentContext& ctx,
                          const std::string& field) {
  SB_RETURN_IF_ERROR(CheckToken(absl::StrCat(field, ".id"), c.id()));
  if (c.status() == v1::Consent::STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".status: required (DRAFT, ACTIVE, INACTIVE, REJECTED or ENTERED_IN_ERROR)"));
  }
  SB_RETURN_IF_ERROR(CheckIdentifier(absl::StrCat(field, ".client"), c.client()));
  if (c.has_period()) SB_RETURN_IF_ERROR(CheckPeriod(absl::StrCat(field, ".period"), c.period()));
  if (!c.scope().empty() && c.scope() != "patient-privacy" && c.scope() != "treatment") {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".scope: '", c.scope().substr(0, 64),
        "' is not a disclosure scope (patient-privacy, the default, or treatment)"));
  }
  SB_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".source_reference"), c.source_reference(), 256,
                               /*required=*/c.status() == v1::Consent::ACTIVE));
  SB_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".status_reason"), c.status_reason(), 1024, false));
  if (!c.has_provision()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".provision: required (the root permit or deny)"));
  }
  int count = 0;
  return CheckProvision(c.provision(), ctx, absl::StrCat(field, ".provision"), 0, &count);
}

}  // namespace switchboard::policy
