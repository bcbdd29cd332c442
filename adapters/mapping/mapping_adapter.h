// The mapping adapter: a declarative, config-driven translation between a
// partner's own JSON and the canonical Message (config and path dialects in
// schemas/switchboard/v1/adapters/mapping.proto). The config is validated and
// compiled once by Create(); Decode/Encode then only apply it. Pure translation;
// thread-safe for concurrent const calls.
#ifndef SWITCHBOARD_ADAPTERS_MAPPING_MAPPING_ADAPTER_H_
#define SWITCHBOARD_ADAPTERS_MAPPING_MAPPING_ADAPTER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "adapters/mapping/field_path.h"
#include "adapters/mapping/json_path.h"
#include "switchboard/v1/adapters/mapping.pb.h"

namespace switchboard::adapters::mapping {

inline constexpr char kDefaultContentType[] = "application/json";

class MappingAdapter final : public Adapter {
 public:
  // Validates and compiles `config`. INVALID_ARGUMENT naming the rule index and
  // the offending part (`rules[2].field 'case_note.sectons[*].title': ...`) when:
  // a field does not resolve against switchboard.v1.Message; a json_path does not
  // parse; `[*]` appears in one path of a rule but not the other; date_format or
  // time_zone is on a non-Timestamp field or the zone is unknown; a value map lists
  // a partner code twice, or a default is given without a value map; a constant
  // has a json_path, value map or `[*]`, or does not convert to the field's type;
  // two rules map the same field or the same JSON path; rules map two different
  // payloads.
  static absl::StatusOr<std::unique_ptr<MappingAdapter>> Create(v1::adapters::MappingConfig config);

  // INVALID_ARGUMENT, naming the JSON path with `[*]` resolved
  // (`$.notes[1].heading: ...`): malformed JSON ("json: ..."), a content type
  // other than the configured one, a required value absent or null, an object or
  // array where a value is expected, a partner code not in the value map (and no
  // default_canonical), a date not matching the format, a value not converting to
  // the field's type. Unmapped JSON members are ignored, as are absent optional
  // values (an absent `[*]` array yields no elements).
  absl::StatusOr<v1::Message> Decode(absl::string_view content_type,
                                     absl::string_view bytes) const override;

  // Writes every mapped, set field; keys in sorted order, no whitespace, so equal
  // messages give equal bytes. Constants are not written. INVALID_ARGUMENT naming
  // the canonical field: a required field unset, a canonical value with no partner
  // code (and no default_partner), a field differing from its rule's constant
  // (this mapping cannot express that message), two rules writing one JSON place.
  absl::StatusOr<PartnerPayload> Encode(const v1::Message& message) const override;

 private:
  struct Rule {
    int index = 0;
    v1::adapters::MappingConfig::FieldRule config;
    std::optional<JsonPath> json_path;  // Absent for constants.
    FieldPath field;
    absl::flat_hash_map<std::string, std::string> to_canonical;
    absl::flat_hash_map<std::string, std::string> to_partner;
    absl::TimeZone time_zone;
    std::optional<Scalar> constant;  // As it reads back from a message.
  };

  MappingAdapter(v1::adapters::MappingConfig config, std::vector<Rule> rules);

  static absl::StatusOr<Rule> CompileRule(const v1::adapters::MappingConfig::FieldRule& config,
                                          int index);
  // Partner value (as read from JSON, or a constant) -> canonical, written into
  // `message`. Errors carry no location; callers prefix it.
  static absl::Status ApplyValue(const Rule& rule, const Scalar& partner, int wildcard_index,
                                 v1::Message* message);
  // Canonical value -> the value written to JSON.
  static absl::StatusOr<Scalar> ToPartner(const Rule& rule, const Scalar& canonical);

  // Constant after construction.
  const v1::adapters::MappingConfig config_;
  const std::vector<Rule> rules_;
};

}  // namespace switchboard::adapters::mapping

#endif  // SWITCHBOARD_ADAPTERS_MAPPING_MAPPING_ADAPTER_H_
