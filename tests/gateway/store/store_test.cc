// Opening stores: a store written by an earlier release (without the newer
// column families) opens read-only, the newer families reading as empty, and
// writable, which adds them.
#include "gateway/store/store.h"

#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

namespace switchboard::gateway::store {
namespace {

using ::switchboard::testing::IsOk;

// A RocksDB store with the default family and only `audit` and `meta`, holding
// one audit key: what an older release left behind, as far as these tests go.
void WriteOldStore(const std::string& dir) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {CfName(Cf::kAudit), {}}, {CfName(Cf::kMeta), {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir, families, &handles, &raw).ok());
  ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "k", "audit record").ok());
  for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(raw->Close().ok());
  delete raw;
}

TEST(StoreTest, AnOlderStoreOpensReadOnlyWithTheNewerFamiliesEmpty) {
  switchboard::testing::TempDir dir;
  const std::string data = dir.Sub("data");
  ASSERT_NO_FATAL_FAILURE(WriteOldStore(data));
  {
    auto store = Store::OpenReadOnly(data);
    ASSERT_TRUE(store.ok()) << store.status();
    auto audit = (*store)->Get(Cf::kAudit, "k");
    ASSERT_TRUE(audit.ok());
    EXPECT_EQ(audit->value_or(""), "audit record");
    auto plan = (*store)->Get(Cf::kCarePlans, "k");
    ASSERT_TRUE(plan.ok());
    EXPECT_FALSE(plan->has_value());
    {
      auto it = (*store)->NewIterator(Cf::kCarePlans);  // gone before Close
      it->SeekToFirst();
      EXPECT_FALSE(it->Valid());
    }
    EXPECT_THAT((*store)->Close(), IsOk());
  }
  {
    // Writable: the missing families are created, the data kept.
    auto store = Store::Open(data);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Get(Cf::kAudit, "k")->value_or(""), "audit record");
    EXPECT_THAT((*store)->PutForTest(Cf::kCarePlans, "k", "v"), IsOk());
    EXPECT_THAT((*store)->Close(), IsOk());
  }
  auto store = Store::OpenReadOnly(data);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Get(Cf::kCarePlans, "k")->value_or(""), "v");
}

TEST(StoreTest, NoStoreIsNotFoundReadOnly) {
  switchboard::testing::TempDir dir;
  auto store = Store::OpenReadOnly(dir.Sub("nothing-here"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace switchboard::gateway::store
