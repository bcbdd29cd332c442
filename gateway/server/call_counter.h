// Counts the RPCs in progress (every service, streams included), so that shutdown
// can wait for exactly those to finish and then close the connections at once.
// (gRPC's Server::Shutdown waits for idle client connections too, until its
// deadline; we only want to wait for calls.) Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_SERVER_CALL_COUNTER_H_
#define SWITCHBOARD_GATEWAY_SERVER_CALL_COUNTER_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace switchboard::gateway {

class CallCounter {
 public:
  void Enter() {
    absl::MutexLock lock(&mu_);
    ++calls_;
  }
  void Exit() {
    absl::MutexLock lock(&mu_);
    --calls_;
  }
  // True when no call is in progress before `deadline`.
  bool WaitIdle(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ == 0; };
    return mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// An interceptor per call: it exists exactly as long as the call does.
class CallCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallCounterFactory(CallCounter* counter) : counter_(counter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new Counted(counter_);
  }

 private:
  class Counted final : public grpc::experimental::Interceptor {
   public:
    explicit Counted(CallCounter* counter) : counter_(counter) { counter_->Enter(); }
    ~Counted() override { counter_->Exit(); }
    void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
      methods->Proceed();
    }

   private:
    CallCounter* const counter_;
  };

  CallCounter* const counter_;
};

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_SERVER_CALL_COUNTER_H_
