// HL7 v2.5 ER7 ("pipe and hat") messages: a value model, a parser, an encoder and an
// ACK builder. Pure: no I/O, no canonical model. MLLP framing (0x0B ... 0x1C 0x0D) is
// the transport's business and must be stripped before ParseEr7.
//
// Model. A Message is a list of Segments; a Segment has a 3-character id and fields
// numbered from 1 as HL7 numbers them (for MSH, field 1 is the field separator itself
// and field 2 the encoding characters, both held literally); a Field has
// repetitions, a Repetition has components, a Component has subcomponents, and a
// subcomponent is a string with escape sequences already decoded.
//
// Canonical form. Constructors drop trailing empty parts at every level (an empty
// subcomponent, a component/repetition/field with no parts), because ER7 cannot tell
// "a^" from "a": both mean component 2 is not present. So == compares exactly what
// ER7 can express, and Parse(Encode(m)) == m for every m that ParseEr7 could have
// produced (first segment MSH and no other, valid segment ids) whose MSH-1/MSH-2 are
// the standard ones (Encode always writes `|^~\&`).
//
// Absent versus null. Accessors return empty for anything not present. HL7's explicit
// null (the two characters `""`, "delete this value") is kept as that literal value;
// IsNull() tells it apart from absence.
//
// Thread-safety: every type is a value type; const methods may be called
// concurrently. All functions are pure and thread-safe.
#ifndef SWITCHBOARD_ADAPTERS_HL7V2_ER7_H_
#define SWITCHBOARD_ADAPTERS_HL7V2_ER7_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::adapters::hl7v2 {

// HL7's explicit null: the value `""`.
inline constexpr absl::string_view kNull = "\"\"";
inline bool IsNull(absl::string_view value) { return value == kNull; }

// Positions are 1-based everywhere; position 0 or past the end reads as absent.
class Component {
 public:
  Component() = default;
  explicit Component(std::vector<std::string> subcomponents);

  // The decoded subcomponent, or "" when absent.
  const std::string& subcomponent(int s) const;
  // Subcomponent 1: the whole value of a component that has no subcomponents.
  const std::string& value() const { return subcomponent(1); }
  const std::vector<std::string>& subcomponents() const { return subcomponents_; }
  bool empty() const { return subcomponents_.empty(); }

  bool operator==(const Component&) const = default;

 private:
  std::vector<std::string> subcomponents_;  // no trailing ""
};

class Repetition {
 public:
  Repetition() = default;
  explicit Repetition(std::vector<Component> components);
  // One component per string, each without subcomponents (a "^"-joined value).
  static Repetition Of(std::vector<std::string> components);

  const Component& component(int c) const;
  const std::vector<Component>& components() const { return components_; }
  bool empty() const { return components_.empty(); }

  bool operator==(const Repetition&) const = default;

 private:
  std::vector<Component> components_;  // no trailing empty component
};

class Field {
 public:
  Field() = default;
  explicit Field(std::vector<Repetition> repetitions);
  // A field with one repetition holding `components` (see Repetition::Of).
  static Field Of(std::vector<std::string> components);

  const Repetition& repetition(int r) const;
  // Shorthands for repetition 1.
  const Component& component(int c) const { return repetition(1).component(c); }
  const std::string& value() const { return component(1).value(); }
  // True when the field is exactly HL7's explicit null `""`.
  bool IsNull() const;
  const std::vector<Repetition>& repetitions() const { return repetitions_; }
  bool empty() const { return repetitions_.empty(); }

  bool operator==(const Field&) const = default;

 private:
  std::vector<Repetition> repetitions_;  // no trailing empty repetition
};

class Segment {
 public:
  Segment() = default;
  // fields[0] is field 1. For MSH that is the field separator, fields[1] MSH-2.
  Segment(std::string id, std::vector<Field> fields);

  const std::string& id() const { return id_; }
  const Field& field(int f) const;
  const std::vector<Field>& fields() const { return fields_; }

  bool operator==(const Segment&) const = default;

 private:
  std::string id_;
  std::vector<Field> fields_;  // no trailing empty field
};

class Message {
 public:
  Message() = default;
  explicit Message(std::vector<Segment> segments) : segments_(std::move(segments)) {}

  // The `occurrence`-th (1-based) segment with this id, or nullptr.
  const Segment* FindSegment(absl::string_view id, int occurrence = 1) const;
  // Same, but an empty segment when absent, for chained reads:
  //   m.segment("PID").field(3).repetition(2).component(4).subcomponent(2)
  const Segment& segment(absl::string_view id, int occurrence = 1) const;
  const std::vector<Segment>& segments() const { return segments_; }

  bool operator==(const Message&) const = default;

 private:
  std::vector<Segment> segments_;
};

// Reads one value by HL7 address `SEG[(occurrence)]-FIELD[(repetition)][.COMP[.SUB]]`,
// e.g. "PID-3(2).4.2", "OBX(3)-5", "MSH-9.2". Omitted positions default to 1, so
// "PID-5" is the first subcomponent of the first component of the first repetition.
// OK with "" when the value is absent; INVALID_ARGUMENT "path 'X': ..." when the
// address is malformed (positions must be integers >= 1).
absl::StatusOr<std::string> Get(const Message& message, absl::string_view path);

struct ParseOptions {
  // Worst-case memory is about 32 bytes per input byte (a run like "&a&a&a").
  std::size_t max_bytes = 4 << 20;
  int max_segments = 5000;
};

// Parses one ER7 message. Delimiters come from MSH-1 (field separator) and MSH-2
// (component, repetition, escape, subcomponent; a fifth character, v2.7's truncation
// character, is accepted and kept in MSH-2 but has no meaning here). Segments may end
// in \r, \n or \r\n; blank segments (e.g. a trailing terminator) are skipped.
//
// Escape sequences are decoded in every value: \F\ \S\ \T\ \R\ \E\ (delimiters),
// \Xhh..\ (bytes), \.br\ (newline); \H\ and \N\ (highlighting) are dropped. Anything
// else (\.sp\, \Cxxyy\, \Zxx\, unknown or unterminated sequences, odd-length \X\) is
// kept literally, as a lenient receiver should.
//
// INVALID_ARGUMENT, naming the place, when:
//   - the input is over options.max_bytes or has over options.max_segments segments;
//   - it does not start with MSH, or a later segment is MSH (batches are unsupported);
//   - MSH-1 is missing or is a letter, digit, space or line break;
//   - MSH-2 is not 4 or 5 distinct such characters, all different from MSH-1;
//   - a segment id is not an upper-case letter followed by 2 upper-case letters or
//     digits ("segment 3: segment id 'P1' is not ...");
//   - a value holds a control character other than tab (often leftover MLLP framing):
//     "segment 2 (PID): PID-5: control character 0x0B".
absl::StatusOr<Message> ParseEr7(absl::string_view bytes,
                                 const ParseOptions& options = ParseOptions());

// Encodes with the standard delimiters `|^~\&` (plus '#' when MSH-2 held a fifth
// character), each segment ending in \r. In values, delimiter characters become
// \F\ \S\ \T\ \R\ \E\, '\n' becomes \.br\ and '\r' becomes \X0D\. MSH-1 and MSH-2
// of the model are not written as such: they describe the delimiters of the input.
std::string EncodeEr7(const Message& message);

// MSA-1.
enum class AckCode { kAccept /* AA */, kError /* AE */, kReject /* AR */ };

// ERR-3, HL7 table 0357 (message error condition codes).
enum class Hl7ErrorCode {
  kSegmentSequenceError = 100,
  kRequiredFieldMissing = 101,
  kDataTypeError = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kUnknownKeyIdentifier = 204,
  kDuplicateKeyIdentifier = 205,
  kApplicationRecordLocked = 206,
  kApplicationInternalError = 207,
};

// ERR-4, HL7 table 0516.
enum class ErrSeverity { kError /* E */, kWarning /* W */, kInformation /* I */ };

// One ERR segment. The location is ERR-2 (data type ERL); zero positions and an empty
// segment id are left out, so a default location means "the message as a whole".
struct ErrEntry {
  std::string segment_id;    // ERL.1, e.g. "PID"
  int segment_sequence = 0;  // ERL.2, occurrence of that segment id, 1-based
  int field = 0;             // ERL.3
  int repetition = 0;        // ERL.4
  int component = 0;         // ERL.5
  int subcomponent = 0;      // ERL.6
  Hl7ErrorCode code = Hl7ErrorCode::kApplicationInternalError;  // ERR-3
  ErrSeverity severity = ErrSeverity::kError;                   // ERR-4
  std::string user_message;                                     // ERR-8
};

// The ACK answering `in`: MSH with MSH-3/4 and MSH-5/6 swapped, MSH-7 `now` (UTC),
// MSH-9 `ACK^<in's MSH-9.2>^ACK`, MSH-10 `control_id`, MSH-11/12 copied; MSA-1
// `code`, MSA-2 in's MSH-10; then one ERR per entry. Never fails: a malformed `in`
// gives empty copied fields.
Message MakeAck(const Message& in, AckCode code, absl::string_view control_id, absl::Time now,
                const std::vector<ErrEntry>& errors);

}  // namespace switchboard::adapters::hl7v2

#endif  // SWITCHBOARD_ADAPTERS_HL7V2_ER7_H_
