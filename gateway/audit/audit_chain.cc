#include "gateway/audit/audit_chain.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gateway/common/deterministic.h"
#include "gateway/common/sha256.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::audit {
namespace {

std::string CanonicalBytes(const v1::AuditRecord& record) {
  v1::AuditRecord copy = record;
  copy.clear_hash();
  return DeterministicBytes(copy);
}

v1::AuditVerification Broken(uint64_t seq, uint64_t checked, std::string problem) {
  v1::AuditVerification v;
  v.set_ok(false);
  v.set_first_broken_seq(seq);
  v.set_records_checked(checked);
  v.set_problem(std::move(problem));
  return v;
}

}  // namespace

std::string GenesisHash() { return std::string(kHashSize, '\0'); }

std::string ComputeHash(const v1::AuditRecord& record) {
  return Sha256({record.prev_hash(), CanonicalBytes(record)});
}

void SealRecord(absl::string_view prev_hash, v1::AuditRecord* record) {
  record->set_prev_hash(std::string(prev_hash));
  record->clear_hash();
  record->set_hash(ComputeHash(*record));
}

std::string HexPrefix(absl::string_view bytes, size_t n) {
  return absl::BytesToHexString(bytes.substr(0, n));
}

v1::AuditVerification VerifyChain(const store::Store& store) {
  // One snapshot for the records and the head, so concurrent appends do not show
  // up as a mismatch.
  rocksdb::DB* db = store.db();
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  v1::AuditVerification result = [&]() -> v1::AuditVerification {
    std::string prev = GenesisHash();
    uint64_t expected = 1;
    uint64_t checked = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, store.handle(store::Cf::kAudit)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto key_seq =
          store::DecodeSeq(absl::string_view(it->key().data(), it->key().size()));
      v1::AuditRecord record;
      if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        const uint64_t at = key_seq.value_or(expected);
        return Broken(at, checked, absl::StrCat("record ", at, " does not parse"));
      }
      if (!key_seq.has_value() || *key_seq != record.seq()) {
        return Broken(key_seq.value_or(expected), checked,
                      absl::StrCat("record ", key_seq.value_or(expected),
                                   " holds the content of record ", record.seq()));
      }
      if (record.seq() != expected) {
        return Broken(expected, checked,
                      absl::StrCat("record ", expected, " is missing (next is ", record.seq(), ")"));
      }
      if (record.prev_hash() != prev) {
        return Broken(record.seq(), checked,
                      absl::StrCat("record ", record.seq(), " does not link to record ",
                                   record.seq() - 1, " (prev_hash ", HexPrefix(record.prev_hash()),
                                   "..., expected ", HexPrefix(prev), "...)"));
      }
      if (ComputeHash(record) != record.hash()) {
        return Broken(record.seq(), checked,
                      absl::StrCat("record ", record.seq(),
                                   " has been altered (its hash does not match its content)"));
      }
      prev = record.hash();
      ++expected;
      ++checked;
    }
    if (!it->status().ok()) {
      return Broken(expected, checked,
                    absl::StrCat("store error reading record ", expected, ": ",
                                 it->status().ToString()));
    }
    std::string head_bytes;
    rocksdb::Status s = db->Get(options, store.handle(store::Cf::kMeta),
                                rocksdb::Slice(store::keys::kAuditHead.data(),
                                               store::keys::kAuditHead.size()),
                                &head_bytes);
    v1::AuditHead head;
    if (!s.ok() && !s.IsNotFound()) {
      return Broken(expected, checked, absl::StrCat("audit head: ", s.ToString()));
    }
    if (s.ok() && !head.ParseFromString(head_bytes)) {
      return Broken(expected, checked, "audit head does not parse");
    }
    const uint64_t last = expected - 1;
    if (head.seq() == last && last > 0 && head.hash() != prev) {
      return Broken(last, checked,
                    absl::StrCat("the recorded head does not match record ", last,
                                 " (the last record or the head was altered)"));
    }
    if (head.seq() != last) {
      return Broken(std::min(head.seq(), last) + 1, checked,
                    absl::StrCat("the chain ends at record ", last,
                                 " but the recorded head is record ", head.seq(),
                                 " (records removed or added at the end)"));
    }
    v1::AuditVerification v;
    v.set_ok(true);
    v.set_records_checked(checked);
    return v;
  }();
  db->ReleaseSnapshot(snapshot);
  return result;
}

}  // namespace switchboard::gateway::audit
