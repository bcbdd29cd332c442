#include "adapters/mapping/config.h"

#include "absl/strings/str_cat.h"
#include "adapters/mapping/mapping_adapter.h"

namespace switchboard::adapters::mapping {

std::string MappingFactory::config_type() const {
  return v1::adapters::MappingConfig::descriptor()->full_name();
}

absl::StatusOr<std::unique_ptr<Adapter>> MappingFactory::Create(
    const google::protobuf::Any& config) const {
  v1::adapters::MappingConfig typed;
  if (!config.UnpackTo(&typed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter '", name(), "': config is '", config.type_url(), "', expected ", config_type()));
  }
  absl::StatusOr<std::unique_ptr<MappingAdapter>> adapter =
      MappingAdapter::Create(std::move(typed));
  if (!adapter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter '", name(), "': ", adapter.status().message()));
  }
  return std::unique_ptr<Adapter>(*std::move(adapter));
}

}  // namespace switchboard::adapters::mapping
