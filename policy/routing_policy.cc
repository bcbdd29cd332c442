#include "policy/routing_policy.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "switchboard/common/time_util.h"

namespace switchboard::policy {
namespace {

bool IsActive(const v1::Organisation* org) {
  return org != nullptr && org->status() == v1::Organisation::ACTIVE;
}

}  // namespace

bool IsCareTeamMember(const v1::CareTeam& care_team, absl::string_view organisation_id,
                      absl::Time now) {
  for (const v1::CareTeamMember& member : care_team.members()) {
    if (member.organisation_id() == organisation_id && PeriodContains(member.period(), now)) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> SelectRecipients(const RoutingInput& in) {
  const v1::MessageHeader& header = in.header;
  absl::flat_hash_set<std::string> subscribers(in.event_subscribers.begin(),
                                               in.event_subscribers.end());
  std::vector<std::string> out;

  if (!header.destinations().empty()) {
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < header.destinations_size(); ++i) {
      const std::string& dest = header.destinations(i);
      const std::string field = absl::StrCat("message.header.destinations[", i, "]");
      if (dest.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": empty organisation id"));
      }
      if (!seen.insert(dest).second) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": '", dest, "' is listed twice"));
      }
      if (dest == header.source()) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": '", dest, "' is the source; a member is never sent its own message"));
      }
      const v1::Organisation* org = in.find_organisation(dest);
      if (org == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": no member '", dest, "'"));
      }
      if (!IsActive(org)) {
        return absl::FailedPreconditionError(
            absl::StrCat(field, ": member '", dest, "' is suspended"));
      }
      if (!IsCareTeamMember(in.care_team, dest, in.now) && !subscribers.contains(dest)) {
        return absl::PermissionDeniedError(absl::StrCat(
            field, ": '", dest, "' is neither in this client's care team nor subscribed to '",
            header.event(), "'"));
      }
      out.push_back(dest);
    }
  } else {
    absl::flat_hash_set<std::string> chosen;
    auto consider = [&](const std::string& id) {
      if (id == header.source() || chosen.contains(id)) return;
      if (!IsActive(in.find_organisation(id))) return;
      chosen.insert(id);
      out.push_back(id);
    };
    for (const v1::CareTeamMember& member : in.care_team.members()) {
      if (PeriodContains(member.period(), in.now)) consider(member.organisation_id());
    }
    for (const std::string& id : in.event_subscribers) consider(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace switchboard::policy
