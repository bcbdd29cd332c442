// Exchange.PublishRaw's logic, without gRPC: decode a member's payload with the
// adapter bound to that member (GatewayConfig.adapter_bindings), then publish the
// canonical message through the Publisher exactly as Exchange.Publish does. Every
// refusal made here is audited (operation `Exchange/PublishRaw`) before it is
// returned; the Publisher audits its own.
//
// Thread-safe: immutable after Create; adapters are safe for concurrent const calls.
#ifndef SWITCHBOARD_GATEWAY_EXCHANGE_RAW_PUBLISHER_H_
#define SWITCHBOARD_GATEWAY_EXCHANGE_RAW_PUBLISHER_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "adapters/adapter.h"
#include "adapters/adapter_registry.h"
#include "gateway/exchange/publisher.h"
#include "gateway/identity/authenticator.h"
#include "gateway/store/committer.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/exchange.pb.h"

namespace switchboard::gateway::exchange {

class RawPublisher {
 public:
  using Bindings = google::protobuf::RepeatedPtrField<v1::AdapterBinding>;
  // organisation id -> the adapter bound to it.
  using AdapterMap = absl::flat_hash_map<std::string, std::unique_ptr<adapters::Adapter>>;

  // Creates one adapter per binding with `registry`. INVALID_ARGUMENT naming
  // `adapter_bindings[i]` for a missing organisation_id or config, an
  // organisation bound twice, a config no registered adapter type takes, or a
  // config the type refuses. No bindings is not an error (nobody can publish
  // raw). Pure: the gateway calls it before touching the store.
  static absl::StatusOr<AdapterMap> CreateAdapters(const Bindings& bindings,
                                                   const adapters::AdapterRegistry& registry);

  RawPublisher(AdapterMap adapters, const Publisher* publisher, store::Committer* committer,
               uint64_t max_message_bytes)
      : adapters_(std::move(adapters)),
        publisher_(publisher),
        committer_(committer),
        max_message_bytes_(max_message_bytes) {}

  // Calls `done` exactly once with the receipt (plus ignored_elements), or:
  //   FAILED_PRECONDITION no adapter is bound to the caller;
  //   INVALID_ARGUMENT    `payload: ...` for a payload over max_message_bytes or
  //                       one the adapter cannot decode (its location kept, e.g.
  //                       `payload: PID-3: ...`);
  //   UNAVAILABLE         `adapter: ...` a remote adapter is down or late;
  //   anything Publisher::Publish answers for the decoded message.
  void Publish(const identity::Caller& caller, const v1::PublishRawRequest& request,
               Publisher::Done done) const;

  // The adapter bound to `organisation_id`, or nullptr when none. Valid as long
  // as this RawPublisher (outbound translation of pull deliveries uses it).
  const adapters::Adapter* AdapterFor(const std::string& organisation_id) const {
    auto it = adapters_.find(organisation_id);
    return it == adapters_.end() ? nullptr : it->second.get();
  }

 private:
  // Constant after construction.
  const AdapterMap adapters_;
  const Publisher* const publisher_;
  store::Committer* const committer_;
  const uint64_t max_message_bytes_;
};

}  // namespace switchboard::gateway::exchange

#endif  // SWITCHBOARD_GATEWAY_EXCHANGE_RAW_PUBLISHER_H_
