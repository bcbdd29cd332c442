// What every RPC does first: identify the caller from its TLS peer and check its
// role, auditing each refusal before the error is returned. Services stay thin:
// guard -> delegate -> respond.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_IDENTITY_RPC_GUARD_H_
#define SWITCHBOARD_GATEWAY_IDENTITY_RPC_GUARD_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "grpcpp/server_context.h"
#include "switchboard/v1/audit.pb.h"

namespace switchboard::gateway::identity {

// An audit record pre-filled with who did what (actor, operation, action).
v1::AuditRecord AuditFor(const Caller& caller, absl::string_view operation,
                         v1::AuditRecord::Action action);

// Sets the outcome REFUSED and the detail from `status` on `record`.
v1::AuditRecord Refusal(v1::AuditRecord record, const absl::Status& status);

// Appends `record` (one audit-only transaction), then calls finish(answer) once
// it is durable, or finish(the write error) when it could not be written.
void SubmitAudit(store::Committer* committer, v1::AuditRecord record, absl::Status answer,
                 std::function<void(const absl::Status&)> finish);

// SubmitAudit of `record` as a refusal of `status`, answering `status`.
void SubmitRefusal(store::Committer* committer, v1::AuditRecord record, const absl::Status& status,
                   std::function<void(const absl::Status&)> finish);

class RpcGuard {
 public:
  using Finish = std::function<void(const absl::Status&)>;

  RpcGuard(const registry::Directory* directory, store::Committer* committer)
      : directory_(directory), committer_(committer) {}

  // The caller of `context`, or nullopt after auditing an AUTHENTICATE refusal
  // and calling `finish` with UNAUTHENTICATED / PERMISSION_DENIED; or, once
  // draining, nullopt after finishing with UNAVAILABLE (not audited).
  std::optional<Caller> Identify(const grpc::ServerContextBase& context,
                                 absl::string_view operation, const Finish& finish) const;

  // The same for identity material read from any TLS transport (the MLLP
  // listener builds `peer` from its own TLS session): one place decides and
  // audits who a peer is, whatever the protocol.
  std::optional<Caller> IdentifyPeer(const PeerInfo& peer, absl::string_view operation,
                                     const Finish& finish) const;

  // True for admins; otherwise audits an AUTHORISE refusal, finishes with
  // PERMISSION_DENIED and returns false.
  bool RequireAdmin(const Caller& caller, absl::string_view operation,
                    const Finish& finish) const;

  // Appends `record` as a refusal of `status`, then calls finish(status).
  void Refuse(v1::AuditRecord record, const absl::Status& status, Finish finish) const;

  // From now on every call is refused with UNAVAILABLE (shutdown).
  void SetDraining() { draining_ = true; }

 private:
  // Constant after construction.
  const registry::Directory* const directory_;
  store::Committer* const committer_;
  std::atomic<bool> draining_{false};
};

}  // namespace switchboard::gateway::identity

#endif  // SWITCHBOARD_GATEWAY_IDENTITY_RPC_GUARD_H_
