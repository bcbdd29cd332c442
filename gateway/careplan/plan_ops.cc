#include "gateway/careplan/plan_ops.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/careplan/names.h"
#include "gateway/common/deterministic.h"
#include "gateway/store/keys.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::careplan {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kGas[] = "gas";
constexpr char kField[] = "message.care_plan_change";

bool Reopenable(v1::CarePlanItem::Status s) {
  return s == v1::CarePlanItem::ON_HOLD || s == v1::CarePlanItem::COMPLETED ||
         s == v1::CarePlanItem::CANCELLED;
}

absl::Status CheckRatings(const Scales& scales, const v1::CarePlanItem& item, const std::string& f) {
  for (int j = 0; j < item.progress_size(); ++j) {
    const v1::ProgressEntry& e = item.progress(j);
    const std::string p = absl::StrCat(f, ".progress[", j, "]");
    const std::string scale = e.scale().empty() ? kGas : e.scale();
    auto it = scales.find(scale);
    if (it == scales.end()) {
      std::vector<std::string> names;
      for (const auto& [name, range] : scales) names.push_back(name);
      std::sort(names.begin(), names.end());
      return absl::InvalidArgumentError(absl::StrCat(p, ".scale: unknown scale '", e.scale(),
                                                     "' (known: ", absl::StrJoin(names, ", "), ")"));
    }
    if (e.has_attainment() &&
        (e.attainment() < it->second.first || e.attainment() > it->second.second)) {
      return absl::InvalidArgumentError(absl::StrCat(p, ".attainment: ", e.attainment(),
                                                     " is outside the ", scale, " scale (",
                                                     it->second.first, "..", it->second.second, ")"));
    }
  }
  return absl::OkStatus();
}

// `incoming` merged into `kept`: fields replaced, progress appended without
// the entries already kept.
void Merge(const v1::CarePlanItem& incoming, v1::CarePlanItem* kept) {
  google::protobuf::RepeatedPtrField<v1::ProgressEntry> progress = std::move(*kept->mutable_progress());
  absl::flat_hash_set<std::string> seen;
  for (const v1::ProgressEntry& e : progress) seen.insert(DeterministicBytes(e));
  *kept = incoming;
  kept->clear_progress();
  *kept->mutable_progress() = std::move(progress);
  for (const v1::ProgressEntry& e : incoming.progress()) {
    if (seen.insert(DeterministicBytes(e)).second) *kept->add_progress() = e;
  }
}

absl::StatusOr<std::optional<v1::StoredPlanVersion>> ReadVersion(const store::Store& store,
                                                                  const std::string& client_id,
                                                                  uint64_t version) {
  v1::StoredPlanVersion v;
  SB_ASSIGN_OR_RETURN(bool found, store.GetProto(Cf::kCarePlans, keys::PlanVersion(client_id, version), &v));
  if (!found) return std::optional<v1::StoredPlanVersion>();
  return std::optional<v1::StoredPlanVersion>(std::move(v));
}

}  // namespace

absl::StatusOr<Scales> MakeScales(
    const google::protobuf::RepeatedPtrField<v1::AttainmentScale>& config) {
  Scales out;
  out[kGas] = {-2, 2};
  for (int i = 0; i < config.size(); ++i) {
    const std::string f = absl::StrCat("attainment_scales[", i, "]");
    const v1::AttainmentScale& s = config[i];
    SB_RETURN_IF_ERROR(CheckToken(f + ".name", s.name()));
    if (s.name() == kGas) {
      return absl::InvalidArgumentError(f + ".name: 'gas' is built in (-2..+2) and cannot be redefined");
    }
    if (out.contains(s.name())) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".name: '", s.name(), "' is listed twice"));
    }
    if (s.min() > s.max()) {
      return absl::InvalidArgumentError(absl::StrCat(f, ": min ", s.min(), " is above max ", s.max()));
    }
    out[s.name()] = {s.min(), s.max()};
  }
  return out;
}

absl::StatusOr<int64_t> PlanVersionInTxn(store::Transaction& txn, const std::string& client_id) {
  SB_ASSIGN_OR_RETURN(auto head, txn.Get(Cf::kCarePlans, keys::PlanHead(client_id)));
  if (!head.has_value()) return 0;
  return static_cast<int64_t>(store::DecodeSeq(*head).value_or(0));
}

absl::StatusOr<int64_t> ApplyPlanChange(store::Transaction& txn, const Scales& scales,
                                        const std::string& client_id, const v1::Message& message,
                                        uint64_t message_seq, const std::string& gateway_message_id) {
  const v1::CarePlanChange& change = message.care_plan_change();
  const std::string& source = message.header().source();
  SB_ASSIGN_OR_RETURN(int64_t current, PlanVersionInTxn(txn, client_id));
  if (change.expected_version() != current) {
    return absl::AbortedError(absl::StrCat(
        kField, ".expected_version: the care plan is at version ", current, ", not ",
        change.expected_version(), " (changed since it was read): read it again and retry on version ",
        current));
  }
  v1::StoredPlanVersion next;
  if (current > 0) {
    v1::StoredPlanVersion prev;
    SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kCarePlans, keys::PlanVersion(client_id, current), &prev));
    if (!found) return absl::DataLossError(absl::StrCat("care plan version ", current, " of ", client_id, " is missing"));
    *next.mutable_items() = std::move(*prev.mutable_items());
  }
  absl::flat_hash_set<std::string> changed;
  for (int i = 0; i < change.items_size(); ++i) {
    const v1::CarePlanItem& item = change.items(i);
    const std::string f = absl::StrCat(kField, ".items[", i, "]");
    if (changed.contains(item.id())) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".id: '", item.id(), "' is listed twice"));
    }
    SB_RETURN_IF_ERROR(CheckRatings(scales, item, f));
    v1::CarePlanItem* kept = nullptr;
    for (v1::CarePlanItem& existing : *next.mutable_items()) {
      if (existing.id() == item.id()) kept = &existing;
    }
    if (kept != nullptr && kept->owner() != source) {
      return absl::PermissionDeniedError(absl::StrCat(
          f, ": item '", item.id(), "' belongs to '", kept->owner(), "'; a member changes only its own items"));
    }
    if (item.owner() != source) {
      return absl::PermissionDeniedError(absl::StrCat(
          f, ".owner: '", item.owner(), "' is not the sender ('", source,
          "'); a member adds only items it owns"));
    }
    if (item.status() == v1::CarePlanItem::REOPENED &&
        (kept == nullptr ||
         !(Reopenable(kept->status()) || kept->status() == v1::CarePlanItem::REOPENED))) {
      return absl::FailedPreconditionError(absl::StrCat(
          f, ".status: only an item on hold, completed or cancelled can be reopened; '", item.id(),
          "' is ", kept == nullptr ? "new" : ItemStatusName(kept->status())));
    }
    if (kept != nullptr && kept->kind() != item.kind()) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".kind: item '", item.id(), "' is a ",
                                                     KindName(kept->kind()), "; its kind cannot change"));
    }
    if (kept == nullptr) {
      *next.add_items() = item;
    } else {
      Merge(item, kept);
    }
    changed.insert(item.id());
    next.add_changed_ids(item.id());
  }
  const int64_t version = current + 1;
  next.set_version(version);
  *next.mutable_recorded_at() = ToProtoTime(txn.now());
  *next.mutable_occurred_at() = message.header().occurred_at();
  next.set_organisation(source);
  next.set_user(message.header().author());
  next.set_message_seq(message_seq);
  next.set_gateway_message_id(gateway_message_id);
  txn.PutProto(Cf::kCarePlans, keys::PlanVersion(client_id, version), next);
  txn.Put(Cf::kCarePlans, keys::PlanHead(client_id), store::EncodeSeq(version));
  return version;
}

absl::StatusOr<std::optional<v1::StoredPlanVersion>> ReadPlan(const store::Store& store,
                                                              const std::string& client_id,
                                                              std::optional<absl::Time> as_of) {
  if (!as_of.has_value()) {
    SB_ASSIGN_OR_RETURN(auto head, store.Get(Cf::kCarePlans, keys::PlanHead(client_id)));
    if (!head.has_value()) return std::optional<v1::StoredPlanVersion>();
    return ReadVersion(store, client_id, store::DecodeSeq(*head).value_or(0));
  }
  // Versions are recorded in time order: the last one at or before `as_of`.
  SB_ASSIGN_OR_RETURN(std::vector<v1::StoredPlanVersion> all, ReadPlanHistory(store, client_id));
  std::optional<v1::StoredPlanVersion> out;
  for (v1::StoredPlanVersion& v : all) {
    if (FromProtoTime(v.recorded_at()) > *as_of) break;
    out = std::move(v);
  }
  return out;
}

absl::StatusOr<std::vector<v1::StoredPlanVersion>> ReadPlanHistory(const store::Store& store,
                                                                   const std::string& client_id) {
  std::vector<v1::StoredPlanVersion> out;
  const std::string prefix = keys::PlanPrefix(client_id);
  auto it = store.NewIterator(Cf::kCarePlans, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::StoredPlanVersion v;
    if (!v.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("unparseable care plan version of ", client_id));
    }
    out.push_back(std::move(v));
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading the care plan");
  return out;
}

absl::StatusOr<std::vector<v1::CarePlanViewItem>> ViewItems(
    const consent::AccessDecider& decider, const consent::ClientState& state,
    const std::string& reader, const google::protobuf::RepeatedPtrField<v1::CarePlanItem>& items,
    const google::protobuf::Timestamp& occurred_at, absl::Time now) {
  // The items as one care-plan-change message, decided as a delivery to the
  // reader would be.
  v1::Message probe;
  probe.mutable_header()->set_event("care-plan-change");
  *probe.mutable_header()->mutable_occurred_at() = occurred_at;
  *probe.mutable_care_plan_change()->mutable_items() = items;
  SB_ASSIGN_OR_RETURN(v1::AccessDecision d, decider.Decide(state, reader, probe, now));
  absl::flat_hash_set<std::string> denied;
  for (const auto& e : d.elements()) {
    if (e.effect() == v1::AccessDecision::DENY) denied.insert(e.path());
  }
  std::vector<v1::CarePlanViewItem> out;
  for (int i = 0; i < items.size(); ++i) {
    v1::CarePlanViewItem view;
    const v1::CarePlanItem& item = items[i];
    const std::string path = absl::StrCat("care_plan_change.items[", i, "]");
    if (item.owner() == reader) {
      *view.mutable_item() = item;
    } else if (d.effect() == v1::AccessDecision::DENY || denied.contains(path)) {
      view.set_redacted(true);
    } else {
      *view.mutable_item() = item;
      view.mutable_item()->clear_progress();
      for (int j = 0; j < item.progress_size(); ++j) {
        if (denied.contains(absl::StrCat(path, ".progress[", j, "]"))) {
          view.set_redacted_progress(view.redacted_progress() + 1);
        } else {
          *view.mutable_item()->add_progress() = item.progress(j);
        }
      }
    }
    out.push_back(std::move(view));
  }
  return out;
}

absl::StatusOr<v1::CarePlanView> ViewPlan(const consent::AccessDecider& decider,
                                          const consent::ClientState& state,
                                          const std::string& reader,
                                          const v1::StoredPlanVersion* version, absl::Time now) {
  v1::CarePlanView view;
  view.set_client_id(state.client_id);
  if (version == nullptr) return view;
  view.set_version(version->version());
  *view.mutable_updated_at() = version->recorded_at();
  view.set_updated_by_organisation(version->organisation());
  view.set_updated_by_user(version->user());
  SB_ASSIGN_OR_RETURN(auto items,
                      ViewItems(decider, state, reader, version->items(), version->occurred_at(), now));
  for (v1::CarePlanViewItem& item : items) {
    if (item.redacted()) view.set_redacted_items(view.redacted_items() + 1);
    *view.add_items() = std::move(item);
  }
  return view;
}

absl::StatusOr<v1::CarePlanVersion> ViewVersion(const consent::AccessDecider& decider,
                                                const consent::ClientState& state,
                                                const std::string& reader,
                                                const v1::StoredPlanVersion& version,
                                                absl::Time now) {
  v1::CarePlanVersion out;
  out.set_version(version.version());
  *out.mutable_recorded_at() = version.recorded_at();
  *out.mutable_occurred_at() = version.occurred_at();
  out.set_organisation(version.organisation());
  out.set_user(version.user());
  out.set_gateway_message_id(version.gateway_message_id());
  google::protobuf::RepeatedPtrField<v1::CarePlanItem> changed;
  for (const std::string& id : version.changed_ids()) {
    for (const v1::CarePlanItem& item : version.items()) {
      if (item.id() == id) *changed.Add() = item;
    }
  }
  SB_ASSIGN_OR_RETURN(auto items, ViewItems(decider, state, reader, changed, version.occurred_at(), now));
  for (v1::CarePlanViewItem& item : items) *out.add_changed() = std::move(item);
  return out;
}

}  // namespace switchboard::gateway::careplan
