// One Subscribe stream: the server side of pull delivery for one member.
//
// It reads the member's queue from the store in order, keeps at most `window`
// deliveries unacknowledged, writes one delivery at a time (gRPC allows one
// outstanding write), turns acknowledgements into durable DELIVERED state through
// the committer (batched: acks that arrive during a commit go in the next one),
// and sends again, in order, what stays unacknowledged past the ack timeout.
// Attempt counts live in memory while the stream lasts; they are stored with the
// acknowledgement, or when the stream ends for what it leaves unacknowledged.
//
// A stream ends (Finish) only after its acknowledgements are durable, so a
// subscriber that half-closes and sees OK knows every ack it sent has stuck.
//
// Lifetime: owned by shared_ptrs (itself until OnDone, queued tasks, pending
// commits), so late callbacks are safe; gRPC operations stop at OnDone.
// Thread-safe: reactions, the executor, the committer and the ticker all call in.
#ifndef SWITCHBOARD_GATEWAY_DELIVERY_SUBSCRIBE_SESSION_H_
#define SWITCHBOARD_GATEWAY_DELIVERY_SUBSCRIBE_SESSION_H_

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/delivery/delivery_ops.h"
#include "gateway/delivery/dispatcher.h"
#include "gateway/identity/authenticator.h"
#include "grpcpp/support/server_callback.h"
#include "switchboard/v1/exchange.pb.h"

namespace switchboard::gateway::delivery {

class SubscribeSession final : public grpc::ServerBidiReactor<v1::Ack, v1::Delivery>,
                               public std::enable_shared_from_this<SubscribeSession> {
 public:
  SubscribeSession(Dispatcher* dispatcher, identity::Caller caller,
                   std::shared_ptr<RecipientState> recipient, uint32_t window);
  ~SubscribeSession() override;

  // Keeps itself alive until OnDone and starts reading and sending.
  void Begin();

  // Another thread's news: new deliveries are queued. Sends at once if idle.
  void Notify();
  // Queues for resending what has waited longer than the ack timeout.
  void CheckTimeouts(absl::Time now);
  // Ends the stream with `status` (after the write in progress, if any).
  void Close(const absl::Status& status);
  // What this stream knows of a delivery it sent and that awaits its ack.
  std::optional<SentDelivery> InFlight(uint64_t seq) const;
  const std::string& organisation_id() const { return caller_.organisation_id; }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  struct Sent {
    absl::Time sent_at;
    uint32_t attempts;
    bool resend_queued;
    v1::StoredDelivery stored;
    // The disclosure decision of the last send.
    std::string decision;
    bool redacted = false;
  };

  // Sends the next delivery if none is being written. Store reads happen here.
  void Pump();
  void SchedulePump();
  // Moves due resends and newly read deliveries into the send queues.
  absl::Status RefillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CommitAcks(std::vector<SentDelivery> acked);
  // Takes the delivery `seq` (denied now) off this stream and withholds it.
  void WithholdLocked(uint64_t seq, const std::string& reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether Finish may be called now (ending, no write outstanding, no ack commit
  // running; called once): then sets *status to what to finish with.
  bool TakeFinishLocked(absl::Status* status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  Dispatcher* const dispatcher_;
  const identity::Caller caller_;
  const std::shared_ptr<RecipientState> recipient_;

  mutable absl::Mutex mu_;
  std::shared_ptr<SubscribeSession> self_ ABSL_GUARDED_BY(mu_);
  v1::Ack ack_;                   // target of the outstanding read
  v1::Delivery current_;          // target of the outstanding write
  // The message current_ borrows (never owned by current_: see Pump).
  std::shared_ptr<const v1::Message> current_message_;
  uint32_t window_ ABSL_GUARDED_BY(mu_);
  uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;  // highest seq read from the queue
  uint64_t notify_gen_ ABSL_GUARDED_BY(mu_) = 1;  // bumped by Notify
  uint64_t clean_gen_ ABSL_GUARDED_BY(mu_) = 0;   // queue known drained as of this gen
  std::deque<QueuedDelivery> queue_ ABSL_GUARDED_BY(mu_);   // read, not yet sent
  std::deque<uint64_t> resend_ ABSL_GUARDED_BY(mu_);        // timed out, to send again
  std::map<uint64_t, Sent> in_flight_ ABSL_GUARDED_BY(mu_);
  std::vector<SentDelivery> pending_acks_ ABSL_GUARDED_BY(mu_);
  bool ack_commit_running_ ABSL_GUARDED_BY(mu_) = false;
  bool pump_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::gateway::delivery

#endif  // SWITCHBOARD_GATEWAY_DELIVERY_SUBSCRIBE_SESSION_H_
