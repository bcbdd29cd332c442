// Bad input of each kind is refused with INVALID_ARGUMENT (or the code the
// contract names) naming the field, and changes nothing: checked in the store
// itself after the gateway stops (no message, dedup key, outbox entry or delivery;
// one REFUSED audit record per attempt).
#include <functional>

#include "gateway/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using gateway::store::Cf;

struct BadCase {
  std::string name;
  std::function<void(v1::Message&)> spoil;
  grpc::StatusCode code;
  std::string message_start;
};

std::vector<BadCase> Cases() {
  return {
      {"no header", [](v1::Message& m) { m.clear_header(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "message.header: required"},
      {"no id", [](v1::Message& m) { m.mutable_header()->clear_id(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.id: required"},
      {"id with spaces", [](v1::Message& m) { m.mutable_header()->set_id("a b"); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.id:"},
      {"unknown event", [](v1::Message& m) { m.mutable_header()->set_event("discharge-x"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "message.header.event: unknown event code 'discharge-x'"},
      {"no source", [](v1::Message& m) { m.mutable_header()->clear_source(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.source: required"},
      {"no client", [](v1::Message& m) { m.mutable_header()->clear_client(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.client: required"},
      {"client without value", [](v1::Message& m) { m.mutable_header()->mutable_client()->clear_value(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.client.value: required"},
      {"unknown client", [](v1::Message& m) { m.mutable_header()->mutable_client()->set_value("MRN-404"); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.client: no client with identifier"},
      {"no occurred_at", [](v1::Message& m) { m.mutable_header()->clear_occurred_at(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.occurred_at: required"},
      {"occurred_at in the future",
       [](v1::Message& m) {
         *m.mutable_header()->mutable_occurred_at() = ToProtoTime(absl::Now() + absl::Hours(2));
       },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.occurred_at: is in the future"},
      {"unknown purpose", [](v1::Message& m) { m.mutable_header()->set_purpose_of_use("SNOOP"); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.purpose_of_use: unknown"},
      {"label without code",
       [](v1::Message& m) { m.mutable_header()->add_security_labels()->set_system("urn:x"); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.security_labels[0].code: required"},
      {"no payload", [](v1::Message& m) { m.clear_discharge_note(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.discharge_note: required for event 'discharge'"},
      {"payload of another event",
       [](v1::Message& m) {
         m.mutable_case_note()->add_sections()->set_text("x");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "message.case_note: event 'discharge' carries a discharge_note"},
      {"section without text",
       [](v1::Message& m) { m.mutable_discharge_note()->mutable_sections(0)->clear_text(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.discharge_note.sections[0].text: required"},
      {"no sections", [](v1::Message& m) { m.mutable_discharge_note()->clear_sections(); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.discharge_note.sections: at least one"},
      {"destination twice",
       [](v1::Message& m) {
         m.mutable_header()->add_destinations("harbour-housing");
         m.mutable_header()->add_destinations("harbour-housing");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.destinations[1]: 'harbour-housing' is listed twice"},
      {"destination is the source",
       [](v1::Message& m) { m.mutable_header()->add_destinations("st-marys"); },
       grpc::StatusCode::INVALID_ARGUMENT, "message.header.destinations[0]: 'st-marys' is the source"},
      {"too large",
       [](v1::Message& m) {
         m.mutable_discharge_note()->mutable_sections(0)->set_text(std::string(9000, 'x'));
       },
       grpc::StatusCode::INVALID_ARGUMENT, "message: "},
  };
}

class ValidationTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.max_message_bytes = 8192;
    return o;
  }
};

size_t CountKeys(const gateway::store::Store& store, Cf cf) {
  size_t n = 0;
  auto it = store.NewIterator(cf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

TEST_F(ValidationTest, EachKindOfBadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  auto hospital = As("st-marys");
  const auto cases = Cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    v1::Message m = Discharge("bad-" + std::to_string(i));
    cases[i].spoil(m);
    grpc::Status s = hospital->Publish(m);
    EXPECT_EQ(s.error_code(), cases[i].code) << cases[i].name << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), StartsWith(cases[i].message_start)) << cases[i].name;
  }
  // A size just over the gRPC transport limit gets a transport error, also
  // storing nothing.
  v1::Message huge = Discharge("huge");
  huge.mutable_discharge_note()->mutable_sections(0)->set_text(std::string(200 * 1024, 'x'));
  EXPECT_EQ(hospital->Publish(huge).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  ASSERT_TRUE(gateway_->Stop().ok());
  auto store = gateway::store::Store::OpenReadOnly(gateway_->data_dir());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(CountKeys(**store, Cf::kMessages), 0u);
  EXPECT_EQ(CountKeys(**store, Cf::kDedup), 0u);
  EXPECT_EQ(CountKeys(**store, Cf::kOutbox), 0u);
  EXPECT_EQ(CountKeys(**store, Cf::kDeliveries), 0u);
  size_t refused = 0;
  auto it = (*store)->NewIterator(Cf::kAudit);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::AuditRecord r;
    ASSERT_TRUE(r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
    if (r.action() == v1::AuditRecord::PUBLISH) {
      EXPECT_EQ(r.outcome(), v1::AuditRecord::REFUSED) << r.DebugString();
      EXPECT_EQ(r.actor_organisation(), "st-marys");
      EXPECT_FALSE(r.detail().empty());
      ++refused;
    }
  }
  EXPECT_EQ(refused, cases.size());
}

TEST_F(ValidationTest, AValidMessageAfterRefusalsIsAcceptedNormally) {
  auto hospital = As("st-marys");
  v1::Message bad = Discharge("v-1");
  bad.mutable_header()->set_event("nope");
  EXPECT_EQ(hospital->Publish(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The same id is free: a refused message was never stored.
  v1::Receipt receipt;
  ASSERT_TRUE(hospital->Publish(Discharge("v-1"), &receipt).ok());
  EXPECT_EQ(receipt.recipients_size(), 3);
}

}  // namespace
}  // namespace switchboard::testing
