#include "gateway/delivery/message_cache.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::delivery {
namespace {

// A message whose header id names `seq` (fixed width, so every message built with
// the same `text_bytes` has the same serialised size).
std::shared_ptr<const v1::Message> MessageFor(uint64_t seq, size_t text_bytes = 100) {
  auto m = std::make_shared<v1::Message>();
  char id[32];
  std::snprintf(id, sizeof(id), "m-%08llu", static_cast<unsigned long long>(seq));
  m->mutable_header()->set_id(id);
  m->mutable_discharge_note()->add_sections()->set_text(std::string(text_bytes, 'x'));
  return m;
}

// What the cache holds under `seq`, as a raw pointer (the caller keeps the
// message alive; comparing raw pointers also keeps gtest from printing messages).
const v1::Message* At(const MessageCache& cache, uint64_t seq) { return cache.Get(seq).get(); }

// Bytes of one MessageFor(seq) with the default text.
size_t UnitSize() { return MessageFor(1)->ByteSizeLong(); }

TEST(MessageCacheTest, GetAfterPutReturnsTheMessagePut) {
  MessageCache cache(1 << 20);
  const auto message = MessageFor(7);
  cache.Put(7, message);
  EXPECT_EQ(At(cache, 7), message.get());
}

TEST(MessageCacheTest, MissIsNullptr) {
  MessageCache cache(1 << 20);
  EXPECT_EQ(At(cache, 7), nullptr);
  cache.Put(7, MessageFor(7));
  EXPECT_EQ(At(cache, 8), nullptr);
}

TEST(MessageCacheTest, OverCapacityTheOldestGoFirst) {
  const size_t unit = UnitSize();
  ASSERT_EQ(MessageFor(99999)->ByteSizeLong(), unit);
  MessageCache cache(3 * unit);
  std::vector<std::shared_ptr<const v1::Message>> messages;
  for (uint64_t seq = 1; seq <= 4; ++seq) messages.push_back(MessageFor(seq));
  for (uint64_t seq = 1; seq <= 3; ++seq) cache.Put(seq, messages[seq - 1]);
  for (uint64_t seq = 1; seq <= 3; ++seq) EXPECT_EQ(At(cache, seq), messages[seq - 1].get()) << seq;

  cache.Put(4, messages[3]);
  EXPECT_EQ(At(cache, 1), nullptr);
  for (uint64_t seq = 2; seq <= 4; ++seq) EXPECT_EQ(At(cache, seq), messages[seq - 1].get()) << seq;
}

TEST(MessageCacheTest, ALargeMessageEvictsAsManyOfTheOldestAsItNeeds) {
  const size_t unit = UnitSize();
  MessageCache cache(3 * unit);
  for (uint64_t seq = 1; seq <= 3; ++seq) cache.Put(seq, MessageFor(seq));
  // Between one and two units: the two oldest make room for it.
  const auto large = MessageFor(4, 2 * 100);
  ASSERT_GT(large->ByteSizeLong(), unit);
  ASSERT_LE(large->ByteSizeLong(), 2 * unit);
  cache.Put(4, large);
  EXPECT_EQ(At(cache, 1), nullptr);
  EXPECT_EQ(At(cache, 2), nullptr);
  EXPECT_NE(At(cache, 3), nullptr);
  EXPECT_EQ(At(cache, 4), large.get());
}

TEST(MessageCacheTest, MessageLargerThanTheCapacityIsNotCachedAndEvictsNothing) {
  const size_t unit = UnitSize();
  MessageCache cache(3 * unit);
  const auto small = MessageFor(1);
  cache.Put(1, small);
  const auto huge = MessageFor(2, 4 * unit);
  ASSERT_GT(huge->ByteSizeLong(), 3 * unit);
  cache.Put(2, huge);
  EXPECT_EQ(At(cache, 2), nullptr);
  EXPECT_EQ(At(cache, 1), small.get());
}

TEST(MessageCacheTest, MessageOfExactlyTheCapacityIsCached) {
  const auto message = MessageFor(1);
  MessageCache cache(message->ByteSizeLong());
  cache.Put(1, message);
  EXPECT_EQ(At(cache, 1), message.get());
}

TEST(MessageCacheTest, PuttingASequenceAgainDoesNotCountItTwice) {
  const size_t unit = UnitSize();
  MessageCache cache(3 * unit);
  cache.Put(1, MessageFor(1));
  cache.Put(1, MessageFor(1));
  cache.Put(2, MessageFor(2));
  cache.Put(3, MessageFor(3));
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_NE(At(cache, seq), nullptr) << seq;
    EXPECT_EQ(cache.Get(seq)->header().id(), MessageFor(seq)->header().id());
  }
}

// Threads put their own sequences and read everybody's: a hit is always the
// message put under that sequence. Run under TSan to check the locking too.
void PutAndGetConcurrently(MessageCache& cache, int threads, uint64_t per_thread,
                           std::atomic<int>* wrong) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_thread; ++i) {
        const uint64_t seq = static_cast<uint64_t>(t) * per_thread + i;
        cache.Put(seq, MessageFor(seq, 10));
        for (uint64_t other : {seq, seq / 2, (seq * 7919) % (threads * per_thread)}) {
          auto got = cache.Get(other);
          if (got != nullptr && got->header().id() != MessageFor(other, 10)->header().id()) {
            wrong->fetch_add(1);
          }
        }
      }
    });
  }
  for (auto& w : workers) w.join();
}

TEST(MessageCacheTest, ConcurrentPutsAndGetsSeeTheValuesPut) {
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 500;
  MessageCache cache(64 << 20);  // room for everything
  std::atomic<int> wrong{0};
  PutAndGetConcurrently(cache, kThreads, kPerThread, &wrong);
  EXPECT_EQ(wrong.load(), 0);
  for (uint64_t seq = 0; seq < kThreads * kPerThread; ++seq) {
    auto got = cache.Get(seq);
    ASSERT_NE(got.get(), nullptr) << seq;
    EXPECT_EQ(got->header().id(), MessageFor(seq, 10)->header().id());
  }
}

TEST(MessageCacheTest, ConcurrentPutsAndGetsWhileEvictingSeeTheValuesPut) {
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 500;
  const size_t unit = MessageFor(0, 10)->ByteSizeLong();
  MessageCache cache(50 * unit);  // far less than everything
  std::atomic<int> wrong{0};
  PutAndGetConcurrently(cache, kThreads, kPerThread, &wrong);
  EXPECT_EQ(wrong.load(), 0);
  int cached = 0;
  for (uint64_t seq = 0; seq < kThreads * kPerThread; ++seq) {
    auto got = cache.Get(seq);
    if (got == nullptr) continue;
    ++cached;
    EXPECT_EQ(got->header().id(), MessageFor(seq, 10)->header().id());
  }
  EXPECT_GT(cached, 0);
  EXPECT_LE(cached, 50);  // bounded by bytes
}

}  // namespace
}  // namespace switchboard::gateway::delivery
