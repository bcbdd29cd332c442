// Writing FHIR R4 JSON: a small builder of RapidJSON values for the datatypes the
// adapter writes (Coding, CodeableConcept, Reference, Period, extensions, Bundle
// entries) and the naming of what Encode writes (resource ids, fullUrls). Pure
// helpers for the FHIR adapter's encoders. Thread-safety: a JsonBuilder belongs to
// one Encode call.
#ifndef SWITCHBOARD_ADAPTERS_FHIR_FHIR_JSON_WRITER_H_
#define SWITCHBOARD_ADAPTERS_FHIR_FHIR_JSON_WRITER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "rapidjson/document.h"
#include "switchboard/v1/common.pb.h"

namespace switchboard::adapters::fhir::internal {

// A FHIR id ([A-Za-z0-9\-\.]{1,64}) from a message id: other characters made '-',
// cut to 64.
std::string ResourceId(absl::string_view message_id);
// The id of a further resource of the same message, `<base>-<suffix>` with
// `base` cut so that the whole stays within 64 characters.
std::string ChildId(absl::string_view base, absl::string_view suffix);
// `urn:switchboard:<Type>:<id>`, the fullUrl of every entry Encode writes.
std::string FullUrl(absl::string_view type, absl::string_view id);
// `urn:switchboard:member:<org>`, a member's MessageHeader endpoint.
std::string MemberEndpoint(absl::string_view org);

// Whether `period` says anything: an empty Period is not valid FHIR, so one with
// neither start nor end is not written.
inline bool IsSet(const v1::Period& period) { return period.has_start() || period.has_end(); }

// Builds RapidJSON values with one allocator; keys are string literals.
class JsonBuilder {
 public:
  using Value = rapidjson::Value;

  explicit JsonBuilder(rapidjson::Document& doc) : a_(doc.GetAllocator()) {}

  static Value Obj() { return Value(rapidjson::kObjectType); }
  static Value Arr() { return Value(rapidjson::kArrayType); }
  Value Str(absl::string_view s) {
    return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a_);
  }
  // {"resourceType": type, "id": id}.
  Value Resource(absl::string_view type, absl::string_view id);
  void Set(Value& obj, const char* key, Value v) {
    obj.AddMember(rapidjson::StringRef(key), v, a_);
  }
  void Set(Value& obj, const char* key, absl::string_view s) { Set(obj, key, Str(s)); }
  void Push(Value& arr, Value v) { arr.PushBack(v, a_); }
  // [v].
  Value One(Value v);

  // Coding; system and display only when not empty.
  Value Coding(absl::string_view system, absl::string_view code, absl::string_view display = "");
  Value Label(const v1::SecurityLabel& l) { return Coding(l.system(), l.code(), l.display()); }
  // CodeableConcept with one coding.
  Value Concept(Value coding);
  // CodeableConcept or Annotation with text only.
  Value Text(absl::string_view text);
  // Reference by `reference`.
  Value Ref(absl::string_view url);
  // A logical Reference: {"identifier": {"system": system, "value": value}}.
  Value LogicalRef(absl::string_view system, absl::string_view value);
  // A member organisation, by its identifier of kMemberSystem.
  Value MemberRef(absl::string_view org);
  // Period with start and end when set.
  Value Period(const v1::Period& period);
  // {"url": url, <value_key>: value}.
  Value Extension(absl::string_view url, const char* value_key, Value value);
  // A Bundle entry: fullUrl FullUrl(type, id) and the resource.
  Value Entry(absl::string_view type, absl::string_view id, Value resource);

 private:
  rapidjson::Document::AllocatorType& a_;
};

// The document as JSON text; indented by two spaces when `pretty`.
std::string Serialize(const rapidjson::Document& doc, bool pretty);

}  // namespace switchboard::adapters::fhir::internal

#endif  // SWITCHBOARD_ADAPTERS_FHIR_FHIR_JSON_WRITER_H_
