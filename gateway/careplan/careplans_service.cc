#include "gateway/careplan/careplans_service.h"

#include "absl/strings/str_cat.h"
#include "gateway/common/deterministic.h"
#include "gateway/common/grpc_status.h"
#include "gateway/store/keys.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::careplan {
namespace {

using store::Cf;
namespace keys = store::keys;

}  // namespace

std::optional<ClientAccess> CarePlansService::Open(grpc::CallbackServerContext* ctx,
                                                   const char* operation,
                                                   v1::AuditRecord::Action action,
                                                   const v1::ClientIdentifier& client,
                                                   const identity::RpcGuard::Finish& finish,
                                                   bool referral_party) const {
  auto caller = guard_->Identify(*ctx, operation, finish);
  if (!caller) return std::nullopt;
  auto opened = reader_.Open(*caller, operation, action, client, referral_party);
  if (auto* refused = std::get_if<Refused>(&opened)) {
    if (refused->audit.has_value()) {
      guard_->Refuse(*std::move(refused->audit), refused->status, finish);
    } else {
      finish(refused->status);
    }
    return std::nullopt;
  }
  return std::get<ClientAccess>(std::move(opened));
}

template <typename Response>
void CarePlansService::Answer(ClientAccess& access, absl::StatusOr<Response> result,
                              Response* response, const identity::RpcGuard::Finish& finish) const {
  if (!result.ok()) {
    // Bad input is a refusal (audited); anything else an internal error.
    if (absl::IsInvalidArgument(result.status())) {
      guard_->Refuse(std::move(access.record), result.status(), finish);
    } else {
      finish(result.status());
    }
    return;
  }
  *response = *std::move(result);
  identity::SubmitAudit(committer_, std::move(access.record), absl::OkStatus(), finish);
}

grpc::ServerUnaryReactor* CarePlansService::GetCarePlan(grpc::CallbackServerContext* ctx,
                                                        const v1::GetCarePlanRequest* request,
                                                        v1::CarePlanView* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/GetCarePlan", v1::AuditRecord::VIEW, request->client(), finish);
  if (!access) return reactor;
  std::optional<absl::Time> as_of;
  if (request->has_as_of()) {
    if (absl::Status s = CheckTimestamp("as_of", request->as_of()); !s.ok()) {
      guard_->Refuse(access->record, s, finish);
      return reactor;
    }
    as_of = FromProtoTime(request->as_of());
  }
  Answer(*access, reader_.Plan(*access, as_of), response, finish);
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::Update(grpc::CallbackServerContext* ctx,
                                                   const v1::UpdateCarePlanRequest* request,
                                                   v1::UpdateCarePlanResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/Update", v1::AuditRecord::PUBLISH, request->client(), finish);
  if (!access) return reactor;
  auto message = reader_.UpdateMessage(*access, plan_event_, *request);
  if (!message.ok()) {
    guard_->Refuse(access->record, message.status(), finish);
    return reactor;
  }
  const std::string& org = access->caller.organisation_id;
  const std::string client_id = access->state->client_id;
  // A retry of an earlier Update (same request_id and change) gets its answer.
  if (!request->request_id().empty()) {
    auto seq = store_->Get(Cf::kDedup, keys::Dedup(org, message->header().id()));
    if (!seq.ok()) {
      finish(seq.status());
      return reactor;
    }
    if (seq->has_value()) {
      v1::StoredMessage earlier;
      auto found = store_->GetProto(Cf::kMessages, **seq, &earlier);
      if (!found.ok()) {
        finish(found.status());
        return reactor;
      }
      if (*found && earlier.client_id() == client_id &&
          DeterministicBytes(earlier.message().care_plan_change()) ==
              DeterministicBytes(message->care_plan_change())) {
        auto version = reader_.VersionOfMessage(client_id, earlier.receipt().gateway_message_id());
        if (!version.ok()) {
          finish(version.status());
          return reactor;
        }
        response->set_version(*version);
        response->set_message_id(earlier.receipt().message_id());
        response->set_gateway_message_id(earlier.receipt().gateway_message_id());
        finish(absl::OkStatus());
        return reactor;
      }
      guard_->Refuse(access->record,
                     absl::AlreadyExistsError(absl::StrCat("request_id: '", message->header().id(),
                                                           "' was used for another change; use a new id")),
                     finish);
      return reactor;
    }
  }
  publisher_->Publish(
      access->caller, *std::move(message),
      [this, ctx, reactor, response, client_id](absl::StatusOr<v1::Receipt> receipt) {
        if (!receipt.ok()) {
          if (absl::IsAborted(receipt.status())) {
            // The version to retry on, for programs (the message names it too).
            auto current = reader_.CurrentVersion(client_id);
            if (current.ok()) ctx->AddTrailingMetadata("sb-current-version", absl::StrCat(*current));
          }
          reactor->Finish(ToGrpcStatus(receipt.status()));
          return;
        }
        auto version = reader_.VersionOfMessage(client_id, receipt->gateway_message_id());
        if (!version.ok()) {
          reactor->Finish(ToGrpcStatus(version.status()));
          return;
        }
        response->set_version(*version);
        response->set_message_id(receipt->message_id());
        response->set_gateway_message_id(receipt->gateway_message_id());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::History(grpc::CallbackServerContext* ctx,
                                                    const v1::CarePlanHistoryRequest* request,
                                                    v1::CarePlanHistoryResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/History", v1::AuditRecord::VIEW, request->client(), finish);
  if (!access) return reactor;
  Answer(*access, reader_.History(*access), response, finish);
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::GetTimeline(grpc::CallbackServerContext* ctx,
                                                        const v1::GetTimelineRequest* request,
                                                        v1::GetTimelineResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/GetTimeline", v1::AuditRecord::VIEW, request->client(), finish);
  if (!access) return reactor;
  Answer(*access, reader_.Timeline(*access, *request), response, finish);
  return reactor;
}

grpc::ServerUnaryReactor* CarePlansService::ListReferrals(grpc::CallbackServerContext* ctx,
                                                          const v1::ListReferralsRequest* request,
                                                          v1::ListReferralsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto access = Open(ctx, "CarePlans/ListReferrals", v1::AuditRecord::VIEW, request->client(), finish,
                     /*referral_party=*/true);
  if (!access) return reactor;
  Answer(*access, reader_.Referrals(*access), response, finish);
  return reactor;
}

}  // namespace switchboard::gateway::careplan
