#include "gateway/store/store.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"

namespace switchboard::gateway::store {
namespace {

// An iterator with an upper bound whose bytes it owns. Members are destroyed in
// reverse order: the iterator before the bound it points at.
class BoundedIterator : public rocksdb::Iterator {
 public:
  BoundedIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string bound)
      : bound_(std::move(bound)), slice_(bound_) {
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &slice_;
    it_.reset(db->NewIterator(options, cf));
  }
  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(const rocksdb::Slice& target) override { it_->Seek(target); }
  void SeekForPrev(const rocksdb::Slice& target) override { it_->SeekForPrev(target); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  rocksdb::Slice key() const override { return it_->key(); }
  rocksdb::Slice value() const override { return it_->value(); }
  rocksdb::Status status() const override { return it_->status(); }

 private:
  const std::string bound_;
  const rocksdb::Slice slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// For keys that end in an 8-byte big-endian sequence (messages, audit, and the
// per-recipient queues): the rest of the key. New keys of one prefix arrive in
// increasing order, so RocksDB can insert them into the memtable next to the
// last one instead of searching from the top of the skip list.
class SequenceSuffixTransform final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "switchboard.SequenceSuffix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 8; }
};

rocksdb::ColumnFamilyOptions CfOptions(const std::shared_ptr<rocksdb::Cache>& cache, Cf cf) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = 32 << 20;
  options.compression = rocksdb::kNoCompression;
  if (cf == Cf::kMessages || cf == Cf::kAudit || cf == Cf::kOutbox || cf == Cf::kDeliveries) {
    options.memtable_insert_with_hint_prefix_extractor =
        std::make_shared<SequenceSuffixTransform>();
  }
  return options;
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  return absl::UnavailableError(msg);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir) {
  return OpenImpl(dir, /*read_only=*/false);
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenReadOnly(const std::string& dir) {
  return OpenImpl(dir, /*read_only=*/true);
}

absl::StatusOr<std::unique_ptr<Store>> Store::OpenImpl(const std::string& dir, bool read_only) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !read_only;
  db_options.create_missing_column_families = !read_only;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 5;
  // Queues live on disk; memory stays bounded by the cache and write buffers.
  auto cache = rocksdb::NewLRUCache(64 << 20);

  // Read-only, only the families the store has: one written by an earlier
  // release lacks the newer ones (they read as empty; see below).
  std::vector<std::string> existing;
  if (read_only) {
    rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, dir, &existing);
    if (!listed.ok()) {
      return absl::NotFoundError(absl::StrCat("no switchboard store at '", dir, "': ", listed.ToString()));
    }
  }
  auto present = [&](const char* name) {
    return !read_only || std::find(existing.begin(), existing.end(), name) != existing.end();
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  std::vector<int> opened;  // Cf of descriptors[1..]
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, CfOptions(cache, Cf::kMeta));
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    if (!present(CfName(static_cast<Cf>(i)))) continue;
    descriptors.emplace_back(CfName(static_cast<Cf>(i)), CfOptions(cache, static_cast<Cf>(i)));
    opened.push_back(i);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
                : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (read_only && (s.IsNotFound() || s.IsInvalidArgument() || s.IsIOError())) {
      return absl::NotFoundError(absl::StrCat("no switchboard store at '", dir, "': ", s.ToString()));
    }
    return FromRocks(s, absl::StrCat("opening store '", dir, "'"));
  }
  auto store = std::unique_ptr<Store>(new Store());
  store->db_.reset(raw);
  store->read_only_ = read_only;
  // handles[0] is the default family, which we do not use (it is empty); a
  // family missing from an older store, opened read-only, reads as it: empty.
  for (size_t j = 0; j < opened.size(); ++j) store->handles_[opened[j]] = handles[j + 1];
  for (auto*& h : store->handles_) {
    if (h == nullptr) h = raw->DefaultColumnFamily();
  }
  raw->DestroyColumnFamilyHandle(handles[0]);
  return store;
}

Store::~Store() { (void)Close(); }

absl::Status Store::Close() {
  if (closed_ || db_ == nullptr) return absl::OkStatus();
  closed_ = true;
  absl::Status result;
  if (!read_only_) result = FromRocks(db_->SyncWAL(), "syncing WAL");
  for (auto*& h : handles_) {
    if (h != nullptr && h != db_->DefaultColumnFamily()) db_->DestroyColumnFamilyHandle(h);
    h = nullptr;
  }
  rocksdb::Status s = db_->Close();
  if (result.ok() && !s.ok()) result = FromRocks(s, "closing store");
  db_.reset();
  return result;
}

absl::StatusOr<std::optional<std::string>> Store::Get(Cf cf, absl::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handle(cf), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", CfName(cf)));
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<bool> Store::GetProto(Cf cf, absl::string_view key,
                                     google::protobuf::MessageLite* out) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handle(cf), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", CfName(cf)));
  if (!out->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("unparseable record in ", CfName(cf)));
  }
  return true;
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(Cf cf, std::string upper_bound) const {
  if (upper_bound.empty()) {
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions(), handle(cf)));
  }
  return std::make_unique<BoundedIterator>(db_.get(), handle(cf), std::move(upper_bound));
}

absl::Status Store::PutForTest(Cf cf, absl::string_view key, absl::string_view value) {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(db_->Put(options, handle(cf), rocksdb::Slice(key.data(), key.size()),
                            rocksdb::Slice(value.data(), value.size())),
                   "test write");
}

}  // namespace switchboard::gateway::store
