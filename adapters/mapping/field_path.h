// Canonical field paths of the mapping adapter (`header.client.value`,
// `case_note.sections[*].title`, dialect in
// schemas/switchboard/v1/adapters/mapping.proto), resolved once against a message
// descriptor and then read and written with protobuf reflection. Pure; thread-safe
// for concurrent const calls.
#ifndef SWITCHBOARD_ADAPTERS_MAPPING_FIELD_PATH_H_
#define SWITCHBOARD_ADAPTERS_MAPPING_FIELD_PATH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace switchboard::adapters::mapping {

// A leaf value on its way between JSON and a message. Enums travel as their value
// name (std::string); Timestamps as absl::Time.
using Scalar = std::variant<std::string, int64_t, uint64_t, double, bool, absl::Time>;

// The value as text, e.g. for value-map lookups and messages. absl::Time in RFC 3339.
std::string ScalarText(const Scalar& value);

class FieldPath {
 public:
  struct Step {
    enum class Kind { kSingular, kIndex, kWildcard };
    const google::protobuf::FieldDescriptor* field = nullptr;
    Kind kind = Kind::kSingular;
    int index = 0;  // kIndex only.
  };

  // INVALID_ARGUMENT naming the segment if a name is not a field of the message it
  // is looked up in, a repeated field lacks `[N]`/`[*]` (or a singular one has
  // one), a map field is named, there is more than one `[*]`, or the path does not
  // end at a scalar or google.protobuf.Timestamp.
  static absl::StatusOr<FieldPath> Parse(absl::string_view text,
                                         const google::protobuf::Descriptor* root);

  const std::vector<Step>& steps() const { return steps_; }
  const google::protobuf::FieldDescriptor* leaf() const { return steps_.back().field; }
  bool leaf_is_timestamp() const;
  bool has_wildcard() const { return wildcard_ >= 0; }
  // The path as written, `[*]` shown as `[wildcard_index]` when that is >= 0.
  std::string ToString(int wildcard_index = -1) const;
  // The path up to and including the `[*]` field, without the `[*]`
  // (`case_note.sections`); the whole path if there is none.
  std::string WildcardFieldName() const;

  // Elements of the `[*]` field in `root`; 0 when a parent is unset.
  int WildcardSize(const google::protobuf::Message& root) const;

  // The leaf value, reading `[*]` as `[wildcard_index]`. nullopt when it or a
  // parent is unset (proto3: a scalar at its default counts as unset).
  std::optional<Scalar> Get(const google::protobuf::Message& root, int wildcard_index) const;

  // Writes the leaf, creating parents and repeated elements as needed.
  // INVALID_ARGUMENT (message without the path, which the caller adds) if `value`
  // does not convert to the field's type: a non-numeric string for an integer, an
  // out-of-range number, an unknown enum value name, a non-time for a Timestamp.
  absl::Status Set(google::protobuf::Message* root, int wildcard_index, const Scalar& value) const;

 private:
  std::string text_;
  std::vector<Step> steps_;
  int wildcard_ = -1;
};

}  // namespace switchboard::adapters::mapping

#endif  // SWITCHBOARD_ADAPTERS_MAPPING_FIELD_PATH_H_
