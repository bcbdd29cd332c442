// Exchange.PublishRaw's logic, without gRPC: decode a member's payload with the
// adapter of its active version (the registry's live AdapterTable), then publish
// the canonical message through the Publisher exactly as Exchange.Publish does.
// Every refusal made here is audited (operation `Exchange/PublishRaw`) before it
// is returned; the Publisher audits its own.
//
// Thread-safe: the adapter is looked up per payload and held while it decodes,
// so an activation or rollback swapping it meanwhile is safe; adapters are safe
// for concurrent const calls.
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
#include "gateway/registry/adapter_table.h"
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

  // Creates one adapter per binding with `registry`: the start-time check of the
  // config's adapter_bindings (which seed the registry's adapter versions).
  // INVALID_ARGUMENT naming `adapter_bindings[i]` for a missing organisation_id
  // or config, an organisation bound twice, a config no registered adapter type
  // takes, or a config the type refuses. No bindings is not an error. Pure: the
  // gateway calls it before touching the store.
  static absl::StatusOr<AdapterMap> CreateAdapters(const Bindings& bindings,
                                                   const adapters::AdapterRegistry& registry);

  // `adapters` must outlive this RawPublisher.
  RawPublisher(const registry::AdapterTable* adapters, const Publisher* publisher,
               store::Committer* committer, uint64_t max_message_bytes)
      : adapters_(adapters),
        publisher_(publisher),
        committer_(committer),
        max_message_bytes_(max_message_bytes) {}

  // Calls `done` exactly once with the receipt (plus ignored_elements), or:
  //   FAILED_PRECONDITION the caller has no active adapter version;
  //   INVALID_ARGUMENT    `payload: ...` for a payload over max_message_bytes or
  //                       one the adapter cannot decode (its location kept, e.g.
  //                       `payload: PID-3: ...`);
  //   UNAVAILABLE         `adapter: ...` a remote adapter is down or late;
  //   anything Publisher::Publish answers for the decoded message.
  void Publish(const identity::Caller& caller, const v1::PublishRawRequest& request,
               Publisher::Done done) const;

  // The adapter of `organisation_id`'s active version, or nullptr when none.
  // Hold it for the whole translation (it may be swapped meanwhile).
  std::shared_ptr<const adapters::Adapter> AdapterFor(const std::string& organisation_id) const {
    return adapters_->Find(organisation_id);
  }

 private:
  // Constant after construction.
  const registry::AdapterTable* const adapters_;
  const Publisher* const publisher_;
  store::Committer* const committer_;
  const uint64_t max_message_bytes_;
};

}  // namespace switchboard::gateway::exchange

#endif  // SWITCHBOARD_GATEWAY_EXCHANGE_RAW_PUBLISHER_H_
