#include "gateway/identity/rpc_guard.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/common/log.h"

namespace switchboard::gateway::identity {

v1::AuditRecord AuditFor(const Caller& caller, absl::string_view operation,
                         v1::AuditRecord::Action action) {
  v1::AuditRecord record;
  record.set_actor_organisation(caller.organisation_id);
  record.set_actor_user(caller.user);
  record.set_operation(std::string(operation));
  record.set_action(action);
  record.set_outcome(v1::AuditRecord::SUCCESS);
  return record;
}

v1::AuditRecord Refusal(v1::AuditRecord record, const absl::Status& status) {
  record.set_outcome(v1::AuditRecord::REFUSED);
  record.set_detail(std::string(absl::StatusCodeToString(status.code())) + ": " +
                    std::string(status.message()));
  return record;
}

std::optional<Caller> RpcGuard::Identify(const grpc::ServerContextBase& context,
                                         absl::string_view operation,
                                         const Finish& finish) const {
  return IdentifyPeer(ReadPeer(context), operation, finish);
}

std::optional<Caller> RpcGuard::IdentifyPeer(const PeerInfo& peer, absl::string_view operation,
                                             const Finish& finish) const {
  if (draining_) {
    finish(absl::UnavailableError("the gateway is shutting down; retry shortly"));
    return std::nullopt;
  }
  absl::StatusOr<Caller> caller = identity::Identify(peer, *directory_->snapshot());
  if (caller.ok()) return *std::move(caller);
  v1::AuditRecord record;
  record.set_operation(std::string(operation));
  record.set_action(v1::AuditRecord::AUTHENTICATE);
  record.set_actor_user(peer.user);
  record.set_peer_identity(absl::StrJoin(peer.sans, ","));
  if (caller.status().code() == absl::StatusCode::kPermissionDenied) {
    // A suspended member: known, so name it.
    const auto snap = directory_->snapshot();
    for (const std::string& san : peer.sans) {
      if (const v1::Organisation* org = snap->FindBySan(san)) {
        record.set_actor_organisation(org->id());
      }
    }
  }
  LogInfo("rpc_refused", {{"op", std::string(operation)},
                          {"org", record.actor_organisation()},
                          {"code", absl::StatusCodeToString(caller.status().code())}});
  Refuse(std::move(record), caller.status(), finish);
  return std::nullopt;
}

bool RpcGuard::RequireAdmin(const Caller& caller, absl::string_view operation,
                            const Finish& finish) const {
  if (caller.admin) return true;
  const absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("'", operation, "' needs the ADMIN role; member '", caller.organisation_id,
                   "' does not have it"));
  LogInfo("rpc_refused", {{"op", std::string(operation)},
                          {"org", caller.organisation_id},
                          {"code", "PERMISSION_DENIED"}});
  Refuse(AuditFor(caller, operation, v1::AuditRecord::AUTHORISE), denied, finish);
  return false;
}

void SubmitAudit(store::Committer* committer, v1::AuditRecord record, absl::Status answer,
                 std::function<void(const absl::Status&)> finish) {
  committer->Submit(
      [record = std::move(record)](store::Transaction& txn) {
        txn.Audit(record);
        return absl::OkStatus();
      },
      [answer = std::move(answer), finish = std::move(finish)](const absl::Status& written) {
        // If the audit record could not be written, say so rather than the answer.
        finish(written.ok() ? answer : written);
      });
}

void SubmitRefusal(store::Committer* committer, v1::AuditRecord record, const absl::Status& status,
                   std::function<void(const absl::Status&)> finish) {
  SubmitAudit(committer, Refusal(std::move(record), status), status, std::move(finish));
}

void RpcGuard::Refuse(v1::AuditRecord record, const absl::Status& status, Finish finish) const {
  SubmitRefusal(committer_, std::move(record), status, std::move(finish));
}

}  // namespace switchboard::gateway::identity
