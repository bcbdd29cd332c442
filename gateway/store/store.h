// The gateway's RocksDB instance: one database, one column family per concern
// (see keys.h), opened once per process. Reads may be done from any thread; all
// writes go through the Committer (the single writer), which is what makes the
// audit chain and the sequence counters consistent.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_STORE_STORE_H_
#define SWITCHBOARD_GATEWAY_STORE_STORE_H_

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/store/keys.h"
#include "google/protobuf/message_lite.h"
#include "rocksdb/db.h"

namespace switchboard::gateway::store {

// Maps a RocksDB status to an absl::Status (IO errors are UNAVAILABLE, corruption
// is DATA_LOSS), prefixing `what`.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

class Store {
 public:
  // Opens (creating if missing) the database under `dir`. Never deletes data.
  // UNAVAILABLE if the directory is locked by another process or unreadable.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir);
  // Opens an existing database read-only (for offline tools such as
  // `sbctl audit verify --data`). NOT_FOUND if there is none.
  static absl::StatusOr<std::unique_ptr<Store>> OpenReadOnly(const std::string& dir);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes the database (after a WAL sync when writable).
  ~Store();

  // Value under `key`, nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, absl::string_view key) const;
  // Parses the value under `key` into `out`; false when absent; DATA_LOSS when the
  // bytes do not parse.
  absl::StatusOr<bool> GetProto(Cf cf, absl::string_view key,
                                google::protobuf::MessageLite* out) const;
  // An iterator over one column family (bounded by `upper_bound` when non-empty;
  // the bound's storage is owned by the returned object).
  std::unique_ptr<rocksdb::Iterator> NewIterator(Cf cf, std::string upper_bound = "") const;

  // Syncs the WAL and closes. Further calls fail. Idempotent.
  absl::Status Close();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Cf cf) const { return handles_[static_cast<int>(cf)]; }
  bool read_only() const { return read_only_; }

  // Writes raw bytes, bypassing the Committer. Only for tests that must tamper
  // with the store (e.g. flip a byte of an audit record).
  absl::Status PutForTest(Cf cf, absl::string_view key, absl::string_view value);

 private:
  Store() = default;
  static absl::StatusOr<std::unique_ptr<Store>> OpenImpl(const std::string& dir, bool read_only);

  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<int>(Cf::kCount)> handles_{};
  bool read_only_ = false;
  bool closed_ = false;
};

}  // namespace switchboard::gateway::store

#endif  // SWITCHBOARD_GATEWAY_STORE_STORE_H_
