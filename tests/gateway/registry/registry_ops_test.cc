#include "gateway/registry/registry_ops.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/routing_policy.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"
#include "tests/gateway/gateway_test_env.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
using store::Transaction;
using ::switchboard::testing::IsOk;
using ::switchboard::testing::StatusIs;
using testing::AdminCaller;
using ::testing::HasSubstr;
using testing::MakeOrganisation;
using testing::MemberCaller;
using testing::Mrn;
using ::testing::StartsWith;

class RegistryOpsTest : public testing::GatewayTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(ApplySmallSeed());
  }

  absl::Status Run(const std::function<absl::Status(Transaction&)>& fn) {
    return committer_->Run(fn);
  }

  absl::StatusOr<v1::CareTeam> CareTeamOp(
      const std::function<absl::Status(Transaction&, v1::CareTeam*)>& fn) {
    v1::CareTeam team;
    absl::Status s = Run([&](Transaction& txn) { return fn(txn, &team); });
    if (!s.ok()) return s;
    return team;
  }

  absl::StatusOr<v1::CareTeam> Add(const std::string& org, const std::string& role) {
    v1::CareTeamMember member;
    member.set_organisation_id(org);
    member.set_role(role);
    return CareTeamOp([&](Transaction& txn, v1::CareTeam* out) {
      return AddCareTeamMember(txn, Context(), AdminCaller(), Mrn("MRN-1"), member, out);
    });
  }
  absl::StatusOr<v1::CareTeam> Remove(const std::string& org) {
    return CareTeamOp([&](Transaction& txn, v1::CareTeam* out) {
      return RemoveCareTeamMember(txn, Context(), AdminCaller(), Mrn("MRN-1"), org, out);
    });
  }
  absl::StatusOr<v1::CareTeam> Get(const identity::Caller& caller, const v1::ClientIdentifier& id) {
    return CareTeamOp(
        [&](Transaction& txn, v1::CareTeam* out) { return GetCareTeam(txn, caller, id, out); });
  }

  // Everything but the audit trail and its head.
  std::map<std::string, std::string> State() const {
    std::map<std::string, std::string> out;
    for (Cf cf :
         {Cf::kRegistry, Cf::kClients, Cf::kMessages, Cf::kDedup, Cf::kOutbox, Cf::kDeliveries}) {
      for (const auto& [k, v] : Contents(cf)) out[std::string(CfName(cf)) + "/" + k] = v;
    }
    return out;
  }
};

struct RefusalCase {
  std::string name;
  std::function<absl::Status(Transaction&, const RegistryContext&)> op;
  absl::StatusCode code;
  std::string message;  // a substring the message must hold
};

TEST_F(RegistryOpsTest, EachRefusalChangesNothingAndWritesOneRefusedAuditRecord) {
  const identity::Caller admin = AdminCaller();
  auto org = [](const std::string& id, const std::string& san) {
    v1::Organisation o = MakeOrganisation(id, v1::Organisation::AGENCY);
    o.set_certificate_san(san);
    return o;
  };
  v1::Organisation org_out;
  v1::Subscription sub_out;
  v1::Client client_out;
  v1::CareTeam team_out;
  const std::vector<RefusalCase> refusals = {
      {"register a known id",
       [&](Transaction& t, const RegistryContext& c) {
         return RegisterOrganisation(t, c, admin, org("st-marys", "spiffe://other/st-marys"),
                                     &org_out);
       },
       absl::StatusCode::kAlreadyExists, "'st-marys'"},
      {"register with another member's SAN",
       [&](Transaction& t, const RegistryContext& c) {
         return RegisterOrganisation(t, c, admin, org("newcomer", testing::SanOf("st-marys")),
                                     &org_out);
       },
       absl::StatusCode::kAlreadyExists, "organisation.certificate_san: "},
      {"register a bad id",
       [&](Transaction& t, const RegistryContext& c) {
         return RegisterOrganisation(t, c, admin, org("New Org", "spiffe://x/new"), &org_out);
       },
       absl::StatusCode::kInvalidArgument, "organisation.id: "},
      {"update to another member's SAN",
       [&](Transaction& t, const RegistryContext& c) {
         return UpdateOrganisation(t, c, admin, org("harbour-housing", testing::SanOf("st-marys")),
                                   &org_out);
       },
       absl::StatusCode::kAlreadyExists, "organisation.certificate_san: "},
      {"update an unknown organisation",
       [&](Transaction& t, const RegistryContext& c) {
         return UpdateOrganisation(t, c, admin, org("nobody", "spiffe://x/nobody"), &org_out);
       },
       absl::StatusCode::kNotFound, "'nobody'"},
      {"suspend itself",
       [&](Transaction& t, const RegistryContext& c) {
         return SuspendOrganisation(t, c, admin, "admin", "testing", &org_out);
       },
       absl::StatusCode::kFailedPrecondition, "itself"},
      {"suspend without a reason",
       [&](Transaction& t, const RegistryContext& c) {
         return SuspendOrganisation(t, c, admin, "st-marys", "", &org_out);
       },
       absl::StatusCode::kInvalidArgument, "reason: "},
      {"suspend an unknown organisation",
       [&](Transaction& t, const RegistryContext& c) {
         return SuspendOrganisation(t, c, admin, "nobody", "testing", &org_out);
       },
       absl::StatusCode::kNotFound, "'nobody'"},
      {"subscribe to an unknown event",
       [&](Transaction& t, const RegistryContext& c) {
         v1::Subscription s;
         s.set_organisation_id("harbour-housing");
         s.add_event_codes("discharge");
         s.add_event_codes("no-such-event");
         return SetSubscription(t, c, admin, s, &sub_out);
       },
       absl::StatusCode::kInvalidArgument, "subscription.event_codes[1]: "},
      {"register a known client id",
       [&](Transaction& t, const RegistryContext& c) {
         v1::Client cl;
         cl.set_id("client-0001");
         *cl.add_identifiers() = Mrn("MRN-2");
         return RegisterClient(t, c, admin, cl, &client_out);
       },
       absl::StatusCode::kAlreadyExists, "'client-0001'"},
      {"register a client with another client's identifier",
       [&](Transaction& t, const RegistryContext& c) {
         v1::Client cl;
         cl.set_id("client-0002");
         *cl.add_identifiers() = Mrn("MRN-2");
         *cl.add_identifiers() = Mrn("MRN-1");
         return RegisterClient(t, c, admin, cl, &client_out);
       },
       absl::StatusCode::kAlreadyExists, "client.identifiers[1]: "},
      {"add to an unknown client's care team",
       [&](Transaction& t, const RegistryContext& c) {
         v1::CareTeamMember m;
         m.set_organisation_id("care-coord");
         return AddCareTeamMember(t, c, admin, Mrn("MRN-404"), m, &team_out);
       },
       absl::StatusCode::kNotFound, "MRN-404"},
      {"add an unknown organisation to a care team",
       [&](Transaction& t, const RegistryContext& c) {
         v1::CareTeamMember m;
         m.set_organisation_id("nobody");
         return AddCareTeamMember(t, c, admin, Mrn("MRN-1"), m, &team_out);
       },
       absl::StatusCode::kInvalidArgument, "member.organisation_id: "},
      {"remove an organisation that is not in the care team",
       [&](Transaction& t, const RegistryContext& c) {
         return RemoveCareTeamMember(t, c, admin, Mrn("MRN-1"), "care-coord", &team_out);
       },
       absl::StatusCode::kNotFound, "'care-coord'"},
      {"read a care team one is not in",
       [&](Transaction& t, const RegistryContext&) {
         return GetCareTeam(t, MemberCaller("care-coord"), Mrn("MRN-1"), &team_out);
       },
       absl::StatusCode::kNotFound, "MRN-1"},
  };
  for (const RefusalCase& r : refusals) {
    SCOPED_TRACE(r.name);
    const auto state = State();
    const auto directory = directory_.snapshot();
    const size_t audit_before = AuditRecords().size();
    EXPECT_THAT(Run([&](Transaction& txn) { return r.op(txn, Context()); }),
                StatusIs(r.code, HasSubstr(r.message)));
    EXPECT_EQ(State(), state);
    EXPECT_EQ(directory_.snapshot(), directory) << "the directory changed";
    const auto records = AuditRecords();
    ASSERT_EQ(records.size(), audit_before + 1);
    EXPECT_EQ(records.back().outcome(), v1::AuditRecord::REFUSED);
    EXPECT_THAT(records.back().detail(), StartsWith(absl::StatusCodeToString(r.code)));
  }
  EXPECT_TRUE(suspended_.empty());
}

TEST_F(RegistryOpsTest, RegisteredOrganisationIsActiveAndInTheDirectoryOnReturn) {
  v1::Organisation out;
  ASSERT_THAT(Run([&](Transaction& txn) {
                return RegisterOrganisation(txn, Context(), AdminCaller(),
                                            MakeOrganisation("newcomer", v1::Organisation::AGENCY),
                                            &out);
              }),
              IsOk());
  EXPECT_EQ(out.status(), v1::Organisation::ACTIVE);
  const auto snap = directory_.snapshot();
  ASSERT_NE(snap->Find("newcomer"), nullptr);
  EXPECT_EQ(snap->FindBySan(testing::SanOf("newcomer")), snap->Find("newcomer"));
  const v1::AuditRecord last = AuditRecords().back();
  EXPECT_EQ(last.action(), v1::AuditRecord::REGISTRY_CHANGE);
  EXPECT_EQ(last.outcome(), v1::AuditRecord::SUCCESS);
  EXPECT_EQ(last.subject_organisation(), "newcomer");
}

TEST_F(RegistryOpsTest, SuspendingAnotherMemberUpdatesTheDirectoryAndNotifies) {
  v1::Organisation out;
  ASSERT_THAT(Run([&](Transaction& txn) {
                return SuspendOrganisation(txn, Context(), AdminCaller(), "harbour-housing",
                                           "audit", &out);
              }),
              IsOk());
  EXPECT_EQ(out.status(), v1::Organisation::SUSPENDED);
  EXPECT_EQ(directory_.snapshot()->Find("harbour-housing")->status(), v1::Organisation::SUSPENDED);
  EXPECT_EQ(suspended_, std::vector<std::string>{"harbour-housing"});
  // The suspension survives a reload from the store.
  Directory reloaded;
  ASSERT_THAT(reloaded.Load(*store_), IsOk());
  EXPECT_EQ(reloaded.snapshot()->Find("harbour-housing")->status(), v1::Organisation::SUSPENDED);
}

TEST_F(RegistryOpsTest, CareTeamKeepsItsHistoryAcrossRoleChangeRemovalAndReturn) {
  ASSERT_OK_AND_ASSIGN(v1::CareTeam added, Add("care-coord", "coordinator"));
  ASSERT_EQ(added.members_size(), 3);
  const v1::CareTeamMember first = added.members(2);
  EXPECT_EQ(first.organisation_id(), "care-coord");
  ASSERT_TRUE(first.period().has_start());
  EXPECT_FALSE(first.period().has_end());

  // Re-adding with the same role keeps the membership (and its start).
  ASSERT_OK_AND_ASSIGN(v1::CareTeam same, Add("care-coord", "coordinator"));
  ASSERT_EQ(same.members_size(), 3);
  EXPECT_EQ(FromProtoTime(same.members(2).period().start()), FromProtoTime(first.period().start()));

  // Another role ends the current membership and starts a new one: both stay.
  ASSERT_OK_AND_ASSIGN(v1::CareTeam changed, Add("care-coord", "lead-coordinator"));
  ASSERT_EQ(changed.members_size(), 4);
  EXPECT_EQ(changed.members(2).role(), "coordinator");
  ASSERT_TRUE(changed.members(2).period().has_end());
  EXPECT_EQ(changed.members(3).role(), "lead-coordinator");
  EXPECT_FALSE(changed.members(3).period().has_end());
  EXPECT_GE(FromProtoTime(changed.members(3).period().start()),
            FromProtoTime(changed.members(2).period().end()));

  // Removal ends the current period; the entries stay.
  ASSERT_OK_AND_ASSIGN(v1::CareTeam removed, Remove("care-coord"));
  ASSERT_EQ(removed.members_size(), 4);
  ASSERT_TRUE(removed.members(3).period().has_end());
  const absl::Time ended = FromProtoTime(removed.members(3).period().end());
  EXPECT_GE(ended, FromProtoTime(first.period().start()));
  EXPECT_FALSE(policy::IsCareTeamMember(removed, "care-coord", absl::Now()));
  EXPECT_THAT(Remove("care-coord"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("care-coord")));

  // Coming back adds a new period after the ended one.
  ASSERT_OK_AND_ASSIGN(v1::CareTeam back, Add("care-coord", "coordinator"));
  ASSERT_EQ(back.members_size(), 5);
  EXPECT_EQ(FromProtoTime(back.members(3).period().end()), ended);
  EXPECT_EQ(back.members(4).organisation_id(), "care-coord");
  EXPECT_FALSE(back.members(4).period().has_end());
  EXPECT_GE(FromProtoTime(back.members(4).period().start()), ended);
  EXPECT_TRUE(policy::IsCareTeamMember(back, "care-coord", absl::Now()));

  // A period that would end before its (defaulted) start is refused.
  v1::CareTeamMember ended_member;
  ended_member.set_organisation_id("northside-family");
  ended_member.set_role("family-support");
  *ended_member.mutable_period()->mutable_end() = ToProtoTime(absl::Now() - absl::Hours(1));
  EXPECT_THAT(CareTeamOp([&](Transaction& txn, v1::CareTeam* out) {
                return AddCareTeamMember(txn, Context(), AdminCaller(), Mrn("MRN-1"), ended_member,
                                         out);
              }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member.period")));

  // What is stored is what was returned.
  ASSERT_OK_AND_ASSIGN(v1::CareTeam stored, Get(AdminCaller(), Mrn("MRN-1")));
  EXPECT_EQ(stored.SerializeAsString(), back.SerializeAsString());
}

TEST_F(RegistryOpsTest, CareTeamOfANonMemberIsNotFoundExactlyAsForAnUnknownClient) {
  // Before the client exists, and after it exists with the caller outside its team.
  const v1::ClientIdentifier id = Mrn("MRN-77");
  const auto unknown = Get(MemberCaller("northside-family"), id);
  v1::Client client;
  client.set_id("client-0077");
  *client.add_identifiers() = id;
  ASSERT_THAT(Run([&](Transaction& txn) {
                v1::Client out;
                return RegisterClient(txn, Context(), AdminCaller(), client, &out);
              }),
              IsOk());
  v1::CareTeamMember member;
  member.set_organisation_id("harbour-housing");
  ASSERT_THAT(CareTeamOp([&](Transaction& txn, v1::CareTeam* out) {
                return AddCareTeamMember(txn, Context(), AdminCaller(), id, member, out);
              }),
              IsOk());
  const auto hidden = Get(MemberCaller("northside-family"), id);

  ASSERT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_EQ(hidden.status().code(), unknown.status().code());
  EXPECT_EQ(hidden.status().message(), unknown.status().message());
  // Members of the team and admins can read it.
  EXPECT_THAT(Get(MemberCaller("harbour-housing"), id), IsOk());
  EXPECT_THAT(Get(AdminCaller(), id), IsOk());
}

TEST_F(RegistryOpsTest, FormerCareTeamMemberCanNoLongerReadTheTeam) {
  ASSERT_THAT(Get(MemberCaller("harbour-housing"), Mrn("MRN-1")), IsOk());
  ASSERT_THAT(Remove("harbour-housing"), IsOk());
  EXPECT_THAT(Get(MemberCaller("harbour-housing"), Mrn("MRN-1")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("MRN-1")));
}

}  // namespace
}  // namespace switchboard::gateway::registry
