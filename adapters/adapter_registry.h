// The registry of adapter types: an object (no global), indexed by type name and by
// config type. Built-in types are added in one visible list, RegisterBuiltinAdapters.
// Not thread-safe for Register; lookups are safe once registration is over.
#ifndef SWITCHBOARD_ADAPTERS_ADAPTER_REGISTRY_H_
#define SWITCHBOARD_ADAPTERS_ADAPTER_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adapters/adapter.h"

namespace switchboard::adapters {

class AdapterRegistry {
 public:
  // ALREADY_EXISTS when the name or the config type is taken; INVALID_ARGUMENT
  // for a factory without a name or config type.
  absl::Status Register(std::unique_ptr<AdapterFactory> factory);

  // nullptr when unknown.
  const AdapterFactory* FindByName(absl::string_view name) const;
  const AdapterFactory* FindByConfigType(absl::string_view config_type) const;

  // Creates an adapter from a typed config, choosing the factory by the Any's type.
  // NOT_FOUND when no registered type takes that config.
  absl::StatusOr<std::unique_ptr<Adapter>> Create(const google::protobuf::Any& config) const;

  // Registered type names, sorted.
  std::vector<std::string> Names() const;

 private:
  std::vector<std::unique_ptr<AdapterFactory>> factories_;
  absl::flat_hash_map<std::string, const AdapterFactory*> by_name_;
  absl::flat_hash_map<std::string, const AdapterFactory*> by_config_type_;
};

// The built-in adapter types, in one list.
void RegisterBuiltinAdapters(AdapterRegistry& registry);

}  // namespace switchboard::adapters

#endif  // SWITCHBOARD_ADAPTERS_ADAPTER_REGISTRY_H_
