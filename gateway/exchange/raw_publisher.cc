#include "gateway/exchange/raw_publisher.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/identity/rpc_guard.h"

namespace switchboard::gateway::exchange {
namespace {

constexpr char kOperation[] = "Exchange/PublishRaw";

}  // namespace

absl::StatusOr<RawPublisher::AdapterMap> RawPublisher::CreateAdapters(
    const Bindings& bindings, const adapters::AdapterRegistry& registry) {
  AdapterMap adapters;
  absl::flat_hash_map<std::string, int> first_index;
  for (int i = 0; i < bindings.size(); ++i) {
    const v1::AdapterBinding& binding = bindings[i];
    const std::string field = absl::StrCat("adapter_bindings[", i, "]");
    if (binding.organisation_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".organisation_id: required"));
    }
    if (auto [it, inserted] = first_index.emplace(binding.organisation_id(), i); !inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".organisation_id: '", binding.organisation_id(),
          "' is bound already in adapter_bindings[", it->second, "] (one adapter per member)"));
    }
    if (!binding.has_config()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".config: required"));
    }
    absl::StatusOr<std::unique_ptr<adapters::Adapter>> adapter = registry.Create(binding.config());
    if (absl::IsNotFound(adapter.status())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".config: no adapter type takes '", binding.config().type_url(),
                       "' (known types: ", absl::StrJoin(registry.Names(), ", "), ")"));
    }
    if (!adapter.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".config: ", adapter.status().message()));
    }
    adapters.emplace(binding.organisation_id(), *std::move(adapter));
  }
  return adapters;
}

void RawPublisher::Publish(const identity::Caller& caller, const v1::PublishRawRequest& request,
                           Publisher::Done done) const {
  auto refuse = [&](absl::Status status) {
    identity::SubmitRefusal(committer_,
                            identity::AuditFor(caller, kOperation, v1::AuditRecord::PUBLISH),
                            status, [done](const absl::Status& s) { done(s); });
  };

  // Held until decoding is over: an activation may swap the live one meanwhile.
  const std::shared_ptr<const adapters::Adapter> adapter = adapters_->Find(caller.organisation_id);
  if (adapter == nullptr) {
    return refuse(absl::FailedPreconditionError(
        absl::StrCat("no adapter is bound to '", caller.organisation_id,
                     "' for raw publishing (no active adapter version: sbctl adapter, or config "
                     "adapter_bindings)")));
  }
  if (request.payload().size() > max_message_bytes_) {
    return refuse(absl::InvalidArgumentError(absl::StrCat("payload: ", request.payload().size(),
                                                          " bytes is over the limit of ",
                                                          max_message_bytes_, " bytes")));
  }
  absl::StatusOr<adapters::DecodeResult> decoded =
      adapter->DecodeWithReport(request.content_type(), request.payload());
  if (!decoded.ok()) {
    // A remote adapter that is down or late: the payload may be fine, try later.
    if (absl::IsUnavailable(decoded.status())) {
      return refuse(absl::UnavailableError(absl::StrCat("adapter: ", decoded.status().message())));
    }
    // Adapters answer INVALID_ARGUMENT for bad input and UNIMPLEMENTED when they
    // cannot decode at all; either way the caller's payload is what is refused.
    return refuse(
        absl::InvalidArgumentError(absl::StrCat("payload: ", decoded.status().message())));
  }
  publisher_->Publish(caller, std::move(decoded->message),
                      [done = std::move(done), ignored = std::move(decoded->ignored)](
                          absl::StatusOr<v1::Receipt> receipt) mutable {
                        if (receipt.ok()) {
                          for (std::string& path : ignored)
                            receipt->add_ignored_elements(std::move(path));
                        }
                        done(std::move(receipt));
                      });
}

}  // namespace switchboard::gateway::exchange
