// Test helpers for the Committer tests: drive the writer deterministically (no
// sleeps) and collect the outcomes of submitted transactions.
#ifndef SWITCHBOARD_TESTS_GATEWAY_STORE_COMMITTER_TEST_UTIL_H_
#define SWITCHBOARD_TESTS_GATEWAY_STORE_COMMITTER_TEST_UTIL_H_

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gateway/store/committer.h"
#include "switchboard/v1/audit.pb.h"

namespace switchboard::gateway::testing {

using store::Committer;
using store::Transaction;

inline v1::AuditRecord Record(const std::string& detail) {
  v1::AuditRecord r;
  r.set_actor_organisation("tester");
  r.set_operation("Test/Op");
  r.set_detail(detail);
  return r;
}

// Holds the writer thread inside one transaction, so that everything submitted
// meanwhile is applied afterwards as one group (the committer takes the whole
// queue at once). Deterministic: no sleeps.
class WriterGate {
 public:
  explicit WriterGate(Committer* committer) {
    committer->Submit(
        [this](Transaction&) {
          entered_.set_value();
          release_.get_future().wait();
          return absl::OkStatus();
        },
        [this](absl::Status) { finished_.set_value(); });
    entered_.get_future().wait();
  }
  void Release() {
    release_.set_value();
    finished_.get_future().wait();
  }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  std::promise<void> finished_;
};

// Collects the statuses of submitted transactions.
class Waiter {
 public:
  Committer::DoneFn Done(std::function<void()> also = [] {}) {
    auto promise = std::make_shared<std::promise<absl::Status>>();
    futures_.push_back(promise->get_future());
    return [promise, also](absl::Status s) {
      also();
      promise->set_value(std::move(s));
    };
  }
  // Waits for every transaction submitted since the last Wait.
  std::vector<absl::Status> Wait() {
    std::vector<absl::Status> out;
    for (auto& f : futures_) out.push_back(f.get());
    futures_.clear();
    return out;
  }

 private:
  std::vector<std::future<absl::Status>> futures_;
};

}  // namespace switchboard::gateway::testing

#endif  // SWITCHBOARD_TESTS_GATEWAY_STORE_COMMITTER_TEST_UTIL_H_
