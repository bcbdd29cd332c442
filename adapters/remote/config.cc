#include "adapters/remote/config.h"

#include "absl/strings/str_cat.h"
#include "adapters/remote/remote_adapter.h"

namespace switchboard::adapters::remote {

std::string RemoteFactory::config_type() const {
  return v1::adapters::RemoteAdapterConfig::descriptor()->full_name();
}

absl::StatusOr<std::unique_ptr<Adapter>> RemoteFactory::Create(
    const google::protobuf::Any& config) const {
  v1::adapters::RemoteAdapterConfig typed;
  if (!config.UnpackTo(&typed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter '", name(), "': config is '", config.type_url(), "', expected ", config_type()));
  }
  absl::StatusOr<std::unique_ptr<RemoteAdapter>> adapter = RemoteAdapter::Create(std::move(typed));
  if (!adapter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter '", name(), "': ", adapter.status().message()));
  }
  return std::unique_ptr<Adapter>(*std::move(adapter));
}

}  // namespace switchboard::adapters::remote
