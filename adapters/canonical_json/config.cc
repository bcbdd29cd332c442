#include "adapters/canonical_json/config.h"

#include "absl/strings/str_cat.h"
#include "adapters/canonical_json/canonical_json_adapter.h"

namespace switchboard::adapters::canonical_json {

std::string CanonicalJsonFactory::config_type() const {
  return v1::adapters::CanonicalJsonConfig::descriptor()->full_name();
}

absl::StatusOr<std::unique_ptr<Adapter>> CanonicalJsonFactory::Create(
    const google::protobuf::Any& config) const {
  v1::adapters::CanonicalJsonConfig typed;
  if (!config.UnpackTo(&typed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter '", name(), "': config is '", config.type_url(), "', expected ", config_type()));
  }
  return std::make_unique<CanonicalJsonAdapter>(std::move(typed));
}

}  // namespace switchboard::adapters::canonical_json
