// gRPC Registry service: guard (identity, ADMIN for writes; identity links
// also COORDINATOR members, checked by identity_ops.h) -> registry ops in a
// committer transaction -> respond. Reads of the directory need only an active
// member. The adapter lifecycle RPCs are open to members for their own
// organisation (adapter_ops.h decides); their adapter work (building adapters,
// replaying samples; a remote adapter calls out) runs on the service's own
// worker threads, never on gRPC's. The people RPCs are open to members for their
// own organisation too (user_ops.h decides); their password hashing (scrypt)
// runs on the same worker, before the transaction.
#ifndef SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_SERVICE_H_
#define SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_SERVICE_H_

#include "gateway/delivery/executor.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/adapter_ops.h"
#include "gateway/registry/identity_ops.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/web/user_ops.h"
#include "switchboard/v1/registry.grpc.pb.h"

namespace switchboard::gateway::registry {

class RegistryService final : public v1::Registry::CallbackService {
 public:
  RegistryService(const identity::RpcGuard* guard, store::Committer* committer,
                  const store::Store* store, RegistryContext context, AdapterContext adapters)
      : guard_(guard),
        committer_(committer),
        store_(store),
        context_(std::move(context)),
        adapters_(adapters) {}

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
  grpc::ServerUnaryReactor* LinkIdentifier(grpc::CallbackServerContext* ctx,
                                           const v1::LinkIdentifierRequest* request,
                                           v1::Client* response) override;
  grpc::ServerUnaryReactor* UnlinkIdentifier(grpc::CallbackServerContext* ctx,
                                             const v1::UnlinkIdentifierRequest* request,
                                             v1::Client* response) override;
  grpc::ServerUnaryReactor* ListClientReviews(grpc::CallbackServerContext* ctx,
                                              const v1::ListClientReviewsRequest* request,
                                              v1::ListClientReviewsResponse* response) override;
  grpc::ServerUnaryReactor* ResolveClientReview(grpc::CallbackServerContext* ctx,
                                                const v1::ResolveClientReviewRequest* request,
                                                v1::ClientReview* response) override;

  grpc::ServerUnaryReactor* ListAdapterVersions(grpc::CallbackServerContext* ctx,
                                                const v1::ListAdapterVersionsRequest* request,
                                                v1::ListAdapterVersionsResponse* response) override;
  grpc::ServerUnaryReactor* RegisterAdapterVersion(
      grpc::CallbackServerContext* ctx, const v1::RegisterAdapterVersionRequest* request,
      v1::AdapterVersion* response) override;
  grpc::ServerUnaryReactor* TestAdapter(grpc::CallbackServerContext* ctx,
                                        const v1::TestAdapterRequest* request,
                                        v1::TestAdapterResponse* response) override;
  grpc::ServerUnaryReactor* ActivateAdapterVersion(
      grpc::CallbackServerContext* ctx, const v1::ActivateAdapterVersionRequest* request,
      v1::ActivateAdapterVersionResponse* response) override;
  grpc::ServerUnaryReactor* RollbackAdapter(grpc::CallbackServerContext* ctx,
                                            const v1::RollbackAdapterRequest* request,
                                            v1::AdapterBindingState* response) override;

  grpc::ServerUnaryReactor* AddUser(grpc::CallbackServerContext* ctx,
                                    const v1::AddUserRequest* request,
                                    v1::AddUserResponse* response) override;
  grpc::ServerUnaryReactor* DisableUser(grpc::CallbackServerContext* ctx,
                                        const v1::DisableUserRequest* request,
                                        v1::User* response) override;
  grpc::ServerUnaryReactor* ResetUserPassword(grpc::CallbackServerContext* ctx,
                                              const v1::ResetUserPasswordRequest* request,
                                              v1::ResetUserPasswordResponse* response) override;
  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* ctx,
                                      const v1::ListUsersRequest* request,
                                      v1::ListUsersResponse* response) override;

 private:
  using TxnFn = std::function<absl::Status(store::Transaction&, const identity::Caller&)>;
  // Identifies the caller (and checks ADMIN when `admin_only`), then runs `fn` in
  // a transaction and finishes with its status.
  grpc::ServerUnaryReactor* Transact(grpc::CallbackServerContext* ctx, const char* operation,
                                     bool admin_only, TxnFn fn);
  using AdapterFn =
      std::function<void(const identity::Caller&, const std::function<void(const absl::Status&)>&)>;
  // Identifies the caller, then runs `fn` on the adapter worker (which also
  // hashes people's passwords); `fn` finishes the call with the finish
  // function it is given.
  grpc::ServerUnaryReactor* OnAdapterWorker(grpc::CallbackServerContext* ctx,
                                            const char* operation, AdapterFn fn);

  // Constant after construction.
  const identity::RpcGuard* const guard_;
  store::Committer* const committer_;
  const store::Store* const store_;
  const RegistryContext context_;
  const AdapterContext adapters_;
  // Declared last: destroyed (and joined) first.
  delivery::Executor adapter_worker_{2};
};

}  // namespace switchboard::gateway::registry

#endif  // SWITCHBOARD_GATEWAY_REGISTRY_REGISTRY_SERVICE_H_
