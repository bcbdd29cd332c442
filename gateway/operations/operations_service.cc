#include "gateway/operations/operations_service.h"

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_chain.h"
#include "gateway/common/grpc_status.h"
#include "gateway/delivery/delivery_ops.h"
#include "policy/consent_policy.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::operations {
OperationsService::OperationsService(const identity::RpcGuard* guard, const store::Store* store,
                                     store::Committer* committer,
                                     const delivery::Dispatcher* dispatcher,
                                     delivery::Pusher* pusher)
    : guard_(guard),
      store_(store),
      committer_(committer),
      in_flight_([dispatcher](const std::string& recipient, uint64_t seq) {
        return dispatcher->InFlight(recipient, seq);
      }),
      dispatcher_(dispatcher),
      pusher_(pusher) {}

std::optional<std::string> OperationsService::Recipient(
    const identity::Caller& caller, const std::string& requested, absl::string_view operation,
    const identity::RpcGuard::Finish& finish) const {
  if (requested.empty() || requested == caller.organisation_id) return caller.organisation_id;
  if (!guard_->RequireAdmin(caller, operation, finish)) return std::nullopt;
  return requested;
}

OperationsService::~OperationsService() { worker_.Stop(); }

grpc::ServerUnaryReactor* OperationsService::GetMessageStatus(
    grpc::CallbackServerContext* ctx, const v1::GetMessageStatusRequest* request,
    v1::MessageStatus* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, "Operations/GetMessageStatus", finish);
  if (!caller) return reactor;
  auto status = operations::GetMessageStatus(*store_, in_flight_, committer_->durable_seq(),
                                             caller->organisation_id, request->message_id());
  if (status.ok()) *response = *std::move(status);
  finish(status.status());
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::ListDeliveries(
    grpc::CallbackServerContext* ctx, const v1::ListDeliveriesRequest* request,
    v1::ListDeliveriesResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*ctx, "Operations/ListDeliveries", finish);
  if (!caller) return reactor;
  auto recipient = Recipient(*caller, request->recipient(), "Operations/ListDeliveries", finish);
  if (!recipient) return reactor;
  auto list = operations::ListDeliveries(*store_, in_flight_, committer_->durable_seq(), *recipient,
                                         *request);
  if (list.ok()) *response = *std::move(list);
  finish(list.status());
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::GetDelivery(grpc::CallbackServerContext* ctx,
                                                         const v1::GetDeliveryRequest* request,
                                                         v1::Delivery* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  static constexpr char kOp[] = "Operations/GetDelivery";
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  auto recipient = Recipient(*caller, request->recipient(), kOp, finish);
  if (!recipient) return reactor;
  auto stored = operations::GetDelivery(*store_, in_flight_, committer_->durable_seq(), *recipient,
                                        request->delivery_id());
  if (!stored.ok()) {
    finish(stored.status());
    return reactor;
  }
  *response = stored->delivery();
  // Only the recipient reads the message, and only as it may see it now.
  if (*recipient != caller->organisation_id) {
    finish(absl::OkStatus());
    return reactor;
  }
  auto message = delivery::ReadMessage(*store_, stored->message_seq());
  if (!message.ok()) {
    finish(message.status());
    return reactor;
  }
  auto client = dispatcher_->decider()->Load(stored->client_id());
  if (!client.ok()) {
    finish(client.status());
    return reactor;
  }
  auto decision = dispatcher_->decider()->Decide(**client, *recipient, **message, absl::Now());
  if (!decision.ok()) {
    finish(decision.status());
    return reactor;
  }
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::VIEW);
  record.set_client_id(stored->client_id());
  record.set_gateway_message_id(response->gateway_message_id());
  record.set_message_id(response->message_id());
  record.set_delivery_id(response->id());
  record.set_subject_organisation(response->source());
  if (decision->effect() == v1::AccessDecision::DENY) {
    record.set_detail("delivery read without its message: the consent denies it now");
  } else {
    *response->mutable_message() = decision->effect() == v1::AccessDecision::PERMIT_REDACTED
                                       ? policy::Redact(**message, *decision)
                                       : **message;
    if (auto localised = dispatcher_->ForRecipient(*recipient, **client, response->message())) {
      *response->mutable_message() = *localised;
    }
    record.set_detail(absl::StrCat(
        "delivery read with its message, disclosed ",
        decision->effect() == v1::AccessDecision::PERMIT_REDACTED ? "redacted" : "whole", ": ",
        decision->reason()));
  }
  identity::SubmitAudit(committer_, std::move(record), absl::OkStatus(), finish);
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::ReplayDeadLetter(
    grpc::CallbackServerContext* ctx, const v1::ReplayDeadLetterRequest* request,
    v1::ReplayDeadLetterResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  static constexpr char kOp[] = "Operations/ReplayDeadLetter";
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  auto recipient = Recipient(*caller, request->recipient(), kOp, finish);
  if (!recipient) return reactor;
  if (request->all() == (request->delivery_ids_size() > 0)) {
    finish(absl::InvalidArgumentError("delivery_ids: name dead letters, or set `all` (not both)"));
    return reactor;
  }
  std::vector<uint64_t> seqs;
  if (request->all()) {
    auto all = delivery::DeadLetters(*store_, *recipient);
    if (!all.ok()) {
      finish(all.status());
      return reactor;
    }
    seqs = *std::move(all);
  } else {
    for (int i = 0; i < request->delivery_ids_size(); ++i) {
      const std::string& id = request->delivery_ids(i);
      auto seq = store::ParseDeliveryId(id);
      if (!seq.has_value() || *seq > committer_->durable_seq()) {
        finish(absl::NotFoundError(absl::StrCat("no delivery '", id.substr(0, 64), "'")));
        return reactor;
      }
      seqs.push_back(*seq);
    }
  }
  for (uint64_t seq : seqs) response->add_delivery_ids(store::DeliveryId(seq));
  if (seqs.empty()) {
    finish(absl::OkStatus());
    return reactor;
  }
  committer_->Submit(
      [caller = *caller, recipient = *recipient, seqs](store::Transaction& txn) {
        return delivery::Replay(txn, caller, recipient, seqs);
      },
      [this, recipient = *recipient, finish](absl::Status status) {
        if (status.ok() && pusher_ != nullptr) pusher_->Notify({recipient});
        finish(status);
      });
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::GetEndpointStatus(
    grpc::CallbackServerContext* ctx, const v1::GetEndpointStatusRequest* request,
    v1::EndpointStatus* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  static constexpr char kOp[] = "Operations/GetEndpointStatus";
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller) return reactor;
  auto recipient = Recipient(*caller, request->organisation_id(), kOp, finish);
  if (!recipient) return reactor;
  std::optional<v1::EndpointStatus> status =
      pusher_ == nullptr ? std::nullopt : pusher_->Status(*recipient);
  if (!status.has_value()) {
    finish(absl::NotFoundError(absl::StrCat("'", recipient->substr(0, 64),
                                            "' has no push endpoint: it pulls with Subscribe")));
    return reactor;
  }
  *response = *std::move(status);
  finish(absl::OkStatus());
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::VerifyAudit(grpc::CallbackServerContext* ctx,
                                                         const v1::VerifyAuditRequest* request,
                                                         v1::AuditVerification* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  static constexpr char kOp[] = "Operations/VerifyAudit";
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller || !guard_->RequireAdmin(*caller, kOp, finish)) return reactor;
  worker_.Schedule([this, caller = *caller, reactor, response] {
    *response = audit::VerifyChain(*store_);
    v1::AuditRecord record = identity::AuditFor(caller, kOp, v1::AuditRecord::AUDIT_ACCESS);
    record.set_detail(response->ok()
                          ? absl::StrCat("verified ", response->records_checked(), " records: ok")
                          : absl::StrCat("verification failed at record ",
                                         response->first_broken_seq(), ": ", response->problem()));
    identity::SubmitAudit(committer_, std::move(record), absl::OkStatus(), FinishWith(reactor));
  });
  return reactor;
}

grpc::ServerUnaryReactor* OperationsService::ListAuditRecords(
    grpc::CallbackServerContext* ctx, const v1::ListAuditRecordsRequest* request,
    v1::ListAuditRecordsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  auto finish = FinishWith(reactor);
  static constexpr char kOp[] = "Operations/ListAuditRecords";
  auto caller = guard_->Identify(*ctx, kOp, finish);
  if (!caller || !guard_->RequireAdmin(*caller, kOp, finish)) return reactor;
  auto list = operations::ListAuditRecords(*store_, *request);
  if (!list.ok()) {
    finish(list.status());
    return reactor;
  }
  *response = *std::move(list);
  v1::AuditRecord record = identity::AuditFor(*caller, kOp, v1::AuditRecord::AUDIT_ACCESS);
  record.set_detail(absl::StrCat("read ", response->records_size(), " records after ",
                                 request->after_seq()));
  identity::SubmitAudit(committer_, std::move(record), absl::OkStatus(), finish);
  return reactor;
}

}  // namespace switchboard::gateway::operations
