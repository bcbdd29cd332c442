// A small fixed pool of threads running queued tasks in FIFO order. Used to move
// work (store reads for delivery) off the threads that must not wait: the
// committer's writer and the ticker. Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_EXECUTOR_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace switchboard::gateway::delivery {

class Executor {
 public:
  explicit Executor(int threads);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  ~Executor();  // Stop()s.

  // Runs `task` on a pool thread soon. Dropped after Stop().
  void Schedule(std::function<void()> task);
  // Lets running tasks finish, drops queued ones, joins the threads. Idempotent.
  void Stop();

 private:
  void Work();

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_EXECUTOR_H_
