#include "tools/perf/message_tracker.h"

#include <bit>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace switchboard::tools::perf {

MessageTracker::MessageTracker(int publishers, int recipients)
    : recipients_(recipients),
      all_missing_(recipients >= 64 ? ~uint64_t{0} : (uint64_t{1} << recipients) - 1) {
  for (int i = 0; i < publishers; ++i) shards_.push_back(std::make_unique<Shard>());
}

std::string MessageTracker::Id(char tag, int publisher, uint64_t seq) {
  return absl::StrFormat("%c%04d-%012d", tag, publisher, seq);
}

void MessageTracker::Reset(char tag) {
  tag_.store(tag);
  for (auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    shard->pending.clear();
  }
  outstanding_.store(0);
}

void MessageTracker::Started(int publisher, uint64_t seq, Clock::time_point at) {
  Shard& shard = *shards_[publisher];
  {
    absl::MutexLock lock(&shard.mu);
    shard.pending[seq] = Pending{at, all_missing_};
  }
  outstanding_.fetch_add(recipients_, std::memory_order_relaxed);
}

void MessageTracker::Abandon(int publisher, uint64_t seq) {
  Shard& shard = *shards_[publisher];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.pending.find(seq);
  if (it == shard.pending.end()) return;
  outstanding_.fetch_sub(std::popcount(it->second.missing), std::memory_order_relaxed);
  shard.pending.erase(it);
}

MessageTracker::Seen MessageTracker::Delivered(const std::string& message_id, int recipient,
                                               Clock::time_point at) {
  // "<tag><publisher:4>-<seq:12>"
  int publisher = 0;
  uint64_t seq = 0;
  if (message_id.size() != 18 || message_id[0] != tag_.load() || message_id[5] != '-' ||
      !absl::SimpleAtoi(message_id.substr(1, 4), &publisher) ||
      !absl::SimpleAtoi(message_id.substr(6), &seq) || publisher < 0 ||
      publisher >= static_cast<int>(shards_.size()) || recipient < 0 || recipient >= recipients_) {
    return Seen{Outcome::kUnknown};
  }
  Shard& shard = *shards_[publisher];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.pending.find(seq);
  if (it == shard.pending.end()) return Seen{Outcome::kUnknown};
  const uint64_t bit = uint64_t{1} << recipient;
  if ((it->second.missing & bit) == 0) return Seen{Outcome::kDuplicate};
  it->second.missing &= ~bit;
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  Seen seen{Outcome::kDelivered, at - it->second.started};
  if (it->second.missing == 0) {
    seen.outcome = Outcome::kLastDelivered;
    shard.pending.erase(it);
  }
  return seen;
}

}  // namespace switchboard::tools::perf
