#include "adapters/mapping/json_path.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace switchboard::adapters::mapping {

absl::StatusOr<JsonPath> JsonPath::Parse(absl::string_view text) {
  auto error = [&](size_t pos, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("json_path '", text, "': ", what, " at offset ", pos));
  };
  if (text.empty() || text[0] != '$') return error(0, "must start with '$'");
  JsonPath path;
  size_t pos = 1;
  while (pos < text.size()) {
    JsonPathSegment segment;
    if (text[pos] == '.') {
      const size_t start = ++pos;
      while (pos < text.size() && text[pos] != '.' && text[pos] != '[' && text[pos] != ']') {
        ++pos;
      }
      if (pos == start) return error(start, "empty member name");
      segment.name = std::string(text.substr(start, pos - start));
    } else if (text[pos] == '[') {
      const size_t close = text.find(']', pos);
      if (close == absl::string_view::npos) return error(pos, "unclosed '['");
      const absl::string_view inner = text.substr(pos + 1, close - pos - 1);
      if (inner == "*") {
        if (path.wildcard_ >= 0) return error(pos, "a second '[*]'");
        segment.kind = JsonPathSegment::Kind::kWildcard;
        path.wildcard_ = static_cast<int>(path.segments_.size());
      } else {
        segment.kind = JsonPathSegment::Kind::kIndex;
        if (inner.empty() || !absl::SimpleAtoi(inner, &segment.index) || segment.index < 0) {
          return error(pos, "index must be '*' or a non-negative integer");
        }
      }
      pos = close + 1;
    } else {
      return error(pos, absl::StrCat("unexpected '", text.substr(pos, 1), "'"));
    }
    path.segments_.push_back(std::move(segment));
  }
  return path;
}

std::string JsonPath::ToString(int wildcard_index) const {
  std::string out = "$";
  for (const JsonPathSegment& s : segments_) {
    switch (s.kind) {
      case JsonPathSegment::Kind::kMember:
        absl::StrAppend(&out, ".", s.name);
        break;
      case JsonPathSegment::Kind::kIndex:
        absl::StrAppend(&out, "[", s.index, "]");
        break;
      case JsonPathSegment::Kind::kWildcard:
        if (wildcard_index < 0) {
          absl::StrAppend(&out, "[*]");
        } else {
          absl::StrAppend(&out, "[", wildcard_index, "]");
        }
        break;
    }
  }
  return out;
}

const rapidjson::Value* JsonPath::Find(const rapidjson::Value& root, int wildcard_index,
                                       int end) const {
  const size_t stop = end < 0 ? segments_.size() : static_cast<size_t>(end);
  const rapidjson::Value* v = &root;
  for (size_t i = 0; i < stop; ++i) {
    const JsonPathSegment& s = segments_[i];
    if (s.kind == JsonPathSegment::Kind::kMember) {
      if (!v->IsObject()) return nullptr;
      auto it = v->FindMember(rapidjson::StringRef(s.name.data(), s.name.size()));
      if (it == v->MemberEnd()) return nullptr;
      v = &it->value;
    } else {
      const int index = s.kind == JsonPathSegment::Kind::kIndex ? s.index : wildcard_index;
      if (!v->IsArray() || index < 0 || static_cast<rapidjson::SizeType>(index) >= v->Size()) {
        return nullptr;
      }
      v = &(*v)[static_cast<rapidjson::SizeType>(index)];
    }
  }
  return v;
}

}  // namespace switchboard::adapters::mapping
