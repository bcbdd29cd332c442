#include "gateway/server/gateway.h"

#include <algorithm>
#include <chrono>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "adapters/adapter_registry.h"
#include "gateway/common/log.h"
#include "gateway/config/config_loader.h"
#include "gateway/connectors/fhir_endpoint.h"
#include "gateway/connectors/https_server.h"
#include "gateway/connectors/push_transport.h"
#include "gateway/registry/adapter_ops.h"
#include "gateway/registry/seed.h"
#include "gateway/web/web_app.h"
#include "google/protobuf/util/json_util.h"
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

// One transport per push endpoint, checked against the members with an adapter
// (`adapted`). INVALID_ARGUMENT naming `push_endpoints[i]...`.
absl::Status AddPushEndpoints(const v1::GatewayConfig& config,
                              const absl::flat_hash_set<std::string>& adapted,
                              const connectors::PushTls& tls, delivery::Pusher* pusher,
                              absl::flat_hash_set<std::string>* pushed) {
  for (int i = 0; i < config.push_endpoints_size(); ++i) {
    const v1::PushEndpoint& e = config.push_endpoints(i);
    const std::string field = absl::StrCat("push_endpoints[", i, "]");
    if (e.organisation_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".organisation_id: required"));
    }
    if (!pushed->insert(e.organisation_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".organisation_id: '", e.organisation_id(), "' has another push endpoint"));
    }
    if (e.has_mllp() && !adapted.contains(e.organisation_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".mllp: '", e.organisation_id(),
          "' has no adapter binding to write HL7 v2 with (adapter_bindings, or an active "
          "adapter version)"));
    }
    connectors::PushTls endpoint_tls = tls;
    if (e.has_webhook() && !e.webhook().ca_cert_file().empty()) {
      SB_ASSIGN_OR_RETURN(endpoint_tls.webhook_ca_pem,
                          config::ReadFile(e.webhook().ca_cert_file(),
                                           absl::StrCat(field, ".webhook.ca_cert_file")));
    }
    SB_ASSIGN_OR_RETURN(std::unique_ptr<connectors::PushTransport> transport,
                        connectors::MakePushTransport(e, endpoint_tls, field));
    pusher->Add(e.organisation_id(), delivery::PushPolicy::From(e), std::move(transport));
  }
  return absl::OkStatus();
}

// Publishes the config's story messages (seed.messages_file), each as its
// source, and waits for each. A message published before (a restart) is a
// no-op. INVALID_ARGUMENT naming the message for any refusal.
absl::Status PublishStory(const exchange::Publisher& publisher, const v1::SeedMessages& story) {
  for (int i = 0; i < story.messages_size(); ++i) {
    const v1::Message& m = story.messages(i);
    identity::Caller caller;
    caller.organisation_id = m.header().source();
    caller.user = m.header().author();
    absl::Notification done;
    absl::Status status;
    publisher.Publish(caller, m, [&](absl::StatusOr<v1::Receipt> receipt) {
      status = receipt.status();
      done.Notify();
    });
    done.WaitForNotification();
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("seed.messages_file: messages[", i, "] ('",
                                                     m.header().id(), "' of ", m.header().source(),
                                                     ") was refused: ", status.ToString()));
    }
  }
  if (story.messages_size() > 0) {
    LogInfo("story_published", {{"messages", absl::StrCat(story.messages_size())}});
  }
  return absl::OkStatus();
}

}  // namespace

Gateway::Gateway(const v1::GatewayConfig& config) : config_(config), events_(config) {
  adapters::RegisterBuiltinAdapters(adapter_types_);
}

Gateway::~Gateway() { (void)Shutdown(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(const v1::GatewayConfig& config) {
  SB_RETURN_IF_ERROR(config::ValidateConfig(config));
  // Bindings are checked before the store is touched. They only seed the
  // registry's adapter versions (below); the live adapters come from those.
  {
    adapters::AdapterRegistry adapter_types;
    adapters::RegisterBuiltinAdapters(adapter_types);
    SB_RETURN_IF_ERROR(
        exchange::RawPublisher::CreateAdapters(config.adapter_bindings(), adapter_types).status());
  }
  SB_ASSIGN_OR_RETURN(std::string ca, config::ReadFile(config.tls().ca_cert_file(), "tls.ca_cert_file"));
  SB_ASSIGN_OR_RETURN(std::string cert,
                      config::ReadFile(config.tls().server_cert_file(), "tls.server_cert_file"));
  SB_ASSIGN_OR_RETURN(std::string key,
                      config::ReadFile(config.tls().server_key_file(), "tls.server_key_file"));
  SB_ASSIGN_OR_RETURN(exchange::Publisher::IdentifierAuthorities authorities,
                      exchange::Publisher::MakeAuthorities(config.identifier_authorities()));
  SB_ASSIGN_OR_RETURN(careplan::Scales scales, careplan::MakeScales(config.attainment_scales()));
  v1::SeedMessages story;
  if (!config.seed().messages_file().empty()) {
    SB_ASSIGN_OR_RETURN(std::string text,
                        config::ReadFile(config.seed().messages_file(), "seed.messages_file"));
    auto parsed = google::protobuf::util::JsonStringToMessage(text, &story);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("seed.messages_file: '",
                                                     config.seed().messages_file(),
                                                     "' is not SeedMessages JSON: ",
                                                     parsed.message().as_string()));
    }
  }

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
  gw->dispatcher_ = std::make_unique<delivery::Dispatcher>(
      gw->store_.get(), gw->committer_.get(), gw->decider_.get(), dispatch,
      [g](const std::string& org) { return g->adapter_table_.Find(org); });
  // Push endpoints are checked before the store changes (the seeds below),
  // against the members that will have an adapter: a config binding or an
  // active version in the registry.
  absl::flat_hash_set<std::string> adapted;
  for (const v1::AdapterBinding& b : config.adapter_bindings()) adapted.insert(b.organisation_id());
  SB_ASSIGN_OR_RETURN(std::vector<std::string> registered,
                      registry::OrganisationsWithActiveAdapter(*gw->store_));
  adapted.insert(registered.begin(), registered.end());
  gw->pusher_ = std::make_unique<delivery::Pusher>(gw->dispatcher_.get());
  absl::flat_hash_set<std::string> pushed;
  SB_RETURN_IF_ERROR(AddPushEndpoints(config, adapted,
                                      connectors::PushTls{
                                          .ca_pem = ca, .cert_pem = cert, .key_pem = key,
                                          .webhook_ca_pem = ""},
                                      gw->pusher_.get(), &pushed));
  gw->dispatcher_->SetPushed(std::move(pushed));
  absl::flat_hash_map<std::string, std::vector<std::string>> own_systems;
  for (const auto& [system, orgs] : authorities) {
    for (const std::string& org : orgs) own_systems[org].push_back(system);
  }
  gw->dispatcher_->SetOwnSystems(std::move(own_systems));
  gw->dispatcher_->SetStrongSystems(absl::flat_hash_set<std::string>(
      config.strong_identifier_systems().begin(), config.strong_identifier_systems().end()));

  gw->registry_context_ = registry::RegistryContext{
      .directory = &gw->directory_,
      .events = &gw->events_,
      .on_suspended =
          [g](const std::string& id) {
            g->dispatcher_->Disconnect(
                id, absl::PermissionDeniedError(absl::StrCat("member '", id, "' is suspended")));
          },
      .on_care_team_changed = [g] { g->decider_->Invalidate(); },
      .on_identifiers_changed = [g] { g->decider_->Invalidate(); },
  };
  const registry::RegistryContext& registry_context = gw->registry_context_;
  SB_RETURN_IF_ERROR(registry::ApplySeed(gw->committer_.get(), registry_context, config.seed()));
  // Config adapter bindings seed version 1 of members without versions; then
  // the live adapters are those of the active versions.
  const registry::AdapterContext adapter_context{
      .directory = &gw->directory_, .types = &gw->adapter_types_, .table = &gw->adapter_table_};
  SB_RETURN_IF_ERROR(registry::SeedAdapterVersions(gw->committer_.get(), *gw->store_,
                                                   adapter_context, config.adapter_bindings()));
  SB_RETURN_IF_ERROR(registry::LoadAdapterTable(*gw->store_, adapter_context));
  consent::ConsentOpsContext consent_context{
      .directory = &gw->directory_,
      .events = &gw->events_,
      .policy = &gw->decider_->policy(),
      .on_queued =
          [g](uint64_t message_seq, const std::shared_ptr<const v1::Message>& message,
              const std::vector<std::string>& recipients) {
            if (message != nullptr) g->dispatcher_->messages()->Put(message_seq, message);
            g->dispatcher_->Notify(recipients);
            g->pusher_->Notify(recipients);
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
        g->pusher_->Notify(recipients);
      },
      std::move(authorities),
      absl::flat_hash_set<std::string>(config.strong_identifier_systems().begin(),
                                       config.strong_identifier_systems().end()),
      [g] { g->decider_->Invalidate(); },
      exchange::Coordination{
          .scales = std::move(scales),
          .referrals = careplan::ReferralContext{
              .escalate_after = careplan::EscalateAfter(config.referrals()),
              .registry = &gw->registry_context_}});
  gw->raw_publisher_ = std::make_unique<exchange::RawPublisher>(
      &gw->adapter_table_, gw->publisher_.get(), gw->committer_.get(),
      config.limits().max_message_bytes());
  gw->exchange_service_ = std::make_unique<exchange::ExchangeService>(
      gw->guard_.get(), gw->publisher_.get(), gw->raw_publisher_.get(), gw->dispatcher_.get());
  gw->registry_service_ = std::make_unique<registry::RegistryService>(
      gw->guard_.get(), gw->committer_.get(), gw->store_.get(), registry_context, adapter_context);
  gw->operations_service_ = std::make_unique<operations::OperationsService>(
      gw->guard_.get(), gw->store_.get(), gw->committer_.get(), gw->dispatcher_.get(),
      gw->pusher_.get());
  gw->consents_service_ = std::make_unique<consent::ConsentsService>(
      gw->guard_.get(), gw->store_.get(), gw->committer_.get(), gw->decider_.get(),
      consent_context);
  std::string plan_event;
  for (const v1::EventType& e : config.event_types()) {
    if (e.payload() == v1::EventType::CARE_PLAN_CHANGE && plan_event.empty()) plan_event = e.code();
  }
  gw->careplans_service_ = std::make_unique<careplan::CarePlansService>(
      gw->guard_.get(), gw->store_.get(), gw->committer_.get(), &gw->directory_, gw->decider_.get(),
      gw->publisher_.get(), plan_event);
  SB_RETURN_IF_ERROR(PublishStory(*gw->publisher_, story));
  const absl::Duration escalate_after = careplan::EscalateAfter(config.referrals());
  gw->escalator_ = std::make_unique<careplan::Escalator>(
      gw->store_.get(), gw->committer_.get(), consent_context,
      config.referrals().check_interval_ms() != 0
          ? absl::Milliseconds(config.referrals().check_interval_ms())
          : std::clamp(escalate_after / 10, absl::Milliseconds(50), absl::Minutes(1)));
  gw->escalator_->Start();
  gw->dispatcher_->Start();
  gw->pusher_->Start();

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
  builder.RegisterService(gw->careplans_service_.get());
  gw->server_ = builder.BuildAndStart();
  if (gw->server_ == nullptr || gw->grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("listen.grpc_address: cannot listen on '",
                                               config.listen().grpc_address(), "'"));
  }
  const std::string& addr = config.listen().grpc_address();
  gw->grpc_host_ = addr.substr(0, addr.rfind(':'));
  const absl::Duration read_timeout = absl::Milliseconds(
      config.listen().read_timeout_ms() == 0 ? 30000 : config.listen().read_timeout_ms());
  if (!config.listen().mllp_address().empty()) {
    connectors::MllpServerOptions mllp;
    mllp.address = config.listen().mllp_address();
    mllp.ca_pem = ca;
    mllp.cert_pem = cert;
    mllp.key_pem = key;
    mllp.max_message_bytes = config.limits().max_message_bytes();
    mllp.read_timeout = read_timeout;
    mllp.idle_timeout = 10 * read_timeout;
    SB_ASSIGN_OR_RETURN(gw->mllp_, connectors::MllpServer::Start(mllp, gw->guard_.get(),
                                                                 gw->raw_publisher_.get()));
  }
  if (!config.listen().https_address().empty()) {
    connectors::HttpsServerOptions https;
    https.address = config.listen().https_address();
    https.ca_pem = ca;
    https.cert_pem = cert;
    https.key_pem = key;
    https.max_body_bytes = config.limits().max_message_bytes();
    https.read_timeout = read_timeout;
    gw->fhir_endpoint_ =
        std::make_unique<connectors::FhirEndpoint>(gw->guard_.get(), gw->raw_publisher_.get());
    connectors::HttpRoutes routes;
    SB_RETURN_IF_ERROR(gw->fhir_endpoint_->AddRoutes(&routes));
    // The coordinator web view (docs/web.md) on the same listener.
    web::WebOptions web_options;
    web_options.plan_event = plan_event;
    for (const v1::EventType& e : config.event_types()) {
      if (e.payload() == v1::EventType::REFERRAL && web_options.referral_event.empty()) {
        web_options.referral_event = e.code();
      }
    }
    for (const v1::AttainmentScale& scale : config.attainment_scales()) {
      web_options.scales[scale.name()] = scale;
    }
    for (const v1::IdentifierAuthority& a : config.identifier_authorities()) {
      for (const std::string& org : a.organisation_ids()) web_options.own_systems[org].push_back(a.system());
    }
    gw->web_ = std::make_unique<web::WebApp>(gw->store_.get(), gw->committer_.get(), &gw->directory_,
                                             gw->decider_.get(), gw->publisher_.get(),
                                             std::move(web_options));
    SB_RETURN_IF_ERROR(gw->web_->AddRoutes(&routes));
    SB_ASSIGN_OR_RETURN(gw->https_, connectors::HttpsServer::Start(https, std::move(routes)));
  }
  gw->server_->GetHealthCheckService()->SetServingStatus(true);
  LogInfo("started", {{"grpc", absl::StrCat(gw->grpc_host_, ":", gw->grpc_port_)},
                      {"mllp", gw->mllp_address()},
                      {"https", gw->https_address()},
                      {"data_dir", config.data_dir()}});
  return gw;
}

std::string Gateway::mllp_address() const {
  if (mllp_ == nullptr) return "";
  return absl::StrCat(mllp_->host(), ":", mllp_->port());
}

std::string Gateway::https_address() const {
  if (https_ == nullptr) return "";
  return absl::StrCat(https_->host(), ":", https_->port());
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
  // HTTPS requests the same way (new ones get 503 from the guard).
  if (https_ != nullptr && !https_->Stop(deadline)) {
    LogWarning("https_drain_timeout", {{"grace_ms", absl::StrCat(config_.shutdown_grace_ms())}});
  }
  if (operations_service_ != nullptr) operations_service_->Stop();
  if (escalator_ != nullptr) escalator_->Stop();
  if (web_ != nullptr) web_->Stop();
  // Sends in progress are cancelled (not counted as failures); what was sent
  // but not recorded goes again after the restart.
  if (pusher_ != nullptr) pusher_->Stop();
  if (committer_ != nullptr) committer_->Stop();
  absl::Status closed = store_ != nullptr ? store_->Close() : absl::OkStatus();
  LogInfo("stopped", {{"store", closed.ok() ? "closed" : closed.ToString()}});
  return closed;
}

}  // namespace switchboard::gateway
