// The single writer. Every change to the store is a transaction submitted here;
// one thread applies queued transactions in order, merges them into one RocksDB
// write batch (group commit) and writes it with the WAL synced, then runs each
// transaction's commit hooks and completion callback. Being the only writer is
// what lets it hand out gap-free sequence numbers and extend the audit hash chain
// without locks on the hot path, and what makes read-check-write inside a
// transaction race-free.
//
// A transaction's writes are applied iff its function returns OK. To audit a
// refusal, it calls AuditOnRefusal(): that record alone is kept.
//
// Thread-safe: Submit may be called from any thread. Apply functions, hooks and
// done callbacks run on the writer thread and must not block.
#ifndef SWITCHBOARD_GATEWAY_STORE_COMMITTER_H_
#define SWITCHBOARD_GATEWAY_STORE_COMMITTER_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/store/store.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "switchboard/v1/audit.pb.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::store {

class Committer;

// Whether the submitter needs the write on disk before `done` runs.
enum class Durability {
  kSync,    // WAL synced before done (anything that is acknowledged to a caller)
  kNoSync,  // may be lost on a crash (bookkeeping that is safe to redo)
};

// The view of one transaction while it is applied. Reads see the store plus every
// write of earlier transactions in the same group and of this one.
class Transaction {
 public:
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, absl::string_view key);
  // False when absent; DATA_LOSS when the bytes do not parse.
  absl::StatusOr<bool> GetProto(Cf cf, absl::string_view key, google::protobuf::MessageLite* out);
  void Put(Cf cf, absl::string_view key, absl::string_view value);
  void PutProto(Cf cf, absl::string_view key, const google::protobuf::MessageLite& value);
  void Delete(Cf cf, absl::string_view key);

  // The next value of the store-wide sequence (messages and deliveries), from 1.
  uint64_t NextSeq();

  // Appends `record` to the audit chain: sets seq, at (when unset), prev_hash
  // and hash.
  void Audit(v1::AuditRecord record);
  // The record to append if this transaction is refused (returns an error).
  void AuditOnRefusal(v1::AuditRecord record);

  // Runs on the writer thread after the group is durable, in commit order,
  // before the done callback; not run when the transaction fails.
  void OnCommit(std::function<void()> fn);

  // The time of this group (one clock reading per group).
  absl::Time now() const { return now_; }

 private:
  friend class Committer;
  Transaction(Committer* committer, absl::Time now) : committer_(committer), now_(now) {}

  Committer* committer_;
  absl::Time now_;
  std::vector<std::function<void()>> on_commit_;
  std::optional<v1::AuditRecord> refusal_;
};

class Committer {
 public:
  using ApplyFn = std::function<absl::Status(Transaction&)>;
  using DoneFn = std::function<void(absl::Status)>;

  explicit Committer(Store* store);
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;
  ~Committer();  // Stop()s.

  // Reads the sequence counter and the audit head, then starts the writer.
  absl::Status Start();
  // Applies everything already queued, then stops. Later submits fail with
  // UNAVAILABLE. Idempotent.
  void Stop();

  // Queues a transaction. `done` is called exactly once, on the writer thread,
  // with apply's status, or UNAVAILABLE when the write failed or the committer
  // is stopped (then `apply` may not have run).
  void Submit(ApplyFn apply, DoneFn done, Durability durability = Durability::kSync);

  // Submits and waits. For start-up, tools and tests: never from a reactor.
  absl::Status Run(ApplyFn apply);

  // The last appended audit record's seq and hash (as of the last group).
  v1::AuditHead AuditHeadForTest() const;

 private:
  friend class Transaction;
  struct Request {
    ApplyFn apply;
    DoneFn done;
    Durability durability;
  };

  void Loop();
  void WriteGroup(std::deque<Request>& group);
  void AppendAudit(v1::AuditRecord record, absl::Time now);

  Store* const store_;

  absl::Mutex stop_mu_;  // serialises Stop()
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  v1::AuditHead published_head_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;

  // Writer-thread state.
  rocksdb::WriteBatchWithIndex batch_;
  uint64_t next_seq_ = 1;
  uint64_t audit_seq_ = 0;
  std::string audit_hash_;
};

}  // namespace switchboard::gateway::store

#endif  // SWITCHBOARD_GATEWAY_STORE_COMMITTER_H_
