#include "policy/routing_policy.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/common/time_util.h"
#include "tests/common/status_matchers.h"

namespace switchboard::policy {
namespace {

using ::switchboard::testing::IsOkAndHolds;
using ::switchboard::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// The federation of these tests: "src" publishes; "s1" and "s2" are suspended.
std::map<std::string, v1::Organisation> Members() {
  std::map<std::string, v1::Organisation> out;
  for (const char* id : {"src", "a", "b", "c", "d", "s1", "s2"}) {
    v1::Organisation org;
    org.set_id(id);
    const bool suspended = std::string(id) == "s1" || std::string(id) == "s2";
    org.set_status(suspended ? v1::Organisation::SUSPENDED : v1::Organisation::ACTIVE);
    out[id] = org;
  }
  return out;
}

// A care-team member; `from`/`until` are offsets from kNow, nullopt for open.
struct Member {
  std::string id;
  std::optional<absl::Duration> from = std::nullopt;
  std::optional<absl::Duration> until = std::nullopt;
};

v1::CareTeam Team(const std::vector<Member>& members) {
  v1::CareTeam team;
  team.set_client_id("client-1");
  for (const Member& m : members) {
    v1::CareTeamMember* out = team.add_members();
    out->set_organisation_id(m.id);
    out->set_role("support");
    if (m.from) *out->mutable_period()->mutable_start() = ToProtoTime(kNow + *m.from);
    if (m.until) *out->mutable_period()->mutable_end() = ToProtoTime(kNow + *m.until);
  }
  return team;
}

absl::StatusOr<std::vector<std::string>> Route(const std::vector<Member>& team_members,
                                               const std::vector<std::string>& subscribers,
                                               const std::vector<std::string>& destinations = {}) {
  const auto members = Members();
  v1::MessageHeader header;
  header.set_id("m-1");
  header.set_event("discharge");
  header.set_source("src");
  for (const std::string& d : destinations) header.add_destinations(d);
  const v1::CareTeam team = Team(team_members);
  return SelectRecipients(RoutingInput{
      .header = header,
      .care_team = team,
      .event_subscribers = subscribers,
      .find_organisation = [&members](absl::string_view id) -> const v1::Organisation* {
        auto it = members.find(std::string(id));
        return it == members.end() ? nullptr : &it->second;
      },
      .now = kNow,
  });
}

struct FanOutCase {
  std::string name;
  std::vector<Member> team;
  std::vector<std::string> subscribers;
  std::vector<std::string> expected;
};

TEST(RoutingPolicyTest, WithoutDestinationsRoutesToCareTeamAndSubscribers) {
  const absl::Duration h = absl::Hours(1);
  const std::vector<FanOutCase> cases = {
      {"care team and subscribers, minus the source",
       {{"src"}, {"a"}, {"b"}},
       {"c", "src"},
       {"a", "b", "c"}},
      {"nobody involved", {}, {}, {}},
      {"only the source involved", {{"src"}}, {"src"}, {}},
      {"suspended care-team member and subscriber excluded",
       {{"a"}, {"s1"}},
       {"s2", "b"},
       {"a", "b"}},
      {"ended membership excluded", {{"a", -2 * h, -h}, {"b"}}, {}, {"b"}},
      {"membership ending exactly now excluded (end is exclusive)",
       {{"a", -h, absl::ZeroDuration()}},
       {},
       {}},
      {"membership starting exactly now included", {{"a", absl::ZeroDuration(), h}}, {}, {"a"}},
      {"membership not started yet excluded", {{"a", h, std::nullopt}}, {}, {}},
      {"ended then current membership counted once", {{"a", -3 * h, -2 * h}, {"a", -h}}, {}, {"a"}},
      {"ended member still reached as a subscriber", {{"a", -2 * h, -h}}, {"a"}, {"a"}},
      {"duplicates merged and sorted",
       {{"d"}, {"b"}, {"d"}},
       {"c", "b", "a", "c"},
       {"a", "b", "c", "d"}},
      {"an id that is no member is skipped", {{"ghost"}, {"a"}}, {"phantom"}, {"a"}},
  };
  for (const FanOutCase& c : cases) {
    EXPECT_THAT(Route(c.team, c.subscribers), IsOkAndHolds(ElementsAreArray(c.expected))) << c.name;
  }
}

struct DestinationErrorCase {
  std::string name;
  std::vector<std::string> destinations;
  absl::StatusCode code;
  int index;           // the destination the error must name
  std::string quoted;  // the value it must quote, empty for none
};

TEST(RoutingPolicyTest, EachBadDestinationIsRefusedNamingItsIndex) {
  const absl::Duration h = absl::Hours(1);
  // "a", "s1" are in the care team, "b" subscribes, "d" was in the care team.
  const std::vector<Member> team = {{"a"}, {"s1"}, {"d", -2 * h, -h}};
  const std::vector<std::string> subscribers = {"b"};
  const std::vector<DestinationErrorCase> cases = {
      {"empty", {"a", ""}, absl::StatusCode::kInvalidArgument, 1, ""},
      {"listed twice", {"a", "b", "a"}, absl::StatusCode::kInvalidArgument, 2, "'a'"},
      {"the source itself", {"src"}, absl::StatusCode::kInvalidArgument, 0, "'src'"},
      {"not a member", {"b", "nobody"}, absl::StatusCode::kInvalidArgument, 1, "'nobody'"},
      {"suspended", {"a", "s1"}, absl::StatusCode::kFailedPrecondition, 1, "'s1'"},
      {"not involved", {"a", "c"}, absl::StatusCode::kPermissionDenied, 1, "'c'"},
      {"care-team membership ended", {"d"}, absl::StatusCode::kPermissionDenied, 0, "'d'"},
  };
  for (const DestinationErrorCase& c : cases) {
    EXPECT_THAT(
        Route(team, subscribers, c.destinations),
        StatusIs(c.code,
                 AllOf(StartsWith(absl::StrCat("message.header.destinations[", c.index, "]: ")),
                       HasSubstr(c.quoted))))
        << c.name;
  }
}

TEST(RoutingPolicyTest, ExplicitDestinationsReplaceTheFanOutAndAreSorted) {
  const std::vector<Member> team = {{"a"}, {"c"}, {"src"}};
  EXPECT_THAT(Route(team, {"b", "d"}, {"d", "a"}), IsOkAndHolds(ElementsAreArray({"a", "d"})));
  EXPECT_THAT(Route(team, {"b"}, {"b"}), IsOkAndHolds(ElementsAreArray({"b"})));
}

TEST(RoutingPolicyTest, FirstBadDestinationIsTheOneReported) {
  // Both [1] and [2] are wrong; the message names the first.
  EXPECT_THAT(Route({{"a"}}, {}, {"a", "c", "nobody"}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       StartsWith("message.header.destinations[1]: ")));
}

TEST(RoutingPolicyTest, IsCareTeamMemberFollowsThePeriod) {
  const absl::Duration h = absl::Hours(1);
  const v1::CareTeam team = Team({{"open"},
                                  {"ended", -2 * h, -h},
                                  {"future", h},
                                  {"bounded", -h, h},
                                  {"again", -3 * h, -2 * h},
                                  {"again", -h}});
  const std::vector<std::pair<std::string, bool>> cases = {
      {"open", true},    {"ended", false}, {"future", false},
      {"bounded", true}, {"again", true},  {"never", false},
  };
  for (const auto& [id, member] : cases) {
    EXPECT_EQ(IsCareTeamMember(team, id, kNow), member) << id;
  }
  EXPECT_FALSE(IsCareTeamMember(team, "bounded", kNow + h));
  EXPECT_TRUE(IsCareTeamMember(team, "ended", kNow - 90 * absl::Minutes(1)));
}

}  // namespace
}  // namespace switchboard::policy
