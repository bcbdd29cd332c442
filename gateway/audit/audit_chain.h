// The hash chain over audit records:
//   record.hash = SHA-256(prev_hash || deterministic bytes of record with hash unset)
// where prev_hash is the previous record's hash (32 zero bytes before the first).
// Records are numbered from 1 without gaps; meta `audit_head` holds the last
// seq and hash, written in the same batch as the record.
//
// Thread-safe (pure functions; VerifyChain only reads the store).
#ifndef SWITCHBOARD_GATEWAY_AUDIT_AUDIT_CHAIN_H_
#define SWITCHBOARD_GATEWAY_AUDIT_AUDIT_CHAIN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "gateway/store/store.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/operations.pb.h"

namespace switchboard::gateway::audit {

inline constexpr size_t kHashSize = 32;

// 32 zero bytes: the prev_hash of record 1.
std::string GenesisHash();

// Hash of `record` chained after `prev_hash`; the record's own `hash` field is
// ignored. `prev_hash` must be the value stored in record.prev_hash.
std::string ComputeHash(const v1::AuditRecord& record);

// Sets record->prev_hash = prev_hash and record->hash accordingly.
void SealRecord(absl::string_view prev_hash, v1::AuditRecord* record);

// Walks every record in order and reports the first broken link: a gap or
// reordering in seq, a key that disagrees with its record, a record that does
// not parse, a prev_hash that is not the previous hash, a hash that does not
// match the content, or a chain that does not end at the recorded head.
v1::AuditVerification VerifyChain(const store::Store& store);

// Lower-case hex of the first `n` bytes of `bytes` (for messages).
std::string HexPrefix(absl::string_view bytes, size_t n = 8);

}  // namespace switchboard::gateway::audit

#endif  // SWITCHBOARD_GATEWAY_AUDIT_AUDIT_CHAIN_H_
