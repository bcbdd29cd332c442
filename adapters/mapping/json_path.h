// The small JSON path dialect of the mapping adapter (documented in
// schemas/switchboard/v1/adapters/mapping.proto): `$`, `.name`, `[N]`, `[*]`.
// Parsing, formatting and lookup in a RapidJSON document. Pure; thread-safe.
#ifndef SWITCHBOARD_ADAPTERS_MAPPING_JSON_PATH_H_
#define SWITCHBOARD_ADAPTERS_MAPPING_JSON_PATH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rapidjson/document.h"

namespace switchboard::adapters::mapping {

struct JsonPathSegment {
  enum class Kind { kMember, kIndex, kWildcard };
  Kind kind = Kind::kMember;
  std::string name;  // kMember only.
  int index = 0;     // kIndex only.
};

class JsonPath {
 public:
  // INVALID_ARGUMENT naming the offending character position if `text` is not in
  // the dialect (no leading `$`, an empty member name, a bad index, more than one
  // `[*]`).
  static absl::StatusOr<JsonPath> Parse(absl::string_view text);

  const std::vector<JsonPathSegment>& segments() const { return segments_; }
  bool has_wildcard() const { return wildcard_ >= 0; }
  // Position of the `[*]` segment; -1 if none.
  int wildcard() const { return wildcard_; }

  // The path with `[*]` shown as `[wildcard_index]` (or `[*]` when negative),
  // for error messages: `$.notes[1].heading`.
  std::string ToString(int wildcard_index = -1) const;

  // The value at this path, reading `[*]` as `[wildcard_index]`; only the first
  // `end` segments when `end` >= 0. nullptr if any step is absent or of the wrong
  // JSON type (a missing value is not an error here: the caller decides).
  const rapidjson::Value* Find(const rapidjson::Value& root, int wildcard_index,
                               int end = -1) const;

 private:
  std::vector<JsonPathSegment> segments_;
  int wildcard_ = -1;
};

}  // namespace switchboard::adapters::mapping

#endif  // SWITCHBOARD_ADAPTERS_MAPPING_JSON_PATH_H_
