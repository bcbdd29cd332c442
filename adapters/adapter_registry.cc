#include "adapters/adapter_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "adapters/canonical_json/config.h"
#include "adapters/fhir/fhir_adapter.h"
#include "adapters/hl7v2/hl7v2_adapter.h"
#include "adapters/mapping/config.h"
#include "adapters/remote/config.h"

namespace switchboard::adapters {

absl::Status AdapterRegistry::Register(std::unique_ptr<AdapterFactory> factory) {
  const std::string name = factory->name();
  const std::string config_type = factory->config_type();
  if (name.empty() || config_type.empty()) {
    return absl::InvalidArgumentError("adapter factory: name and config type are required");
  }
  if (by_name_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("adapter type '", name, "' is already registered"));
  }
  if (by_config_type_.contains(config_type)) {
    return absl::AlreadyExistsError(
        absl::StrCat("config type '", config_type, "' is already taken by adapter type '",
                     by_config_type_[config_type]->name(), "'"));
  }
  by_name_[name] = factory.get();
  by_config_type_[config_type] = factory.get();
  factories_.push_back(std::move(factory));
  return absl::OkStatus();
}

const AdapterFactory* AdapterRegistry::FindByName(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const AdapterFactory* AdapterRegistry::FindByConfigType(absl::string_view config_type) const {
  auto it = by_config_type_.find(config_type);
  return it == by_config_type_.end() ? nullptr : it->second;
}

absl::StatusOr<std::unique_ptr<Adapter>> AdapterRegistry::Create(
    const google::protobuf::Any& config) const {
  std::string type_url = config.type_url();
  const std::string type = type_url.substr(type_url.rfind('/') + 1);
  const AdapterFactory* factory = FindByConfigType(type);
  if (factory == nullptr) {
    return absl::NotFoundError(absl::StrCat("no adapter type takes config '", type, "'"));
  }
  return factory->Create(config);
}

std::vector<std::string> AdapterRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& f : factories_) names.push_back(f->name());
  std::sort(names.begin(), names.end());
  return names;
}

void RegisterBuiltinAdapters(AdapterRegistry& registry) {
  // Each built-in type is one line here. A failure is a programming error.
  auto add = [&registry](std::unique_ptr<AdapterFactory> factory) {
    if (!registry.Register(std::move(factory)).ok()) abort();
  };
  add(std::make_unique<canonical_json::CanonicalJsonFactory>());
  add(std::make_unique<fhir::FhirFactory>());
  add(std::make_unique<hl7v2::Hl7v2Factory>());
  add(std::make_unique<mapping::MappingFactory>());
  add(std::make_unique<remote::RemoteFactory>());
}

}  // namespace switchboard::adapters
