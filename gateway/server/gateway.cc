#include "gateway/server/gateway.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "adapters/adapter_registry.h"
#include "gateway/common/log.h"
#include "gateway/config/config_loader.h"
#include "gateway/registry/seed.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::gateway {

namespace {

// The config's sharing policy file, or the built-in default when it names none.
absl::StatusOr<policy::SharingPolicy> LoadSharingPolicy(const v1::GatewayConfig& config,
                                                        const config::EventCatalogue& events) {
  if (config.sharing_policy_file().empty()) return policy::SharingPolicy::Default();
  SB_ASSIGN_OR_RETURN(std::string text,
                      config::ReadFile(config.sharing_policy_file(), "sharing_policy_file"));
  return policy::SharingPolicy::Parse(
      text, absl::StrCat("sharing_policy_file '", config.sharing_policy_file(), "'"),
      [&events](absl::string_view code) { return events.Contains(code); });
}

}  // namespace

Gateway::Gateway(const v1::GatewayConfig& config) : config_(config), events_(config) {}

Gateway::~Gateway() { (void)Shutdown(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(const v1::GatewayConfig& config) {
  SB_RETURN_IF_ERROR(config::ValidateConfig(config));
  // Bindings are checked before the store is touched. The registry is only
  // needed to build the bound adapters, which own all they need once created.
  adapters::AdapterRegistry adapter_types;
  adapters::RegisterBuiltinAdapters(adapter_types);
  SB_ASSIGN_OR_RETURN(exchange::RawPublisher::AdapterMap bound_adapters,
                      exchange::RawPublisher::CreateAdapters(config.adapter_bindings(), adapter_types));
  SB_ASSIGN_OR_RETURN(std::string ca, config::ReadFile(config.tls().ca_cert_file(), "tls.ca_cert_file"));
  SB_ASSIGN_OR_RETURN(std::string cert,
                      config::ReadFile(config.tls().server_cert_file(), "tls.server_cert_file"));
  SB_ASSIGN_OR_RETURN(std::string key,
                      config::ReadFile(config.tls().server_key_file(), "tls.server_key_file"));

  auto gw = std::unique_ptr<Gateway>(new Gateway(config));
  SB_ASSIGN_OR_RETURN(gw->store_, store::Store::Open(config.data_dir()));
  gw->committer_ = std::make_unique<store::Committer>(gw->store_.get());
  SB_RETURN_IF_ERROR(gw->committer_->Start());
  SB_RETURN_IF_ERROR(gw->directory_.Load(*gw->store_));
  SB_ASSIGN_OR_RETURN(policy::SharingPolicy sharing, LoadSharingPolicy(config, gw->events_));
  gw->decider_ = std::make_unique<consent::AccessDecider>(gw->store_.get(), &gw->directory_,
                                                          std::move(sharing));

  delivery::DispatcherOptions dispatch;
  dispatch.default_window = config.delivery().default_window();
  dispatch.max_window = config.delivery().max_window();
  dispatch.ack_timeout = absl::Milliseconds(config.delivery().ack_timeout_ms());
  Gateway* g = gw.get();
  // The bound adapters live in the RawPublisher, made further down (it needs the
  // Publisher, which needs the Dispatcher); no stream exists before it is.
  gw->dispatcher_ = std::make_unique<delivery::Dispatcher>(
      gw->store_.get(), gw->committer_.get(), gw->decider_.get(), dispatch,
      [g](const std::string& org) -> const adapters::Adapter* {
        return g->raw_publisher_ == nullptr ? nullptr : g->raw_publisher_->AdapterFor(org);
      });

  registry::RegistryContext registry_context{
      .directory = &gw->directory_,
      .events = &gw->events_,
      .on_suspended =
          [g](const std::string& id) {
            g->dispatcher_->Disconnect(
                id, absl::PermissionDeniedError(absl::StrCat("member '", id, "' is suspended")));
          },
      .on_care_team_changed = [g] { g->decider_->Invalidate(); },
  };
  SB_RETURN_IF_ERROR(registry::ApplySeed(gw->committer_.get(), registry_context, config.seed()));
  consent::ConsentOpsContext consent_context{
      .directory = &gw->directory_,
      .events = &gw->events_,
      .policy = &gw->decider_->policy(),
      .on_queued =
          [g](uint64_t message_seq, const std::shared_ptr<const v1::Message>& message,
              const std::vector<std::string>& recipients) {
            if (message != nullptr) g->dispatcher_->messages()->Put(message_seq, message);
            g->dispatcher_->Notify(recipients);
          },
      .on_consents_changed = [g] { g->decider_->Invalidate(); },
  };
  SB_RETURN_IF_ERROR(consent::ApplySeedConsents(gw->committer_.get(), *gw->store_, consent_context,
                                                config.seed().consents()));

  gw->guard_ = std::make_unique<identity::RpcGuard>(&gw->directory_, gw->committer_.get());
  gw->publisher_ = std::make_unique<exchange::Publisher>(
      gw->store_.get(), gw->committer_.get(), &gw->directory_, &gw->events_, gw->decider_.get(),
      consent_context, config.limits(),
      [g](uint64_t message_seq, const std::shared_ptr<const v1::Message>& message,
          const std::vector<std::string>& recipients) {
        g->dispatcher_->messages()->Put(message_seq, message);
        g->dispatcher_->Notify(recipients);
      });
  gw->raw_publisher_ = std::make_unique<exchange::RawPublisher>(
      std::move(bound_adapters), gw->publisher_.get(), gw->committer_.get(),
      config.limits().max_message_bytes());
  gw->exchange_service_ = std::make_unique<exchange::ExchangeService>(
      gw->guard_.get(), gw->publisher_.get(), gw->raw_publisher_.get(), gw->dispatcher_.get());
  gw->registry_service_ = std::make_unique<registry::RegistryService>(
      gw->guard_.get(), gw->committer_.get(), registry_context);
  gw->operations_service_ = std::make_unique<operations::OperationsService>(
      gw->guard_.get(), gw->store_.get(), gw->committer_.get(), gw->dispatcher_.get());
  gw->consents_service_ = std::make_unique<consent::ConsentsService>(
      gw->guard_.get(), gw->store_.get(), gw->committer_.get(), gw->decider_.get(),
      consent_context);
  gw->dispatcher_->Start();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ca;
  ssl.pem_key_cert_pairs.push_back({key, cert});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen().grpc_address(), grpc::SslServerCredentials(ssl),
                           &gw->grpc_port_);
  // Room above the message limit so that an oversized message reaches Publish
  // and gets a clear INVALID_ARGUMENT rather than a transport error.
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.limits().max_message_bytes()) + (64 << 10));
  // Notice dead subscribers (their deliveries go back to pending) and let
  // clients keep idle streams alive.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
  counters.push_back(std::make_unique<CallCounterFactory>(&gw->calls_));
  builder.experimental().SetInterceptorCreators(std::move(counters));
  builder.RegisterService(gw->exchange_service_.get());
  builder.RegisterService(gw->registry_service_.get());
  builder.RegisterService(gw->operations_service_.get());
  builder.RegisterService(gw->consents_service_.get());
  gw->server_ = builder.BuildAndStart();
  if (gw->server_ == nullptr || gw->grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("listen.grpc_address: cannot listen on '",
                                               config.listen().grpc_address(), "'"));
  }
  const std::string& addr = config.listen().grpc_address();
  gw->grpc_host_ = addr.substr(0, addr.rfind(':'));
  if (!config.listen().mllp_address().empty()) {
    connectors::MllpServerOptions mllp;
    mllp.address = config.listen().mllp_address();
    mllp.ca_pem = ca;
    mllp.cert_pem = cert;
    mllp.key_pem = key;
    mllp.max_message_bytes = config.limits().max_message_bytes();
    SB_ASSIGN_OR_RETURN(gw->mllp_, connectors::MllpServer::Start(mllp, gw->guard_.get(),
                                                                 gw->raw_publisher_.get()));
  }
  gw->server_->GetHealthCheckService()->SetServingStatus(true);
  LogInfo("started", {{"grpc", absl::StrCat(gw->grpc_host_, ":", gw->grpc_port_)},
                      {"mllp", gw->mllp_address()},
                      {"data_dir", config.data_dir()}});
  return gw;
}

std::string Gateway::mllp_address() const {
  if (mllp_ == nullptr) return "";
  return absl::StrCat(mllp_->host(), ":", mllp_->port());
}

absl::Status Gateway::Shutdown() {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
  // New calls are refused from here on; streams are ended (they never end on
  // their own); unary calls in progress finish, their commits still running, so
  // nothing acknowledged is cut off. Then the connections are closed at once.
  if (guard_ != nullptr) guard_->SetDraining();
  if (dispatcher_ != nullptr) dispatcher_->Stop();
  const absl::Time deadline = absl::Now() + absl::Milliseconds(config_.shutdown_grace_ms());
  if (server_ != nullptr) {
    if (!calls_.WaitIdle(deadline)) {
      LogWarning("drain_timeout", {{"grace_ms", absl::StrCat(config_.shutdown_grace_ms())}});
    }
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  // MLLP messages being published are answered (the guard now refuses new ones
  // with AR) before the committer and the store close.
  if (mllp_ != nullptr && !mllp_->Stop(deadline)) {
    LogWarning("mllp_drain_timeout", {{"grace_ms", absl::StrCat(config_.shutdown_grace_ms())}});
  }
  if (operations_service_ != nullptr) operations_service_->Stop();
  if (committer_ != nullptr) committer_->Stop();
  absl::Status closed = store_ != nullptr ? store_->Close() : absl::OkStatus();
  LogInfo("stopped", {{"store", closed.ok() ? "closed" : closed.ToString()}});
  return closed;
}

}  // namespace switchboard::gateway
