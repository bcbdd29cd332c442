#include "adapters/fhir/fhir_json_writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/fhir/fhir_adapter.h"
#include "adapters/fhir/fhir_json.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace switchboard::adapters::fhir::internal {

std::string ResourceId(absl::string_view message_id) {
  std::string id(message_id.substr(0, 64));
  for (char& c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) c = '-';
  }
  return id;
}

std::string ChildId(absl::string_view base, absl::string_view suffix) {
  const size_t room = 64 - std::min<size_t>(63, suffix.size() + 1);
  return absl::StrCat(base.substr(0, room), "-", suffix);
}

std::string FullUrl(absl::string_view type, absl::string_view id) {
  return absl::StrCat("urn:switchboard:", type, ":", id);
}

std::string MemberEndpoint(absl::string_view org) {
  return absl::StrCat("urn:switchboard:member:", org);
}

JsonBuilder::Value JsonBuilder::Resource(absl::string_view type, absl::string_view id) {
  Value r = Obj();
  Set(r, "resourceType", type);
  Set(r, "id", id);
  return r;
}

JsonBuilder::Value JsonBuilder::One(Value v) {
  Value a = Arr();
  Push(a, std::move(v));
  return a;
}

JsonBuilder::Value JsonBuilder::Coding(absl::string_view system, absl::string_view code,
                                       absl::string_view display) {
  Value c = Obj();
  if (!system.empty()) Set(c, "system", system);
  Set(c, "code", code);
  if (!display.empty()) Set(c, "display", display);
  return c;
}

JsonBuilder::Value JsonBuilder::Concept(Value coding) {
  Value c = Obj();
  Set(c, "coding", One(std::move(coding)));
  return c;
}

JsonBuilder::Value JsonBuilder::Text(absl::string_view text) {
  Value c = Obj();
  Set(c, "text", text);
  return c;
}

JsonBuilder::Value JsonBuilder::Ref(absl::string_view url) {
  Value r = Obj();
  Set(r, "reference", url);
  return r;
}

JsonBuilder::Value JsonBuilder::LogicalRef(absl::string_view system, absl::string_view value) {
  Value r = Obj(), identifier = Obj();
  Set(identifier, "system", system);
  Set(identifier, "value", value);
  Set(r, "identifier", std::move(identifier));
  return r;
}

JsonBuilder::Value JsonBuilder::MemberRef(absl::string_view org) {
  return LogicalRef(kMemberSystem, org);
}

JsonBuilder::Value JsonBuilder::Period(const v1::Period& period) {
  Value p = Obj();
  if (period.has_start()) Set(p, "start", FormatDateTime(period.start()));
  if (period.has_end()) Set(p, "end", FormatDateTime(period.end()));
  return p;
}

JsonBuilder::Value JsonBuilder::Extension(absl::string_view url, const char* value_key,
                                          Value value) {
  Value e = Obj();
  Set(e, "url", url);
  Set(e, value_key, std::move(value));
  return e;
}

JsonBuilder::Value JsonBuilder::Entry(absl::string_view type, absl::string_view id,
                                      Value resource) {
  Value e = Obj();
  Set(e, "fullUrl", FullUrl(type, id));
  Set(e, "resource", std::move(resource));
  return e;
}

std::string Serialize(const rapidjson::Document& doc, bool pretty) {
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    doc.Accept(writer);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
  }
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace switchboard::adapters::fhir::internal
