#include "gateway/registry/adapter_table.h"

#include <utility>

namespace switchboard::gateway::registry {

std::shared_ptr<const adapters::Adapter> AdapterTable::Find(
    const std::string& organisation_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(organisation_id);
  return it == entries_.end() ? nullptr : it->second.adapter;
}

std::optional<AdapterTable::Entry> AdapterTable::Get(const std::string& organisation_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(organisation_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void AdapterTable::Set(const std::string& organisation_id, Entry entry) {
  std::shared_ptr<const adapters::Adapter> old;
  {
    absl::MutexLock lock(&mu_);
    Entry& slot = entries_[organisation_id];
    old = std::move(slot.adapter);
    slot = std::move(entry);
  }
  // `old` is released outside the lock: its destructor may close connections
  // (a remote adapter's channel).
}

}  // namespace switchboard::gateway::registry
