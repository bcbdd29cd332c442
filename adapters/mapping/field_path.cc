#include "adapters/mapping/field_path.h"

#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::mapping {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;

constexpr char kTimestamp[] = "google.protobuf.Timestamp";
// google.protobuf.Timestamp's valid range: 0001-01-01 to 9999-12-31.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

bool IsTimestamp(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         f->message_type()->full_name() == kTimestamp;
}

absl::Status Bad(const Scalar& value, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("'", ScalarText(value), "' is not ", what));
}

// An integer in [lo, hi] from a number or a decimal string.
absl::StatusOr<int64_t> ToSigned(const Scalar& v, int64_t lo, int64_t hi, absl::string_view type) {
  int64_t x = 0;
  if (const auto* i = std::get_if<int64_t>(&v)) {
    x = *i;
  } else if (const auto* u = std::get_if<uint64_t>(&v)) {
    if (*u > static_cast<uint64_t>(hi)) return Bad(v, absl::StrCat("a valid ", type));
    x = static_cast<int64_t>(*u);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    if (!absl::SimpleAtoi(*s, &x)) return Bad(v, absl::StrCat("a valid ", type));
  } else {
    return Bad(v, absl::StrCat("a valid ", type));
  }
  if (x < lo || x > hi) return Bad(v, absl::StrCat("a valid ", type));
  return x;
}

absl::StatusOr<uint64_t> ToUnsigned(const Scalar& v, uint64_t hi, absl::string_view type) {
  uint64_t x = 0;
  if (const auto* i = std::get_if<int64_t>(&v)) {
    if (*i < 0) return Bad(v, absl::StrCat("a valid ", type));
    x = static_cast<uint64_t>(*i);
  } else if (const auto* u = std::get_if<uint64_t>(&v)) {
    x = *u;
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    if (!absl::SimpleAtoi(*s, &x)) return Bad(v, absl::StrCat("a valid ", type));
  } else {
    return Bad(v, absl::StrCat("a valid ", type));
  }
  if (x > hi) return Bad(v, absl::StrCat("a valid ", type));
  return x;
}

absl::StatusOr<double> ToDouble(const Scalar& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  double x = 0;
  if (const auto* s = std::get_if<std::string>(&v); s != nullptr && absl::SimpleAtod(*s, &x)) {
    return x;
  }
  return Bad(v, "a number");
}

absl::StatusOr<bool> ToBool(const Scalar& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* s = std::get_if<std::string>(&v)) {
    if (*s == "true") return true;
    if (*s == "false") return false;
  }
  return Bad(v, "true or false");
}

absl::StatusOr<std::string> ToString(const Scalar& v) {
  if (std::holds_alternative<absl::Time>(v)) return Bad(v, "a string");
  return ScalarText(v);
}

Scalar DefaultOf(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return int64_t{0};
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return uint64_t{0};
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return 0.0;
    case FieldDescriptor::CPPTYPE_BOOL:
      return false;
    case FieldDescriptor::CPPTYPE_ENUM:
      return f->enum_type()->value(0)->name();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return absl::UnixEpoch();
    default:
      return std::string();
  }
}

// Writes `v` into leaf `f` of `m`: singular when index < 0, else element `index`
// (appending, or padding with defaults, as needed).
absl::Status WriteLeaf(Message* m, const FieldDescriptor* f, int index, const Scalar& v) {
  const Reflection* r = m->GetReflection();
  const bool repeated = f->is_repeated();
  if (repeated) {
    while (r->FieldSize(*m, f) < index) {
      SB_RETURN_IF_ERROR(WriteLeaf(m, f, r->FieldSize(*m, f), DefaultOf(f)));
    }
  }
  const bool append = repeated && r->FieldSize(*m, f) == index;
  // Set, append or overwrite one element, for reflection accessor suffix `Type`.
#define SB_STORE_(Type, value)                \
  if (!repeated) {                            \
    r->Set##Type(m, f, value);                \
  } else if (append) {                        \
    r->Add##Type(m, f, value);                \
  } else {                                    \
    r->SetRepeated##Type(m, f, index, value); \
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      SB_ASSIGN_OR_RETURN(int64_t x, ToSigned(v, std::numeric_limits<int32_t>::min(),
                                              std::numeric_limits<int32_t>::max(), "int32"));
      SB_STORE_(Int32, static_cast<int32_t>(x));
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      SB_ASSIGN_OR_RETURN(int64_t x, ToSigned(v, std::numeric_limits<int64_t>::min(),
                                              std::numeric_limits<int64_t>::max(), "int64"));
      SB_STORE_(Int64, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      SB_ASSIGN_OR_RETURN(uint64_t x,
                          ToUnsigned(v, std::numeric_limits<uint32_t>::max(), "uint32"));
      SB_STORE_(UInt32, static_cast<uint32_t>(x));
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      SB_ASSIGN_OR_RETURN(uint64_t x,
                          ToUnsigned(v, std::numeric_limits<uint64_t>::max(), "uint64"));
      SB_STORE_(UInt64, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      SB_ASSIGN_OR_RETURN(double x, ToDouble(v));
      SB_STORE_(Double, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      SB_ASSIGN_OR_RETURN(double x, ToDouble(v));
      SB_STORE_(Float, static_cast<float>(x));
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      SB_ASSIGN_OR_RETURN(bool x, ToBool(v));
      SB_STORE_(Bool, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      SB_ASSIGN_OR_RETURN(std::string x, ToString(v));
      SB_STORE_(String, std::move(x));
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* name = std::get_if<std::string>(&v);
      const auto* value = name == nullptr ? nullptr : f->enum_type()->FindValueByName(*name);
      if (value == nullptr) return Bad(v, absl::StrCat("a value of ", f->enum_type()->full_name()));
      SB_STORE_(Enum, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {  // google.protobuf.Timestamp (checked by Parse).
      const auto* t = std::get_if<absl::Time>(&v);
      if (t == nullptr) return Bad(v, "a time");
      const int64_t seconds = absl::ToUnixSeconds(*t);
      if (seconds < kMinSeconds || seconds > kMaxSeconds) return Bad(v, "within years 1-9999");
      const int32_t nanos =
          static_cast<int32_t>(absl::ToInt64Nanoseconds(*t - absl::FromUnixSeconds(seconds)));
      Message* ts = nullptr;
      if (!repeated) {
        ts = r->MutableMessage(m, f);
      } else if (append) {
        ts = r->AddMessage(m, f);
      } else {
        ts = r->MutableRepeatedMessage(m, f, index);
      }
      const Descriptor* d = ts->GetDescriptor();
      ts->GetReflection()->SetInt64(ts, d->FindFieldByName("seconds"), seconds);
      ts->GetReflection()->SetInt32(ts, d->FindFieldByName("nanos"), nanos);
      break;
    }
  }
#undef SB_STORE_
  return absl::OkStatus();
}

std::optional<Scalar> ReadLeaf(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool repeated = f->is_repeated();
  if (repeated ? index >= r->FieldSize(m, f) : !r->HasField(m, f)) return std::nullopt;
#define SB_GET_(Type) (repeated ? r->GetRepeated##Type(m, f, index) : r->Get##Type(m, f))
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return int64_t{SB_GET_(Int32)};
    case FieldDescriptor::CPPTYPE_INT64:
      return int64_t{SB_GET_(Int64)};
    case FieldDescriptor::CPPTYPE_UINT32:
      return uint64_t{SB_GET_(UInt32)};
    case FieldDescriptor::CPPTYPE_UINT64:
      return uint64_t{SB_GET_(UInt64)};
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return double{SB_GET_(Double)};
    case FieldDescriptor::CPPTYPE_FLOAT:
      return static_cast<double>(SB_GET_(Float));
    case FieldDescriptor::CPPTYPE_BOOL:
      return bool{SB_GET_(Bool)};
    case FieldDescriptor::CPPTYPE_STRING:
      return std::string(SB_GET_(String));
    case FieldDescriptor::CPPTYPE_ENUM:
      return SB_GET_(Enum)->name();
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& ts = SB_GET_(Message);
      const Descriptor* d = ts.GetDescriptor();
      const int64_t seconds = ts.GetReflection()->GetInt64(ts, d->FindFieldByName("seconds"));
      const int32_t nanos = ts.GetReflection()->GetInt32(ts, d->FindFieldByName("nanos"));
      return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
    }
  }
#undef SB_GET_
  return std::nullopt;
}

}  // namespace

std::string ScalarText(const Scalar& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(int64_t i) const { return absl::StrCat(i); }
    std::string operator()(uint64_t u) const { return absl::StrCat(u); }
    std::string operator()(double d) const { return absl::StrCat(d); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(absl::Time t) const {
      return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
    }
  };
  return std::visit(Visitor{}, value);
}

absl::StatusOr<FieldPath> FieldPath::Parse(absl::string_view text, const Descriptor* root) {
  FieldPath path;
  path.text_ = std::string(text);
  const Descriptor* current = root;
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': ", what));
  };
  if (text.empty()) return error("empty field path");
  for (absl::string_view part : absl::StrSplit(text, '.')) {
    if (current == nullptr) {
      return error(absl::StrCat("'", path.steps_.back().field->name(),
                                "' is not a message, it has no field '", part, "'"));
    }
    Step step;
    absl::string_view name = part;
    if (const size_t open = part.find('['); open != absl::string_view::npos) {
      name = part.substr(0, open);
      if (part.back() != ']') return error(absl::StrCat("'", part, "': unclosed '['"));
      const absl::string_view inner = part.substr(open + 1, part.size() - open - 2);
      if (inner == "*") {
        if (path.wildcard_ >= 0) return error("more than one '[*]'");
        step.kind = Step::Kind::kWildcard;
        path.wildcard_ = static_cast<int>(path.steps_.size());
      } else if (absl::SimpleAtoi(inner, &step.index) && step.index >= 0) {
        step.kind = Step::Kind::kIndex;
      } else {
        return error(absl::StrCat("'", part, "': index must be '*' or a non-negative integer"));
      }
    }
    step.field = current->FindFieldByName(std::string(name));
    if (step.field == nullptr) {
      return error(absl::StrCat("'", name, "' is not a field of ", current->full_name()));
    }
    if (step.field->is_map()) return error(absl::StrCat("'", name, "' is a map (not supported)"));
    if (step.field->is_repeated() && step.kind == Step::Kind::kSingular) {
      return error(
          absl::StrCat("'", name, "' is repeated: write '", name, "[*]' or '", name, "[N]'"));
    }
    if (!step.field->is_repeated() && step.kind != Step::Kind::kSingular) {
      return error(absl::StrCat("'", name, "' is not repeated"));
    }
    current = step.field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsTimestamp(step.field)
                  ? step.field->message_type()
                  : nullptr;
    path.steps_.push_back(step);
  }
  if (current != nullptr) {
    return error(
        absl::StrCat("ends at message ", current->full_name(), ": name one of its fields"));
  }
  return path;
}

bool FieldPath::leaf_is_timestamp() const { return IsTimestamp(leaf()); }

std::string FieldPath::ToString(int wildcard_index) const {
  if (wildcard_ < 0 || wildcard_index < 0) return text_;
  std::string out;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    absl::StrAppend(&out, i == 0 ? "" : ".", s.field->name());
    if (s.kind == Step::Kind::kIndex) absl::StrAppend(&out, "[", s.index, "]");
    if (s.kind == Step::Kind::kWildcard) absl::StrAppend(&out, "[", wildcard_index, "]");
  }
  return out;
}

std::string FieldPath::WildcardFieldName() const {
  const size_t pos = text_.find("[*]");
  return pos == std::string::npos ? text_ : text_.substr(0, pos);
}

int FieldPath::WildcardSize(const Message& root) const {
  if (wildcard_ < 0) return 0;
  const Message* m = &root;
  for (int i = 0; i < wildcard_; ++i) {
    const Step& s = steps_[i];
    const Reflection* r = m->GetReflection();
    if (s.kind == Step::Kind::kSingular) {
      if (!r->HasField(*m, s.field)) return 0;
      m = &r->GetMessage(*m, s.field);
    } else {
      if (s.index >= r->FieldSize(*m, s.field)) return 0;
      m = &r->GetRepeatedMessage(*m, s.field, s.index);
    }
  }
  return m->GetReflection()->FieldSize(*m, steps_[wildcard_].field);
}

std::optional<Scalar> FieldPath::Get(const Message& root, int wildcard_index) const {
  const Message* m = &root;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    const int index = s.kind == Step::Kind::kWildcard ? wildcard_index : s.index;
    if (i + 1 == steps_.size()) return ReadLeaf(*m, s.field, s.field->is_repeated() ? index : -1);
    const Reflection* r = m->GetReflection();
    if (s.kind == Step::Kind::kSingular) {
      if (!r->HasField(*m, s.field)) return std::nullopt;
      m = &r->GetMessage(*m, s.field);
    } else {
      if (index < 0 || index >= r->FieldSize(*m, s.field)) return std::nullopt;
      m = &r->GetRepeatedMessage(*m, s.field, index);
    }
  }
  return std::nullopt;
}

absl::Status FieldPath::Set(Message* root, int wildcard_index, const Scalar& value) const {
  Message* m = root;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    const int index = s.kind == Step::Kind::kWildcard ? wildcard_index : s.index;
    if (i + 1 == steps_.size()) {
      return WriteLeaf(m, s.field, s.field->is_repeated() ? index : -1, value);
    }
    const Reflection* r = m->GetReflection();
    if (s.kind == Step::Kind::kSingular) {
      m = r->MutableMessage(m, s.field);
    } else {
      while (r->FieldSize(*m, s.field) <= index) r->AddMessage(m, s.field);
      m = r->MutableRepeatedMessage(m, s.field, index);
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::adapters::mapping
