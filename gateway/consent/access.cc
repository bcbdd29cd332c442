#include "gateway/consent/access.h"

#include <algorithm>

#include "gateway/registry/registry_ops.h"
#include "policy/routing_policy.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::consent {

using store::Cf;
namespace keys = store::keys;

namespace {

absl::StatusOr<std::vector<v1::Consent>> Scan(const store::Store& store, const std::string& prefix) {
  std::vector<v1::Consent> out;
  auto it = store.NewIterator(Cf::kConsents, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    v1::Consent c;
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("consents: unparseable consent");
    }
    out.push_back(std::move(c));
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading consents");
  return out;
}

}  // namespace

absl::StatusOr<std::vector<v1::Consent>> ReadCurrentConsents(const store::Store& store,
                                                             const std::string& client_id) {
  return Scan(store, keys::ConsentPrefix(client_id));
}

absl::StatusOr<std::vector<v1::Consent>> ReadConsentHistory(const store::Store& store,
                                                            const std::string& client_id) {
  SB_ASSIGN_OR_RETURN(std::vector<v1::Consent> all,
                      Scan(store, keys::ConsentVersionPrefix(client_id)));
  std::stable_sort(all.begin(), all.end(), [](const v1::Consent& a, const v1::Consent& b) {
    const absl::Time ta = FromProtoTime(a.updated_at()), tb = FromProtoTime(b.updated_at());
    if (ta != tb) return ta > tb;
    if (a.id() != b.id()) return a.id() < b.id();
    return a.version() > b.version();
  });
  return all;
}


bool IsCoordinator(const v1::CareTeam& team, const registry::Directory::Snapshot& dir,
                   const std::string& organisation_id, absl::Time now) {
  if (!policy::IsCareTeamMember(team, organisation_id, now)) return false;
  const v1::Organisation* org = dir.Find(organisation_id);
  if (org == nullptr) return false;
  return std::find(org->roles().begin(), org->roles().end(), v1::Organisation::COORDINATOR) !=
         org->roles().end();
}

std::vector<std::string> Coordinators(const v1::CareTeam& team,
                                      const registry::Directory::Snapshot& dir, absl::Time now) {
  std::vector<std::string> out;
  for (const v1::CareTeamMember& m : team.members()) {
    if (IsCoordinator(team, dir, m.organisation_id(), now) &&
        std::find(out.begin(), out.end(), m.organisation_id()) == out.end()) {
      out.push_back(m.organisation_id());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::shared_ptr<const ClientState>> AccessDecider::Load(
    const std::string& client_id) const {
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(client_id); it != cache_.end()) return it->second;
    generation = generation_;
  }
  auto state = std::make_shared<ClientState>();
  state->client_id = client_id;
  {
    v1::Client client;
    SB_ASSIGN_OR_RETURN(bool found,
                        store_->GetProto(Cf::kClients, keys::Client(client_id), &client));
    if (found) state->identifiers.assign(client.identifiers().begin(), client.identifiers().end());
  }
  SB_ASSIGN_OR_RETURN(state->care_team, registry::ReadCareTeam(*store_, client_id));
  SB_ASSIGN_OR_RETURN(state->consents, ReadCurrentConsents(*store_, client_id));
  const std::string prefix = keys::BreakGlassPrefix(client_id);
  auto it = store_->NewIterator(Cf::kConsents, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    v1::BreakGlassGrant grant;
    if (!grant.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("consents: unparseable break-glass grant");
    }
    state->break_glass[grant.organisation_id()] = FromProtoTime(grant.expires_at());
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading break-glass grants");
  std::shared_ptr<const ClientState> out = std::move(state);
  absl::MutexLock lock(&mu_);
  // Read before a change committed meanwhile: usable for this decision (it
  // raced the change), not to keep.
  if (generation == generation_) {
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_[client_id] = out;
  }
  return out;
}

void AccessDecider::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  cache_.clear();
}

absl::StatusOr<policy::Recipient> AccessDecider::RecipientOf(const ClientState& client,
                                                             const std::string& organisation_id,
                                                             absl::Time now) const {
  policy::Recipient r;
  r.organisation_id = organisation_id;
  const auto dir = directory_->snapshot();
  if (const v1::Organisation* org = dir->Find(organisation_id); org != nullptr) {
    for (int role : org->roles()) r.roles.push_back(static_cast<v1::Organisation::Role>(role));
  }
  r.in_care_team = policy::IsCareTeamMember(client.care_team, organisation_id, now);
  if (auto it = client.break_glass.find(organisation_id); it != client.break_glass.end()) {
    r.break_glass_until = it->second;
  }
  return r;
}

absl::StatusOr<v1::AccessDecision> AccessDecider::Decide(const ClientState& client,
                                                         const std::string& recipient,
                                                         const v1::Message& message,
                                                         absl::Time now) const {
  if (message.header().source() == kGatewaySource &&
      message.payload_case() == v1::Message::kNotification) {
    v1::AccessDecision d;
    d.set_effect(v1::AccessDecision::PERMIT);
    d.set_reason("gateway notice (no client content)");
    return d;
  }
  SB_ASSIGN_OR_RETURN(policy::Recipient r, RecipientOf(client, recipient, now));
  return policy::DecideMessage(r, message, client.consents, policy_, now);
}

absl::StatusOr<v1::AccessDecision> AccessDecider::DecideFor(const std::string& client_id,
                                                            const std::string& recipient,
                                                            const v1::Message& message,
                                                            absl::Time now) const {
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const ClientState> state, Load(client_id));
  return Decide(*state, recipient, message, now);
}

}  // namespace switchboard::gateway::consent
