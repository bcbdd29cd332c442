#include "gateway/registry/directory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace switchboard::gateway::registry {

const v1::Organisation* Directory::Snapshot::Find(absl::string_view id) const {
  auto it = organisations.find(id);
  return it == organisations.end() ? nullptr : &it->second;
}

const v1::Organisation* Directory::Snapshot::FindBySan(absl::string_view san) const {
  auto it = by_san.find(san);
  return it == by_san.end() ? nullptr : Find(it->second);
}

const std::vector<std::string>& Directory::Snapshot::SubscribersOf(absl::string_view event) const {
  static const std::vector<std::string>* const kNone = new std::vector<std::string>();
  auto it = subscribers.find(event);
  return it == subscribers.end() ? *kNone : it->second;
}

Directory::Directory() : current_(std::make_shared<Snapshot>()) {}

absl::Status Directory::Load(const store::Store& store) {
  auto snap = std::make_shared<Snapshot>();
  auto it = store.NewIterator(store::Cf::kRegistry);
  for (it->Seek(rocksdb::Slice(store::keys::kOrganisationPrefix.data(),
                               store::keys::kOrganisationPrefix.size()));
       it->Valid() && it->key().starts_with(rocksdb::Slice(
                          store::keys::kOrganisationPrefix.data(),
                          store::keys::kOrganisationPrefix.size()));
       it->Next()) {
    v1::Organisation org;
    if (!org.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("registry: unparseable organisation record");
    }
    snap->organisations[org.id()] = std::move(org);
  }
  const rocksdb::Slice sub_prefix(store::keys::kSubscriptionPrefix.data(),
                                  store::keys::kSubscriptionPrefix.size());
  for (it->Seek(sub_prefix); it->Valid() && it->key().starts_with(sub_prefix); it->Next()) {
    v1::Subscription sub;
    if (!sub.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("registry: unparseable subscription record");
    }
    snap->subscriptions[sub.organisation_id()] = std::move(sub);
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "loading registry");
  Reindex(*snap);
  absl::MutexLock lock(&mu_);
  current_ = std::move(snap);
  return absl::OkStatus();
}

std::shared_ptr<const Directory::Snapshot> Directory::snapshot() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

void Directory::PutOrganisation(const v1::Organisation& org) {
  absl::MutexLock lock(&mu_);
  auto next = std::make_shared<Snapshot>(*current_);
  next->organisations[org.id()] = org;
  Reindex(*next);
  current_ = std::move(next);
}

void Directory::PutSubscription(const v1::Subscription& sub) {
  absl::MutexLock lock(&mu_);
  auto next = std::make_shared<Snapshot>(*current_);
  if (sub.event_codes().empty()) {
    next->subscriptions.erase(sub.organisation_id());
  } else {
    next->subscriptions[sub.organisation_id()] = sub;
  }
  Reindex(*next);
  current_ = std::move(next);
}

void Directory::Reindex(Snapshot& snap) {
  snap.by_san.clear();
  for (const auto& [id, org] : snap.organisations) snap.by_san[org.certificate_san()] = id;
  snap.subscribers.clear();
  for (const auto& [id, sub] : snap.subscriptions) {
    for (const std::string& event : sub.event_codes()) snap.subscribers[event].push_back(id);
  }
  for (auto& [event, ids] : snap.subscribers) std::sort(ids.begin(), ids.end());
}

}  // namespace switchboard::gateway::registry
