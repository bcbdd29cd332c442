#include "gateway/careplan/referral_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/careplan/names.h"
#include "gateway/careplan/timeline.h"
#include "gateway/common/log.h"
#include "gateway/consent/access.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/store/keys.h"
#include "policy/routing_policy.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::careplan {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kField[] = "message.referral";
constexpr char kEscalateOperation[] = "gateway/EscalateReferral";

bool Waiting(v1::Referral::Status s) {
  return s == v1::Referral::REQUESTED || s == v1::Referral::RECEIVED;
}

uint64_t Micros(absl::Time t) { return static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(t))); }

absl::StatusOr<std::optional<v1::ReferralState>> ReadInTxn(store::Transaction& txn,
                                                            const std::string& client_id,
                                                            const std::string& referral_id) {
  v1::ReferralState state;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kCarePlans, keys::Referral(client_id, referral_id), &state));
  if (!found) return std::optional<v1::ReferralState>();
  return std::optional<v1::ReferralState>(std::move(state));
}

std::string DueKey(const v1::ReferralState& state, absl::Duration escalate_after) {
  return keys::ReferralDue(Micros(FromProtoTime(state.created_at()) + escalate_after),
                           state.client_id(), state.referral().referral_id());
}

}  // namespace

absl::Duration EscalateAfter(const v1::ReferralConfig& config) {
  return config.escalate_after_ms() == 0 ? absl::Hours(24 * 7)
                                          : absl::Milliseconds(config.escalate_after_ms());
}

absl::StatusOr<policy::ReferralParty> CheckReferralStep(
    const std::optional<v1::ReferralState>& state, const v1::Message& message,
    const registry::Directory::Snapshot& dir) {
  const v1::Referral& r = message.referral();
  const std::string& source = message.header().source();
  if (!state.has_value()) {
    if (r.status() != v1::Referral::REQUESTED) {
      return absl::NotFoundError(absl::StrCat(
          kField, ".referral_id: no referral '", r.referral_id(),
          "' of this client that you are a party to; a new referral has status REQUESTED"));
    }
    if (r.target() == source) {
      return absl::InvalidArgumentError(absl::StrCat(kField, ".target: a member does not refer a client to itself"));
    }
    const v1::Organisation* target = dir.Find(r.target());
    if (target == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(kField, ".target: no member '", r.target(), "'"));
    }
    if (target->status() == v1::Organisation::SUSPENDED) {
      return absl::FailedPreconditionError(
          absl::StrCat(kField, ".target: member '", r.target(), "' is suspended"));
    }
    SB_RETURN_IF_ERROR(policy::CheckReferralTransition(v1::Referral::STATUS_UNSPECIFIED, r.status(),
                                                       policy::ReferralParty::kReferrer));
    return policy::ReferralParty::kReferrer;
  }
  const bool referrer = state->referrer() == source;
  const bool target = state->referral().target() == source;
  if (!referrer && !target) {
    if (r.status() == v1::Referral::REQUESTED) {
      return absl::AlreadyExistsError(absl::StrCat(
          kField, ".referral_id: '", r.referral_id(), "' is taken for this client; choose another id"));
    }
    return absl::NotFoundError(absl::StrCat(kField, ".referral_id: no referral '", r.referral_id(),
                                            "' of this client that you are a party to"));
  }
  if (r.target() != state->referral().target()) {
    return absl::InvalidArgumentError(absl::StrCat(kField, ".target: the referral's target is '",
                                                   state->referral().target(), "'; it cannot change"));
  }
  if (r.service() != state->referral().service()) {
    return absl::InvalidArgumentError(absl::StrCat(kField, ".service: the referral's service is '",
                                                   state->referral().service(), "'; it cannot change"));
  }
  const policy::ReferralParty party =
      target ? policy::ReferralParty::kTarget : policy::ReferralParty::kReferrer;
  absl::Status s = policy::CheckReferralTransition(state->referral().status(), r.status(), party);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat(kField, ".status: ", s.message()));
  }
  return party;
}

absl::StatusOr<std::optional<v1::ReferralState>> ReadReferral(const store::Store& store,
                                                              const std::string& client_id,
                                                              const std::string& referral_id) {
  v1::ReferralState state;
  SB_ASSIGN_OR_RETURN(bool found, store.GetProto(Cf::kCarePlans, keys::Referral(client_id, referral_id), &state));
  if (!found) return std::optional<v1::ReferralState>();
  return std::optional<v1::ReferralState>(std::move(state));
}

absl::StatusOr<std::vector<v1::ReferralState>> ReadReferrals(const store::Store& store,
                                                             const std::string& client_id) {
  std::vector<v1::ReferralState> out;
  const std::string prefix = keys::ReferralPrefix(client_id);
  auto it = store.NewIterator(Cf::kCarePlans, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::ReferralState r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("unparseable referral of ", client_id));
    }
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading referrals");
  std::sort(out.begin(), out.end(), [](const v1::ReferralState& a, const v1::ReferralState& b) {
    return FromProtoTime(a.created_at()) > FromProtoTime(b.created_at());
  });
  return out;
}

absl::StatusOr<std::vector<std::string>> ReferralRecipients(
    const store::Store& store, const std::string& client_id, const v1::Message& message,
    const std::vector<std::string>& coordinators, const std::vector<std::string>& subscribers,
    const registry::Directory::Snapshot& dir) {
  const v1::Referral& r = message.referral();
  SB_ASSIGN_OR_RETURN(auto state, ReadReferral(store, client_id, r.referral_id()));
  SB_ASSIGN_OR_RETURN(policy::ReferralParty party, CheckReferralStep(state, message, dir));
  std::vector<std::string> out = coordinators;
  out.insert(out.end(), subscribers.begin(), subscribers.end());
  out.push_back(party == policy::ReferralParty::kReferrer ? r.target() : state->referrer());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase(out, message.header().source());
  std::erase_if(out, [&](const std::string& id) {
    const v1::Organisation* org = dir.Find(id);
    return org == nullptr || org->status() == v1::Organisation::SUSPENDED;
  });
  // Explicit destinations may only name these.
  const auto& destinations = message.header().destinations();
  for (int i = 0; i < destinations.size(); ++i) {
    if (std::find(out.begin(), out.end(), destinations[i]) == out.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message.header.destinations[", i, "]: '", destinations[i],
          "' is not a recipient of this referral (a referral goes to the other party and the "
          "client's coordinators)"));
    }
  }
  return out;
}

absl::Status ApplyReferral(store::Transaction& txn, const ReferralContext& ctx,
                           const identity::Caller& caller, const std::string& client_id,
                           const v1::Message& message, const std::string& gateway_message_id,
                           const registry::Directory::Snapshot& dir) {
  const v1::Referral& r = message.referral();
  SB_ASSIGN_OR_RETURN(auto state, ReadInTxn(txn, client_id, r.referral_id()));
  SB_ASSIGN_OR_RETURN(policy::ReferralParty party, CheckReferralStep(state, message, dir));
  (void)party;
  const bool is_new = !state.has_value();
  v1::ReferralState next;
  if (is_new) {
    next.set_referrer(message.header().source());
    next.set_client_id(client_id);
    *next.mutable_created_at() = ToProtoTime(txn.now());
  } else {
    next = *std::move(state);
  }
  const bool was_waiting = !is_new && Waiting(next.referral().status());
  const std::string due_key = is_new ? "" : DueKey(next, ctx.escalate_after);
  *next.mutable_referral() = r;
  // Steps are dated when they happened at their source (never in the future).
  const google::protobuf::Timestamp at =
      ToProtoTime(std::min(txn.now(), FromProtoTime(message.header().occurred_at())));
  *next.mutable_updated_at() = at;
  v1::ReferralStep* step = next.add_steps();
  step->set_status(r.status());
  step->set_status_reason(r.status_reason());
  step->set_organisation(message.header().source());
  step->set_user(message.header().author());
  *step->mutable_at() = at;
  step->set_gateway_message_id(gateway_message_id);
  if (is_new) {
    txn.Put(Cf::kCarePlans, DueKey(next, ctx.escalate_after), "");
  } else if (was_waiting && !Waiting(r.status())) {
    txn.Delete(Cf::kCarePlans, due_key);
  }
  txn.PutProto(Cf::kCarePlans, keys::Referral(client_id, r.referral_id()), next);
  v1::CareTeam current;
  SB_ASSIGN_OR_RETURN(bool has_team, txn.GetProto(Cf::kClients, keys::CareTeam(client_id), &current));
  (void)has_team;
  // An accepting target joins the care team (unless it is in it already).
  if (r.status() == v1::Referral::ACCEPTED && ctx.registry != nullptr &&
      !policy::IsCareTeamMember(current, r.target(), txn.now())) {
    v1::CareTeamMember member;
    member.set_organisation_id(r.target());
    member.set_role(r.service().substr(0, 64));
    *member.mutable_period()->mutable_start() = at;
    v1::CareTeam team;
    SB_RETURN_IF_ERROR(registry::AddCareTeamMember(txn, *ctx.registry, caller,
                                                   message.header().client(), member, &team));
  }
  return absl::OkStatus();
}

absl::Status AcknowledgeEscalation(store::Transaction& txn, const identity::Caller& caller,
                                   const std::string& client_id, const std::string& referral_id,
                                   const registry::Directory::Snapshot& dir) {
  v1::AuditRecord record =
      identity::AuditFor(caller, "CarePlans/AcknowledgeEscalation", v1::AuditRecord::ESCALATE);
  record.set_client_id(client_id);
  auto refuse = [&](absl::Status status) {
    txn.AuditOnRefusal(identity::Refusal(record, status));
    return status;
  };
  v1::CareTeam team;
  SB_ASSIGN_OR_RETURN(bool has_team, txn.GetProto(Cf::kClients, keys::CareTeam(client_id), &team));
  (void)has_team;
  SB_ASSIGN_OR_RETURN(auto state, ReadInTxn(txn, client_id, referral_id));
  if (!state.has_value() || !state->has_escalated_at() ||
      !consent::IsCoordinator(team, dir, caller.organisation_id, txn.now())) {
    return refuse(absl::NotFoundError(
        absl::StrCat("no escalated referral '", referral_id, "' of this client that you coordinate")));
  }
  if (state->has_escalation_acknowledged_at()) {
    return refuse(absl::FailedPreconditionError(absl::StrCat(
        "referral '", referral_id, "': the escalation was acknowledged already by ",
        state->escalation_acknowledged_by())));
  }
  const std::string who = caller.user.empty() ? caller.organisation_id
                                              : absl::StrCat(caller.organisation_id, " (", caller.user, ")");
  *state->mutable_escalation_acknowledged_at() = ToProtoTime(txn.now());
  state->set_escalation_acknowledged_by(who);
  txn.PutProto(Cf::kCarePlans, keys::Referral(client_id, referral_id), *state);
  v1::StoredTimelineEntry entry;
  entry.set_kind(v1::TimelineEntry::ESCALATION);
  *entry.mutable_occurred_at() = ToProtoTime(txn.now());
  entry.set_organisation(caller.organisation_id);
  entry.set_user(caller.user);
  entry.set_title(absl::StrCat("Escalation of referral ", referral_id, " acknowledged"));
  entry.set_referral_id(referral_id);
  if (!state->steps().empty()) {
    entry.set_about_message_seq(
        store::ParseGatewayMessageId(state->steps(0).gateway_message_id()).value_or(0));
  }
  AppendTimeline(txn, client_id, std::move(entry));
  record.set_detail(absl::StrCat("acknowledged the escalation of referral ", referral_id));
  txn.Audit(std::move(record));
  return absl::OkStatus();
}

Escalator::Escalator(const store::Store* store, store::Committer* committer,
                     consent::ConsentOpsContext consent_ops, absl::Duration interval)
    : store_(store), committer_(committer), consent_ops_(std::move(consent_ops)), interval_(interval) {}

Escalator::~Escalator() { Stop(); }

void Escalator::Start() { thread_ = std::thread([this] { Loop(); }); }

void Escalator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Escalator::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
    }
    absl::StatusOr<int> n = RunOnce(absl::Now());
    if (!n.ok()) LogWarning("referral_escalation_failed", {{"error", n.status().ToString()}});
  }
}

absl::StatusOr<int> Escalator::RunOnce(absl::Time now) {
  // The due keys up to now, read first; each is escalated in its own write,
  // which checks the referral again.
  std::vector<std::string> due;
  {
    const std::string upper = absl::StrCat(keys::kReferralDuePrefix, store::EncodeSeq(Micros(now) + 1));
    auto it = store_->NewIterator(Cf::kCarePlans, upper);
    const rocksdb::Slice prefix(keys::kReferralDuePrefix.data(), keys::kReferralDuePrefix.size());
    for (it->Seek(prefix);
         it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      due.push_back(it->key().ToString());
    }
    if (!it->status().ok()) return store::FromRocks(it->status(), "reading due referrals");
  }
  int escalated = 0;
  for (const std::string& key : due) {
    // key: prefix, 8-byte due, client \0 referral id.
    const absl::string_view rest = absl::string_view(key).substr(keys::kReferralDuePrefix.size() + 8);
    const size_t sep = rest.find('\0');
    if (sep == absl::string_view::npos) continue;
    const std::string client_id(rest.substr(0, sep));
    const std::string referral_id(rest.substr(sep + 1));
    bool did = false;
    absl::Status s = committer_->Run([&](store::Transaction& txn) -> absl::Status {
      txn.Delete(Cf::kCarePlans, key);
      SB_ASSIGN_OR_RETURN(auto state, ReadInTxn(txn, client_id, referral_id));
      if (!state.has_value() || !Waiting(state->referral().status()) || state->has_escalated_at()) {
        return absl::OkStatus();  // answered meanwhile: only the stale key goes
      }
      const v1::Referral& r = state->referral();
      *state->mutable_escalated_at() = ToProtoTime(txn.now());
      txn.PutProto(Cf::kCarePlans, keys::Referral(client_id, referral_id), *state);
      const std::string since =
          absl::FormatTime("%Y-%m-%d %H:%M UTC", FromProtoTime(state->created_at()), absl::UTCTimeZone());
      const std::string text = absl::StrCat("Referral ", referral_id, " (", r.service(), ") from ",
                                            state->referrer(), " to ", r.target(), " is ",
                                            ReferralStatusName(r.status()), " with no answer since ",
                                            since, ".");
      SB_ASSIGN_OR_RETURN(std::string notice,
                          consent::QueueCoordinatorNotice(txn, consent_ops_, r.target(), client_id,
                                                          kEscalationEvent, text));
      v1::StoredTimelineEntry entry;
      entry.set_kind(v1::TimelineEntry::ESCALATION);
      *entry.mutable_occurred_at() = ToProtoTime(txn.now());
      entry.set_organisation(consent::kGatewaySource);
      entry.set_title(absl::StrCat("Referral ", referral_id, " escalated to the coordinators"));
      entry.add_details(text);
      entry.set_referral_id(referral_id);
      if (!state->steps().empty()) {
        entry.set_about_message_seq(
            store::ParseGatewayMessageId(state->steps(0).gateway_message_id()).value_or(0));
      }
      AppendTimeline(txn, client_id, std::move(entry));
      v1::AuditRecord record;
      record.set_actor_organisation(consent::kGatewaySource);
      record.set_action(v1::AuditRecord::ESCALATE);
      record.set_outcome(v1::AuditRecord::SUCCESS);
      record.set_client_id(client_id);
      record.set_subject_organisation(r.target());
      record.set_operation(kEscalateOperation);
      record.set_gateway_message_id(notice);
      record.set_detail(absl::StrCat("referral ", referral_id, " ", ReferralStatusName(r.status()),
                                     " since ", since, "; ",
                                     notice.empty() ? "the client has no coordinator to tell"
                                                    : absl::StrCat("coordinators told by ", notice)));
      txn.Audit(std::move(record));
      did = true;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (did) ++escalated;
  }
  return escalated;
}

}  // namespace switchboard::gateway::careplan
