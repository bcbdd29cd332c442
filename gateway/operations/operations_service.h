// gRPC Operations service: delivery status for members, audit verification and
// listing for admins. Slow walks (the audit chain) run on a worker thread, never
// on a gRPC thread.
#ifndef SWITCHBOARD_GATEWAY_OPERATIONS_OPERATIONS_SERVICE_H_
#define SWITCHBOARD_GATEWAY_OPERATIONS_OPERATIONS_SERVICE_H_

#include "gateway/delivery/dispatcher.h"
#include "gateway/delivery/executor.h"
#include "gateway/delivery/pusher.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/operations/operations_ops.h"
#include "switchboard/v1/operations.grpc.pb.h"

namespace switchboard::gateway::operations {

class OperationsService final : public v1::Operations::CallbackService {
 public:
  OperationsService(const identity::RpcGuard* guard, const store::Store* store,
                    store::Committer* committer, const delivery::Dispatcher* dispatcher,
                    delivery::Pusher* pusher = nullptr);
  ~OperationsService() override;

  grpc::ServerUnaryReactor* GetMessageStatus(grpc::CallbackServerContext* ctx,
                                             const v1::GetMessageStatusRequest* request,
                                             v1::MessageStatus* response) override;
  grpc::ServerUnaryReactor* ListDeliveries(grpc::CallbackServerContext* ctx,
                                           const v1::ListDeliveriesRequest* request,
                                           v1::ListDeliveriesResponse* response) override;
  grpc::ServerUnaryReactor* GetDelivery(grpc::CallbackServerContext* ctx,
                                        const v1::GetDeliveryRequest* request,
                                        v1::Delivery* response) override;
  grpc::ServerUnaryReactor* ReplayDeadLetter(grpc::CallbackServerContext* ctx,
                                             const v1::ReplayDeadLetterRequest* request,
                                             v1::ReplayDeadLetterResponse* response) override;
  grpc::ServerUnaryReactor* GetEndpointStatus(grpc::CallbackServerContext* ctx,
                                              const v1::GetEndpointStatusRequest* request,
                                              v1::EndpointStatus* response) override;
  grpc::ServerUnaryReactor* VerifyAudit(grpc::CallbackServerContext* ctx,
                                        const v1::VerifyAuditRequest* request,
                                        v1::AuditVerification* response) override;
  grpc::ServerUnaryReactor* ListAuditRecords(grpc::CallbackServerContext* ctx,
                                             const v1::ListAuditRecordsRequest* request,
                                             v1::ListAuditRecordsResponse* response) override;

  // Stops the worker (after the server has shut down).
  void Stop() { worker_.Stop(); }

 private:
  // Constant after construction.
  const identity::RpcGuard* const guard_;
  const store::Store* const store_;
  store::Committer* const committer_;
  const InFlightFn in_flight_;
  const delivery::Dispatcher* const dispatcher_;
  delivery::Pusher* const pusher_;

  // The member a call is about: the caller, or `requested` when the caller is
  // an ADMIN (PERMISSION_DENIED, audited, for anyone else naming another member).
  std::optional<std::string> Recipient(const identity::Caller& caller, const std::string& requested,
                                       absl::string_view operation,
                                       const identity::RpcGuard::Finish& finish) const;

  delivery::Executor worker_{1};
};

}  // namespace switchboard::gateway::operations

#endif  // SWITCHBOARD_GATEWAY_OPERATIONS_OPERATIONS_SERVICE_H_
