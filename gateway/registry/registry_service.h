// gRPC Registry service: guard (identity, ADMIN for writes) -> registry ops in a
// committer transaction -> respond. Reads of the directory need only an active
// member.
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_SERVICE_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_SERVICE_H_

#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/registry_ops.h"
#include "switchboard/v1/registry.grpc.pb.h"

namespace switchboard::gateway::registry {

class RegistryService final : public v1::Registry::CallbackService {
 public:
  RegistryService(const identity::RpcGuard* guard, store::Committer* committer,
                  RegistryContext context)
      : guard_(guard), committer_(committer), context_(std::move(context)) {}

  grpc::ServerUnaryReactor* RegisterOrganisation(grpc::CallbackServerContext* ctx,
                                                 const v1::RegisterOrganisationRequest* request,
                                                 v1::Organisation* response) override;
  grpc::ServerUnaryReactor* UpdateOrganisation(grpc::CallbackServerContext* ctx,
                                               const v1::UpdateOrganisationRequest* request,
                                               v1::Organisation* response) override;
  grpc::ServerUnaryReactor* SuspendOrganisation(grpc::CallbackServerContext* ctx,
                                                const v1::SuspendOrganisationRequest* request,
                                                v1::Organisation* response) override;
  grpc::ServerUnaryReactor* ReactivateOrganisation(
      grpc::CallbackServerContext* ctx, const v1::ReactivateOrganisationRequest* request,
      v1::Organisation* response) override;
  grpc::ServerUnaryReactor* GetOrganisation(grpc::CallbackServerContext* ctx,
                                            const v1::GetOrganisationRequest* request,
                                            v1::Organisation* response) override;
  grpc::ServerUnaryReactor* ListOrganisations(grpc::CallbackServerContext* ctx,
                                              const v1::ListOrganisationsRequest* request,
                                              v1::ListOrganisationsResponse* response) override;
  grpc::ServerUnaryReactor* SetSubscription(grpc::CallbackServerContext* ctx,
                                            const v1::SetSubscriptionRequest* request,
                                            v1::Subscription* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(grpc::CallbackServerContext* ctx,
                                              const v1::ListSubscriptionsRequest* request,
                                              v1::ListSubscriptionsResponse* response) override;
  grpc::ServerUnaryReactor* RegisterClient(grpc::CallbackServerContext* ctx,
                                           const v1::RegisterClientRequest* request,
                                           v1::Client* response) override;
  grpc::ServerUnaryReactor* AddCareTeamMember(grpc::CallbackServerContext* ctx,
                                              const v1::AddCareTeamMemberRequest* request,
                                              v1::CareTeam* response) override;
  grpc::ServerUnaryReactor* RemoveCareTeamMember(grpc::CallbackServerContext* ctx,
                                                 const v1::RemoveCareTeamMemberRequest* request,
                                                 v1::CareTeam* response) override;
  grpc::ServerUnaryReactor* GetCareTeam(grpc::CallbackServerContext* ctx,
                                        const v1::GetCareTeamRequest* request,
                                        v1::CareTeam* response) override;

 private:
  using TxnFn = std::function<absl::Status(store::Transaction&, const identity::Caller&)>;
  // Identifies the caller (and checks ADMIN when `admin_only`), then runs `fn` in
  // a transaction and finishes with its status.
  grpc::ServerUnaryReactor* Transact(grpc::CallbackServerContext* ctx, const char* operation,
                                     bool admin_only, TxnFn fn);

  // Constant after construction.
  const identity::RpcGuard* const guard_;
  store::Committer* const committer_;
  const RegistryContext context_;
};

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_SERVICE_H_
