// Validation of a consent as a member sends it (Consents.Record or a
// ConsentChange message). Pure; thread-safe.
#ifndef SWITCHBOARD_POLICY_CONSENT_CHECK_H_
#define SWITCHBOARD_POLICY_CONSENT_CHECK_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "policy/sharing_policy.h"
#include "switchboard/v1/consent.pb.h"

namespace switchboard::policy {

// Provisions nest at most this deep (the root is depth 0), and a consent has at
// most kMaxProvisions of them.
inline constexpr int kMaxProvisionDepth = 8;
inline constexpr int kMaxProvisions = 256;

struct ConsentContext {
  // True when `id` is a registered organisation.
  absl::FunctionRef<bool(absl::string_view id)> known_organisation;
  EventLookup known_event;
};

// INVALID_ARGUMENT naming the field under `field` (e.g.
// `consent.provision.provisions[1].type: required (PERMIT or DENY)`):
// id a token; status set; client identifier present; period and every
// provision period and data period with start before end; scope empty,
// `patient-privacy` or `treatment`; source_reference required when ACTIVE;
// provision present, and in every provision: a type, actors naming a
// registered organisation or a role, known purposes, known labels (not
// REDACTED), known event codes. Does not look at the fields the gateway sets.
absl::Status CheckConsent(const v1::Consent& consent, const ConsentContext& context,
                          const std::string& field = "consent");

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_CONSENT_CHECK_H_
