#include "gateway/config/config_loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "adapters/adapter_registry.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/text_proto.h"
#include "switchboard/v1/adapters/remote.pb.h"

namespace switchboard::gateway::config {
namespace {

void Resolve(const std::string& base_dir, std::string* path) {
  if (path->empty() || base_dir.empty()) return;
  std::filesystem::path p(*path);
  if (p.is_relative()) *path = (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// File paths inside an adapter binding's typed config are relative to the
// config's directory too. Only the remote adapter names files (its TLS material);
// a config of another type, or one that does not unpack (the factory reports
// that at start), is left as is.
void ResolveAdapterFiles(const std::string& base_dir, v1::AdapterBinding* binding) {
  v1::adapters::RemoteAdapterConfig remote;
  if (!binding->config().Is<v1::adapters::RemoteAdapterConfig>() ||
      !binding->config().UnpackTo(&remote)) {
    return;
  }
  Resolve(base_dir, remote.mutable_ca_cert_file());
  Resolve(base_dir, remote.mutable_cert_file());
  Resolve(base_dir, remote.mutable_key_file());
  binding->mutable_config()->PackFrom(remote);
}

void ApplyDefaults(v1::GatewayConfig* c) {
  if (c->limits().max_message_bytes() == 0) c->mutable_limits()->set_max_message_bytes(1 << 20);
  if (c->limits().max_destinations() == 0) c->mutable_limits()->set_max_destinations(64);
  if (c->delivery().default_window() == 0) c->mutable_delivery()->set_default_window(64);
  if (c->delivery().max_window() == 0) c->mutable_delivery()->set_max_window(1024);
  if (c->delivery().ack_timeout_ms() == 0) c->mutable_delivery()->set_ack_timeout_ms(30000);
  if (c->shutdown_grace_ms() == 0) c->set_shutdown_grace_ms(5000);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read '", path, "'"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<v1::GatewayConfig> ParseConfig(const std::string& text, const std::string& origin,
                                              const std::string& base_dir) {
  // adapter_bindings use the expanded Any syntax, which finds each adapter's
  // config type in the generated descriptor pool: make sure every built-in
  // adapter type, and so its config message, is linked into this binary.
  static const bool kAdaptersLinked = [] {
    adapters::AdapterRegistry registry;
    adapters::RegisterBuiltinAdapters(registry);
    return !registry.Names().empty();
  }();
  (void)kAdaptersLinked;
  v1::GatewayConfig config;
  SB_RETURN_IF_ERROR(ParseTextProto(text, origin, &config));
  ApplyDefaults(&config);
  Resolve(base_dir, config.mutable_data_dir());
  Resolve(base_dir, config.mutable_sharing_policy_file());
  Resolve(base_dir, config.mutable_seed()->mutable_messages_file());
  Resolve(base_dir, config.mutable_tls()->mutable_ca_cert_file());
  Resolve(base_dir, config.mutable_tls()->mutable_server_cert_file());
  Resolve(base_dir, config.mutable_tls()->mutable_server_key_file());
  for (v1::PushEndpoint& e : *config.mutable_push_endpoints()) {
    if (e.has_webhook()) Resolve(base_dir, e.mutable_webhook()->mutable_ca_cert_file());
  }
  for (v1::AdapterBinding& binding : *config.mutable_adapter_bindings()) {
    ResolveAdapterFiles(base_dir, &binding);
  }
  return config;
}

absl::StatusOr<v1::GatewayConfig> LoadConfig(const std::string& path) {
  SB_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "config"));
  const std::string dir = std::filesystem::absolute(path).parent_path().string();
  return ParseConfig(text, path, dir);
}

absl::Status ValidateConfig(const v1::GatewayConfig& c) {
  if (c.listen().grpc_address().empty()) {
    return absl::InvalidArgumentError("listen.grpc_address: required (e.g. 127.0.0.1:7443)");
  }
  if (c.tls().ca_cert_file().empty()) return absl::InvalidArgumentError("tls.ca_cert_file: required");
  if (c.tls().server_cert_file().empty()) {
    return absl::InvalidArgumentError("tls.server_cert_file: required");
  }
  if (c.tls().server_key_file().empty()) {
    return absl::InvalidArgumentError("tls.server_key_file: required");
  }
  if (c.data_dir().empty()) return absl::InvalidArgumentError("data_dir: required");
  if (c.delivery().default_window() > c.delivery().max_window()) {
    return absl::InvalidArgumentError("delivery.default_window: larger than delivery.max_window");
  }
  if (c.event_types().empty()) {
    return absl::InvalidArgumentError("event_types: at least one event type is required");
  }
  absl::flat_hash_set<std::string> codes;
  for (int i = 0; i < c.event_types_size(); ++i) {
    const std::string field = absl::StrCat("event_types[", i, "]");
    SB_RETURN_IF_ERROR(CheckSlug(field + ".code", c.event_types(i).code()));
    if (!codes.insert(c.event_types(i).code()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".code: '", c.event_types(i).code(), "' is listed twice"));
    }
    if (c.event_types(i).payload() == v1::EventType::PAYLOAD_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".payload: required"));
    }
  }
  absl::flat_hash_set<std::string> strong;
  for (int i = 0; i < c.strong_identifier_systems_size(); ++i) {
    const std::string field = absl::StrCat("strong_identifier_systems[", i, "]");
    const std::string& system = c.strong_identifier_systems(i);
    if (system.empty()) return absl::InvalidArgumentError(field + ": empty");
    if (!strong.insert(system).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", system, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::gateway::config
