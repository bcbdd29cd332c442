// Recently accepted messages, parsed, by sequence: a message fanned out to N
// recipients is sent N times shortly after it is accepted, and this saves reading
// and parsing it N times. Bounded by bytes; oldest out first. A miss is not an
// error (the caller reads the store). Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_MESSAGE_CACHE_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_MESSAGE_CACHE_H_

#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::delivery {

class MessageCache {
 public:
  explicit MessageCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  void Put(uint64_t seq, std::shared_ptr<const v1::Message> message) {
    const size_t size = message->ByteSizeLong();
    if (size > capacity_) return;
    absl::MutexLock lock(&mu_);
    if (!entries_.emplace(seq, Entry{std::move(message), size}).second) return;
    order_.push_back(seq);
    bytes_ += size;
    while (bytes_ > capacity_ && !order_.empty()) {
      auto it = entries_.find(order_.front());
      bytes_ -= it->second.size;
      entries_.erase(it);
      order_.pop_front();
    }
  }

  // nullptr when not cached.
  std::shared_ptr<const v1::Message> Get(uint64_t seq) const {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(seq);
    return it == entries_.end() ? nullptr : it->second.message;
  }

 private:
  struct Entry {
    std::shared_ptr<const v1::Message> message;
    size_t size;
  };
  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> order_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_MESSAGE_CACHE_H_
