// Pull delivery: one Subscribe stream per member at a time, fed from that member's
// queue in the store (never from memory: queues live in RocksDB, so memory stays
// bounded whatever the backlog), woken when a publish commits deliveries for it,
// with a window of unacknowledged deliveries and redelivery after an ack timeout.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_DISPATCHER_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_DISPATCHER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "gateway/consent/access.h"
#include "gateway/delivery/delivery_ops.h"
#include "gateway/delivery/executor.h"
#include "gateway/delivery/message_cache.h"
#include "gateway/identity/authenticator.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "grpcpp/support/server_callback.h"
#include "switchboard/v1/exchange.pb.h"

namespace switchboard::gateway::delivery {

class SubscribeSession;

struct DispatcherOptions {
  uint32_t default_window = 64;
  uint32_t max_window = 1024;
  absl::Duration ack_timeout = absl::Seconds(30);
  int threads = 2;
};

// What the streams of one member share: the acknowledgements received but not yet
// durable, which no stream may send again meanwhile.
class RecipientState {
 public:
  bool IsAckPending(uint64_t seq) const {
    absl::MutexLock lock(&mu_);
    return ack_pending_.contains(seq);
  }
  void AddAckPending(const std::vector<uint64_t>& seqs) {
    absl::MutexLock lock(&mu_);
    ack_pending_.insert(seqs.begin(), seqs.end());
  }
  void RemoveAckPending(const std::vector<uint64_t>& seqs) {
    absl::MutexLock lock(&mu_);
    for (uint64_t s : seqs) ack_pending_.erase(s);
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_set<uint64_t> ack_pending_ ABSL_GUARDED_BY(mu_);
};

// A Subscribe stream that is refused: it finishes with the status given to
// Reject() (which may come later, from another thread) and deletes itself.
class RejectedStream final : public grpc::ServerBidiReactor<v1::Ack, v1::Delivery> {
 public:
  void Reject(const absl::Status& status);
  void OnDone() override { delete this; }
};

class Dispatcher {
 public:
  // The adapter of a member's active version (the registry's live table), or
  // nullptr when it has none. Callers hold the result while they encode (an
  // activation may swap it meanwhile); the lookup is called concurrently.
  using AdapterLookup =
      std::function<std::shared_ptr<const adapters::Adapter>(const std::string& organisation_id)>;

  // `adapter_for` empty: no member gets a partner-format copy.
  Dispatcher(const store::Store* store, store::Committer* committer,
             const consent::AccessDecider* decider, DispatcherOptions options,
             AdapterLookup adapter_for = {});
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  ~Dispatcher();  // Stop()s.

  // Before Start: these members get their deliveries pushed (Pusher); their
  // Subscribe streams are refused with FAILED_PRECONDITION.
  void SetPushed(absl::flat_hash_set<std::string> organisation_ids) {
    absl::MutexLock lock(&mu_);
    pushed_ = std::move(organisation_ids);
  }

  // Before Start: the identifier systems each member issues
  // (GatewayConfig.identifier_authorities, inverted).
  // Not synchronised: read without a lock on every send afterwards.
  void SetOwnSystems(absl::flat_hash_map<std::string, std::vector<std::string>> systems) {
    own_systems_ = std::move(systems);
  }

  // Identifier systems that name one person everywhere (config
  // strong_identifier_systems). Set once before Start(), like SetOwnSystems.
  void SetStrongSystems(absl::flat_hash_set<std::string> systems) {
    strong_systems_ = std::move(systems);
  }

  // The client as `recipient` knows it (called once the consent allowed the
  // message): when the message names the client by an identifier of another
  // system and the client has one of a system the recipient issues, the
  // header's client becomes that one; other_client_identifiers become the
  // client's identifiers of strong systems (a national id), never other
  // members' local numbers, whatever the sender sent. nullptr when the message
  // stays as it is.
  std::shared_ptr<const v1::Message> ForRecipient(const std::string& recipient,
                                                  const consent::ClientState& client,
                                                  const v1::Message& message) const;

  // Starts the worker threads and the ack-timeout ticker.
  void Start();
  // Ends every stream with UNAVAILABLE and stops the threads. Idempotent.
  void Stop();

  // A new stream for `caller` (who has been identified); it replaces the
  // member's current stream, which ends with ABORTED. `window` 0 means the
  // default; larger than the maximum means the maximum.
  grpc::ServerBidiReactor<v1::Ack, v1::Delivery>* NewSession(const identity::Caller& caller,
                                                             uint32_t window = 0);

  // Publish commit hook: these members have new deliveries.
  void Notify(const std::vector<std::string>& recipients);
  // Ends the member's stream with `status` (e.g. on suspension).
  void Disconnect(const std::string& organisation_id, const absl::Status& status);
  // Attempts and last send of a delivery on the member's stream awaiting its ack;
  // nullopt when it is not in flight.
  std::optional<SentDelivery> InFlight(const std::string& recipient, uint64_t seq) const;

  // Used by sessions.
  const store::Store* store() const { return store_; }
  store::Committer* committer() const { return committer_; }
  const consent::AccessDecider* decider() const { return decider_; }
  Executor* executor() { return &executor_; }
  MessageCache* messages() { return &messages_; }
  const DispatcherOptions& options() const { return options_; }
  // The adapter of `organisation_id`'s active version; nullptr when none.
  std::shared_ptr<const adapters::Adapter> AdapterFor(const std::string& organisation_id) const {
    return adapter_for_ ? adapter_for_(organisation_id) : nullptr;
  }
  void Detach(const SubscribeSession* session);

 private:
  struct Member {
    std::shared_ptr<RecipientState> state = std::make_shared<RecipientState>();
    std::weak_ptr<SubscribeSession> active;
  };

  void Tick();
  std::vector<std::shared_ptr<SubscribeSession>> ActiveSessions() const;

  // Constant after construction.
  const store::Store* const store_;
  store::Committer* const committer_;
  const consent::AccessDecider* const decider_;
  const DispatcherOptions options_;
  const AdapterLookup adapter_for_;

  Executor executor_;
  MessageCache messages_{32 << 20};
  mutable absl::Mutex mu_;
  absl::CondVar tick_cv_;
  absl::flat_hash_map<std::string, Member> members_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> pushed_ ABSL_GUARDED_BY(mu_);
  // Set before Start, constant after.
  absl::flat_hash_map<std::string, std::vector<std::string>> own_systems_;
  absl::flat_hash_set<std::string> strong_systems_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_DISPATCHER_H_
