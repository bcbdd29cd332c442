// The adapter lifecycle's ops on a real store and committer: versions are
// numbered and their samples' expectations filled, bad configs and samples are
// refused naming the field, another member's adapter is NOT_FOUND, activation
// runs the contract check (refused with a field-level diff unless accepted),
// rollback returns to the previous version, the live table follows commits, a
// test is a dry run, and the config's bindings seed version 1 only once.
#include "gateway/registry/adapter_ops.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/text_proto.h"
#include "switchboard/v1/adapters/mapping.pb.h"
#include "switchboard/v1/adapters/remote.pb.h"
#include "tests/common/golden.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
using store::Transaction;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using testing::AdminCaller;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MemberCaller;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kFamily[] = "northside-family";

// northside-family's visit notes: the mapping of the demo config, kept in
// tests/data/mapping/northside_family.textproto.
const std::string& Mapping() {
  static const std::string* const kText = new std::string(
      ::switchboard::testing::ReadTestData("mapping", "northside_family.textproto"));
  return *kText;
}

constexpr char kVisit[] = R"({"noteId": "NF-1", "caseRef": "NF-0457",
  "visit": {"date": "24/11/2026 15:30", "type": "HOME"},
  "notes": [{"body": "Heating repaired."}]})";

google::protobuf::Any Config(const std::string& text = Mapping()) {
  v1::adapters::MappingConfig config;
  EXPECT_THAT(ParseTextProto(text, "mapping", &config), IsOk());
  google::protobuf::Any any;
  any.PackFrom(config);
  return any;
}

// The mapping with HOME visits now in the health domain.
google::protobuf::Any HomeIsHealth() {
  return Config(absl::StrReplaceAll(Mapping(), {{R"(partner: "HOME" canonical: "family")",
                                                 R"(partner: "HOME" canonical: "health")"}}));
}

v1::ContractSample Sample(const std::string& name, const std::string& input = kVisit) {
  v1::ContractSample sample;
  sample.set_name(name);
  sample.set_content_type("application/json");
  sample.set_input(input);
  return sample;
}

class AdapterOpsTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
    adapters::RegisterBuiltinAdapters(types_);
  }

  AdapterContext Ctx() { return AdapterContext{&directory_, &types_, &table_}; }

  absl::StatusOr<v1::AdapterVersion> Register(
      const google::protobuf::Any& config, std::vector<v1::ContractSample> samples = {},
      const identity::Caller& caller = MemberCaller(kFamily), const std::string& org = kFamily) {
    v1::RegisterAdapterVersionRequest request;
    *request.mutable_config() = config;
    for (auto& s : samples) *request.add_samples() = std::move(s);
    request.set_note("test");
    absl::StatusOr<v1::AdapterVersion> prepared = [&]() -> absl::StatusOr<v1::AdapterVersion> {
      if (absl::Status s = CheckAdapterAccess(directory_, caller, org); !s.ok()) return s;
      if (absl::Status s = CheckConfigRights(caller, types_, config); !s.ok()) return s;
      return PrepareAdapterVersion(types_, org, request);
    }();
    v1::AdapterVersion out;
    absl::Status s = committer_->Run(
        [&](Transaction& txn) { return RegisterAdapterVersion(txn, caller, org, prepared, &out); });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<v1::ActivateAdapterVersionResponse> Activate(
      uint32_t version, bool accept = false,
      std::optional<absl::StatusOr<ActivationPlan>> plan = std::nullopt) {
    if (!plan.has_value()) plan = PlanActivation(*store_, types_, kFamily, version);
    v1::ActivateAdapterVersionResponse out;
    absl::Status s = committer_->Run([&](Transaction& txn) {
      return ActivateAdapterVersion(txn, Ctx(), MemberCaller(kFamily), kFamily, *plan, accept,
                                    &out);
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::StatusOr<v1::AdapterBindingState> Rollback() {
    absl::StatusOr<RollbackPlan> plan = PlanRollback(*store_, types_, kFamily);
    v1::AdapterBindingState out;
    absl::Status s = committer_->Run([&](Transaction& txn) {
      return RollbackAdapter(txn, Ctx(), MemberCaller(kFamily), kFamily, plan, &out);
    });
    if (!s.ok()) return s;
    return out;
  }

  uint32_t LiveVersion() {
    std::optional<AdapterTable::Entry> entry = table_.Get(kFamily);
    return entry.has_value() ? entry->version : 0;
  }

  adapters::AdapterRegistry types_;
  AdapterTable table_;
};

TEST_F(AdapterOpsTest, RegisterNumbersVersionsAndFillsMissingExpectationsByRunningThem) {
  ASSERT_OK_AND_ASSIGN(v1::AdapterVersion v1, Register(Config(), {Sample("home-visit")}));
  EXPECT_EQ(v1.version(), 1u);
  EXPECT_EQ(v1.adapter_type(), "switchboard.adapters.mapping");
  EXPECT_EQ(v1.created_by(), kFamily);
  ASSERT_THAT(v1.samples(), SizeIs(1));
  const v1::ContractSample& sample = v1.samples(0);
  EXPECT_EQ(sample.expected_message().header().id(), "NF-1");
  EXPECT_EQ(sample.expected_message().case_note().domain(), "family");
  EXPECT_EQ(sample.expected_output_content_type(), "application/json");
  EXPECT_THAT(sample.expected_output(), HasSubstr(R"("type":"HOME")"));
  EXPECT_THAT(sample.expected_error(), IsEmpty());

  // Given expectations are kept as given (the contract check compares them).
  v1::ContractSample given = Sample("given");
  given.set_expected_error("decode: whatever the team wrote");
  ASSERT_OK_AND_ASSIGN(v1::AdapterVersion v2, Register(Config(), {given}));
  EXPECT_EQ(v2.version(), 2u);
  EXPECT_EQ(v2.samples(0).expected_error(), "decode: whatever the team wrote");
  EXPECT_FALSE(v2.samples(0).has_expected_message());

  ASSERT_OK_AND_ASSIGN(v1::ListAdapterVersionsResponse list, ListAdapterVersions(*store_, kFamily));
  EXPECT_EQ(list.state().latest_version(), 2u);
  EXPECT_EQ(list.state().active_version(), 0u);  // registering does not activate
  ASSERT_THAT(list.versions(), SizeIs(2));
  EXPECT_EQ(list.versions(1).version(), 2u);
  EXPECT_EQ(
      AuditRecords().back().detail(),
      "registered adapter v2 of 'northside-family' (switchboard.adapters.mapping, 1 samples)");
  EXPECT_EQ(LiveVersion(), 0u);
}

TEST_F(AdapterOpsTest, BadRegistrationsAreInvalidArgumentNamingTheFieldAndChangeNothing) {
  v1::adapters::MappingConfig duplicate;
  duplicate.add_rules()->set_field("header.id");
  duplicate.mutable_rules(0)->set_json_path("$.a");
  duplicate.add_rules()->set_field("header.id");
  duplicate.mutable_rules(1)->set_json_path("$.b");
  google::protobuf::Any duplicate_any;
  duplicate_any.PackFrom(duplicate);
  google::protobuf::Any not_a_config;
  not_a_config.PackFrom(v1::Limits());
  v1::ContractSample no_input = Sample("x");
  no_input.clear_input();
  v1::ContractSample no_type = Sample("x");
  no_type.clear_content_type();
  struct Case {
    std::string name;
    google::protobuf::Any config;
    std::vector<v1::ContractSample> samples;
    std::string message;  // the start of the error
  };
  const std::vector<Case> cases = {
      {"config the type refuses",
       duplicate_any,
       {},
       "config: adapter 'switchboard.adapters.mapping': rules[1].field 'header.id'"},
      {"config no type takes", not_a_config, {}, "config: no adapter type takes"},
      {"no config", google::protobuf::Any(), {}, "config: required"},
      {"bad sample name", Config(), {Sample("Home Visit")}, "samples[0].name: 'Home Visit'"},
      {"sample listed twice",
       Config(),
       {Sample("a"), Sample("a")},
       "samples[1].name: 'a' is listed twice"},
      {"sample without input", Config(), {no_input}, "samples[0].input: required"},
      {"sample without content type", Config(), {no_type}, "samples[0].content_type: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const size_t audits = AuditRecords().size();
    EXPECT_THAT(Register(c.config, c.samples).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, StartsWith(c.message)));
    absl::StatusOr<std::optional<v1::AdapterBindingState>> state =
        ReadAdapterBinding(*store_, kFamily);
    ASSERT_THAT(state.status(), IsOk());
    EXPECT_FALSE(state->has_value());
    const std::vector<v1::AuditRecord> records = AuditRecords();
    ASSERT_EQ(records.size(), audits + 1);
    EXPECT_EQ(records.back().outcome(), v1::AuditRecord::REFUSED);
    EXPECT_EQ(records.back().operation(), "Registry/RegisterAdapterVersion");
  }
}

TEST_F(AdapterOpsTest, AnotherMembersAdapterIsNotFoundExactlyAsAnUnknownOrganisation) {
  EXPECT_THAT(CheckAdapterAccess(directory_, MemberCaller(kFamily), kFamily), IsOk());
  EXPECT_THAT(CheckAdapterAccess(directory_, AdminCaller(), kFamily), IsOk());
  const absl::Status other = CheckAdapterAccess(directory_, MemberCaller("st-marys"), kFamily);
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kNotFound, "no organisation 'northside-family'"));
  EXPECT_THAT(CheckAdapterAccess(directory_, AdminCaller(), "nobody"),
              StatusIs(absl::StatusCode::kNotFound, "no organisation 'nobody'"));
  EXPECT_THAT(CheckAdapterAccess(directory_, MemberCaller("st-marys"), "nobody"),
              StatusIs(absl::StatusCode::kNotFound, "no organisation 'nobody'"));

  EXPECT_THAT(Register(Config(), {}, MemberCaller("st-marys")).status(),
              StatusIs(absl::StatusCode::kNotFound, "no organisation 'northside-family'"));
  EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);
  EXPECT_EQ(AuditRecords().back().actor_organisation(), "st-marys");
  ASSERT_OK_AND_ASSIGN(v1::AdapterVersion by_admin, Register(Config(), {}, AdminCaller()));
  EXPECT_EQ(by_admin.created_by(), "admin");
}

TEST_F(AdapterOpsTest, OnlyAnAdminMayUseARemoteAdapterConfig) {
  v1::adapters::RemoteAdapterConfig remote;
  remote.set_address("127.0.0.1:1");
  google::protobuf::Any any;
  any.PackFrom(remote);
  EXPECT_THAT(CheckConfigRights(MemberCaller(kFamily), types_, any),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("only an admin")));
  EXPECT_THAT(CheckConfigRights(AdminCaller(), types_, any), IsOk());
  EXPECT_THAT(CheckConfigRights(MemberCaller(kFamily), types_, Config()), IsOk());
}

TEST_F(AdapterOpsTest, ChangedOutputsRefuseActivationWithAFieldDiffUnlessAccepted) {
  ASSERT_OK_AND_ASSIGN(v1::AdapterVersion v1, Register(Config(), {Sample("home-visit")}));
  ASSERT_THAT(Activate(1).status(), IsOk());
  EXPECT_EQ(LiveVersion(), 1u);
  // v2 keeps v1's expectations for the sample (as an exported directory would).
  ASSERT_OK_AND_ASSIGN(v1::AdapterVersion v2, Register(HomeIsHealth(), {v1.samples(0)}));

  const absl::StatusOr<v1::ActivateAdapterVersionResponse> refused = Activate(2);
  EXPECT_THAT(
      refused.status(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("changes the outputs of 1 contract sample(s)"),
                     HasSubstr("sample home-visit (v2):"),
                     HasSubstr(R"(message: modified: case_note.domain: "family" -> "health")"))))
      << refused.status();
  EXPECT_EQ(LiveVersion(), 1u);
  const v1::AuditRecord refusal = AuditRecords().back();
  EXPECT_EQ(refusal.outcome(), v1::AuditRecord::REFUSED);
  EXPECT_EQ(refusal.detail(),
            "FAILED_PRECONDITION: activating v2 changes the outputs of samples home-visit (v2)");
  ASSERT_OK_AND_ASSIGN(auto unchanged, ReadAdapterVersion(*store_, kFamily, 2));
  EXPECT_EQ(unchanged->samples(0).expected_message().case_note().domain(), "family");

  ASSERT_OK_AND_ASSIGN(v1::ActivateAdapterVersionResponse accepted, Activate(2, true));
  EXPECT_EQ(accepted.state().active_version(), 2u);
  EXPECT_THAT(accepted.state().previous_versions(), ::testing::ElementsAre(1u));
  ASSERT_THAT(accepted.accepted(), SizeIs(1));
  EXPECT_EQ(accepted.accepted(0).sample(), "home-visit");
  EXPECT_EQ(LiveVersion(), 2u);
  ASSERT_OK_AND_ASSIGN(auto stored, ReadAdapterVersion(*store_, kFamily, 2));
  EXPECT_EQ(stored->samples(0).expected_message().case_note().domain(), "health");
  EXPECT_EQ(AuditRecords().back().detail(),
            "activated adapter v2 of 'northside-family' (was v1); accepted changed outputs of "
            "samples home-visit (v2)");

  // The live adapter is v2's.
  ASSERT_OK_AND_ASSIGN(v1::Message decoded,
                       table_.Find(kFamily)->Decode("application/json", kVisit));
  EXPECT_EQ(decoded.case_note().domain(), "health");
}

TEST_F(AdapterOpsTest, TheActiveVersionsSamplesAreReplayedThroughTheNewVersionToo) {
  ASSERT_THAT(Register(Config(), {Sample("home-visit")}).status(), IsOk());
  ASSERT_THAT(Activate(1).status(), IsOk());
  // v2 has no samples of its own: v1's still catch the change.
  ASSERT_THAT(Register(HomeIsHealth()).status(), IsOk());
  ASSERT_OK_AND_ASSIGN(ActivationPlan plan, PlanActivation(*store_, types_, kFamily, 2));
  ASSERT_THAT(plan.changes, SizeIs(1));
  EXPECT_EQ(plan.changes[0].sample(), "home-visit");
  EXPECT_EQ(plan.changes[0].of_version(), 1u);
  ASSERT_OK_AND_ASSIGN(auto accepted, Activate(2, true, plan));
  // Accepted, but not copied into v2: its samples are its own.
  ASSERT_OK_AND_ASSIGN(auto stored, ReadAdapterVersion(*store_, kFamily, 2));
  EXPECT_THAT(stored->samples(), IsEmpty());
}

TEST_F(AdapterOpsTest, RollbackGoesBackOneVersionAtATime) {
  ASSERT_THAT(Register(Config()).status(), IsOk());
  ASSERT_THAT(Register(HomeIsHealth()).status(), IsOk());
  ASSERT_THAT(Register(Config()).status(), IsOk());
  EXPECT_THAT(Rollback().status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no previous adapter version of 'northside-family' to roll back to"));
  ASSERT_THAT(Activate(1).status(), IsOk());
  ASSERT_THAT(Activate(2).status(), IsOk());
  ASSERT_THAT(Activate(3).status(), IsOk());
  EXPECT_EQ(LiveVersion(), 3u);

  ASSERT_OK_AND_ASSIGN(v1::AdapterBindingState state, Rollback());
  EXPECT_EQ(state.active_version(), 2u);
  EXPECT_EQ(LiveVersion(), 2u);
  EXPECT_EQ(AuditRecords().back().detail(),
            "rolled back adapter of 'northside-family' to v2 (was v3)");
  ASSERT_OK_AND_ASSIGN(state, Rollback());
  EXPECT_EQ(state.active_version(), 1u);
  EXPECT_THAT(state.previous_versions(), IsEmpty());
  EXPECT_THAT(Rollback().status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no previous")));
  EXPECT_EQ(AuditRecords().back().outcome(), v1::AuditRecord::REFUSED);
}

TEST_F(AdapterOpsTest, APlanIsAbortedWhenTheActiveVersionChangedMeanwhile) {
  ASSERT_THAT(Register(Config()).status(), IsOk());
  ASSERT_THAT(Register(HomeIsHealth()).status(), IsOk());
  absl::StatusOr<ActivationPlan> stale = PlanActivation(*store_, types_, kFamily, 2);
  ASSERT_THAT(stale.status(), IsOk());
  ASSERT_THAT(Activate(1).status(), IsOk());
  EXPECT_THAT(Activate(2, false, stale).status(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("changed meanwhile (now v1)")));
  EXPECT_EQ(LiveVersion(), 1u);
  // Activating the active version again changes nothing (a retried call).
  const size_t audits = AuditRecords().size();
  ASSERT_OK_AND_ASSIGN(auto again, Activate(1));
  EXPECT_EQ(again.state().active_version(), 1u);
  EXPECT_EQ(AuditRecords().size(), audits);
  EXPECT_THAT(Activate(7).status(),
              StatusIs(absl::StatusCode::kNotFound, "no adapter version 7 of 'northside-family'"));
}

TEST_F(AdapterOpsTest, TestAdapterIsADryRun) {
  ASSERT_THAT(Register(Config()).status(), IsOk());
  ASSERT_THAT(Register(HomeIsHealth()).status(), IsOk());
  v1::TestAdapterRequest request;
  request.set_content_type("application/json");
  request.set_input(kVisit);
  EXPECT_THAT(
      TestAdapter(*store_, Ctx(), kFamily, request).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no active adapter version")));
  ASSERT_THAT(Activate(1).status(), IsOk());
  const auto before = Contents(Cf::kRegistry);
  const size_t audits = AuditRecords().size();

  ASSERT_OK_AND_ASSIGN(v1::TestAdapterResponse active,
                       TestAdapter(*store_, Ctx(), kFamily, request));
  EXPECT_EQ(active.version(), 1u);
  EXPECT_EQ(active.message().case_note().domain(), "family");
  EXPECT_EQ(active.output_content_type(), "application/json");
  EXPECT_THAT(active.output(), HasSubstr(R"("noteId":"NF-1")"));
  EXPECT_THAT(active.error(), IsEmpty());

  request.set_version(2);
  ASSERT_OK_AND_ASSIGN(v1::TestAdapterResponse second,
                       TestAdapter(*store_, Ctx(), kFamily, request));
  EXPECT_EQ(second.version(), 2u);
  EXPECT_EQ(second.message().case_note().domain(), "health");

  request.set_version(0);
  *request.mutable_config() = HomeIsHealth();
  request.set_input(R"({"noteId": "NF-2"})");
  ASSERT_OK_AND_ASSIGN(v1::TestAdapterResponse inline_config,
                       TestAdapter(*store_, Ctx(), kFamily, request));
  EXPECT_EQ(inline_config.version(), 0u);
  EXPECT_FALSE(inline_config.has_message());
  EXPECT_THAT(inline_config.error(), StartsWith("decode: $.caseRef: "));

  request.clear_config();
  request.set_version(9);
  EXPECT_THAT(TestAdapter(*store_, Ctx(), kFamily, request).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no adapter version 9")));
  EXPECT_EQ(Contents(Cf::kRegistry), before);
  EXPECT_EQ(AuditRecords().size(), audits);
  EXPECT_EQ(LiveVersion(), 1u);
}

TEST_F(AdapterOpsTest, ConfigBindingsSeedVersionOneOnlyOnceThenTheRegistryWins) {
  google::protobuf::RepeatedPtrField<v1::AdapterBinding> bindings;
  v1::AdapterBinding* binding = bindings.Add();
  binding->set_organisation_id(kFamily);
  *binding->mutable_config() = Config();
  ASSERT_THAT(SeedAdapterVersions(committer_.get(), *store_, Ctx(), bindings), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::ListAdapterVersionsResponse list, ListAdapterVersions(*store_, kFamily));
  EXPECT_EQ(list.state().active_version(), 1u);
  ASSERT_THAT(list.versions(), SizeIs(1));
  EXPECT_EQ(list.versions(0).created_by(), "gateway");
  EXPECT_EQ(list.versions(0).note(), "from the gateway config (adapter_bindings)");
  const std::vector<v1::AuditRecord> records = AuditRecords();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[records.size() - 2].operation(), "Registry/RegisterAdapterVersion");
  EXPECT_EQ(records.back().detail(), "activated adapter v1 of 'northside-family' (was none)");
  EXPECT_EQ(records.back().actor_organisation(), "gateway");

  ASSERT_THAT(Register(HomeIsHealth()).status(), IsOk());
  ASSERT_THAT(Activate(2).status(), IsOk());
  // A restart with the same binding: the registry keeps v2.
  ASSERT_THAT(SeedAdapterVersions(committer_.get(), *store_, Ctx(), bindings), IsOk());
  ASSERT_OK_AND_ASSIGN(list, ListAdapterVersions(*store_, kFamily));
  EXPECT_EQ(list.state().active_version(), 2u);
  EXPECT_EQ(list.state().latest_version(), 2u);

  AdapterTable fresh;
  ASSERT_THAT(LoadAdapterTable(*store_, AdapterContext{&directory_, &types_, &fresh}), IsOk());
  ASSERT_TRUE(fresh.Get(kFamily).has_value());
  EXPECT_EQ(fresh.Get(kFamily)->version, 2u);
  EXPECT_EQ(fresh.Find("st-marys"), nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> orgs, OrganisationsWithActiveAdapter(*store_));
  EXPECT_THAT(orgs, ::testing::ElementsAre(kFamily));
}

TEST_F(AdapterOpsTest, AStoredConfigThatNoLongerMakesAnAdapterLeavesOnlyThatMemberWithout) {
  ASSERT_THAT(Register(Config()).status(), IsOk());
  ASSERT_THAT(Activate(1).status(), IsOk());
  ASSERT_OK_AND_ASSIGN(auto version, ReadAdapterVersion(*store_, kFamily, 1));
  version->mutable_config()->set_type_url("type.googleapis.com/switchboard.v1.adapters.Gone");
  ASSERT_THAT(store_->PutForTest(Cf::kRegistry, store::keys::AdapterVersion(kFamily, 1),
                                 version->SerializeAsString()),
              IsOk());
  AdapterTable fresh;
  EXPECT_THAT(LoadAdapterTable(*store_, AdapterContext{&directory_, &types_, &fresh}), IsOk());
  EXPECT_EQ(fresh.Find(kFamily), nullptr);
}

}  // namespace
}  // namespace switchboard::gateway::registry
