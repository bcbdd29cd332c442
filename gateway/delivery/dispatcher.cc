#include "gateway/delivery/dispatcher.h"

#include <algorithm>

#include "gateway/common/grpc_status.h"
#include "gateway/delivery/subscribe_session.h"

namespace switchboard::gateway::delivery {

Dispatcher::Dispatcher(const store::Store* store, store::Committer* committer,
                       const consent::AccessDecider* decider, DispatcherOptions options,
                       AdapterLookup adapter_for)
    : store_(store),
      committer_(committer),
      decider_(decider),
      options_(options),
      adapter_for_(std::move(adapter_for)),
      executor_(options.threads) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  ticker_ = std::thread([this] { Tick(); });
}

void Dispatcher::Stop() {
  std::vector<std::shared_ptr<SubscribeSession>> sessions;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    tick_cv_.SignalAll();
  }
  for (auto& s : ActiveSessions()) s->Close(absl::UnavailableError("the gateway is shutting down"));
  if (ticker_.joinable()) ticker_.join();
  executor_.Stop();
}

void RejectedStream::Reject(const absl::Status& status) { Finish(ToGrpcStatus(status)); }

grpc::ServerBidiReactor<v1::Ack, v1::Delivery>* Dispatcher::NewSession(
    const identity::Caller& caller, uint32_t window) {
  std::shared_ptr<SubscribeSession> previous;
  std::shared_ptr<SubscribeSession> session;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      auto* rejected = new RejectedStream();
      rejected->Reject(absl::UnavailableError("the gateway is shutting down"));
      return rejected;
    }
    if (pushed_.contains(caller.organisation_id)) {
      auto* rejected = new RejectedStream();
      rejected->Reject(absl::FailedPreconditionError(
          absl::StrCat("deliveries to '", caller.organisation_id,
                       "' are pushed to its endpoint (push_endpoints in the gateway config); "
                       "it cannot also Subscribe")));
      return rejected;
    }
    Member& member = members_[caller.organisation_id];
    const uint32_t w = window == 0 ? options_.default_window : std::min(window, options_.max_window);
    session = std::make_shared<SubscribeSession>(this, caller, member.state, w);
    previous = member.active.lock();
    member.active = session;
  }
  if (previous) {
    previous->Close(absl::AbortedError("replaced by a newer Subscribe stream of this member"));
  }
  session->Begin();
  return session.get();
}

std::shared_ptr<const v1::Message> Dispatcher::ForRecipient(const std::string& recipient,
                                                            const consent::ClientState& client,
                                                            const v1::Message& message) const {
  static const std::vector<std::string> kNone;
  auto it = own_systems_.find(recipient);
  const std::vector<std::string>& systems = it == own_systems_.end() ? kNone : it->second;
  auto own = [&systems](const std::string& system) {
    return std::find(systems.begin(), systems.end(), system) != systems.end();
  };
  const v1::ClientIdentifier* mine = nullptr;
  if (!own(message.header().client().system())) {
    for (const v1::ClientIdentifier& id : client.identifiers) {
      if (own(id.system())) {
        mine = &id;
        break;
      }
    }
  }
  // Further identifiers: the client's national ids (strong systems) go with a
  // message the consent allowed; the sender's own list, which may carry other
  // members' numbers (and so reveal who else is involved), does not.
  const v1::ClientIdentifier& named = mine != nullptr ? *mine : message.header().client();
  std::vector<const v1::ClientIdentifier*> strong;
  for (const v1::ClientIdentifier& id : client.identifiers) {
    if (strong_systems_.contains(id.system()) &&
        !(id.system() == named.system() && id.value() == named.value())) {
      strong.push_back(&id);
    }
  }
  const auto& sent = message.header().other_client_identifiers();
  const bool same = static_cast<size_t>(sent.size()) == strong.size() &&
                    std::equal(strong.begin(), strong.end(), sent.begin(),
                               [](const v1::ClientIdentifier* a, const v1::ClientIdentifier& b) {
                                 return a->system() == b.system() && a->value() == b.value();
                               });
  if (mine == nullptr && same) return nullptr;
  auto localised = std::make_shared<v1::Message>(message);
  if (mine != nullptr) *localised->mutable_header()->mutable_client() = *mine;
  localised->mutable_header()->clear_other_client_identifiers();
  for (const v1::ClientIdentifier* id : strong) {
    *localised->mutable_header()->add_other_client_identifiers() = *id;
  }
  return localised;
}

void Dispatcher::Notify(const std::vector<std::string>& recipients) {
  std::vector<std::shared_ptr<SubscribeSession>> wake;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& r : recipients) {
      auto it = members_.find(r);
      if (it == members_.end()) continue;
      if (auto s = it->second.active.lock()) wake.push_back(std::move(s));
    }
  }
  for (auto& s : wake) s->Notify();
}

void Dispatcher::Disconnect(const std::string& organisation_id, const absl::Status& status) {
  std::shared_ptr<SubscribeSession> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = members_.find(organisation_id);
    if (it != members_.end()) session = it->second.active.lock();
  }
  if (session) session->Close(status);
}

std::optional<SentDelivery> Dispatcher::InFlight(const std::string& recipient,
                                                 uint64_t seq) const {
  std::shared_ptr<SubscribeSession> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = members_.find(recipient);
    if (it != members_.end()) session = it->second.active.lock();
  }
  if (session == nullptr) return std::nullopt;
  return session->InFlight(seq);
}

void Dispatcher::Detach(const SubscribeSession* session) {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(session->organisation_id());
  if (it == members_.end()) return;
  auto active = it->second.active.lock();
  if (active.get() == session || active == nullptr) it->second.active.reset();
}

std::vector<std::shared_ptr<SubscribeSession>> Dispatcher::ActiveSessions() const {
  std::vector<std::shared_ptr<SubscribeSession>> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, member] : members_) {
    if (auto s = member.active.lock()) out.push_back(std::move(s));
  }
  return out;
}

void Dispatcher::Tick() {
  // Check often enough that a timed-out delivery waits at most ~1/4 more.
  const absl::Duration period =
      std::clamp(options_.ack_timeout / 4, absl::Milliseconds(10), absl::Seconds(1));
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      tick_cv_.WaitWithTimeout(&mu_, period);
      if (stopping_) return;
    }
    const absl::Time now = absl::Now();
    for (auto& s : ActiveSessions()) s->CheckTimeouts(now);
  }
}

}  // namespace switchboard::gateway::delivery
