#include "gateway/registry/registry_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gateway/common/grpc_status.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::gateway::registry {
namespace {

constexpr char kOpListAdapterVersions[] = "Registry/ListAdapterVersions";
constexpr char kOpTestAdapter[] = "Registry/TestAdapter";

}  // namespace

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

grpc::ServerUnaryReactor* RegistryService::LinkIdentifier(grpc::CallbackServerContext* ctx,
                                                          const v1::LinkIdentifierRequest* request,
                                                          v1::Client* response) {
  return Transact(ctx, "Registry/LinkIdentifier", false,
                  [this, client = request->client(), id = request->identifier(), response](
                      auto& txn, const auto& caller) {
                    return registry::LinkIdentifier(txn, context_, caller, client, id, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::UnlinkIdentifier(
    grpc::CallbackServerContext* ctx, const v1::UnlinkIdentifierRequest* request,
    v1::Client* response) {
  return Transact(ctx, "Registry/UnlinkIdentifier", false,
                  [this, client = request->client(), id = request->identifier(), response](
                      auto& txn, const auto& caller) {
                    return registry::UnlinkIdentifier(txn, context_, caller, client, id, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::ListClientReviews(
    grpc::CallbackServerContext* ctx, const v1::ListClientReviewsRequest* request,
    v1::ListClientReviewsResponse* response) {
  constexpr char kOp[] = "Registry/ListClientReviews";
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::VIEW);
  if (absl::Status s = CheckIdentityRights(*context_.directory, *caller); !s.ok()) {
    guard_->Refuse(record, s, finish);
    return reactor;
  }
  auto reviews = ReadClientReviews(*store_, request->include_resolved());
  if (!reviews.ok()) {
    finish(reviews.status());
    return reactor;
  }
  for (v1::ClientReview& r : *reviews) *response->add_reviews() = std::move(r);
  record.set_detail(absl::StrCat("listed ", response->reviews_size(), " client review(s)"));
  identity::SubmitAudit(committer_, std::move(record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::ResolveClientReview(
    grpc::CallbackServerContext* ctx, const v1::ResolveClientReviewRequest* request,
    v1::ClientReview* response) {
  return Transact(ctx, "Registry/ResolveClientReview", false,
                  [this, id = request->id(), resolution = request->resolution(), response](
                      auto& txn, const auto& caller) {
                    return registry::ResolveClientReview(txn, context_, caller, id, resolution,
                                                         response);
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

grpc::ServerUnaryReactor* RegistryService::OnAdapterWorker(grpc::CallbackServerContext* ctx,
                                                           const char* operation, AdapterFn fn) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, operation, finish);
  if (!caller) return reactor;
  adapter_worker_.Schedule(
      [fn = std::move(fn), caller = *caller, finish = std::move(finish)] { fn(caller, finish); });
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::ListAdapterVersions(
    grpc::CallbackServerContext* ctx, const v1::ListAdapterVersionsRequest* request,
    v1::ListAdapterVersionsResponse* response) {
  return OnAdapterWorker(
      ctx, kOpListAdapterVersions,
      [this, request, response](const auto& caller, const auto& finish) {
        const std::string org = AdapterOrganisation(caller, request->organisation_id());
        if (absl::Status s = CheckAdapterAccess(*context_.directory, caller, org); !s.ok()) {
          v1::AuditRecord record =
              identity::AuditFor(caller, kOpListAdapterVersions, v1::AuditRecord::AUTHORISE);
          record.set_subject_organisation(org);
          return guard_->Refuse(std::move(record), s, finish);
        }
        absl::StatusOr<v1::ListAdapterVersionsResponse> list =
            registry::ListAdapterVersions(*store_, org);
        if (list.ok()) *response = *std::move(list);
        finish(list.status());
      });
}

grpc::ServerUnaryReactor* RegistryService::RegisterAdapterVersion(
    grpc::CallbackServerContext* ctx, const v1::RegisterAdapterVersionRequest* request,
    v1::AdapterVersion* response) {
  return OnAdapterWorker(
      ctx, "Registry/RegisterAdapterVersion",
      [this, request, response](const identity::Caller& caller, const auto& finish) {
        const std::string org = AdapterOrganisation(caller, request->organisation_id());
        absl::StatusOr<v1::AdapterVersion> prepared = [&]() -> absl::StatusOr<v1::AdapterVersion> {
          SB_RETURN_IF_ERROR(CheckAdapterAccess(*context_.directory, caller, org));
          SB_RETURN_IF_ERROR(CheckConfigRights(caller, *adapters_.types, request->config()));
          return PrepareAdapterVersion(*adapters_.types, org, *request);
        }();
        committer_->Submit(
            [caller, org, prepared = std::move(prepared), response](store::Transaction& txn) {
              return registry::RegisterAdapterVersion(txn, caller, org, prepared, response);
            },
            finish);
      });
}

grpc::ServerUnaryReactor* RegistryService::TestAdapter(grpc::CallbackServerContext* ctx,
                                                       const v1::TestAdapterRequest* request,
                                                       v1::TestAdapterResponse* response) {
  return OnAdapterWorker(
      ctx, kOpTestAdapter, [this, request, response](const auto& caller, const auto& finish) {
        const std::string org = AdapterOrganisation(caller, request->organisation_id());
        absl::Status allowed = CheckAdapterAccess(*context_.directory, caller, org);
        if (allowed.ok() && request->has_config()) {
          allowed = CheckConfigRights(caller, *adapters_.types, request->config());
        }
        if (!allowed.ok()) {
          v1::AuditRecord record =
              identity::AuditFor(caller, kOpTestAdapter, v1::AuditRecord::AUTHORISE);
          record.set_subject_organisation(org);
          return guard_->Refuse(std::move(record), allowed, finish);
        }
        // A dry run: nothing is stored, so nothing is audited.
        absl::StatusOr<v1::TestAdapterResponse> result =
            registry::TestAdapter(*store_, adapters_, org, *request);
        if (result.ok()) *response = *std::move(result);
        finish(result.status());
      });
}

grpc::ServerUnaryReactor* RegistryService::ActivateAdapterVersion(
    grpc::CallbackServerContext* ctx, const v1::ActivateAdapterVersionRequest* request,
    v1::ActivateAdapterVersionResponse* response) {
  return OnAdapterWorker(
      ctx, "Registry/ActivateAdapterVersion",
      [this, request, response](const identity::Caller& caller, const auto& finish) {
        const std::string org = AdapterOrganisation(caller, request->organisation_id());
        absl::Status allowed = CheckAdapterAccess(*context_.directory, caller, org);
        absl::StatusOr<ActivationPlan> plan =
            allowed.ok() ? PlanActivation(*store_, *adapters_.types, org, request->version())
                         : absl::StatusOr<ActivationPlan>(allowed);
        committer_->Submit(
            [this, caller, org, plan = std::move(plan), accept = request->accept_changed_outputs(),
             response](store::Transaction& txn) {
              return registry::ActivateAdapterVersion(txn, adapters_, caller, org, plan, accept,
                                                      response);
            },
            finish);
      });
}

grpc::ServerUnaryReactor* RegistryService::RollbackAdapter(
    grpc::CallbackServerContext* ctx, const v1::RollbackAdapterRequest* request,
    v1::AdapterBindingState* response) {
  return OnAdapterWorker(
      ctx, "Registry/RollbackAdapter",
      [this, request, response](const identity::Caller& caller, const auto& finish) {
        const std::string org = AdapterOrganisation(caller, request->organisation_id());
        absl::Status allowed = CheckAdapterAccess(*context_.directory, caller, org);
        absl::StatusOr<RollbackPlan> plan = allowed.ok()
                                                ? PlanRollback(*store_, *adapters_.types, org)
                                                : absl::StatusOr<RollbackPlan>(allowed);
        committer_->Submit(
            [this, caller, org, plan = std::move(plan), response](store::Transaction& txn) {
              return registry::RollbackAdapter(txn, adapters_, caller, org, plan, response);
            },
            finish);
      });
}

grpc::ServerUnaryReactor* RegistryService::AddUser(grpc::CallbackServerContext* ctx,
                                                   const v1::AddUserRequest* request,
                                                   v1::AddUserResponse* response) {
  return OnAdapterWorker(
      ctx, "Registry/AddUser",
      [this, request, response](const identity::Caller& caller, const auto& finish) {
        // Hashed here, on the worker: scrypt would stall the writer thread.
        committer_->Submit(
            [caller, request = *request, password = web::MakeOneTimePassword(),
             response](store::Transaction& txn) {
              return web::AddUser(txn, caller, request, password, response);
            },
            finish);
      });
}

grpc::ServerUnaryReactor* RegistryService::DisableUser(grpc::CallbackServerContext* ctx,
                                                       const v1::DisableUserRequest* request,
                                                       v1::User* response) {
  return Transact(ctx, "Registry/DisableUser", false,
                  [request = *request, response](auto& txn, const auto& caller) {
                    return web::DisableUser(txn, caller, request, response);
                  });
}

grpc::ServerUnaryReactor* RegistryService::ResetUserPassword(
    grpc::CallbackServerContext* ctx, const v1::ResetUserPasswordRequest* request,
    v1::ResetUserPasswordResponse* response) {
  return OnAdapterWorker(
      ctx, "Registry/ResetUserPassword",
      [this, request, response](const identity::Caller& caller, const auto& finish) {
        committer_->Submit(
            [caller, request = *request, password = web::MakeOneTimePassword(),
             response](store::Transaction& txn) {
              return web::ResetUserPassword(txn, caller, request, password, response);
            },
            finish);
      });
}

grpc::ServerUnaryReactor* RegistryService::ListUsers(grpc::CallbackServerContext* ctx,
                                                     const v1::ListUsersRequest* request,
                                                     v1::ListUsersResponse* response) {
  return OnAdapterWorker(
      ctx, "Registry/ListUsers",
      [this, request, response](const identity::Caller& caller, const auto& finish) {
        absl::StatusOr<v1::ListUsersResponse> list = web::ListUsers(*store_, caller, *request);
        if (list.status().code() == absl::StatusCode::kNotFound) {
          return guard_->Refuse(web::ListUsersAudit(caller, *request), list.status(), finish);
        }
        if (!list.ok()) return finish(list.status());
        *response = *std::move(list);
        finish(absl::OkStatus());
      });
}

}  // namespace switchboard::gateway::registry
