#include "gateway/registry/seed.h"

#include "absl/strings/str_cat.h"
#include "gateway/store/keys.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
namespace keys = store::keys;

absl::Status Prefixed(absl::string_view where, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

}  // namespace

absl::Status ApplySeed(store::Committer* committer, const RegistryContext& ctx,
                       const v1::Seed& seed) {
  identity::Caller actor;
  actor.organisation_id = "gateway";
  actor.admin = true;
  actor.user = "config seed";

  for (int i = 0; i < seed.organisations_size(); ++i) {
    const v1::Organisation& org = seed.organisations(i);
    absl::Status s = committer->Run([&](store::Transaction& txn) -> absl::Status {
      auto existing = txn.Get(Cf::kRegistry, keys::Organisation(org.id()));
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) return absl::OkStatus();
      v1::Organisation out;
      return RegisterOrganisation(txn, ctx, actor, org, &out);
    });
    if (!s.ok()) return Prefixed(absl::StrCat("seed.organisations[", i, "]"), s);
  }
  for (int i = 0; i < seed.subscriptions_size(); ++i) {
    const v1::Subscription& sub = seed.subscriptions(i);
    absl::Status s = committer->Run([&](store::Transaction& txn) -> absl::Status {
      auto existing = txn.Get(Cf::kRegistry, keys::Subscription(sub.organisation_id()));
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) return absl::OkStatus();
      v1::Subscription out;
      return SetSubscription(txn, ctx, actor, sub, &out);
    });
    if (!s.ok()) return Prefixed(absl::StrCat("seed.subscriptions[", i, "]"), s);
  }
  for (int i = 0; i < seed.clients_size(); ++i) {
    const v1::Client& client = seed.clients(i);
    absl::Status s = committer->Run([&](store::Transaction& txn) -> absl::Status {
      auto existing = txn.Get(Cf::kClients, keys::Client(client.id()));
      if (!existing.ok()) return existing.status();
      if (existing->has_value()) return absl::OkStatus();
      v1::Client out;
      return RegisterClient(txn, ctx, actor, client, &out);
    });
    if (!s.ok()) return Prefixed(absl::StrCat("seed.clients[", i, "]"), s);
  }
  for (int i = 0; i < seed.care_teams_size(); ++i) {
    const v1::CareTeam& team = seed.care_teams(i);
    v1::Client client;
    for (int j = 0; j < team.members_size(); ++j) {
      const v1::CareTeamMember& member = team.members(j);
      absl::Status s = committer->Run([&](store::Transaction& txn) -> absl::Status {
        auto found = txn.GetProto(Cf::kClients, keys::Client(team.client_id()), &client);
        if (!found.ok()) return found.status();
        if (!*found) {
          return absl::InvalidArgumentError(
              absl::StrCat("client_id: no client '", team.client_id(), "'"));
        }
        v1::CareTeam current;
        auto has_team = txn.GetProto(Cf::kClients, keys::CareTeam(team.client_id()), &current);
        if (!has_team.ok()) return has_team.status();
        for (const v1::CareTeamMember& m : current.members()) {
          // Present now or in the past: the registry's history wins over the seed.
          if (m.organisation_id() == member.organisation_id()) return absl::OkStatus();
        }
        v1::CareTeam out;
        return AddCareTeamMember(txn, ctx, actor, client.identifiers(0), member, &out);
      });
      if (!s.ok()) return Prefixed(absl::StrCat("seed.care_teams[", i, "].members[", j, "]"), s);
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::gateway::registry
