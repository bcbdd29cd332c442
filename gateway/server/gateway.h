// The whole gateway in one object: store, committer, directory, dispatcher,
// services and the gRPC server, built from a validated config; and its orderly
// shutdown (drain RPCs, close streams, flush and close RocksDB).
//
// Thread-safe: Shutdown may be called from any thread, once.
#ifndef SWITCHBOARD_GATEWAY_SERVER_GATEWAY_H_
#define SWITCHBOARD_GATEWAY_SERVER_GATEWAY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/adapter_registry.h"
#include "gateway/careplan/careplans_service.h"
#include "gateway/careplan/referral_ops.h"
#include "gateway/config/event_catalogue.h"
#include "gateway/connectors/mllp_server.h"
#include "gateway/consent/access.h"
#include "gateway/consent/consents_service.h"
#include "gateway/delivery/dispatcher.h"
#include "gateway/delivery/pusher.h"
#include "gateway/exchange/exchange_service.h"
#include "gateway/exchange/publisher.h"
#include "gateway/exchange/raw_publisher.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/operations/operations_service.h"
#include "gateway/registry/adapter_table.h"
#include "gateway/registry/directory.h"
#include "gateway/registry/registry_service.h"
#include "gateway/server/call_counter.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "grpcpp/server.h"
#include "switchboard/v1/config.pb.h"

namespace switchboard::gateway {

// Defined in gateway/connectors/ (Beast headers are heavy; only gateway.cc needs them).
namespace connectors {
class FhirEndpoint;
class HttpsServer;
}  // namespace connectors
namespace web {
class WebApp;
}  // namespace web

class Gateway {
 public:
  // Opens the store (never wiping it), applies the seed, and starts listening.
  // INVALID_ARGUMENT for a bad config, seed or adapter binding, NOT_FOUND for unreadable TLS
  // files, UNAVAILABLE when the store is locked or the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(const v1::GatewayConfig& config);

  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway();  // Shutdown()s.

  // The port gRPC listens on (the chosen one when the config says port 0).
  int grpc_port() const { return grpc_port_; }
  const std::string& grpc_host() const { return grpc_host_; }
  // HOST:PORT of the MLLP listener (the chosen port), or "" when none is configured.
  std::string mllp_address() const;
  // HOST:PORT of the HTTPS listener (the chosen port), or "" when none is configured.
  std::string https_address() const;

  // Stops accepting, ends Subscribe streams, waits up to the grace period for
  // in-flight RPCs, MLLP messages and HTTPS requests, then flushes and closes
  // the store. Idempotent.
  absl::Status Shutdown();

 private:
  explicit Gateway(const v1::GatewayConfig& config);

  const v1::GatewayConfig config_;
  const config::EventCatalogue events_;
  // The adapter types (built-in) and the live adapters of the members' active
  // versions; they outlive everything that translates.
  adapters::AdapterRegistry adapter_types_;
  registry::AdapterTable adapter_table_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Committer> committer_;
  registry::Directory directory_;
  std::unique_ptr<consent::AccessDecider> decider_;
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  // Members with a push endpoint; started after the Dispatcher, stopped before
  // the committer.
  std::unique_ptr<delivery::Pusher> pusher_;
  std::unique_ptr<identity::RpcGuard> guard_;
  // Outlives the publisher (referrals add care-team members with it).
  registry::RegistryContext registry_context_;
  std::unique_ptr<exchange::Publisher> publisher_;
  std::unique_ptr<exchange::RawPublisher> raw_publisher_;
  std::unique_ptr<exchange::ExchangeService> exchange_service_;
  std::unique_ptr<registry::RegistryService> registry_service_;
  std::unique_ptr<operations::OperationsService> operations_service_;
  std::unique_ptr<consent::ConsentsService> consents_service_;
  std::unique_ptr<careplan::CarePlansService> careplans_service_;
  // Escalates unanswered referrals; stopped before the committer.
  std::unique_ptr<careplan::Escalator> escalator_;
  CallCounter calls_;
  std::unique_ptr<grpc::Server> server_;
  // Kept until destruction (after the committer stops) so that a publish answered
  // past the grace period still finds its I/O context.
  std::unique_ptr<connectors::MllpServer> mllp_;
  // The same for HTTPS; the endpoint its routes call outlives it.
  std::unique_ptr<connectors::FhirEndpoint> fhir_endpoint_;
  std::unique_ptr<connectors::HttpsServer> https_;
  // The web view's routes on https_ (stopped with it, before the committer).
  std::unique_ptr<web::WebApp> web_;
  int grpc_port_ = 0;
  std::string grpc_host_;
  bool shut_down_ = false;
};

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_SERVER_GATEWAY_H_
