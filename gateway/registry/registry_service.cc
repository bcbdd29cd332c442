#include "gateway/registry/registry_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gateway/common/grpc_status.h"

namespace switchboard::gateway::registry {

grpc::ServerUnaryReactor* RegistryService::Transact(grpc::CallbackServerContext* ctx,
                                                    const char* operation, bool admin_only,
                                                    TxnFn fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, operation, finish);
  if (!caller) return reactor;
  if (admin_only && !guard_->RequireAdmin(*caller, operation, finish)) return reactor;
  committer_->Submit(
      [fn = std::move(fn), caller = *caller](store::Transaction& txn) { return fn(txn, caller); },
      finish);
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::RegisterOrganisation(
    grpc::CallbackServerContext* ctx, const v1::RegisterOrganisationRequest* request,
    v1::Organisation* response) {
  return Transact(ctx, "Registry/RegisterOrganisation", true,
                  [this, org = request->organisation(), response](auto& txn, const auto& caller) {
                    return registry::RegisterOrganisation(txn, context_, caller, org, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::UpdateOrganisation(
    grpc::CallbackServerContext* ctx, const v1::UpdateOrganisationRequest* request,
    v1::Organisation* response) {
  return Transact(ctx, "Registry/UpdateOrganisation", true,
                  [this, org = request->organisation(), response](auto& txn, const auto& caller) {
                    return registry::UpdateOrganisation(txn, context_, caller, org, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::SuspendOrganisation(
    grpc::CallbackServerContext* ctx, const v1::SuspendOrganisationRequest* request,
    v1::Organisation* response) {
  return Transact(ctx, "Registry/SuspendOrganisation", true,
                  [this, id = request->organisation_id(), reason = request->reason(), response](
                      auto& txn, const auto& caller) {
                    return registry::SuspendOrganisation(txn, context_, caller, id, reason,
                                                         response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::ReactivateOrganisation(
    grpc::CallbackServerContext* ctx, const v1::ReactivateOrganisationRequest* request,
    v1::Organisation* response) {
  return Transact(ctx, "Registry/ReactivateOrganisation", true,
                  [this, id = request->organisation_id(), response](auto& txn, const auto& caller) {
                    return registry::ReactivateOrganisation(txn, context_, caller, id, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::GetOrganisation(
    grpc::CallbackServerContext* ctx, const v1::GetOrganisationRequest* request,
    v1::Organisation* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  if (!guard_->Identify(*ctx, "Registry/GetOrganisation", finish)) return reactor;
  const auto snap = context_.directory->snapshot();
  const v1::Organisation* org = snap->Find(request->organisation_id());
  if (org == nullptr) {
    finish(absl::NotFoundError(
        absl::StrCat("no organisation '", request->organisation_id().substr(0, 64), "'")));
    return reactor;
  }
  *response = *org;
  finish(absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::ListOrganisations(
    grpc::CallbackServerContext* ctx, const v1::ListOrganisationsRequest* request,
    v1::ListOrganisationsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  if (!guard_->Identify(*ctx, "Registry/ListOrganisations", finish)) return reactor;
  const auto snap = context_.directory->snapshot();
  for (const auto& [id, org] : snap->organisations) *response->add_organisations() = org;
  std::sort(response->mutable_organisations()->begin(), response->mutable_organisations()->end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  finish(absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::SetSubscription(
    grpc::CallbackServerContext* ctx, const v1::SetSubscriptionRequest* request,
    v1::Subscription* response) {
  return Transact(ctx, "Registry/SetSubscription", true,
                  [this, sub = request->subscription(), response](auto& txn, const auto& caller) {
                    return registry::SetSubscription(txn, context_, caller, sub, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::ListSubscriptions(
    grpc::CallbackServerContext* ctx, const v1::ListSubscriptionsRequest* request,
    v1::ListSubscriptionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, "Registry/ListSubscriptions", finish);
  if (!caller) return reactor;
  // What others subscribe to is theirs: admins see all, members their own.
  const auto snap = context_.directory->snapshot();
  for (const auto& [id, sub] : snap->subscriptions) {
    if (caller->admin || id == caller->organisation_id) *response->add_subscriptions() = sub;
  }
  std::sort(response->mutable_subscriptions()->begin(), response->mutable_subscriptions()->end(),
            [](const auto& a, const auto& b) { return a.organisation_id() < b.organisation_id(); });
  finish(absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::RegisterClient(
    grpc::CallbackServerContext* ctx, const v1::RegisterClientRequest* request,
    v1::Client* response) {
  return Transact(ctx, "Registry/RegisterClient", true,
                  [this, client = request->client(), response](auto& txn, const auto& caller) {
                    return registry::RegisterClient(txn, context_, caller, client, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::AddCareTeamMember(
    grpc::CallbackServerContext* ctx, const v1::AddCareTeamMemberRequest* request,
    v1::CareTeam* response) {
  return Transact(ctx, "Registry/AddCareTeamMember", true,
                  [this, client = request->client(), member = request->member(), response](
                      auto& txn, const auto& caller) {
                    return registry::AddCareTeamMember(txn, context_, caller, client, member,
                                                       response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::RemoveCareTeamMember(
    grpc::CallbackServerContext* ctx, const v1::RemoveCareTeamMemberRequest* request,
    v1::CareTeam* response) {
  return Transact(ctx, "Registry/RemoveCareTeamMember", true,
                  [this, client = request->client(), org = request->organisation_id(), response](
                      auto& txn, const auto& caller) {
                    return registry::RemoveCareTeamMember(txn, context_, caller, client, org,
                                                          response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::GetCareTeam(grpc::CallbackServerContext* ctx,
                                                       const v1::GetCareTeamRequest* request,
                                                       v1::CareTeam* response) {
  // A read, but audited as a view: it runs as a transaction for its audit record.
  return Transact(ctx, "Registry/GetCareTeam", false,
                  [client = request->client(), response](auto& txn, const auto& caller) {
                    return registry::GetCareTeam(txn, caller, client, response);
                  });
}

}  // namespace switchboard::gateway::registry
