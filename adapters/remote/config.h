// Factory of the `switchboard.adapters.remote` adapter type (config:
// switchboard.v1.adapters.RemoteAdapterConfig). Stateless; thread-safe.
#ifndef SWITCHBOARD_ADAPTERS_REMOTE_CONFIG_H_
#define SWITCHBOARD_ADAPTERS_REMOTE_CONFIG_H_

#include "adapters/adapter.h"

namespace switchboard::adapters::remote {

class RemoteFactory final : public AdapterFactory {
 public:
  std::string name() const override { return "switchboard.adapters.remote"; }
  std::string config_type() const override;
  // INVALID_ARGUMENT if `config` is not a RemoteAdapterConfig or fails
  // RemoteAdapter::Create's checks (the message names the field). Reads the
  // config's PEM files; does not connect.
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Any& config) const override;
};

}  // namespace switchboard::adapters::remote

#endif  // SWITCHBOARD_ADAPTERS_REMOTE_CONFIG_H_
