#include "gateway/audit/audit_chain.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::audit {
namespace {

using store::Cf;
using ::switchboard::testing::IsOk;
using ::testing::HasSubstr;

constexpr uint64_t kRecords = 5;

class AuditChainTest : public testing::GatewayTest {
 protected:
  // Appends kRecords records, one transaction each, then stops the writer so that
  // the test owns the store.
  void AppendRecordsAndStop() {
    for (uint64_t i = 1; i <= kRecords; ++i) {
      ASSERT_THAT(committer_->Run([i](store::Transaction& txn) {
        v1::AuditRecord r;
        r.set_actor_organisation("st-marys");
        r.set_action(v1::AuditRecord::PUBLISH);
        r.set_outcome(v1::AuditRecord::SUCCESS);
        r.set_gateway_message_id(store::GatewayMessageId(i));
        r.set_detail(absl::StrCat("record number ", i));
        txn.Audit(r);
        return absl::OkStatus();
      }),
                  IsOk());
    }
    committer_->Stop();
  }

  std::string RawRecord(uint64_t seq) {
    auto value = store_->Get(Cf::kAudit, store::keys::Sequence(seq));
    EXPECT_TRUE(value.ok() && value->has_value()) << "record " << seq;
    return value.ok() && value->has_value() ? **value : std::string();
  }

  void DeleteRecord(uint64_t seq) {
    const std::string key = store::keys::Sequence(seq);
    ASSERT_TRUE(
        store_->db()->Delete(rocksdb::WriteOptions(), store_->handle(Cf::kAudit), key).ok());
  }
};

TEST_F(AuditChainTest, EmptyStoreIsOk) {
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(v.records_checked(), 0u);
  EXPECT_EQ(v.first_broken_seq(), 0u);
}

TEST_F(AuditChainTest, ChainWrittenByTheCommitterVerifies) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(v.records_checked(), static_cast<uint64_t>(kRecords));
  EXPECT_EQ(v.first_broken_seq(), 0u);
  EXPECT_TRUE(v.problem().empty());
}

TEST_F(AuditChainTest, RecordsLinkToTheirPredecessor) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  std::string prev = GenesisHash();
  for (uint64_t seq = 1; seq <= kRecords; ++seq) {
    v1::AuditRecord r;
    ASSERT_TRUE(r.ParseFromString(RawRecord(seq)));
    EXPECT_EQ(r.seq(), seq);
    EXPECT_EQ(r.prev_hash(), prev);
    EXPECT_EQ(r.hash().size(), kHashSize);
    EXPECT_EQ(ComputeHash(r), r.hash());
    prev = r.hash();
  }
}

// Flips one byte of one stored record, checks that exactly that record is
// reported, and puts the byte back.
void ExpectFlipReported(store::Store& store, uint64_t seq, const std::string& original,
                        size_t offset) {
  // Tampered string fields make protobuf log invalid UTF-8; that is expected here.
  google::protobuf::LogSilencer silence;
  std::string tampered = original;
  tampered[offset] = static_cast<char>(tampered[offset] ^ 0xff);
  ASSERT_THAT(store.PutForTest(Cf::kAudit, store::keys::Sequence(seq), tampered), IsOk());
  const v1::AuditVerification v = VerifyChain(store);
  EXPECT_FALSE(v.ok()) << "record " << seq << " byte " << offset;
  EXPECT_EQ(v.first_broken_seq(), seq) << "byte " << offset << ": " << v.problem();
  EXPECT_THAT(v.problem(), HasSubstr(absl::StrCat("record ", seq))) << "byte " << offset;
  EXPECT_EQ(v.records_checked(), seq - 1) << "byte " << offset;
  ASSERT_THAT(store.PutForTest(Cf::kAudit, store::keys::Sequence(seq), original), IsOk());
}

TEST_F(AuditChainTest, EveryFlippedByteOfARecordIsReportedAtThatRecord) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  const uint64_t seq = 3;
  const std::string original = RawRecord(seq);
  ASSERT_FALSE(original.empty());
  for (size_t offset = 0; offset < original.size(); ++offset) {
    ASSERT_NO_FATAL_FAILURE(ExpectFlipReported(*store_, seq, original, offset));
  }
  EXPECT_TRUE(VerifyChain(*store_).ok());
}

TEST_F(AuditChainTest, FlippedByteInTheFirstOrLastRecordIsReported) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  for (uint64_t seq : {uint64_t{1}, uint64_t{kRecords}}) {
    const std::string original = RawRecord(seq);
    for (size_t offset : {size_t{0}, original.size() / 2, original.size() - 1}) {
      ASSERT_NO_FATAL_FAILURE(ExpectFlipReported(*store_, seq, original, offset));
    }
  }
}

class AuditChainRemovalTest : public AuditChainTest,
                              public ::testing::WithParamInterface<uint64_t> {};

TEST_P(AuditChainRemovalTest, RemovedRecordIsReported) {
  const uint64_t removed = GetParam();
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  ASSERT_NO_FATAL_FAILURE(DeleteRecord(removed));
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.first_broken_seq(), removed) << v.problem();
  EXPECT_THAT(v.problem(), HasSubstr(absl::StrCat("record ", removed)));
}

INSTANTIATE_TEST_SUITE_P(FirstMiddleLast, AuditChainRemovalTest,
                         ::testing::Values(uint64_t{1}, uint64_t{3}, uint64_t{kRecords}));

TEST_F(AuditChainTest, RecordAppendedWithoutMovingTheHeadIsReported) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  v1::AuditRecord last;
  ASSERT_TRUE(last.ParseFromString(RawRecord(kRecords)));
  // A well-formed, correctly linked record: only the head gives it away.
  v1::AuditRecord extra;
  extra.set_seq(kRecords + 1);
  extra.set_actor_organisation("intruder");
  extra.set_detail("appended behind the gateway's back");
  SealRecord(last.hash(), &extra);
  ASSERT_THAT(
      store_->PutForTest(Cf::kAudit, store::keys::Sequence(extra.seq()), extra.SerializeAsString()),
      IsOk());
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.first_broken_seq(), kRecords + 1u) << v.problem();
  EXPECT_THAT(v.problem(), HasSubstr("head"));
}

TEST_F(AuditChainTest, HeadThatNamesAnotherHashIsReported) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  v1::AuditHead head;
  ASSERT_TRUE(*store_->GetProto(Cf::kMeta, store::keys::kAuditHead, &head));
  ASSERT_EQ(head.seq(), static_cast<uint64_t>(kRecords));
  head.set_hash(std::string(kHashSize, '\x42'));
  ASSERT_THAT(store_->PutForTest(Cf::kMeta, store::keys::kAuditHead, head.SerializeAsString()),
              IsOk());
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_FALSE(v.ok());
  EXPECT_THAT(v.problem(), HasSubstr("head"));
}

TEST_F(AuditChainTest, RecordsWithoutAHeadAreReported) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  ASSERT_TRUE(store_->db()
                  ->Delete(rocksdb::WriteOptions(), store_->handle(Cf::kMeta),
                           std::string(store::keys::kAuditHead))
                  .ok());
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_FALSE(v.ok());
  EXPECT_THAT(v.problem(), HasSubstr("head"));
}

TEST_F(AuditChainTest, RecordMovedToAnotherKeyIsReported) {
  ASSERT_NO_FATAL_FAILURE(AppendRecordsAndStop());
  // Record 2's bytes stored under key 3 (and record 3 gone).
  ASSERT_THAT(store_->PutForTest(Cf::kAudit, store::keys::Sequence(3), RawRecord(2)), IsOk());
  const v1::AuditVerification v = VerifyChain(*store_);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.first_broken_seq(), 3u) << v.problem();
}

}  // namespace
}  // namespace switchboard::gateway::audit
