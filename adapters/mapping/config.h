// Factory of the `switchboard.adapters.mapping` adapter type (config:
// switchboard.v1.adapters.MappingConfig). Stateless; thread-safe.
#ifndef SWITCHBOARD_ADAPTERS_MAPPING_CONFIG_H_
#define SWITCHBOARD_ADAPTERS_MAPPING_CONFIG_H_

#include "adapters/adapter.h"

namespace switchboard::adapters::mapping {

class MappingFactory final : public AdapterFactory {
 public:
  std::string name() const override { return "switchboard.adapters.mapping"; }
  std::string config_type() const override;
  // INVALID_ARGUMENT if `config` is not a MappingConfig or fails
  // MappingAdapter::Create's validation (the message names the rule and part).
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Any& config) const override;
};

}  // namespace switchboard::adapters::mapping

#endif  // SWITCHBOARD_ADAPTERS_MAPPING_CONFIG_H_
