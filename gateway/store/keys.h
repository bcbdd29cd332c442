// Key encoding for every column family. Keys are ordered byte strings: sequence
// numbers are 8-byte big-endian so that an iterator walks them in numeric order;
// variable parts are separated by '\0', which validated ids never contain, so
// "a\0..." sorts before and never collides with "ab\0...". This is the only place
// that builds or parses keys. Thread-safe (pure functions).
#ifndef SWITCHBOARD_GATEWAY_STORE_KEYS_H_
#define SWITCHBOARD_GATEWAY_STORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace switchboard::gateway::store {

// Column families, one per concern. kCount is the number of them.
enum class Cf : int {
  kRegistry = 0,  // organisations, SAN index, subscriptions, adapter versions,
                  // people (web accounts)
  kClients,       // clients, identifier index, care teams
  kMessages,      // accepted messages by sequence
  kDedup,         // (source, message id) -> message sequence
  kOutbox,        // (recipient, delivery sequence) while unacknowledged
  kDeliveries,    // (recipient, delivery sequence) -> delivery state
  kAudit,         // audit records by sequence
  kMeta,          // counters and the audit head
  kConsents,      // consents (current and every version), break-glass grants,
                  // the index of withheld and redacted deliveries
  kCarePlans,     // shared care plan versions, referrals, client timelines
  kCount,
};

// RocksDB name of a column family.
const char* CfName(Cf cf);

// 8-byte big-endian encoding; DecodeSeq returns nullopt unless `bytes` is 8 bytes.
std::string EncodeSeq(uint64_t seq);
std::optional<uint64_t> DecodeSeq(absl::string_view bytes);

namespace keys {

// kRegistry
std::string Organisation(absl::string_view id);
inline constexpr absl::string_view kOrganisationPrefix = absl::string_view("org\0", 4);
std::string CertificateSan(absl::string_view san);
std::string Subscription(absl::string_view organisation_id);
inline constexpr absl::string_view kSubscriptionPrefix = absl::string_view("sub\0", 4);
// A member's adapter versions (AdapterVersion), in version order under
// AdapterVersionPrefix(org); its AdapterBindingState under AdapterBinding(org).
std::string AdapterVersion(absl::string_view organisation_id, uint32_t version);
std::string AdapterVersionPrefix(absl::string_view organisation_id);
std::string AdapterBinding(absl::string_view organisation_id);
inline constexpr absl::string_view kAdapterBindingPrefix =
    absl::string_view("adapter-binding\0", 16);
// A member's people (StoredUser), in username order under UserPrefix(org).
std::string User(absl::string_view organisation_id, absl::string_view username);
std::string UserPrefix(absl::string_view organisation_id);

// kClients
std::string Client(absl::string_view client_id);
std::string Identifier(absl::string_view system, absl::string_view value);
std::string CareTeam(absl::string_view client_id);
// Client reviews (identity conflicts) by sequence, under kClientReviewPrefix;
// the open review of a refused message under ClientReviewOfMessage, so that a
// resend does not list it twice.
std::string ClientReview(uint64_t seq);
inline constexpr absl::string_view kClientReviewPrefix = absl::string_view("review\0", 7);
std::string ClientReviewOfMessage(absl::string_view source, absl::string_view message_id);

// kMessages, kAudit
std::string Sequence(uint64_t seq);

// kDedup
std::string Dedup(absl::string_view source, absl::string_view message_id);

// kOutbox and kDeliveries: recipient \0 seq. Prefix() is what every key of that
// recipient starts with.
std::string RecipientSeq(absl::string_view recipient, uint64_t seq);
std::string RecipientPrefix(absl::string_view recipient);
// The sequence of a RecipientSeq key, nullopt if it is not one.
std::optional<uint64_t> SeqOfRecipientKey(absl::string_view key);

// kConsents. The current version of each consent of a client, under
// ConsentPrefix(client) (one scan finds what a decision needs); every version
// under ConsentVersionPrefix(client), in (consent id, version) order.
std::string Consent(absl::string_view client_id, absl::string_view consent_id);
std::string ConsentPrefix(absl::string_view client_id);
std::string ConsentVersion(absl::string_view client_id, absl::string_view consent_id,
                           uint64_t version);
std::string ConsentVersionPrefix(absl::string_view client_id);
// A member's break-glass grant for a client.
std::string BreakGlass(absl::string_view client_id, absl::string_view organisation_id);
std::string BreakGlassPrefix(absl::string_view client_id);
// Deliveries to `recipient` about `client_id` that were withheld or sent
// redacted (what a break-glass releases), by delivery sequence.
std::string Withheld(absl::string_view recipient, absl::string_view client_id, uint64_t seq);
std::string WithheldPrefix(absl::string_view recipient, absl::string_view client_id);

// kCarePlans. Every version of a client's plan under PlanPrefix(client), in
// version order; the client's referrals under ReferralPrefix(client); the
// referrals waiting for an answer by due time under kReferralDuePrefix; the
// client's timeline under TimelinePrefix(client), by the time things happened
// (microseconds since the epoch, clamped at 0) and then store sequence.
std::string PlanVersion(absl::string_view client_id, uint64_t version);
std::string PlanPrefix(absl::string_view client_id);
// The plan's current version number (EncodeSeq).
std::string PlanHead(absl::string_view client_id);
std::string Referral(absl::string_view client_id, absl::string_view referral_id);
std::string ReferralPrefix(absl::string_view client_id);
// due: microseconds since the Unix epoch.
std::string ReferralDue(uint64_t due_micros, absl::string_view client_id,
                        absl::string_view referral_id);
inline constexpr absl::string_view kReferralDuePrefix = absl::string_view("referral-due\0", 13);
std::string TimelineEntry(absl::string_view client_id, uint64_t occurred_micros, uint64_t seq);
std::string TimelinePrefix(absl::string_view client_id);
// The trailing big-endian number of a PlanVersion, ReferralDue's due time or a
// TimelineEntry key; nullopt when the key is shorter.
std::optional<uint64_t> TrailingSeq(absl::string_view key);

// kMeta
inline constexpr absl::string_view kNextSeq = "next_seq";
inline constexpr absl::string_view kAuditHead = "audit_head";

}  // namespace keys

// The smallest key greater than every key that starts with `prefix` (for
// iterate_upper_bound). Empty when there is none (prefix of all 0xff bytes).
std::string PrefixUpperBound(absl::string_view prefix);

// Printable ids derived from sequences: "msg-00000000000000a1", "dlv-...".
std::string GatewayMessageId(uint64_t seq);
std::string DeliveryId(uint64_t seq);
// Parses a DeliveryId; nullopt for anything else.
std::optional<uint64_t> ParseDeliveryId(absl::string_view id);
// Parses a GatewayMessageId; nullopt for anything else.
std::optional<uint64_t> ParseGatewayMessageId(absl::string_view id);

}  // namespace switchboard::gateway::store

#endif  // SWITCHBOARD_GATEWAY_STORE_KEYS_H_
