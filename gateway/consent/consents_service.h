// Consents: record, revoke, list, CheckAccess and BreakGlass over gRPC (callback
// API). Thin: identify the caller, resolve the client, delegate to consent_ops
// (transactions) or AccessDecider (reads), audit, answer.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_CONSENT_CONSENTS_SERVICE_H_
#define SWITCHBOARD_GATEWAY_CONSENT_CONSENTS_SERVICE_H_

#include <optional>
#include <string>

#include "gateway/consent/access.h"
#include "gateway/consent/consent_ops.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/consents.grpc.pb.h"

namespace switchboard::gateway::consent {

class ConsentsService final : public v1::Consents::CallbackService {
 public:
  ConsentsService(const identity::RpcGuard* guard, const store::Store* store,
                  store::Committer* committer, const AccessDecider* decider,
                  ConsentOpsContext context)
      : guard_(guard), store_(store), committer_(committer), decider_(decider),
        context_(std::move(context)) {}

  grpc::ServerUnaryReactor* Record(grpc::CallbackServerContext* ctx,
                                   const v1::RecordConsentRequest* request,
                                   v1::Consent* response) override;
  grpc::ServerUnaryReactor* Revoke(grpc::CallbackServerContext* ctx,
                                   const v1::RevokeConsentRequest* request,
                                   v1::Consent* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const v1::ListConsentsRequest* request,
                                 v1::ListConsentsResponse* response) override;
  grpc::ServerUnaryReactor* CheckAccess(grpc::CallbackServerContext* ctx,
                                        const v1::CheckAccessRequest* request,
                                        v1::CheckAccessResponse* response) override;
  grpc::ServerUnaryReactor* BreakGlass(grpc::CallbackServerContext* ctx,
                                       const v1::BreakGlassRequest* request,
                                       v1::BreakGlassGrant* response) override;

 private:
  // The enterprise id of the client `id` names. When there is none (an audited
  // refusal answering `unknown`) or the read fails, finishes the call and
  // returns nullopt.
  std::optional<std::string> ResolveOrFinish(const v1::ClientIdentifier& id,
                                             const v1::AuditRecord& record,
                                             const absl::Status& unknown,
                                             const identity::RpcGuard::Finish& finish) const;

  // Constant after construction.
  const identity::RpcGuard* const guard_;
  const store::Store* const store_;
  store::Committer* const committer_;
  const AccessDecider* const decider_;
  const ConsentOpsContext context_;
};

}  // namespace switchboard::gateway::consent

#endif  // SWITCHBOARD_GATEWAY_CONSENT_CONSENTS_SERVICE_H_
