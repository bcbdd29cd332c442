// Reading FHIR R4 JSON with paths: typed access to members of a RapidJSON object
// that names the element (`Bundle.entry[2].resource(Encounter).period.end`) in
// every error, records the elements nobody asked for, converts FHIR's primitive
// formats (dateTime/instant, xhtml) and reads the common datatypes (Coding,
// Period, logical References). Pure helpers for the FHIR adapter's decoders.
// Thread-safety: a JsonObject and its IgnoredElements belong to one Decode call.
#ifndef SWITCHBOARD_ADAPTERS_FHIR_FHIR_JSON_H_
#define SWITCHBOARD_ADAPTERS_FHIR_FHIR_JSON_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "rapidjson/document.h"
#include "switchboard/v1/common.pb.h"

namespace switchboard::adapters::fhir::internal {

// INVALID_ARGUMENT `<path>: <what>`.
absl::Status Invalid(absl::string_view path, absl::string_view what);

// A JSON object at a FHIR path. Reading a member through it marks the member as
// known; Finish() adds the paths of the members never read to `ignored`.
class JsonObject {
 public:
  // INVALID_ARGUMENT `<path>: expected a JSON object` unless `value` is one.
  static absl::StatusOr<JsonObject> At(const rapidjson::Value& value, std::string path,
                                       std::vector<std::string>* ignored);

  const std::string& path() const { return path_; }
  std::string PathOf(absl::string_view member) const { return path_ + "." + std::string(member); }

  bool Has(absl::string_view member);
  // Empty when absent; INVALID_ARGUMENT when present and not a string.
  absl::StatusOr<std::string> String(absl::string_view member);
  // As String, but INVALID_ARGUMENT `<path>.<member>: required` when absent or empty.
  absl::StatusOr<std::string> RequiredString(absl::string_view member);
  // A FHIR integer (32-bit): nullopt when absent; INVALID_ARGUMENT when present
  // and not a JSON integer in that range.
  absl::StatusOr<std::optional<int32_t>> Integer(absl::string_view member);
  // nullopt when absent; INVALID_ARGUMENT when present and not an object.
  absl::StatusOr<std::optional<JsonObject>> Object(absl::string_view member);
  // The objects of an array member (none when absent), with paths `member[i]`.
  // INVALID_ARGUMENT when present and not an array of objects.
  absl::StatusOr<std::vector<JsonObject>> Array(absl::string_view member);
  // Marks members as read without reading them (elements that are known and
  // deliberately not mapped, e.g. `resourceType` once dispatched on).
  void Skip(std::initializer_list<absl::string_view> members);
  // Records every member not read so far as ignored. Call once, when done.
  void Finish();

  const rapidjson::Value& value() const { return *value_; }

 private:
  JsonObject(const rapidjson::Value& value, std::string path, std::vector<std::string>* ignored)
      : value_(&value), path_(std::move(path)), ignored_(ignored) {}
  const rapidjson::Value* Find(absl::string_view member);

  const rapidjson::Value* value_;
  std::string path_;
  std::vector<std::string>* ignored_;
  std::vector<std::string> read_;
};

// FHIR dateTime/instant with a time and a zone: YYYY-MM-DDThh:mm:ss[.s+](Z|+hh:mm).
// Partial dates are refused: the canonical fields are instants and would need a
// guessed time. INVALID_ARGUMENT `<path>: '<value>' is not a FHIR dateTime ...`.
absl::StatusOr<google::protobuf::Timestamp> ParseDateTime(absl::string_view path,
                                                          absl::string_view value);
// RFC 3339 in UTC (`2024-03-12T14:25:00Z`, fractions only when non-zero).
std::string FormatDateTime(const google::protobuf::Timestamp& ts);
// A full FHIR date (YYYY-MM-DD) as 00:00 UTC of that day. INVALID_ARGUMENT
// `<path>: '<value>' is not a FHIR date ...` for partial or invalid dates.
absl::StatusOr<google::protobuf::Timestamp> ParseDate(absl::string_view path,
                                                      absl::string_view value);
// The UTC day of `ts` as a FHIR date (YYYY-MM-DD).
std::string FormatDate(const google::protobuf::Timestamp& ts);

// The text of a narrative `div`: tags removed, entities decoded, whitespace
// collapsed as a browser would; <br>, </p>, </div>, </li>, </h1-6>, </tr> end a
// line; lines are trimmed and empty ones dropped.
std::string XhtmlToText(absl::string_view div);
// A narrative `div` for plain text: escaped, one `<br/>` per line break.
std::string TextToXhtml(absl::string_view text);

// --- FHIR datatypes. Each reads the members it maps, marks the known ones it
// does not map as read, and calls Finish() on the objects it opens.

// A Coding as a label: system, code (required), display.
absl::StatusOr<v1::SecurityLabel> ReadCoding(JsonObject& coding);
// `identifier.value` of a Reference; empty when it has none.
absl::StatusOr<std::string> IdentifierValue(JsonObject& reference);
// `coding[0].code` of a CodeableConcept, else its `text`.
absl::StatusOr<std::string> FirstCode(JsonObject& concept_json);
// `<member>[0].text` (CodeableConcept or Annotation) of `parent`; empty if absent.
absl::StatusOr<std::string> FirstText(JsonObject& parent, absl::string_view member);
// The Period `parent.<member>` (start, end as ParseDateTime); nullopt when absent.
absl::StatusOr<std::optional<v1::Period>> ReadPeriod(JsonObject& parent, absl::string_view member);

}  // namespace switchboard::adapters::fhir::internal

#endif  // SWITCHBOARD_ADAPTERS_FHIR_FHIR_JSON_H_
