// The in-memory directory of members and subscriptions: what every RPC consults to
// identify its caller and to route, without touching the disk. It mirrors the
// `registry` column family: loaded once at start, then updated by the commit
// hooks of registry transactions (which run in commit order), so it never runs
// ahead of what is durable.
//
// Thread-safe: readers take an immutable snapshot (a shared_ptr copy); writers
// replace it (copy-on-write; registry writes are rare).
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_DIRECTORY_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_DIRECTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gateway/store/store.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::gateway::registry {

class Directory {
 public:
  struct Snapshot {
    absl::flat_hash_map<std::string, v1::Organisation> organisations;  // by id
    absl::flat_hash_map<std::string, std::string> by_san;            // SAN -> id
    absl::flat_hash_map<std::string, v1::Subscription> subscriptions;  // by org id
    absl::flat_hash_map<std::string, std::vector<std::string>> subscribers;  // event -> ids

    const v1::Organisation* Find(absl::string_view id) const;
    const v1::Organisation* FindBySan(absl::string_view san) const;
    const std::vector<std::string>& SubscribersOf(absl::string_view event) const;
  };

  Directory();

  // Replaces the content with what the store holds.
  absl::Status Load(const store::Store& store);

  std::shared_ptr<const Snapshot> snapshot() const;

  // Called from commit hooks only.
  void PutOrganisation(const v1::Organisation& org);
  void PutSubscription(const v1::Subscription& sub);

 private:
  static void Reindex(Snapshot& snap);

  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_DIRECTORY_H_
