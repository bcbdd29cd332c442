// Factory of the `switchboard.adapters.canonical_json` adapter type.
#ifndef SWITCHBOARD_ADAPTERS_CANONICAL_JSON_CONFIG_H_
#define SWITCHBOARD_ADAPTERS_CANONICAL_JSON_CONFIG_H_

#include "adapters/adapter.h"

namespace switchboard::adapters::canonical_json {

class CanonicalJsonFactory final : public AdapterFactory {
 public:
  std::string name() const override { return "switchboard.adapters.canonical_json"; }
  std::string config_type() const override;
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Any& config) const override;
};

}  // namespace switchboard::adapters::canonical_json

#endif  // SWITCHBOARD_ADAPTERS_CANONICAL_JSON_CONFIG_H_
