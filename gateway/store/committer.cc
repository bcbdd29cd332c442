#include "gateway/store/committer.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_chain.h"
#include "gateway/common/log.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::store {
namespace {

// Upper bounds on one group, so one huge burst does not delay everybody.
constexpr size_t kMaxGroupRequests = 1024;
constexpr size_t kMaxGroupBytes = 16 << 20;

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

absl::StatusOr<std::optional<std::string>> Transaction::Get(Cf cf, absl::string_view key) {
  std::string value;
  Committer* c = committer_;
  rocksdb::Status s = c->batch_.GetFromBatchAndDB(c->store_->db(), rocksdb::ReadOptions(),
                                                  c->store_->handle(cf), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", CfName(cf)));
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<bool> Transaction::GetProto(Cf cf, absl::string_view key,
                                           google::protobuf::MessageLite* out) {
  auto value = Get(cf, key);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return false;
  if (!out->ParseFromString(**value)) {
    return absl::DataLossError(absl::StrCat("unparseable record in ", CfName(cf)));
  }
  return true;
}

void Transaction::Put(Cf cf, absl::string_view key, absl::string_view value) {
  committer_->batch_.Put(committer_->store_->handle(cf), ToSlice(key), ToSlice(value));
}

void Transaction::PutProto(Cf cf, absl::string_view key,
                           const google::protobuf::MessageLite& value) {
  Put(cf, key, value.SerializeAsString());
}

void Transaction::Delete(Cf cf, absl::string_view key) {
  committer_->batch_.Delete(committer_->store_->handle(cf), ToSlice(key));
}

uint64_t Transaction::NextSeq() { return committer_->next_seq_++; }

void Transaction::Audit(v1::AuditRecord record) {
  committer_->AppendAudit(std::move(record), now_);
}

void Transaction::AuditOnRefusal(v1::AuditRecord record) { refusal_ = std::move(record); }

void Transaction::OnCommit(std::function<void()> fn) { on_commit_.push_back(std::move(fn)); }

Committer::Committer(Store* store)
    : store_(store), batch_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

Committer::~Committer() { Stop(); }

absl::Status Committer::Start() {
  auto seq = store_->Get(Cf::kMeta, keys::kNextSeq);
  if (!seq.ok()) return seq.status();
  if (seq->has_value()) {
    auto decoded = DecodeSeq(**seq);
    if (!decoded) return absl::DataLossError("meta next_seq: not an 8-byte sequence");
    next_seq_ = *decoded;
  }
  v1::AuditHead head;
  auto found = store_->GetProto(Cf::kMeta, keys::kAuditHead, &head);
  if (!found.ok()) return found.status();
  audit_seq_ = head.seq();
  audit_hash_ = *found ? head.hash() : audit::GenesisHash();
  // Whatever recovery found is as durable as it gets.
  durable_seq_.store(next_seq_ - 1, std::memory_order_release);
  absl::MutexLock lock(&mu_);
  published_head_ = head;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  completer_ = std::thread([this] { CompleteLoop(); });
  return absl::OkStatus();
}

void Committer::Stop() {
  // Held throughout, so a second caller returns only once the queue is drained.
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&completion_mu_);
    completion_stop_ = true;
    completion_cv_.SignalAll();
  }
  if (completer_.joinable()) completer_.join();
}

void Committer::CompleteLoop() {
  for (;;) {
    std::deque<Written> groups;
    {
      absl::MutexLock lock(&completion_mu_);
      while (completions_.empty() && !completion_stop_) completion_cv_.Wait(&completion_mu_);
      if (completions_.empty()) return;  // stopping and drained
      groups.swap(completions_);
    }
    // One sync covers every group written so far (group commit across groups).
    absl::Status synced;
    for (const Written& g : groups) {
      if (g.needs_sync) {
        synced = FromRocks(store_->db()->SyncWAL(), "syncing the write-ahead log");
        break;
      }
    }
    if (!synced.ok() && sync_error_.ok()) {
      // Written but maybe not on disk: acknowledge nothing more, accept nothing
      // more. The operator restarts the gateway; clients retry (dedup makes it safe).
      LogError("wal_sync_failed", {{"error", synced.ToString()}});
      sync_error_ = synced;
      absl::MutexLock lock(&mu_);
      failed_ = true;
    }
    for (Written& g : groups) {
      // After a failed sync nothing is durable any more, not even groups that
      // did not ask for a sync (their sequences come after the failed ones).
      const bool durable = sync_error_.ok();
      if (!durable) synced = sync_error_;
      if (durable && g.last_seq > durable_seq_.load(std::memory_order_relaxed)) {
        durable_seq_.store(g.last_seq, std::memory_order_release);
      }
      for (Completion& c : g.items) {
        if (durable && c.written && c.status.ok()) {
          for (auto& fn : c.on_commit) fn();
        }
        if (c.done) c.done(durable ? c.status : synced);
      }
    }
  }
}

void Committer::Submit(ApplyFn apply, DoneFn done, Durability durability) {
  {
    absl::MutexLock lock(&mu_);
    if (started_ && !stopping_ && !failed_) {
      queue_.push_back(Request{std::move(apply), std::move(done), durability});
      cv_.Signal();
      return;
    }
  }
  if (done) done(absl::UnavailableError("the gateway is shutting down"));
}

absl::Status Committer::Run(ApplyFn apply) {
  std::promise<absl::Status> promise;
  auto future = promise.get_future();
  Submit(std::move(apply), [&promise](absl::Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

v1::AuditHead Committer::AuditHeadForTest() const {
  absl::MutexLock lock(&mu_);
  return published_head_;
}

void Committer::AppendAudit(v1::AuditRecord record, absl::Time now) {
  record.set_seq(++audit_seq_);
  if (!record.has_at()) *record.mutable_at() = ToProtoTime(now);
  audit::SealRecord(audit_hash_, &record);
  audit_hash_ = record.hash();
  batch_.Put(store_->handle(Cf::kAudit), keys::Sequence(record.seq()), record.SerializeAsString());
}

void Committer::Loop() {
  for (;;) {
    std::deque<Request> group;
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && group.size() < kMaxGroupRequests) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteGroup(group);
    if (!group.empty()) {
      // The byte cap stopped the group early: put the rest back, in order.
      absl::MutexLock lock(&mu_);
      while (!group.empty()) {
        queue_.push_front(std::move(group.back()));
        group.pop_back();
      }
    }
  }
}

void Committer::WriteGroup(std::deque<Request>& group) {
  struct Result {
    absl::Status status;
    DoneFn done;
    std::vector<std::function<void()>> on_commit;
  };
  std::vector<Result> results;
  results.reserve(group.size());
  batch_.Clear();
  const uint64_t start_seq = next_seq_;
  const uint64_t start_audit_seq = audit_seq_;
  const std::string start_audit_hash = audit_hash_;
  const absl::Time now = absl::Now();
  bool sync = false;

  while (!group.empty() && batch_.GetWriteBatch()->GetDataSize() < kMaxGroupBytes) {
    Request req = std::move(group.front());
    group.pop_front();
    const uint64_t seq_before = next_seq_;
    const uint64_t audit_seq_before = audit_seq_;
    const std::string audit_hash_before = audit_hash_;
    batch_.SetSavePoint();
    Transaction txn(this, now);
    absl::Status status = req.apply(txn);
    if (status.ok()) {
      batch_.PopSavePoint();
    } else {
      (void)batch_.RollbackToSavePoint();
      next_seq_ = seq_before;
      audit_seq_ = audit_seq_before;
      audit_hash_ = audit_hash_before;
      txn.on_commit_.clear();
      if (txn.refusal_.has_value()) AppendAudit(std::move(*txn.refusal_), now);
    }
    if (req.durability == Durability::kSync) sync = true;
    results.push_back(Result{std::move(status), std::move(req.done), std::move(txn.on_commit_)});
  }

  absl::Status write_status;
  // A sequence handed out is never handed out again, even by a transaction that
  // wrote nothing else.
  if (next_seq_ != start_seq) {
    batch_.Put(store_->handle(Cf::kMeta), ToSlice(keys::kNextSeq), EncodeSeq(next_seq_));
  }
  if (batch_.GetWriteBatch()->Count() > 0) {
    v1::AuditHead head;
    if (audit_seq_ != start_audit_seq) {
      head.set_seq(audit_seq_);
      head.set_hash(audit_hash_);
      *head.mutable_at() = ToProtoTime(now);
      batch_.Put(store_->handle(Cf::kMeta), ToSlice(keys::kAuditHead), head.SerializeAsString());
    }
    // Written without waiting for the disk: the completion thread syncs the WAL
    // (covering this and every earlier group) before anything is acknowledged,
    // while this thread goes on with the next group.
    write_status =
        FromRocks(store_->db()->Write(rocksdb::WriteOptions(), batch_.GetWriteBatch()),
                  "writing batch");
    if (!write_status.ok()) {
      next_seq_ = start_seq;
      audit_seq_ = start_audit_seq;
      audit_hash_ = start_audit_hash;
    } else if (audit_seq_ != start_audit_seq) {
      absl::MutexLock lock(&mu_);
      published_head_ = head;
    }
  }
  batch_.Clear();

  Written written;
  written.needs_sync = sync && write_status.ok();
  written.last_seq = next_seq_ - 1;
  written.items.reserve(results.size());
  for (Result& r : results) {
    written.items.push_back(Completion{write_status.ok() ? std::move(r.status) : write_status,
                                       std::move(r.done), std::move(r.on_commit),
                                       write_status.ok()});
  }
  absl::MutexLock lock(&completion_mu_);
  completions_.push_back(std::move(written));
  completion_cv_.Signal();
}

uint64_t Committer::durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }

}  // namespace switchboard::gateway::store
