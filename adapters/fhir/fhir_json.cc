#include "adapters/fhir/fhir_json.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::adapters::fhir::internal {

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<JsonObject> JsonObject::At(const rapidjson::Value& value, std::string path,
                                          std::vector<std::string>* ignored) {
  if (!value.IsObject()) return Invalid(path, "expected a JSON object");
  return JsonObject(value, std::move(path), ignored);
}

const rapidjson::Value* JsonObject::Find(absl::string_view member) {
  auto it =
      value_->FindMember(rapidjson::Value(rapidjson::StringRef(member.data(), member.size())));
  if (it == value_->MemberEnd()) return nullptr;
  read_.emplace_back(member);
  return &it->value;
}

bool JsonObject::Has(absl::string_view member) {
  return value_->HasMember(rapidjson::Value(rapidjson::StringRef(member.data(), member.size())));
}

absl::StatusOr<std::string> JsonObject::String(absl::string_view member) {
  const rapidjson::Value* v = Find(member);
  if (v == nullptr) return std::string();
  if (!v->IsString()) return Invalid(PathOf(member), "expected a JSON string");
  return std::string(v->GetString(), v->GetStringLength());
}

absl::StatusOr<std::string> JsonObject::RequiredString(absl::string_view member) {
  absl::StatusOr<std::string> s = String(member);
  if (s.ok() && s->empty()) return Invalid(PathOf(member), "required");
  return s;
}

absl::StatusOr<std::optional<int32_t>> JsonObject::Integer(absl::string_view member) {
  const rapidjson::Value* v = Find(member);
  if (v == nullptr) return std::optional<int32_t>();
  if (!v->IsInt()) return Invalid(PathOf(member), "expected a FHIR integer (32-bit, no fraction)");
  return std::optional<int32_t>(v->GetInt());
}

absl::StatusOr<std::optional<JsonObject>> JsonObject::Object(absl::string_view member) {
  const rapidjson::Value* v = Find(member);
  if (v == nullptr) return std::optional<JsonObject>();
  absl::StatusOr<JsonObject> o = At(*v, PathOf(member), ignored_);
  if (!o.ok()) return o.status();
  return std::optional<JsonObject>(*std::move(o));
}

absl::StatusOr<std::vector<JsonObject>> JsonObject::Array(absl::string_view member) {
  std::vector<JsonObject> out;
  const rapidjson::Value* v = Find(member);
  if (v == nullptr) return out;
  if (!v->IsArray()) return Invalid(PathOf(member), "expected a JSON array");
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    absl::StatusOr<JsonObject> o = At((*v)[i], absl::StrCat(PathOf(member), "[", i, "]"), ignored_);
    if (!o.ok()) return o.status();
    out.push_back(*std::move(o));
  }
  return out;
}

void JsonObject::Skip(std::initializer_list<absl::string_view> members) {
  for (absl::string_view m : members) read_.emplace_back(m);
}

void JsonObject::Finish() {
  if (ignored_ == nullptr) return;
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(read_.begin(), read_.end(), name) == read_.end()) {
      ignored_->push_back(PathOf(name));
    }
  }
}

absl::StatusOr<google::protobuf::Timestamp> ParseDateTime(absl::string_view path,
                                                          absl::string_view value) {
  const absl::Status bad =
      Invalid(path, absl::StrCat("'", value,
                                 "' is not a FHIR dateTime with a time and zone "
                                 "(YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm))"));
  // Shape first (absl::ParseTime is more lenient than FHIR's regex).
  if (value.size() < 20 || value[4] != '-' || value[7] != '-' || value[10] != 'T' ||
      value[13] != ':' || value[16] != ':') {
    return bad;
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(value), &t, &err)) return bad;
  return ToProtoTime(t);
}

std::string FormatDateTime(const google::protobuf::Timestamp& ts) {
  const absl::Time t = FromProtoTime(ts);
  return absl::FormatTime(ts.nanos() == 0 ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%E*SZ", t,
                          absl::UTCTimeZone());
}

absl::StatusOr<google::protobuf::Timestamp> ParseDate(absl::string_view path,
                                                      absl::string_view value) {
  absl::Time t;
  std::string err;
  if (value.size() != 10 || value[4] != '-' || value[7] != '-' ||
      !absl::ParseTime("%Y-%m-%d", std::string(value), absl::UTCTimeZone(), &t, &err) ||
      absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()) != value) {
    return Invalid(path, absl::StrCat("'", value, "' is not a FHIR date (YYYY-MM-DD)"));
  }
  return ToProtoTime(t);
}

std::string FormatDate(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d", FromProtoTime(ts), absl::UTCTimeZone());
}

absl::StatusOr<v1::SecurityLabel> ReadCoding(JsonObject& coding) {
  v1::SecurityLabel label;
  SB_ASSIGN_OR_RETURN(*label.mutable_system(), coding.String("system"));
  SB_ASSIGN_OR_RETURN(*label.mutable_code(), coding.RequiredString("code"));
  SB_ASSIGN_OR_RETURN(*label.mutable_display(), coding.String("display"));
  return label;
}

absl::StatusOr<std::string> IdentifierValue(JsonObject& reference) {
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> identifier, reference.Object("identifier"));
  if (!identifier) return std::string();
  SB_ASSIGN_OR_RETURN(std::string value, identifier->String("value"));
  identifier->Skip({"system"});
  identifier->Finish();
  return value;
}

absl::StatusOr<std::string> FirstCode(JsonObject& concept_json) {
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> codings, concept_json.Array("coding"));
  SB_ASSIGN_OR_RETURN(std::string text, concept_json.String("text"));
  std::string code;
  if (!codings.empty()) {
    SB_ASSIGN_OR_RETURN(code, codings[0].String("code"));
    codings[0].Skip({"system", "display"});
  }
  for (JsonObject& c : codings) c.Finish();
  concept_json.Finish();
  return code.empty() ? text : code;
}

absl::StatusOr<std::string> FirstText(JsonObject& parent, absl::string_view member) {
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> items, parent.Array(member));
  std::string text;
  if (!items.empty()) {
    SB_ASSIGN_OR_RETURN(text, items[0].String("text"));
  }
  for (JsonObject& item : items) item.Finish();
  return text;
}

absl::StatusOr<std::optional<v1::Period>> ReadPeriod(JsonObject& parent, absl::string_view member) {
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> period, parent.Object(member));
  if (!period) return std::optional<v1::Period>();
  v1::Period out;
  SB_ASSIGN_OR_RETURN(std::string start, period->String("start"));
  SB_ASSIGN_OR_RETURN(std::string end, period->String("end"));
  if (!start.empty()) {
    SB_ASSIGN_OR_RETURN(*out.mutable_start(), ParseDateTime(period->PathOf("start"), start));
  }
  if (!end.empty()) {
    SB_ASSIGN_OR_RETURN(*out.mutable_end(), ParseDateTime(period->PathOf("end"), end));
  }
  period->Finish();
  return std::optional<v1::Period>(std::move(out));
}

namespace {

// Tags after which a browser starts a new line.
bool EndsLine(absl::string_view tag) {
  const bool closing = absl::ConsumePrefix(&tag, "/");
  const std::string name = absl::AsciiStrToLower(tag.substr(0, tag.find_first_of(" \t\r\n/")));
  if (name == "br") return true;
  if (!closing) return false;
  return name == "p" || name == "div" || name == "li" || name == "tr" || name == "h1" ||
         name == "h2" || name == "h3" || name == "h4" || name == "h5" || name == "h6";
}

void AppendEntity(absl::string_view entity, std::string* out) {
  if (entity == "lt") return out->append("<"), void();
  if (entity == "gt") return out->append(">"), void();
  if (entity == "amp") return out->append("&"), void();
  if (entity == "quot") return out->append("\""), void();
  if (entity == "apos") return out->append("'"), void();
  if (entity == "nbsp") return out->append(" "), void();
  uint32_t cp = 0;
  bool ok = false;
  if (absl::StartsWith(entity, "#x") || absl::StartsWith(entity, "#X")) {
    ok = absl::SimpleHexAtoi(entity.substr(2), &cp);
  } else if (absl::StartsWith(entity, "#")) {
    ok = absl::SimpleAtoi(entity.substr(1), &cp);
  }
  if (!ok || cp == 0 || cp > 0x10FFFF) {
    absl::StrAppend(out, "&", entity, ";");  // Unknown: kept as written.
    return;
  }
  // UTF-8 encode.
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string XhtmlToText(absl::string_view div) {
  // Pass 1: tags out (line breaks where a block ends), entities decoded, any
  // whitespace run made one space.
  std::string flat;
  for (size_t i = 0; i < div.size();) {
    const char c = div[i];
    if (c == '<') {
      const size_t end = div.find('>', i);
      if (end == absl::string_view::npos) break;  // Truncated tag: drop the rest.
      if (EndsLine(div.substr(i + 1, end - i - 1))) flat.push_back('\n');
      i = end + 1;
    } else if (c == '&') {
      const size_t end = div.find(';', i);
      if (end == absl::string_view::npos || end - i > 10) {
        flat.push_back('&');
        ++i;
      } else {
        AppendEntity(div.substr(i + 1, end - i - 1), &flat);
        i = end + 1;
      }
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (flat.empty() || (flat.back() != ' ' && flat.back() != '\n')) flat.push_back(' ');
      ++i;
    } else {
      flat.push_back(c);
      ++i;
    }
  }
  // Pass 2: trimmed, non-empty lines.
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(flat, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) lines.push_back(line);
  }
  return absl::StrJoin(lines, "\n");
}

std::string TextToXhtml(absl::string_view text) {
  std::string out = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n':
        out += "<br/>";
        break;
      default:
        out.push_back(c);
    }
  }
  out += "</div>";
  return out;
}

}  // namespace switchboard::adapters::fhir::internal
