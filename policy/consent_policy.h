// Disclosure decisions: what one recipient may see of content about a client,
// from the client's consents and the federation's sharing policy. Pure: no I/O,
// no clocks (the caller passes `now`), no gRPC, no RocksDB. Thread-safe.
//
// How one piece of content (an event, a purpose of use, a set of labels, a
// time) is decided for one recipient, in this order:
//  1. The sharing policy's role rules: an event or a sensitive label the
//     recipient's roles may never receive is denied, whatever else says.
//  2. An unexpired break-glass grant of the recipient permits.
//  3. The consents: of the client's consents with status ACTIVE whose period
//     contains `now`, the newest (latest `updated_at`, then `recorded_at`, then
//     greatest id) of each scope applies. A consent whose root provision does
//     not match the request does not apply. Otherwise the deepest matching
//     provision decides (FHIR R4 Consent: nested provisions are exceptions);
//     among equally deep matches a deny wins. A permit releases content with a
//     sensitive label only if a provision on its path (root to the deciding
//     one) names that label; otherwise that consent does not apply to it.
//     Any applying deny denies; otherwise any applying permit permits.
//  4. No consent applies: the sharing policy's default for the purpose
//     (NOBODY, CARE_TEAM or ANY_RECIPIENT; for content with a sensitive label,
//     the `sensitive` audience). A purpose without a default is denied.
//
// A provision matches when each dimension it sets matches: its period contains
// `now`; an actor names the recipient's organisation or one of its roles; the
// purpose is listed; a listed label is on the content; the event is listed; its
// data period contains the content's time.
#ifndef SWITCHBOARD_POLICY_CONSENT_POLICY_H_
#define SWITCHBOARD_POLICY_CONSENT_POLICY_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "policy/sharing_policy.h"
#include "switchboard/v1/consent.pb.h"
#include "switchboard/v1/message.pb.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::policy {

// Who would receive the content.
struct Recipient {
  std::string organisation_id;
  std::vector<v1::Organisation::Role> roles;
  // In the client's care team at the time of the decision.
  bool in_care_team = false;
  // End of the recipient's break-glass grant for this client; InfinitePast
  // when it has none.
  absl::Time break_glass_until = absl::InfinitePast();
};

// One piece of content.
struct Content {
  std::string event;
  // HL7 v3 PurposeOfUse; empty means TREAT.
  std::string purpose;
  // Codes of its security labels (the message's and the element's own).
  std::vector<std::string> labels;
  // When the content is from (for provisions with a data period).
  absl::Time data_time;
};

struct ContentDecision {
  bool permit = false;
  // Which rule, consent and provision decided, e.g. `consent c-1 v2
  // provision.provisions[0]: deny`. For audit and CheckAccess only: it can hint
  // at the content, so it is never sent to a recipient.
  std::string reason;
};

// The consents that apply at `now` (step 3 above): of those ACTIVE whose period
// contains `now`, the newest of each scope. `consents`: the current version of
// each consent (any status). Points into `consents`.
std::vector<const v1::Consent*> ApplicableConsents(absl::Span<const v1::Consent> consents,
                                                  absl::Time now);

// `consents`: the current version of each of the client's consents (any status).
ContentDecision DecideContent(const Recipient& recipient, const Content& content,
                              absl::Span<const v1::Consent> consents,
                              const SharingPolicy& policy, absl::Time now);

// The decision about a whole message: the message-level content (header labels)
// first; DENY when that is denied. Then each element with labels of its own
// (sections, plan items, progress entries), with the header's labels added; an
// element denied makes the decision PERMIT_REDACTED and is listed.
v1::AccessDecision DecideMessage(const Recipient& recipient, const v1::Message& message,
                                 absl::Span<const v1::Consent> consents,
                                 const SharingPolicy& policy, absl::Time now);

// `message` as `recipient` may receive it: without the elements `decision`
// denies, leaving nothing of them (no title, no placeholder), and with the
// REDACTED label on the header when any was removed. Unchanged for PERMIT.
// Must not be called for DENY.
v1::Message Redact(const v1::Message& message, const v1::AccessDecision& decision);

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_CONSENT_POLICY_H_
