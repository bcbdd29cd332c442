#include "adapters/mapping/mapping_adapter.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::mapping {
namespace {

using FieldRule = v1::adapters::MappingConfig::FieldRule;

// RFC 3339 in UTC with a `Z` (absl::RFC3339_full writes `+00:00`).
constexpr char kRfc3339Utc[] = "%Y-%m-%d%ET%H:%M:%E*SZ";

absl::Status Prefixed(absl::string_view where, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

// A JSON scalar as a Scalar; INVALID_ARGUMENT for objects and arrays.
absl::StatusOr<Scalar> FromJson(const rapidjson::Value& v) {
  if (v.IsString()) return Scalar(std::string(v.GetString(), v.GetStringLength()));
  if (v.IsBool()) return Scalar(v.GetBool());
  if (v.IsInt64()) return Scalar(v.GetInt64());
  if (v.IsUint64()) return Scalar(v.GetUint64());
  if (v.IsDouble()) return Scalar(v.GetDouble());
  return absl::InvalidArgumentError(
      absl::StrCat("expected a value, got ", v.IsObject() ? "an object" : "an array"));
}

// The partner's JSON as it is being written: objects keep their members sorted so
// that the output is deterministic whatever the order of the rules.
struct JsonNode {
  enum class Kind { kNull, kObject, kArray, kValue };
  Kind kind = Kind::kNull;
  std::map<std::string, std::unique_ptr<JsonNode>> members;
  std::vector<JsonNode> elements;
  Scalar value;
};

// The node at `path` (`[*]` read as `wildcard_index`), creating objects and
// arrays on the way. INVALID_ARGUMENT if another rule put a different kind of
// value there already.
absl::StatusOr<JsonNode*> Place(JsonNode* root, const JsonPath& path, int wildcard_index) {
  JsonNode* node = root;
  for (const JsonPathSegment& s : path.segments()) {
    const bool member = s.kind == JsonPathSegment::Kind::kMember;
    const JsonNode::Kind want = member ? JsonNode::Kind::kObject : JsonNode::Kind::kArray;
    if (node->kind == JsonNode::Kind::kNull) node->kind = want;
    if (node->kind != want) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.ToString(wildcard_index), ": conflicts with a value another rule wrote"));
    }
    if (member) {
      std::unique_ptr<JsonNode>& child = node->members[s.name];
      if (child == nullptr) child = std::make_unique<JsonNode>();
      node = child.get();
    } else {
      const size_t index =
          static_cast<size_t>(s.kind == JsonPathSegment::Kind::kIndex ? s.index : wildcard_index);
      if (node->elements.size() <= index) node->elements.resize(index + 1);
      node = &node->elements[index];
    }
  }
  if (node->kind != JsonNode::Kind::kNull) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.ToString(wildcard_index), ": written by two rules"));
  }
  return node;
}

void Write(const JsonNode& node, rapidjson::Writer<rapidjson::StringBuffer>& out) {
  switch (node.kind) {
    case JsonNode::Kind::kNull:
      out.Null();
      return;
    case JsonNode::Kind::kObject:
      out.StartObject();
      for (const auto& [name, child] : node.members) {
        out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()), true);
        Write(*child, out);
      }
      out.EndObject();
      return;
    case JsonNode::Kind::kArray:
      out.StartArray();
      for (const JsonNode& child : node.elements) Write(child, out);
      out.EndArray();
      return;
    case JsonNode::Kind::kValue:
      if (const auto* s = std::get_if<std::string>(&node.value)) {
        out.String(s->data(), static_cast<rapidjson::SizeType>(s->size()), true);
      } else if (const auto* i = std::get_if<int64_t>(&node.value)) {
        out.Int64(*i);
      } else if (const auto* u = std::get_if<uint64_t>(&node.value)) {
        out.Uint64(*u);
      } else if (const auto* d = std::get_if<double>(&node.value)) {
        out.Double(*d);
      } else if (const auto* b = std::get_if<bool>(&node.value)) {
        out.Bool(*b);
      } else {
        out.Null();  // absl::Time never reaches here: ToPartner formats it.
      }
      return;
  }
}

// First segment of a field path when it is a payload (a member of the oneof).
const google::protobuf::FieldDescriptor* PayloadOf(const FieldPath& path) {
  const google::protobuf::FieldDescriptor* first = path.steps().front().field;
  return first->containing_oneof() != nullptr ? first : nullptr;
}

}  // namespace

MappingAdapter::MappingAdapter(v1::adapters::MappingConfig config, std::vector<Rule> rules)
    : config_(std::move(config)), rules_(std::move(rules)) {}

absl::StatusOr<MappingAdapter::Rule> MappingAdapter::CompileRule(const FieldRule& config,
                                                                 int index) {
  const std::string at = absl::StrCat("rules[", index, "]");
  Rule rule;
  rule.index = index;
  rule.config = config;
  if (config.field().empty())
    return absl::InvalidArgumentError(absl::StrCat(at, ".field: required"));
  absl::StatusOr<FieldPath> field = FieldPath::Parse(config.field(), v1::Message::descriptor());
  if (!field.ok()) return Prefixed(absl::StrCat(at, ".field"), field.status());
  rule.field = *std::move(field);

  if (!config.date_format().empty() || !config.time_zone().empty()) {
    if (!rule.field.leaf_is_timestamp()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".date_format: field '", config.field(),
                                                     "' is not a google.protobuf.Timestamp"));
    }
    if (config.date_format().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".time_zone: only with date_format (RFC 3339 carries its offset)"));
    }
  }
  rule.time_zone = absl::UTCTimeZone();
  if (!config.time_zone().empty() && !absl::LoadTimeZone(config.time_zone(), &rule.time_zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".time_zone: unknown zone '", config.time_zone(), "'"));
  }

  for (int i = 0; i < config.value_map_size(); ++i) {
    const auto& entry = config.value_map(i);
    if (!rule.to_canonical.emplace(entry.partner(), entry.canonical()).second) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".value_map[", i, "]: partner code '",
                                                     entry.partner(), "' is listed twice"));
    }
    rule.to_partner.emplace(entry.canonical(), entry.partner());  // First listed wins.
  }
  if (config.value_map().empty() &&
      (config.has_default_canonical() || config.has_default_partner())) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ".", config.has_default_canonical() ? "default_canonical" : "default_partner",
        ": only with a value_map"));
  }

  if (config.has_constant()) {
    if (!config.json_path().empty() || !config.value_map().empty() || rule.field.has_wildcard()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".constant: a constant rule takes no json_path, value_map or '[*]'"));
    }
    v1::Message scratch;
    absl::Status applied = ApplyValue(rule, Scalar(config.constant()), -1, &scratch);
    if (!applied.ok()) return Prefixed(absl::StrCat(at, ".constant"), applied);
    rule.constant = rule.field.Get(scratch, -1);
    return rule;
  }

  if (config.json_path().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(at, ".json_path: required (or a constant)"));
  }
  absl::StatusOr<JsonPath> json_path = JsonPath::Parse(config.json_path());
  if (!json_path.ok()) return Prefixed(absl::StrCat(at, ".json_path"), json_path.status());
  if (json_path->has_wildcard() != rule.field.has_wildcard()) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, json_path->has_wildcard() ? ".json_path" : ".field", ": has '[*]' but ",
        json_path->has_wildcard() ? "field '" : "json_path '",
        json_path->has_wildcard() ? config.field() : config.json_path(), "' has none"));
  }
  rule.json_path = *std::move(json_path);
  return rule;
}

absl::StatusOr<std::unique_ptr<MappingAdapter>> MappingAdapter::Create(
    v1::adapters::MappingConfig config) {
  std::vector<Rule> rules;
  absl::flat_hash_map<std::string, int> fields, json_paths;
  const google::protobuf::FieldDescriptor* payload = nullptr;
  int payload_rule = -1;
  for (int i = 0; i < config.rules_size(); ++i) {
    SB_ASSIGN_OR_RETURN(Rule rule, CompileRule(config.rules(i), i));
    const std::string at = absl::StrCat("rules[", i, "]");
    if (auto [it, fresh] = fields.emplace(rule.field.ToString(), i); !fresh) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".field '", rule.field.ToString(), "': already mapped by rules[", it->second, "]"));
    }
    if (rule.json_path.has_value()) {
      if (auto [it, fresh] = json_paths.emplace(rule.json_path->ToString(), i); !fresh) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ".json_path '", rule.json_path->ToString(),
                         "': already mapped by rules[", it->second, "]"));
      }
    }
    if (const auto* p = PayloadOf(rule.field); p != nullptr) {
      if (payload != nullptr && payload != p) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".field: maps payload '", p->name(),
                                                       "' but rules[", payload_rule, "] maps '",
                                                       payload->name(), "'"));
      }
      payload = p;
      payload_rule = i;
    }
    rules.push_back(std::move(rule));
  }
  return std::unique_ptr<MappingAdapter>(new MappingAdapter(std::move(config), std::move(rules)));
}

absl::Status MappingAdapter::ApplyValue(const Rule& rule, const Scalar& partner, int wildcard_index,
                                        v1::Message* message) {
  Scalar canonical = partner;
  if (!rule.to_canonical.empty()) {
    const std::string code = ScalarText(partner);
    auto it = rule.to_canonical.find(code);
    if (it != rule.to_canonical.end()) {
      canonical = it->second;
    } else if (rule.config.has_default_canonical()) {
      canonical = rule.config.default_canonical();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("'", code, "' is not in the value map"));
    }
  }
  if (rule.field.leaf_is_timestamp()) {
    const auto* text = std::get_if<std::string>(&canonical);
    if (text == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", ScalarText(canonical), "' is not a date string"));
    }
    absl::Time time;
    std::string error;
    const bool parsed =
        rule.config.date_format().empty()
            ? absl::ParseTime(absl::RFC3339_full, *text, &time, &error)
            : absl::ParseTime(rule.config.date_format(), *text, rule.time_zone, &time, &error);
    if (!parsed || time == absl::InfiniteFuture() || time == absl::InfinitePast()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", *text, "' does not match ",
                       rule.config.date_format().empty() ? "RFC 3339" : rule.config.date_format()));
    }
    canonical = time;
  }
  return rule.field.Set(message, wildcard_index, canonical);
}

absl::StatusOr<Scalar> MappingAdapter::ToPartner(const Rule& rule, const Scalar& canonical) {
  if (const auto* time = std::get_if<absl::Time>(&canonical)) {
    return Scalar(rule.config.date_format().empty()
                      ? absl::FormatTime(kRfc3339Utc, *time, absl::UTCTimeZone())
                      : absl::FormatTime(rule.config.date_format(), *time, rule.time_zone));
  }
  if (rule.to_partner.empty()) return canonical;
  const std::string text = ScalarText(canonical);
  if (auto it = rule.to_partner.find(text); it != rule.to_partner.end()) {
    return Scalar(it->second);
  }
  if (rule.config.has_default_partner()) return Scalar(rule.config.default_partner());
  return absl::InvalidArgumentError(absl::StrCat(
      "'", text, "' has no partner code in the value map of ", rule.json_path->ToString()));
}

absl::StatusOr<v1::Message> MappingAdapter::Decode(absl::string_view content_type,
                                                   absl::string_view bytes) const {
  const std::string expected =
      config_.content_type().empty() ? kDefaultContentType : config_.content_type();
  const absl::string_view media =
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';')));
  if (!media.empty() && !absl::EqualsIgnoreCase(media, expected)) {
    return absl::InvalidArgumentError(
        absl::StrCat("content type '", content_type, "' is not ", expected));
  }
  rapidjson::Document doc;
  doc.Parse(bytes.data(), bytes.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("json: ", rapidjson::GetParseError_En(doc.GetParseError()), " at offset ",
                     doc.GetErrorOffset()));
  }
  v1::Message message;
  // One JSON value: missing is an error only when required.
  auto apply = [&](const Rule& rule, int wildcard_index) -> absl::Status {
    const std::string where = rule.json_path->ToString(wildcard_index);
    const rapidjson::Value* v = rule.json_path->Find(doc, wildcard_index);
    if (v == nullptr || v->IsNull()) {
      return rule.config.required()
                 ? absl::InvalidArgumentError(absl::StrCat(where, ": required value is missing"))
                 : absl::OkStatus();
    }
    absl::StatusOr<Scalar> partner = FromJson(*v);
    if (!partner.ok()) return Prefixed(where, partner.status());
    absl::Status applied = ApplyValue(rule, *partner, wildcard_index, &message);
    return applied.ok() ? applied : Prefixed(where, applied);
  };
  for (const Rule& rule : rules_) {
    if (rule.config.has_constant()) {
      SB_RETURN_IF_ERROR(ApplyValue(rule, Scalar(rule.config.constant()), -1, &message));
    } else if (!rule.json_path->has_wildcard()) {
      SB_RETURN_IF_ERROR(apply(rule, -1));
    } else {
      const JsonPath& path = *rule.json_path;
      const rapidjson::Value* array = path.Find(doc, -1, path.wildcard());
      const std::string text = path.ToString();
      const std::string where = text.substr(0, text.find("[*]"));
      if (array == nullptr || array->IsNull()) {
        if (rule.config.required()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": required array is missing"));
        }
        continue;
      }
      if (!array->IsArray()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array"));
      }
      for (rapidjson::SizeType i = 0; i < array->Size(); ++i) {
        SB_RETURN_IF_ERROR(apply(rule, static_cast<int>(i)));
      }
    }
  }
  return message;
}

absl::StatusOr<PartnerPayload> MappingAdapter::Encode(const v1::Message& message) const {
  JsonNode root;
  root.kind = JsonNode::Kind::kObject;
  auto emit = [&](const Rule& rule, int wildcard_index) -> absl::Status {
    const std::string where = rule.field.ToString(wildcard_index);
    std::optional<Scalar> canonical = rule.field.Get(message, wildcard_index);
    if (!canonical.has_value()) {
      return rule.config.required() ? absl::InvalidArgumentError(absl::StrCat(
                                          where, ": required by ",
                                          rule.json_path->ToString(wildcard_index), " but not set"))
                                    : absl::OkStatus();
    }
    absl::StatusOr<Scalar> partner = ToPartner(rule, *canonical);
    if (!partner.ok()) return Prefixed(where, partner.status());
    SB_ASSIGN_OR_RETURN(JsonNode * node, Place(&root, *rule.json_path, wildcard_index));
    node->kind = JsonNode::Kind::kValue;
    node->value = *std::move(partner);
    return absl::OkStatus();
  };
  for (const Rule& rule : rules_) {
    if (rule.config.has_constant()) {
      std::optional<Scalar> actual = rule.field.Get(message, -1);
      if (actual.has_value() && actual != rule.constant) {
        return absl::InvalidArgumentError(absl::StrCat(
            rule.field.ToString(), ": '", ScalarText(*actual),
            "' cannot be expressed, this mapping fixes it to '", rule.config.constant(), "'"));
      }
    } else if (!rule.field.has_wildcard()) {
      SB_RETURN_IF_ERROR(emit(rule, -1));
    } else {
      const int size = rule.field.WildcardSize(message);
      if (size == 0 && rule.config.required()) {
        return absl::InvalidArgumentError(absl::StrCat(rule.field.WildcardFieldName(),
                                                       ": required by ", rule.json_path->ToString(),
                                                       " but empty"));
      }
      for (int i = 0; i < size; ++i) SB_RETURN_IF_ERROR(emit(rule, i));
    }
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  Write(root, writer);
  return PartnerPayload{
      config_.content_type().empty() ? kDefaultContentType : config_.content_type(),
      std::string(buffer.GetString(), buffer.GetSize())};
}

}  // namespace switchboard::adapters::mapping
