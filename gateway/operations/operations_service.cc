#include "gateway/operations/operations_service.h"

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_chain.h"
#include "gateway/common/grpc_status.h"

namespace switchboard::gateway::operations {
OperationsService::OperationsService(const identity::RpcGuard* guard, const store::Store* store,
                                     store::Committer* committer,
                                     const delivery::Dispatcher* dispatcher)
    : guard_(guard),
      store_(store),
      committer_(committer),
      in_flight_([dispatcher](const std::string& recipient, uint64_t seq) {
        return dispatcher->InFlight(recipient, seq);
      }) {}

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
  auto list = operations::ListDeliveries(*store_, in_flight_, committer_->durable_seq(),
                                         caller->organisation_id, *request);
  if (list.ok()) *response = *std::move(list);
  finish(list.status());
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
