#include "adapters/fhir/fhir_care_plan.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/fhir/fhir_adapter.h"
#include "adapters/fhir/fhir_json.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::fhir::internal {
namespace {

using Item = v1::CarePlanItem;
using rapidjson::Value;

constexpr absl::string_view kReopened = "reopened";
constexpr absl::string_view kDefaultScale = "gas";

// Canonical status <-> the FHIR code of a Goal and of an activity. REOPENED is
// written as ACTIVE's code plus kPlanItemStatusUrl; the table has no row for it.
struct ItemStatus {
  Item::Status canonical;
  absl::string_view goal;
  absl::string_view activity;
};
constexpr ItemStatus kItemStatuses[] = {
    {Item::PROPOSED, "proposed", "not-started"}, {Item::ACTIVE, "active", "in-progress"},
    {Item::ON_HOLD, "on-hold", "on-hold"},       {Item::COMPLETED, "completed", "completed"},
    {Item::CANCELLED, "cancelled", "cancelled"},
};

absl::string_view FhirStatus(Item::Status status, bool goal) {
  if (status == Item::REOPENED) status = Item::ACTIVE;
  for (const ItemStatus& s : kItemStatuses) {
    if (s.canonical == status) return goal ? s.goal : s.activity;
  }
  return "";
}

// ---------------------------------------------------------------------------
// Decoding.

// The canonical status of `parent.<member>`, REOPENED when `reopened`.
absl::StatusOr<Item::Status> ReadStatus(JsonObject& parent, absl::string_view member, bool goal,
                                        bool reopened) {
  SB_ASSIGN_OR_RETURN(std::string code, parent.RequiredString(member));
  for (const ItemStatus& s : kItemStatuses) {
    if ((goal ? s.goal : s.activity) != code) continue;
    if (!reopened) return s.canonical;
    if (s.canonical == Item::ACTIVE) return Item::REOPENED;
    return Invalid(parent.PathOf(member),
                   absl::StrCat("'", code, "' with plan-item-status 'reopened' (reopened is '",
                                FhirStatus(Item::ACTIVE, goal), "')"));
  }
  return Invalid(parent.PathOf(member),
                 absl::StrCat("'", code, "' has no plan item status (",
                              goal ? "proposed, active, on-hold, completed, cancelled"
                                   : "not-started, in-progress, on-hold, completed, cancelled",
                              ")"));
}

// The extensions of a Goal or an activity that this mapping knows; the others
// are reported as ignored.
struct ItemExtensions {
  std::string id;
  std::string owner;
  std::string domain;
  bool reopened = false;
  std::optional<v1::Period> period;
  google::protobuf::RepeatedPtrField<v1::SecurityLabel> labels;
};

absl::StatusOr<ItemExtensions> ReadItemExtensions(JsonObject& parent,
                                                  std::vector<std::string>* ignored) {
  ItemExtensions out;
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> extensions, parent.Array("extension"));
  for (JsonObject& ext : extensions) {
    SB_ASSIGN_OR_RETURN(std::string url, ext.String("url"));
    if (url == kPlanItemIdUrl) {
      SB_ASSIGN_OR_RETURN(out.id, ext.RequiredString("valueString"));
    } else if (url == kPlanItemOwnerUrl) {
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> ref, ext.Object("valueReference"));
      if (!ref) return Invalid(ext.PathOf("valueReference"), "required");
      SB_ASSIGN_OR_RETURN(out.owner, IdentifierValue(*ref));
      ref->Skip({"type", "display"});
      ref->Finish();
    } else if (url == kPlanItemStatusUrl) {
      SB_ASSIGN_OR_RETURN(std::string code, ext.RequiredString("valueCode"));
      if (code != kReopened) {
        return Invalid(ext.PathOf("valueCode"),
                       absl::StrCat("'", code, "' is not a plan item status ('reopened')"));
      }
      out.reopened = true;
    } else if (url == kPlanItemPeriodUrl) {
      SB_ASSIGN_OR_RETURN(out.period, ReadPeriod(ext, "valuePeriod"));
      if (!out.period) return Invalid(ext.PathOf("valuePeriod"), "required");
    } else if (url == kPlanItemDomainUrl) {
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> coding, ext.Object("valueCoding"));
      if (!coding) return Invalid(ext.PathOf("valueCoding"), "required");
      SB_ASSIGN_OR_RETURN(out.domain, coding->RequiredString("code"));
      coding->Skip({"system", "display"});
      coding->Finish();
    } else if (url == kPlanItemSecurityUrl) {
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> coding, ext.Object("valueCoding"));
      if (!coding) return Invalid(ext.PathOf("valueCoding"), "required");
      SB_ASSIGN_OR_RETURN(*out.labels.Add(), ReadCoding(*coding));
      coding->Finish();
    } else {
      ignored->push_back(ext.path());
      continue;
    }
    ext.Finish();
  }
  return out;
}

absl::StatusOr<google::protobuf::RepeatedPtrField<v1::SecurityLabel>> ReadMetaSecurity(
    JsonObject& resource) {
  google::protobuf::RepeatedPtrField<v1::SecurityLabel> labels;
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> meta, resource.Object("meta"));
  if (!meta) return labels;
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> security, meta->Array("security"));
  for (JsonObject& coding : security) {
    SB_ASSIGN_OR_RETURN(*labels.Add(), ReadCoding(coding));
    coding.Finish();
  }
  meta->Finish();
  return labels;
}

absl::StatusOr<v1::ProgressEntry> DecodeProgress(BundleReader& bundle, JsonObject& reference) {
  SB_ASSIGN_OR_RETURN(Entry * entry, bundle.Resolve(reference));
  if (entry->type != "Observation") {
    return Invalid(reference.path(), absl::StrCat("refers to a ", entry->type,
                                                  ", expected an Observation (a progress entry)"));
  }
  JsonObject obs = bundle.Open(*entry);
  obs.Skip({"status", "subject", "focus"});
  v1::ProgressEntry progress;
  SB_ASSIGN_OR_RETURN(*progress.mutable_security_labels(), ReadMetaSecurity(obs));
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> code, obs.Object("code"));
  if (!code) return Invalid(obs.PathOf("code"), "required (the scale)");
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> codings, code->Array("coding"));
  bool found = false;
  for (JsonObject& c : codings) {
    SB_ASSIGN_OR_RETURN(std::string system, c.String("system"));
    if (system != kProgressScaleSystem || found) continue;  // others reported
    SB_ASSIGN_OR_RETURN(*progress.mutable_scale(), c.RequiredString("code"));
    if (progress.scale() == kDefaultScale) progress.clear_scale();
    c.Skip({"display"});
    found = true;
  }
  if (!found) {
    return Invalid(code->PathOf("coding"),
                   absl::StrCat("no coding of system ", kProgressScaleSystem, " (the scale)"));
  }
  for (JsonObject& c : codings) c.Finish();
  code->Skip({"text"});
  code->Finish();
  SB_ASSIGN_OR_RETURN(std::string at, obs.String("effectiveDateTime"));
  if (!at.empty()) {
    SB_ASSIGN_OR_RETURN(*progress.mutable_at(), ParseDateTime(obs.PathOf("effectiveDateTime"), at));
  }
  SB_ASSIGN_OR_RETURN(std::optional<int32_t> value, obs.Integer("valueInteger"));
  if (value) progress.set_attainment(*value);
  SB_ASSIGN_OR_RETURN(*progress.mutable_note(), FirstText(obs, "note"));
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> performers, obs.Array("performer"));
  if (!performers.empty()) {
    SB_ASSIGN_OR_RETURN(*progress.mutable_author(), performers[0].String("display"));
  }
  for (JsonObject& p : performers) p.Finish();
  obs.Finish();
  return progress;
}

absl::Status DecodeProgressList(BundleReader& bundle, JsonObject& parent, Item& item) {
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> outcomes, parent.Array("outcomeReference"));
  for (JsonObject& ref : outcomes) {
    SB_ASSIGN_OR_RETURN(*item.add_progress(), DecodeProgress(bundle, ref));
  }
  return absl::OkStatus();
}

absl::StatusOr<Item> DecodeGoal(BundleReader& bundle, JsonObject& reference) {
  SB_ASSIGN_OR_RETURN(Entry * entry, bundle.Resolve(reference));
  if (entry->type != "Goal") {
    return Invalid(reference.path(),
                   absl::StrCat("refers to a ", entry->type, ", expected a Goal"));
  }
  JsonObject goal = bundle.Open(*entry);
  goal.Skip({"subject"});
  Item item;
  item.set_kind(Item::GOAL);
  SB_ASSIGN_OR_RETURN(ItemExtensions ext, ReadItemExtensions(goal, bundle.ignored()));
  item.set_owner(ext.owner);
  SB_ASSIGN_OR_RETURN(*item.mutable_security_labels(), ReadMetaSecurity(goal));
  for (v1::SecurityLabel& l : ext.labels) *item.add_security_labels() = std::move(l);

  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> identifiers, goal.Array("identifier"));
  for (JsonObject& identifier : identifiers) {
    SB_ASSIGN_OR_RETURN(std::string system, identifier.String("system"));
    if (system == kPlanItemSystem && item.id().empty()) {
      SB_ASSIGN_OR_RETURN(*item.mutable_id(), identifier.RequiredString("value"));
      identifier.Skip({"use"});
    }
    identifier.Finish();
  }
  if (item.id().empty()) item.set_id(ext.id);
  if (item.id().empty()) {
    return Invalid(goal.PathOf("identifier"),
                   absl::StrCat("required: one of system ", kPlanItemSystem, " (the item's id)"));
  }
  SB_ASSIGN_OR_RETURN(Item::Status status,
                      ReadStatus(goal, "lifecycleStatus", /*goal=*/true, ext.reopened));
  item.set_status(status);
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> categories, goal.Array("category"));
  if (!categories.empty()) {
    SB_ASSIGN_OR_RETURN(*item.mutable_domain(), FirstCode(categories[0]));
  }
  for (size_t i = 1; i < categories.size(); ++i) categories[i].Finish();
  if (item.domain().empty()) item.set_domain(ext.domain);
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> description, goal.Object("description"));
  if (description) {
    SB_ASSIGN_OR_RETURN(*item.mutable_description(), description->String("text"));
    if (item.description().empty()) {
      SB_ASSIGN_OR_RETURN(*item.mutable_description(), FirstCode(*description));
    }
    description->Skip({"coding"});
    description->Finish();
  }
  // Dates: the extension's exact period wins; else the days, as 00:00 UTC.
  SB_ASSIGN_OR_RETURN(std::string start, goal.String("startDate"));
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> targets, goal.Array("target"));
  std::string due;
  if (!targets.empty()) {
    SB_ASSIGN_OR_RETURN(due, targets[0].String("dueDate"));
    if (!due.empty() && !ext.period) {
      SB_ASSIGN_OR_RETURN(*item.mutable_period()->mutable_end(),
                          ParseDate(targets[0].PathOf("dueDate"), due));
    }
  }
  for (JsonObject& t : targets) t.Finish();
  if (ext.period) {
    *item.mutable_period() = *ext.period;
  } else if (!start.empty()) {
    SB_ASSIGN_OR_RETURN(*item.mutable_period()->mutable_start(),
                        ParseDate(goal.PathOf("startDate"), start));
  }
  SB_RETURN_IF_ERROR(DecodeProgressList(bundle, goal, item));
  goal.Finish();
  return item;
}

absl::StatusOr<Item> DecodeActivity(BundleReader& bundle, JsonObject& activity) {
  Item item;
  item.set_kind(Item::ACTIVITY);
  SB_ASSIGN_OR_RETURN(ItemExtensions ext, ReadItemExtensions(activity, bundle.ignored()));
  if (ext.id.empty()) {
    return Invalid(activity.PathOf("extension"),
                   absl::StrCat("required: ", kPlanItemIdUrl, " (the item's id)"));
  }
  item.set_id(ext.id);
  item.set_domain(ext.domain);
  *item.mutable_security_labels() = std::move(ext.labels);
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> detail, activity.Object("detail"));
  if (!detail) {
    return Invalid(activity.PathOf("detail"),
                   "required (activities by reference are not supported)");
  }
  detail->Skip({"kind"});
  SB_ASSIGN_OR_RETURN(Item::Status status,
                      ReadStatus(*detail, "status", /*goal=*/false, ext.reopened));
  item.set_status(status);
  SB_ASSIGN_OR_RETURN(*item.mutable_description(), detail->String("description"));
  SB_ASSIGN_OR_RETURN(std::optional<v1::Period> period, ReadPeriod(*detail, "scheduledPeriod"));
  if (!period) period = std::move(ext.period);
  if (period) *item.mutable_period() = *std::move(period);
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> performers, detail->Array("performer"));
  if (!performers.empty()) {
    SB_ASSIGN_OR_RETURN(*item.mutable_owner(), IdentifierValue(performers[0]));
    performers[0].Skip({"reference", "display", "type"});
  }
  for (JsonObject& p : performers) p.Finish();
  if (item.owner().empty()) item.set_owner(ext.owner);
  detail->Finish();
  SB_RETURN_IF_ERROR(DecodeProgressList(bundle, activity, item));
  activity.Finish();
  return item;
}

// ---------------------------------------------------------------------------
// Encoding.

Value MetaSecurity(JsonBuilder& j, const google::protobuf::RepeatedPtrField<v1::SecurityLabel>& l) {
  Value meta = JsonBuilder::Obj(), security = JsonBuilder::Arr();
  for (const v1::SecurityLabel& label : l) j.Push(security, j.Label(label));
  j.Set(meta, "security", std::move(security));
  return meta;
}

// Resource ids of an item's resources: ChildId of the plan's id and `item<n>`
// (a Goal) or `item<n>-p<k>` (an Observation), so that they stay distinct when
// the plan's id has to be cut.
struct ItemIds {
  absl::string_view plan_id;
  std::string item;  // item<n>
  std::string Goal() const { return ChildId(plan_id, item); }
  std::string Progress(int k) const { return ChildId(plan_id, absl::StrCat(item, "-p", k + 1)); }
};

// The Observations of `item`'s progress, appended to `entries`; their references
// are returned (for outcomeReference).
Value EncodeProgress(const Item& item, const ItemIds& ids, absl::string_view patient_url,
                     JsonBuilder& j, Value& entries) {
  Value refs = JsonBuilder::Arr();
  for (int k = 0; k < item.progress_size(); ++k) {
    const v1::ProgressEntry& p = item.progress(k);
    const std::string id = ids.Progress(k);
    Value obs = j.Resource("Observation", id);
    if (p.security_labels_size() > 0) j.Set(obs, "meta", MetaSecurity(j, p.security_labels()));
    j.Set(obs, "status", "final");
    j.Set(obs, "code",
          j.Concept(j.Coding(kProgressScaleSystem, p.scale().empty() ? kDefaultScale : p.scale())));
    j.Set(obs, "subject", j.Ref(patient_url));
    if (p.has_at()) j.Set(obs, "effectiveDateTime", FormatDateTime(p.at()));
    if (!p.author().empty()) {
      Value performer = JsonBuilder::Obj();
      j.Set(performer, "display", p.author());
      j.Set(obs, "performer", j.One(std::move(performer)));
    }
    if (p.has_attainment()) j.Set(obs, "valueInteger", Value(p.attainment()));
    if (!p.note().empty()) j.Set(obs, "note", j.One(j.Text(p.note())));
    j.Push(refs, j.Ref(FullUrl("Observation", id)));
    j.Push(entries, j.Entry("Observation", id, std::move(obs)));
  }
  return refs;
}

Value EncodeGoal(const Item& item, const ItemIds& ids, absl::string_view patient_url,
                 JsonBuilder& j, Value& entries) {
  const std::string id = ids.Goal();
  Value goal = j.Resource("Goal", id);
  if (item.security_labels_size() > 0) {
    j.Set(goal, "meta", MetaSecurity(j, item.security_labels()));
  }
  Value extensions = JsonBuilder::Arr();
  if (!item.owner().empty()) {
    j.Push(extensions, j.Extension(kPlanItemOwnerUrl, "valueReference", j.MemberRef(item.owner())));
  }
  if (item.status() == Item::REOPENED) {
    j.Push(extensions, j.Extension(kPlanItemStatusUrl, "valueCode", j.Str(kReopened)));
  }
  const bool has_period = IsSet(item.period());
  if (has_period) {
    j.Push(extensions, j.Extension(kPlanItemPeriodUrl, "valuePeriod", j.Period(item.period())));
  }
  if (!extensions.Empty()) j.Set(goal, "extension", std::move(extensions));
  Value identifier = JsonBuilder::Obj();
  j.Set(identifier, "system", kPlanItemSystem);
  j.Set(identifier, "value", item.id());
  j.Set(goal, "identifier", j.One(std::move(identifier)));
  j.Set(goal, "lifecycleStatus", FhirStatus(item.status(), /*goal=*/true));
  if (!item.domain().empty()) {
    j.Set(goal, "category", j.One(j.Concept(j.Coding(kDomainSystem, item.domain()))));
  }
  j.Set(goal, "description", j.Text(item.description()));
  j.Set(goal, "subject", j.Ref(patient_url));
  if (has_period && item.period().has_start()) {
    j.Set(goal, "startDate", FormatDate(item.period().start()));
  }
  if (has_period && item.period().has_end()) {
    Value target = JsonBuilder::Obj();
    j.Set(target, "dueDate", FormatDate(item.period().end()));
    j.Set(goal, "target", j.One(std::move(target)));
  }
  const size_t goal_index = entries.Size();
  j.Push(entries, JsonBuilder::Obj());  // The Goal goes before its Observations.
  Value outcomes = EncodeProgress(item, ids, patient_url, j, entries);
  if (!outcomes.Empty()) j.Set(goal, "outcomeReference", std::move(outcomes));
  entries[static_cast<rapidjson::SizeType>(goal_index)] = j.Entry("Goal", id, std::move(goal));
  return j.Ref(FullUrl("Goal", id));
}

Value EncodeActivity(const Item& item, const ItemIds& ids, absl::string_view patient_url,
                     JsonBuilder& j, Value& entries) {
  Value activity = JsonBuilder::Obj();
  Value extensions = JsonBuilder::Arr();
  j.Push(extensions, j.Extension(kPlanItemIdUrl, "valueString", j.Str(item.id())));
  if (!item.domain().empty()) {
    j.Push(extensions,
           j.Extension(kPlanItemDomainUrl, "valueCoding", j.Coding(kDomainSystem, item.domain())));
  }
  if (item.status() == Item::REOPENED) {
    j.Push(extensions, j.Extension(kPlanItemStatusUrl, "valueCode", j.Str(kReopened)));
  }
  for (const v1::SecurityLabel& l : item.security_labels()) {
    j.Push(extensions, j.Extension(kPlanItemSecurityUrl, "valueCoding", j.Label(l)));
  }
  j.Set(activity, "extension", std::move(extensions));
  Value outcomes = EncodeProgress(item, ids, patient_url, j, entries);
  if (!outcomes.Empty()) j.Set(activity, "outcomeReference", std::move(outcomes));
  Value detail = JsonBuilder::Obj();
  j.Set(detail, "status", FhirStatus(item.status(), /*goal=*/false));
  if (IsSet(item.period())) {
    j.Set(detail, "scheduledPeriod", j.Period(item.period()));
  }
  if (!item.owner().empty()) j.Set(detail, "performer", j.One(j.MemberRef(item.owner())));
  if (!item.description().empty()) j.Set(detail, "description", item.description());
  j.Set(activity, "detail", std::move(detail));
  return activity;
}

}  // namespace

absl::StatusOr<v1::CarePlanChange> DecodeCarePlan(BundleReader& bundle, Entry& plan_entry) {
  JsonObject plan = bundle.Open(plan_entry);
  plan.Skip({"status", "intent", "subject"});
  v1::CarePlanChange change;
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> meta, plan.Object("meta"));
  if (meta) {
    SB_ASSIGN_OR_RETURN(std::string version, meta->String("versionId"));
    int64_t expected = 0;
    if (!version.empty() && !absl::SimpleAtoi(version, &expected)) {
      return Invalid(meta->PathOf("versionId"),
                     absl::StrCat("'", version, "' is not a plan version (an integer)"));
    }
    change.set_expected_version(expected);
    meta->Finish();
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> goals, plan.Array("goal"));
  for (JsonObject& ref : goals) {
    SB_ASSIGN_OR_RETURN(*change.add_items(), DecodeGoal(bundle, ref));
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> activities, plan.Array("activity"));
  for (JsonObject& activity : activities) {
    SB_ASSIGN_OR_RETURN(*change.add_items(), DecodeActivity(bundle, activity));
  }
  plan.Finish();
  return change;
}

absl::Status EncodeCarePlan(const v1::CarePlanChange& change, absl::string_view id,
                            absl::string_view patient_url, JsonBuilder& j, Value& entries) {
  for (int i = 0; i < change.items_size(); ++i) {
    const Item& item = change.items(i);
    const std::string field = absl::StrCat("message.care_plan_change.items[", i, "]");
    if (item.kind() == Item::KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(field + ".kind: required (GOAL or ACTIVITY)");
    }
    if (FhirStatus(item.status(), true).empty()) {
      return absl::InvalidArgumentError(field + ".status: required");
    }
    if (item.kind() == Item::GOAL && item.description().empty()) {
      return absl::InvalidArgumentError(field + ".description: required (Goal.description)");
    }
  }
  Value plan = j.Resource("CarePlan", id);
  if (change.expected_version() != 0) {
    Value meta = JsonBuilder::Obj();
    j.Set(meta, "versionId", absl::StrCat(change.expected_version()));
    j.Set(plan, "meta", std::move(meta));
  }
  j.Set(plan, "status", "active");
  j.Set(plan, "intent", "plan");
  j.Set(plan, "subject", j.Ref(patient_url));
  const size_t plan_index = entries.Size();
  j.Push(entries, JsonBuilder::Obj());  // The CarePlan goes first, once complete.
  Value goals = JsonBuilder::Arr(), activities = JsonBuilder::Arr();
  for (int i = 0; i < change.items_size(); ++i) {
    const Item& item = change.items(i);
    const ItemIds ids{id, absl::StrCat("item", i + 1)};
    if (item.kind() == Item::GOAL) {
      j.Push(goals, EncodeGoal(item, ids, patient_url, j, entries));
    } else {
      j.Push(activities, EncodeActivity(item, ids, patient_url, j, entries));
    }
  }
  if (!goals.Empty()) j.Set(plan, "goal", std::move(goals));
  if (!activities.Empty()) j.Set(plan, "activity", std::move(activities));
  entries[static_cast<rapidjson::SizeType>(plan_index)] = j.Entry("CarePlan", id, std::move(plan));
  return absl::OkStatus();
}

}  // namespace switchboard::adapters::fhir::internal
