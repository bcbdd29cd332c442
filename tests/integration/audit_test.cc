// The audit hash chain end to end: records appear for publish, delivery and
// registry changes; `sbctl audit verify` passes on an untouched store and, after
// one byte of one record is flipped in RocksDB, reports that record.
#include "absl/strings/str_cat.h"
#include "gateway/store/keys.h"
#include "gateway/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using gateway::store::Cf;

using AuditTest = GatewayTest;

std::string Sbctl(const std::string& args, int* exit_code) {
  std::string out;
  *exit_code = RunCommand(absl::StrCat(BinaryDir(), "/tools/cli/sbctl ", args, " 2>&1"), &out);
  return out;
}

TEST_F(AuditTest, ChainCoversPublishAndDeliveryAndVerifiesOnlineAndOffline) {
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("au-1")).ok());
  auto housing = Subscribe("harbour-housing");
  auto d = housing->Next();
  ASSERT_TRUE(d.has_value());
  housing->Ack({d->id()});
  ASSERT_TRUE(housing->Close().ok());

  auto admin = As("admin");
  v1::AuditVerification verification;
  ASSERT_TRUE(admin->operations->VerifyAudit(Ctx().get(), {}, &verification).ok());
  EXPECT_TRUE(verification.ok()) << verification.problem();
  EXPECT_GT(verification.records_checked(), 0u);

  v1::ListAuditRecordsRequest req;
  req.set_page_size(1000);
  v1::ListAuditRecordsResponse resp;
  ASSERT_TRUE(admin->operations->ListAuditRecords(Ctx().get(), req, &resp).ok());
  bool published = false, delivered = false;
  for (const auto& r : resp.records()) {
    published |= r.action() == v1::AuditRecord::PUBLISH && r.message_id() == "au-1" &&
                 r.client_id() == "client-a" && r.actor_organisation() == "st-marys";
    delivered |= r.action() == v1::AuditRecord::DELIVER && r.message_id() == "au-1" &&
                 r.actor_organisation() == "harbour-housing" && r.delivery_id() == d->id();
  }
  EXPECT_TRUE(published);
  EXPECT_TRUE(delivered);

  ASSERT_TRUE(gateway_->Stop().ok());
  int code = -1;
  std::string out = Sbctl("audit verify --data " + gateway_->data_dir(), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("audit chain ok"));
}

TEST_F(AuditTest, FlippingOneByteOfOneRecordIsDetectedAtThatRecord) {
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("au-2")).ok());
  ASSERT_TRUE(As("st-marys")->Publish(Discharge("au-3")).ok());
  ASSERT_TRUE(gateway_->Stop().ok());

  // Find the PUBLISH record of au-2 and flip one byte of its stored value.
  uint64_t target = 0;
  {
    auto store = gateway::store::Store::Open(gateway_->data_dir());
    ASSERT_TRUE(store.ok()) << store.status();
    std::string key, value;
    auto it = (*store)->NewIterator(Cf::kAudit);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      v1::AuditRecord r;
      ASSERT_TRUE(r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
      if (r.action() == v1::AuditRecord::PUBLISH && r.message_id() == "au-2") {
        target = r.seq();
        key = it->key().ToString();
        value = it->value().ToString();
      }
    }
    it.reset();
    ASSERT_NE(target, 0u);
    const size_t at = value.find("routed");  // inside the detail text: still parses
    ASSERT_NE(at, std::string::npos);
    value[at] ^= 0x20;  // 'r' -> 'R'
    ASSERT_TRUE((*store)->PutForTest(Cf::kAudit, key, value).ok());
    ASSERT_TRUE((*store)->Close().ok());
  }

  int code = -1;
  std::string out = Sbctl("audit verify --data " + gateway_->data_dir(), &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("BROKEN at record ", target)));
  EXPECT_THAT(out, HasSubstr("altered"));

  // The running gateway reports the same through Operations.VerifyAudit.
  ASSERT_TRUE(gateway_->Start().ok());
  v1::AuditVerification verification;
  ASSERT_TRUE(As("admin")->operations->VerifyAudit(Ctx().get(), {}, &verification).ok());
  EXPECT_FALSE(verification.ok());
  EXPECT_EQ(verification.first_broken_seq(), target);
}

}  // namespace
}  // namespace switchboard::testing
