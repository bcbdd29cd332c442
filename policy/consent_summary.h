// The client's consent in plain language, one sentence per care-team member, for
// the people who coordinate care (the web view's client page):
//
//   "Harbour Housing Trust sees everything except mental health notes and other
//    sensitive notes."
//   "St Mary's Hospital sees everything including mental health notes, but no other
//    sensitive notes."
//   "Northside Family Services sees what the care team sees by default (no sensitive
//    notes)."                                      (no consent applies to it)
//   "Northside Family Services sees nothing."
//   "Harbour Housing Trust sees some content; ask the coordinator for the details of
//    consent consent-0004-2026-10."                (a tree too complex to summarise)
//
// Truthful rather than clever: each sentence is read off the decisions the gateway
// itself would take now (policy::DecideContent, consent_policy.h) for treatment
// content without labels and for content with each label that the consents name or
// that the sharing policy counts as sensitive, so it says what a delivery would do,
// including the rule that a permit releases sensitive content only when it names its
// label ("other sensitive notes"), and the role rules of the sharing policy. Where a
// provision that can reach the member restricts by purpose of use, event or data
// period, no sentence would be both short and true, and the member's sentence says
// to ask for the consent's details instead. Break-glass grants are temporary and not
// part of the consent: they are left out.
//
// Pure (no I/O, no clock: the caller passes `now`); thread-safe.
#ifndef SWITCHBOARD_POLICY_CONSENT_SUMMARY_H_
#define SWITCHBOARD_POLICY_CONSENT_SUMMARY_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "policy/sharing_policy.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/consent.pb.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::policy {

// Label codes in plain words, plural, for a sentence: PSY -> "mental health notes".
using LabelWords = absl::flat_hash_map<std::string, std::string>;

// The words for the HL7 sensitivity and confidentiality codes of labels.h (PSY,
// MH, SUD, ETH, HIV, SDV, SOC, R, V, ...). A code without words is shown as the code.
LabelWords DefaultLabelWords();

// One sentence per organisation of `care_team` whose period contains `now` (in the
// care team's order, each once), naming it by its display name in
// `organisations` (its id when it has none there).
//
// `consents`: the client's consents, the current version of each, any status; those
// that apply now are chosen as DecideContent chooses them (ApplicableConsents).
// `organisations`: registry records of the care team's members, for display names
// and roles (an organisation missing there has no role, and so by the sharing
// policy receives nothing). `policy`: the federation's sharing policy (role rules,
// defaults for TREAT, the sensitive labels).
std::vector<std::string> SummariseConsent(absl::Span<const v1::Consent> consents,
                                          const v1::CareTeam& care_team,
                                          absl::Span<const v1::Organisation> organisations,
                                          const LabelWords& label_words,
                                          const SharingPolicy& policy, absl::Time now);

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_CONSENT_SUMMARY_H_
