#include "adapters/hl7v2/er7.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::hl7v2 {
namespace {

// The delimiters of one message, as read from MSH-1 and MSH-2.
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

constexpr Delimiters kStandard;

template <typename T>
const T& EmptyValue() {
  static const T* const kEmpty = new T();
  return *kEmpty;
}

// Removes trailing elements for which empty(element) holds: canonical form.
template <typename T, typename Pred>
void TrimTrailing(std::vector<T>& v, Pred empty) {
  while (!v.empty() && empty(v.back())) {
    v.pop_back();
  }
}

template <typename T>
const T& At(const std::vector<T>& v, int one_based) {
  if (one_based < 1 || static_cast<std::size_t>(one_based) > v.size()) {
    return EmptyValue<T>();
  }
  return v[one_based - 1];
}

// ---- Escape sequences -------------------------------------------------------

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Appends the meaning of the escape sequence `code` (the text between the two escape
// characters) to `out`; false when the sequence is not one we decode.
bool DecodeSequence(absl::string_view code, const Delimiters& d, std::string& out) {
  if (code.size() == 1) {
    switch (code[0]) {
      case 'F':
        out += d.field;
        return true;
      case 'S':
        out += d.component;
        return true;
      case 'T':
        out += d.subcomponent;
        return true;
      case 'R':
        out += d.repetition;
        return true;
      case 'E':
        out += d.escape;
        return true;
      case 'H':
      case 'N':
        return true;  // highlighting on/off: no plain-text meaning
      default:
        return false;
    }
  }
  if (code == ".br") {
    out += '\n';
    return true;
  }
  if (code.size() >= 3 && code[0] == 'X' && code.size() % 2 == 1) {
    std::string bytes;
    for (std::size_t i = 1; i < code.size(); i += 2) {
      const int hi = HexDigit(code[i]);
      const int lo = HexDigit(code[i + 1]);
      if (hi < 0 || lo < 0) return false;
      bytes += static_cast<char>(hi * 16 + lo);
    }
    out += bytes;
    return true;
  }
  return false;
}

std::string Unescape(absl::string_view raw, const Delimiters& d) {
  std::size_t i = raw.find(d.escape);
  if (i == absl::string_view::npos) return std::string(raw);
  std::string out(raw.substr(0, i));
  while (i < raw.size()) {
    if (raw[i] != d.escape) {
      out += raw[i++];
      continue;
    }
    const std::size_t end = raw.find(d.escape, i + 1);
    if (end == absl::string_view::npos) {  // unterminated: keep literally
      absl::StrAppend(&out, raw.substr(i));
      break;
    }
    if (!DecodeSequence(raw.substr(i + 1, end - i - 1), d, out)) {
      absl::StrAppend(&out, raw.substr(i, end - i + 1));  // unknown: keep literally
    }
    i = end + 1;
  }
  return out;
}

void AppendEscaped(absl::string_view value, std::string& out) {
  for (const char c : value) {
    switch (c) {
      case '|':
        out += "\\F\\";
        break;
      case '^':
        out += "\\S\\";
        break;
      case '&':
        out += "\\T\\";
        break;
      case '~':
        out += "\\R\\";
        break;
      case '\\':
        out += "\\E\\";
        break;
      case '\n':
        out += "\\.br\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
          absl::StrAppendFormat(&out, "\\X%02X\\", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
}

// ---- Parsing ------------------------------------------------------------------

absl::Status Invalid(int segment, absl::string_view id, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("segment ", segment, " (", id, "): ", what));
}

bool IsReservedDelimiter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '\r' || c == '\n' ||
         c == '\t' || c == '\0';
}

absl::StatusOr<Delimiters> ReadDelimiters(absl::string_view bytes) {
  if (bytes.size() < 4 || IsReservedDelimiter(bytes[3])) {
    return Invalid(1, "MSH", "MSH-1: missing field separator after 'MSH'");
  }
  Delimiters d;
  d.field = bytes[3];
  absl::string_view enc = bytes.substr(4);
  enc = enc.substr(0, enc.find_first_of(std::string{d.field, '\r', '\n'}));
  bool ok = enc.size() == 4 || enc.size() == 5;
  for (std::size_t i = 0; ok && i < enc.size(); ++i) {
    ok = !IsReservedDelimiter(enc[i]) && enc[i] != d.field &&
         enc.find(enc[i], i + 1) == absl::string_view::npos;
  }
  if (!ok) {
    return Invalid(1, "MSH",
                   absl::StrCat("MSH-2: encoding characters must be 4 or 5 distinct "
                                "characters, not letters, digits or the field separator; got '",
                                absl::CEscape(enc), "'"));
  }
  d.component = enc[0];
  d.repetition = enc[1];
  d.escape = enc[2];
  d.subcomponent = enc[3];
  return d;
}

bool IsSegmentId(absl::string_view id) {
  return id.size() == 3 && absl::ascii_isupper(static_cast<unsigned char>(id[0])) &&
         (absl::ascii_isupper(static_cast<unsigned char>(id[1])) ||
          absl::ascii_isdigit(static_cast<unsigned char>(id[1]))) &&
         (absl::ascii_isupper(static_cast<unsigned char>(id[2])) ||
          absl::ascii_isdigit(static_cast<unsigned char>(id[2])));
}

Field ParseField(absl::string_view raw, const Delimiters& d) {
  if (raw.empty()) return Field();
  std::vector<Repetition> repetitions;
  for (absl::string_view rep : absl::StrSplit(raw, d.repetition)) {
    std::vector<Component> components;
    for (absl::string_view comp : absl::StrSplit(rep, d.component)) {
      std::vector<std::string> subs;
      for (absl::string_view sub : absl::StrSplit(comp, d.subcomponent)) {
        subs.push_back(Unescape(sub, d));
      }
      components.emplace_back(std::move(subs));
    }
    repetitions.emplace_back(std::move(components));
  }
  return Field(std::move(repetitions));
}

absl::Status CheckControlCharacters(absl::string_view raw, int segment, absl::string_view id,
                                    int field) {
  for (const char c : raw) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      return Invalid(segment, id,
                     absl::StrFormat("%s-%d: control character 0x%02X", id, field,
                                     static_cast<unsigned char>(c)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Segment> ParseSegment(absl::string_view line, int n, const Delimiters& d,
                                     absl::string_view msh2) {
  const std::size_t sep = line.find(d.field);
  const absl::string_view id = line.substr(0, sep);
  if (!IsSegmentId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment ", n, ": segment id '", absl::CEscape(id),
                     "' is not an upper-case letter followed by 2 upper-case letters or "
                     "digits"));
  }
  std::vector<Field> fields;
  absl::string_view rest = sep == absl::string_view::npos ? "" : line.substr(sep + 1);
  int number = 1;
  if (id == "MSH") {
    if (n != 1) {
      return Invalid(n, id, "a second MSH: batches of messages are not supported");
    }
    fields.push_back(Field::Of({std::string(1, d.field)}));
    fields.push_back(Field::Of({std::string(msh2)}));
    rest.remove_prefix(msh2.size());
    if (rest.empty()) return Segment(std::string(id), std::move(fields));
    rest.remove_prefix(1);  // the separator after MSH-2
    number = 3;
  } else if (sep == absl::string_view::npos) {
    return Segment(std::string(id), {});
  }
  for (absl::string_view raw : absl::StrSplit(rest, d.field)) {
    SB_RETURN_IF_ERROR(CheckControlCharacters(raw, n, id, number));
    fields.push_back(ParseField(raw, d));
    ++number;
  }
  return Segment(std::string(id), std::move(fields));
}

// ---- Encoding ------------------------------------------------------------------

template <typename T, typename Fn>
void Join(const std::vector<T>& parts, char sep, std::string& out, Fn append) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    append(parts[i]);
  }
}

void AppendField(const Field& field, std::string& out) {
  Join(field.repetitions(), kStandard.repetition, out, [&](const Repetition& r) {
    Join(r.components(), kStandard.component, out, [&](const Component& c) {
      Join(c.subcomponents(), kStandard.subcomponent, out,
           [&](const std::string& s) { AppendEscaped(s, out); });
    });
  });
}

// ---- Addressing -------------------------------------------------------------------

absl::Status BadPath(absl::string_view path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("path '", path, "': ", why));
}

// Splits "NAME(3)" into "NAME" and 3; `index` keeps its value without parentheses.
bool SplitIndex(absl::string_view part, absl::string_view& name, int& index) {
  const std::size_t open = part.find('(');
  name = part.substr(0, open);
  if (open == absl::string_view::npos) return true;
  if (!absl::EndsWith(part, ")")) return false;
  return absl::SimpleAtoi(part.substr(open + 1, part.size() - open - 2), &index) && index >= 1;
}

bool Position(absl::string_view text, int& out) { return absl::SimpleAtoi(text, &out) && out >= 1; }

}  // namespace

// ---- Model ---------------------------------------------------------------------------

Component::Component(std::vector<std::string> subcomponents)
    : subcomponents_(std::move(subcomponents)) {
  TrimTrailing(subcomponents_, [](const std::string& s) { return s.empty(); });
}

const std::string& Component::subcomponent(int s) const { return At(subcomponents_, s); }

Repetition::Repetition(std::vector<Component> components) : components_(std::move(components)) {
  TrimTrailing(components_, [](const Component& c) { return c.empty(); });
}

Repetition Repetition::Of(std::vector<std::string> components) {
  std::vector<Component> parts;
  parts.reserve(components.size());
  for (std::string& c : components) {
    parts.emplace_back(std::vector<std::string>{std::move(c)});
  }
  return Repetition(std::move(parts));
}

const Component& Repetition::component(int c) const { return At(components_, c); }

Field::Field(std::vector<Repetition> repetitions) : repetitions_(std::move(repetitions)) {
  TrimTrailing(repetitions_, [](const Repetition& r) { return r.empty(); });
}

Field Field::Of(std::vector<std::string> components) {
  return Field({Repetition::Of(std::move(components))});
}

const Repetition& Field::repetition(int r) const { return At(repetitions_, r); }

bool Field::IsNull() const {
  return repetitions_.size() == 1 && repetitions_[0].components().size() == 1 &&
         repetitions_[0].component(1).subcomponents().size() == 1 && hl7v2::IsNull(value());
}

Segment::Segment(std::string id, std::vector<Field> fields)
    : id_(std::move(id)), fields_(std::move(fields)) {
  TrimTrailing(fields_, [](const Field& f) { return f.empty(); });
}

const Field& Segment::field(int f) const { return At(fields_, f); }

const Segment* Message::FindSegment(absl::string_view id, int occurrence) const {
  for (const Segment& s : segments_) {
    if (s.id() == id && --occurrence == 0) return &s;
  }
  return nullptr;
}

const Segment& Message::segment(absl::string_view id, int occurrence) const {
  const Segment* s = FindSegment(id, occurrence);
  return s != nullptr ? *s : EmptyValue<Segment>();
}

absl::StatusOr<std::string> Get(const Message& message, absl::string_view path) {
  const std::size_t dash = path.find('-');
  if (dash == absl::string_view::npos) return BadPath(path, "expected SEG-FIELD");
  absl::string_view id;
  int occurrence = 1;
  if (!SplitIndex(path.substr(0, dash), id, occurrence) || id.empty()) {
    return BadPath(path, "expected a segment id with an optional (occurrence >= 1)");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(path.substr(dash + 1), '.');
  if (parts.size() > 3) return BadPath(path, "more than FIELD.COMPONENT.SUBCOMPONENT");
  absl::string_view field_text;
  int field = 0;
  int repetition = 1;
  int component = 1;
  int subcomponent = 1;
  if (!SplitIndex(parts[0], field_text, repetition) || !Position(field_text, field)) {
    return BadPath(path, "expected a field number >= 1 with an optional (repetition >= 1)");
  }
  if ((parts.size() > 1 && !Position(parts[1], component)) ||
      (parts.size() > 2 && !Position(parts[2], subcomponent))) {
    return BadPath(path, "component and subcomponent must be numbers >= 1");
  }
  return message.segment(id, occurrence)
      .field(field)
      .repetition(repetition)
      .component(component)
      .subcomponent(subcomponent);
}

absl::StatusOr<Message> ParseEr7(absl::string_view bytes, const ParseOptions& options) {
  if (bytes.size() > options.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("bytes: ", bytes.size(), " bytes is over the limit of ", options.max_bytes));
  }
  if (!absl::StartsWith(bytes, "MSH")) {
    return absl::InvalidArgumentError("bytes: does not start with MSH");
  }
  SB_ASSIGN_OR_RETURN(const Delimiters d, ReadDelimiters(bytes));
  // ReadDelimiters checked that MSH-2 follows "MSH|" and holds no terminator.
  const absl::string_view msh2 =
      bytes.substr(4, bytes.substr(4).find_first_of(std::string{d.field, '\r', '\n'}));

  std::vector<Segment> segments;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(bytes, absl::ByAnyChar("\r\n"))) {
    if (line.empty()) continue;  // \r\n pairs, blank lines, the trailing terminator
    if (++n > options.max_segments) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment ", n, ": over the limit of ", options.max_segments, " segments"));
    }
    SB_ASSIGN_OR_RETURN(Segment segment, ParseSegment(line, n, d, msh2));
    segments.push_back(std::move(segment));
  }
  return Message(std::move(segments));
}

std::string EncodeEr7(const Message& message) {
  std::string out;
  for (const Segment& segment : message.segments()) {
    out += segment.id();
    int first = 1;
    if (segment.id() == "MSH") {
      out += "|^~\\&";
      if (segment.field(2).value().size() == 5) out += '#';
      first = 3;
    }
    const std::vector<Field>& fields = segment.fields();
    for (std::size_t f = first; f <= fields.size(); ++f) {
      out += kStandard.field;
      AppendField(fields[f - 1], out);
    }
    out += '\r';
  }
  return out;
}

namespace {

absl::string_view AckCodeText(AckCode code) {
  switch (code) {
    case AckCode::kAccept:
      return "AA";
    case AckCode::kError:
      return "AE";
    case AckCode::kReject:
      return "AR";
  }
  return "AR";
}

absl::string_view SeverityText(ErrSeverity severity) {
  switch (severity) {
    case ErrSeverity::kError:
      return "E";
    case ErrSeverity::kWarning:
      return "W";
    case ErrSeverity::kInformation:
      return "I";
  }
  return "E";
}

// The description HL7 table 0357 gives each code (ERR-3.2).
absl::string_view ErrorCodeText(Hl7ErrorCode code) {
  switch (code) {
    case Hl7ErrorCode::kSegmentSequenceError:
      return "Segment sequence error";
    case Hl7ErrorCode::kRequiredFieldMissing:
      return "Required field missing";
    case Hl7ErrorCode::kDataTypeError:
      return "Data type error";
    case Hl7ErrorCode::kTableValueNotFound:
      return "Table value not found";
    case Hl7ErrorCode::kUnsupportedMessageType:
      return "Unsupported message type";
    case Hl7ErrorCode::kUnsupportedEventCode:
      return "Unsupported event code";
    case Hl7ErrorCode::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case Hl7ErrorCode::kUnsupportedVersionId:
      return "Unsupported version id";
    case Hl7ErrorCode::kUnknownKeyIdentifier:
      return "Unknown key identifier";
    case Hl7ErrorCode::kDuplicateKeyIdentifier:
      return "Duplicate key identifier";
    case Hl7ErrorCode::kApplicationRecordLocked:
      return "Application record locked";
    case Hl7ErrorCode::kApplicationInternalError:
      return "Application internal error";
  }
  return "";
}

std::string PositionText(int position) { return position > 0 ? absl::StrCat(position) : ""; }

Segment ErrSegment(const ErrEntry& e) {
  std::vector<Field> fields(8);
  // ERR-1 (ELD) is kept for backward compatibility only in v2.5: left empty.
  fields[1] = Field::Of({e.segment_id, PositionText(e.segment_sequence), PositionText(e.field),
                         PositionText(e.repetition), PositionText(e.component),
                         PositionText(e.subcomponent)});
  fields[2] = Field::Of(
      {absl::StrCat(static_cast<int>(e.code)), std::string(ErrorCodeText(e.code)), "HL70357"});
  fields[3] = Field::Of({std::string(SeverityText(e.severity))});
  fields[7] = Field::Of({e.user_message});
  return Segment("ERR", std::move(fields));
}

}  // namespace

Message MakeAck(const Message& in, AckCode code, absl::string_view control_id, absl::Time now,
                const std::vector<ErrEntry>& errors) {
  const Segment& msh = in.segment("MSH");
  std::vector<Field> header(12);
  header[0] = Field::Of({"|"});
  header[1] = Field::Of({"^~\\&"});
  header[2] = msh.field(5);  // sending application <- receiving application
  header[3] = msh.field(6);  // sending facility <- receiving facility
  header[4] = msh.field(3);
  header[5] = msh.field(4);
  header[6] = Field::Of({absl::FormatTime("%Y%m%d%H%M%S+0000", now, absl::UTCTimeZone())});
  header[8] = Field::Of({"ACK", msh.field(9).component(2).value(), "ACK"});
  header[9] = Field::Of({std::string(control_id)});
  header[10] = msh.field(11);
  header[11] = msh.field(12);

  std::vector<Segment> segments;
  segments.reserve(2 + errors.size());
  segments.emplace_back("MSH", std::move(header));
  segments.emplace_back(
      "MSA", std::vector<Field>{Field::Of({std::string(AckCodeText(code))}), msh.field(10)});
  for (const ErrEntry& e : errors) {
    segments.push_back(ErrSegment(e));
  }
  return Message(std::move(segments));
}

}  // namespace switchboard::adapters::hl7v2
