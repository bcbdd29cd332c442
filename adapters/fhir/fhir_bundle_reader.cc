#include "adapters/fhir/fhir_bundle_reader.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::fhir::internal {

absl::Status BundleReader::Index(JsonObject& bundle) {
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> entries, bundle.Array("entry"));
  if (entries.empty()) return Invalid("Bundle.entry", "required (a MessageHeader first)");
  for (JsonObject& entry_json : entries) {
    Entry entry;
    SB_ASSIGN_OR_RETURN(entry.full_url, entry_json.String("fullUrl"));
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> resource, entry_json.Object("resource"));
    if (!resource) return Invalid(entry_json.PathOf("resource"), "required");
    SB_ASSIGN_OR_RETURN(entry.type, resource->RequiredString("resourceType"));
    SB_ASSIGN_OR_RETURN(entry.id, resource->String("id"));
    entry.resource = &resource->value();
    entry.path = absl::StrCat(entry_json.PathOf("resource"), "(", entry.type, ")");
    entry_json.Finish();
    entries_.push_back(std::move(entry));
  }
  if (entries_[0].type != "MessageHeader") {
    return Invalid("Bundle.entry[0].resource", "the first entry must be a MessageHeader");
  }
  return absl::OkStatus();
}

JsonObject BundleReader::Open(Entry& entry) {
  entry.used = true;
  JsonObject o = *JsonObject::At(*entry.resource, entry.path, ignored_);
  o.Skip({"resourceType", "id"});
  return o;
}

absl::StatusOr<Entry*> BundleReader::Resolve(JsonObject& reference) {
  SB_ASSIGN_OR_RETURN(std::string ref, reference.RequiredString("reference"));
  reference.Skip({"type", "display"});
  reference.Finish();
  for (Entry& e : entries_) {
    if ((!e.full_url.empty() && e.full_url == ref) ||
        (!e.id.empty() && ref == absl::StrCat(e.type, "/", e.id))) {
      return &e;
    }
  }
  return Invalid(reference.PathOf("reference"),
                 absl::StrCat("'", ref, "' does not resolve to an entry of the Bundle"));
}

absl::StatusOr<Entry*> BundleReader::ResolveMember(JsonObject& parent, absl::string_view member,
                                                   absl::string_view want_type) {
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> ref, parent.Object(member));
  if (!ref) return Invalid(parent.PathOf(member), "required");
  SB_ASSIGN_OR_RETURN(Entry * e, Resolve(*ref));
  if (!want_type.empty() && e->type != want_type) {
    return Invalid(parent.PathOf(member),
                   absl::StrCat("refers to a ", e->type, ", expected a ", want_type));
  }
  return e;
}

void BundleReader::Finish() {
  for (const Entry& e : entries_) {
    if (!e.used) ignored_->push_back(e.path);
  }
}

}  // namespace switchboard::adapters::fhir::internal
