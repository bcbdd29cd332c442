// The live adapters: organisation id -> the adapter of its active version. Built
// at start from the active versions in the store (LoadAdapterTable,
// adapter_ops.h), then changed only by the commit hooks of activation and
// rollback, which run before those RPCs answer, so a member sees its new adapter
// from the answer on. Whoever translates (PublishRaw, MLLP, FHIR over HTTPS,
// pull and push deliveries) looks the adapter up per message and holds the
// shared_ptr while it works: a swap never pulls an adapter from under a
// translation in progress, and the old one is freed after the last one ends.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_TABLE_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_TABLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "adapters/adapter.h"

namespace switchboard::gateway::registry {

class AdapterTable {
 public:
  struct Entry {
    std::shared_ptr<const adapters::Adapter> adapter;
    uint32_t version = 0;  // AdapterVersion.version
  };

  // The adapter of `organisation_id`'s active version; nullptr when none.
  std::shared_ptr<const adapters::Adapter> Find(const std::string& organisation_id) const;
  // The same with its version; nullopt when none.
  std::optional<Entry> Get(const std::string& organisation_id) const;

  // Makes `entry` the live adapter of `organisation_id` (commit hooks, start).
  void Set(const std::string& organisation_id, Entry entry);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_ADAPTER_TABLE_H_
