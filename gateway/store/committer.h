// The single writer. Every change to the store is a transaction submitted here;
// one thread applies queued transactions in order and merges them into one RocksDB
// write batch (group commit); a second thread syncs the WAL (one sync covering
// every group written meanwhile) and only then runs each transaction's commit
// hooks and completion callback. So nothing is acknowledged before it is on
// disk, and the writer never waits for the disk. Being the only writer is
// what lets it hand out gap-free sequence numbers and extend the audit hash chain
// without locks on the hot path, and what makes read-check-write inside a
// transaction race-free.
//
// A transaction's writes are applied iff its function returns OK. To audit a
// refusal, it calls AuditOnRefusal(): that record alone is kept.
//
// Thread-safe: Submit may be called from any thread. Apply functions run on the
// writer thread; commit hooks and done callbacks, in commit order, on the
// completion thread (so answering callers, e.g. a gRPC Finish, does not hold up
// the next write). None of them may block.
#ifndef SWITCHBOARD_GATEWAY_STORE_COMMITTER_H_
#define SWITCHBOARD_GATEWAY_STORE_COMMITTER_H_

#include <atomic>
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

  // Runs after the group is durable, in commit order, on the completion thread,
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

  // Queues a transaction. `done` (may be null) is called exactly once, on the
  // completion thread, with apply's status, or UNAVAILABLE when the write failed
  // or the committer is stopped (then `apply` may not have run, and `done` may
  // run on the calling thread).
  void Submit(ApplyFn apply, DoneFn done, Durability durability = Durability::kSync);

  // Submits and waits. For start-up, tools and tests: never from a reactor.
  absl::Status Run(ApplyFn apply);

  // The highest store sequence (NextSeq) whose transaction is on disk. Data of
  // later sequences may already be readable but is not yet durable: deliveries
  // and answers drawn from the store must not go past this.
  uint64_t durable_seq() const;

  // The last appended audit record's seq and hash (as of the last group).
  v1::AuditHead AuditHeadForTest() const;

 private:
  friend class Transaction;
  struct Request {
    ApplyFn apply;
    DoneFn done;
    Durability durability;
  };

  struct Completion {
    absl::Status status;
    DoneFn done;
    std::vector<std::function<void()>> on_commit;
    bool written;  // the group's write succeeded
  };
  // One written group, waiting for the WAL sync that makes it durable.
  struct Written {
    std::vector<Completion> items;
    bool needs_sync = false;
    uint64_t last_seq = 0;  // highest store sequence handed out so far
  };

  void Loop();
  void CompleteLoop();
  void WriteGroup(std::deque<Request>& group);
  void AppendAudit(v1::AuditRecord record, absl::Time now);

  Store* const store_;

  absl::Mutex stop_mu_;  // serialises Stop()
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;  // a WAL sync failed
  v1::AuditHead published_head_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;

  absl::Mutex completion_mu_;
  absl::CondVar completion_cv_;
  std::deque<Written> completions_ ABSL_GUARDED_BY(completion_mu_);
  std::atomic<uint64_t> durable_seq_{0};
  absl::Status sync_error_;  // completion thread only: the first failed sync
  bool completion_stop_ ABSL_GUARDED_BY(completion_mu_) = false;
  std::thread completer_;

  // Writer-thread state.
  rocksdb::WriteBatchWithIndex batch_;
  uint64_t next_seq_ = 1;
  uint64_t audit_seq_ = 0;
  std::string audit_hash_;
};

}  // namespace switchboard::gateway::store

#endif  // SWITCHBOARD_GATEWAY_STORE_COMMITTER_H_
