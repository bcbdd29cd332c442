// The adapter lifecycle against the real binary: northside-family, bound to the
// declarative mapping adapter in the config (which seeds its version 1),
// registers a version 2 with a changed value map, tests it without storing
// anything, has its activation refused by the contract check (naming the sample
// and the changed field), activates it by accepting the change, publishes raw
// through it, keeps it across a restart, and rolls back; another member cannot
// see or touch its adapter; every change is audited. Then the IT team's view
// with the real sbctl: export, apply (no changes), add a sample, edit the
// config, see a readable diff, apply with --yes (and --accept).
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/text_proto.h"
#include "switchboard/v1/adapters/mapping.pb.h"
#include "tests/integration/integration_fixture.h"

namespace switchboard::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kFamily[] = "northside-family";
constexpr char kJson[] = "application/json";

// northside-family's visit notes: the mapping of the demo config, kept in
// tests/data/mapping/northside_family.textproto.
const std::string& Mapping() {
  static const std::string* const kText =
      new std::string(ReadSource("tests/data/mapping/northside_family.textproto"));
  return *kText;
}

// Version 2: home visits are recorded in the health domain.
std::string HomeIsHealth(const std::string& mapping) {
  return absl::StrReplaceAll(mapping, {{R"(value_map { partner: "HOME" canonical: "family" })",
                                        R"(value_map { partner: "HOME" canonical: "health" })"}});
}

google::protobuf::Any Packed(const std::string& text) {
  v1::adapters::MappingConfig config;
  absl::Status parsed = ParseTextProto(text, "mapping", &config);
  EXPECT_TRUE(parsed.ok()) << parsed;
  google::protobuf::Any any;
  any.PackFrom(config);
  return any;
}

// deploy/demo/northside-visit.json with its own note id.
std::string Visit(const std::string& note_id) {
  return absl::StrReplaceAll(ReadSource("deploy/demo/northside-visit.json"),
                             {{"NF-NOTE-88121", note_id}});
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AdapterLifecycleTest : public GatewayTest {
 protected:
  GatewayOptions Options() override {
    GatewayOptions o;
    o.extra_config = absl::StrCat(
        "adapter_bindings {\n  organisation_id: \"northside-family\"\n  config {\n"
        "    [type.googleapis.com/switchboard.v1.adapters.MappingConfig] {",
        Mapping(), "}\n  }\n}\n");
    // A client northside-family knows by its case reference, shared with st-marys.
    o.extra_seed = R"pb(
      clients {
        id: "client-n"
        identifiers { system: "https://northside-family.example.org/case" value: "NF-0457" }
      }
      care_teams {
        client_id: "client-n"
        members { organisation_id: "northside-family" role: "family-support" }
        members { organisation_id: "st-marys" role: "hospital" }
      }
    )pb";
    return o;
  }

  std::string Sbctl(const std::string& org, const std::string& args, int* code) {
    std::string out;
    *code = RunCommand(
        absl::StrCat(BinaryDir(), "/tools/cli/sbctl --addr ", gateway_->address(), " --certs_dir ",
                     TestPki::Get().dir(), " --as ", org, " ", args, " 2>&1"),
        &out);
    return out;
  }

  // The case-note domain st-marys receives for what northside-family publishes raw.
  std::string PublishedDomain(const std::string& note_id) {
    v1::Receipt receipt;
    grpc::Status s = As(kFamily)->PublishRaw(kJson, Visit(note_id), &receipt);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto hospital = Subscribe("st-marys");
    auto d = hospital->Next();
    if (!d.has_value()) return "(nothing delivered)";
    EXPECT_EQ(d->message_id(), note_id);
    hospital->Ack({d->id()});
    EXPECT_TRUE(hospital->Close().ok());
    return d->message().case_note().domain();
  }

  v1::ListAdapterVersionsResponse List(const std::string& as, const std::string& org = "") {
    v1::ListAdapterVersionsRequest req;
    req.set_organisation_id(org);
    v1::ListAdapterVersionsResponse resp;
    grpc::Status s = As(as)->registry->ListAdapterVersions(Ctx().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
};

TEST_F(AdapterLifecycleTest, AMemberSwitchesAdapterVersionAndRollsBack) {
  auto family = As(kFamily);
  // The config binding seeded version 1, active.
  v1::ListAdapterVersionsResponse list = List(kFamily);
  EXPECT_EQ(list.organisation_id(), kFamily);
  EXPECT_EQ(list.state().active_version(), 1u);
  ASSERT_EQ(list.versions_size(), 1);
  EXPECT_EQ(list.versions(0).created_by(), "gateway");
  EXPECT_EQ(list.versions(0).adapter_type(), "switchboard.adapters.mapping");

  // The team records what v1 makes of its sample, as the contract of v2.
  v1::TestAdapterRequest test;
  test.set_content_type(kJson);
  test.set_input(Visit("NF-NOTE-88121"));
  v1::TestAdapterResponse v1_result;
  grpc::Status s = family->registry->TestAdapter(Ctx().get(), test, &v1_result);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(v1_result.version(), 1u);
  EXPECT_EQ(v1_result.message().case_note().domain(), "family");
  EXPECT_EQ(v1_result.output_content_type(), kJson);
  EXPECT_THAT(v1_result.output(), HasSubstr(R"("type":"HOME")"));

  v1::RegisterAdapterVersionRequest reg;
  *reg.mutable_config() = Packed(HomeIsHealth(Mapping()));
  reg.set_note("home visits count as health");
  v1::ContractSample* sample = reg.add_samples();
  sample->set_name("home-visit");
  sample->set_content_type(kJson);
  sample->set_input(test.input());
  *sample->mutable_expected_message() = v1_result.message();
  sample->set_expected_output_content_type(v1_result.output_content_type());
  sample->set_expected_output(v1_result.output());
  v1::AdapterVersion v2;
  s = family->registry->RegisterAdapterVersion(Ctx().get(), reg, &v2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(v2.version(), 2u);
  EXPECT_EQ(v2.created_by(), kFamily);

  // A dry run of v2 shows the new canonical output, and stores nothing.
  test.set_version(2);
  v1::TestAdapterResponse v2_result;
  s = family->registry->TestAdapter(Ctx().get(), test, &v2_result);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(v2_result.message().case_note().domain(), "health");
  list = List(kFamily);
  EXPECT_EQ(list.state().active_version(), 1u);
  ASSERT_EQ(list.versions_size(), 2);
  EXPECT_EQ(list.versions(1).samples(0).expected_message().case_note().domain(), "family");

  // Activation replays the samples: the domain changed, so it is refused.
  v1::ActivateAdapterVersionRequest activate;
  activate.set_version(2);
  v1::ActivateAdapterVersionResponse activated;
  s = family->registry->ActivateAdapterVersion(Ctx().get(), activate, &activated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              AllOf(HasSubstr("sample home-visit (v2):"),
                    HasSubstr(R"(message: modified: case_note.domain: "family" -> "health")")))
      << s.error_message();
  EXPECT_EQ(PublishedDomain("NF-LC-1"), "family");

  // Accepted explicitly: v2 serves from the answer on.
  activate.set_accept_changed_outputs(true);
  s = family->registry->ActivateAdapterVersion(Ctx().get(), activate, &activated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(activated.state().active_version(), 2u);
  ASSERT_EQ(activated.accepted_size(), 1);
  EXPECT_EQ(activated.accepted(0).sample(), "home-visit");
  EXPECT_EQ(PublishedDomain("NF-LC-2"), "health");

  // The registry wins over the config binding after a restart.
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(List(kFamily).state().active_version(), 2u);
  EXPECT_EQ(PublishedDomain("NF-LC-3"), "health");
  EXPECT_THAT(gateway_->StderrTail(1 << 20),
              HasSubstr("event=adapter_binding_ignored org=northside-family"));

  v1::AdapterBindingState state;
  s = As(kFamily)->registry->RollbackAdapter(Ctx().get(), v1::RollbackAdapterRequest(), &state);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(state.active_version(), 1u);
  EXPECT_EQ(PublishedDomain("NF-LC-4"), "family");

  // Another member: northside-family's adapter does not exist for it.
  auto other = As("eastside-mh");
  for (const std::string& org : {std::string(kFamily), std::string("nobody")}) {
    SCOPED_TRACE(org);
    const std::string absent = absl::StrCat("no organisation '", org, "'");
    v1::ListAdapterVersionsRequest list_req;
    list_req.set_organisation_id(org);
    v1::ListAdapterVersionsResponse list_resp;
    s = other->registry->ListAdapterVersions(Ctx().get(), list_req, &list_resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absent);
    v1::TestAdapterRequest test_req = test;
    test_req.set_organisation_id(org);
    v1::TestAdapterResponse test_resp;
    s = other->registry->TestAdapter(Ctx().get(), test_req, &test_resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absent);
    v1::RegisterAdapterVersionRequest reg_req = reg;
    reg_req.set_organisation_id(org);
    v1::AdapterVersion reg_resp;
    s = other->registry->RegisterAdapterVersion(Ctx().get(), reg_req, &reg_resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absent);
    v1::ActivateAdapterVersionRequest act_req = activate;
    act_req.set_organisation_id(org);
    s = other->registry->ActivateAdapterVersion(Ctx().get(), act_req, &activated);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absent);
    v1::RollbackAdapterRequest rb_req;
    rb_req.set_organisation_id(org);
    s = other->registry->RollbackAdapter(Ctx().get(), rb_req, &state);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absent);
  }
  // An admin may look.
  EXPECT_EQ(List("admin", kFamily).versions_size(), 2);

  // Every change, and the refusals, are in the audit trail.
  v1::ListAuditRecordsRequest audit_req;
  audit_req.set_page_size(1000);
  v1::ListAuditRecordsResponse audit;
  ASSERT_TRUE(As("admin")->operations->ListAuditRecords(Ctx().get(), audit_req, &audit).ok());
  std::vector<std::string> changes;
  int refused_for_other = 0;
  for (const v1::AuditRecord& r : audit.records()) {
    if (r.subject_organisation() != kFamily || r.operation().find("Adapter") == std::string::npos) {
      continue;
    }
    if (r.actor_organisation() == "eastside-mh") {
      EXPECT_EQ(r.outcome(), v1::AuditRecord::REFUSED);
      ++refused_for_other;
      continue;
    }
    if (r.action() == v1::AuditRecord::REGISTRY_CHANGE) {
      changes.push_back(absl::StrCat(r.actor_organisation(), ": ", r.detail()));
    }
  }
  EXPECT_EQ(refused_for_other, 5);
  EXPECT_THAT(
      changes,
      ::testing::ElementsAre(
          "gateway: registered adapter v1 of 'northside-family' (switchboard.adapters.mapping, 0 "
          "samples)",
          "gateway: activated adapter v1 of 'northside-family' (was none)",
          "northside-family: registered adapter v2 of 'northside-family' "
          "(switchboard.adapters.mapping, 1 samples)",
          "northside-family: FAILED_PRECONDITION: activating v2 changes the outputs of samples "
          "home-visit (v2)",
          "northside-family: activated adapter v2 of 'northside-family' (was v1); accepted "
          "changed outputs of samples home-visit (v2)",
          "northside-family: rolled back adapter of 'northside-family' to v1 (was v2)"));
}

TEST_F(AdapterLifecycleTest, AnItTeamKeepsItsAdapterInGitWithExportAndApply) {
  int code = -1;
  const std::string repo = dir_.Sub("it-repo");
  const std::string mine = repo + "/northside-family";
  std::string out = Sbctl(kFamily, "adapter export " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("wrote " + mine + ": v1"));
  const std::string source = Slurp(mine + "/adapter.textproto");
  EXPECT_THAT(source, HasSubstr("[type.googleapis.com/switchboard.v1.adapters.MappingConfig] {"));
  EXPECT_THAT(source, HasSubstr(R"x(note: "from the gateway config (adapter_bindings)")x"));

  out = Sbctl(kFamily, "adapter apply " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("northside-family: no changes"));

  // A contract sample: the gateway fills in what v2 makes of it.
  std::filesystem::copy_file(SourceDir() + "/deploy/demo/northside-visit.json",
                             mine + "/samples/home-visit.json");
  out = Sbctl(kFamily, "adapter apply " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("+ sample home-visit (new, application/json"));
  EXPECT_THAT(out, HasSubstr("run again with --yes"));
  out = Sbctl(kFamily, "adapter apply --yes " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("northside-family: registered v2 (1 samples)"));
  EXPECT_THAT(out, HasSubstr("northside-family: activated v2 (was v1)"));

  out = Sbctl(kFamily, "adapter export " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(Slurp(mine + "/samples/home-visit.expected.textproto"),
              HasSubstr(R"(domain: "family")"));
  EXPECT_THAT(Slurp(mine + "/samples/home-visit.expected.json"), HasSubstr("\n  \"noteId\": "));
  out = Sbctl(kFamily, "adapter apply " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("northside-family: no changes"));

  // The team edits the value map: apply shows a diff that reads well.
  std::string edited = Slurp(mine + "/adapter.textproto");
  const std::regex home(R"x((partner: "HOME"\s+canonical: )"family")x");
  ASSERT_TRUE(std::regex_search(edited, home)) << edited;
  edited = std::regex_replace(edited, home, R"x($1"health")x");
  std::ofstream(mine + "/adapter.textproto", std::ios::trunc) << edited;
  out = Sbctl(kFamily, "adapter apply " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("against the active version v2:"));
  EXPECT_THAT(out, HasSubstr("adapter.textproto:"));
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(\n +- +canonical: "family"\n +\+ +canonical: "health"\n)")))
      << out;
  EXPECT_THAT(out, Not(HasSubstr("sample home-visit")));

  // Registered, but the stale expected outputs stop the activation.
  out = Sbctl(kFamily, "adapter apply --yes " + repo, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("northside-family: registered v3"));
  EXPECT_THAT(out, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(out, HasSubstr("sample home-visit (v3):"));
  EXPECT_THAT(out, HasSubstr(R"(message: modified: case_note.domain: "family" -> "health")"));
  out = Sbctl(kFamily, "adapter apply --yes --accept " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("the directory matches registered v3"));
  EXPECT_THAT(out, HasSubstr("northside-family: activated v3 (was v2)"));
  EXPECT_THAT(out, HasSubstr("accepted the changed outputs of 1 sample(s)"));

  out = Sbctl(kFamily, "adapter export " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(Slurp(mine + "/samples/home-visit.expected.textproto"),
              HasSubstr(R"(domain: "health")"));
  out = Sbctl(kFamily, "adapter apply " + repo, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("no changes"));

  out = Sbctl(kFamily, "adapter list", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("northside-family: active v3 (rollback to v2, then v1)"));
  EXPECT_TRUE(
      std::regex_search(out, std::regex(R"(\* v3 +switchboard\.adapters\.mapping +1 samples)")))
      << out;

  out =
      Sbctl(kFamily,
            "adapter test " + SourceDir() + "/deploy/demo/northside-visit.json --adapter_version 1",
            &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("dry run of v1"));
  EXPECT_THAT(out, HasSubstr(R"(domain: "family")"));
  EXPECT_THAT(out, HasSubstr("--- output a recipient gets (application/json"));

  out = Sbctl(kFamily, "adapter rollback", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("northside-family: rolled back to v2 (was v3)"));
  out = Sbctl("eastside-mh", "adapter list --org northside-family", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("NOT_FOUND: no organisation 'northside-family'"));
}

}  // namespace
}  // namespace switchboard::testing
