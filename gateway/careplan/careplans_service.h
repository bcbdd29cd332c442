// CarePlans over gRPC (callback API): the shared care plan, its history, the
// client's timeline and referrals, each read filtered for the caller and
// audited as a VIEW; Update publishes a care-plan-change message through the
// Publisher (one path for gRPC, FHIR, HL7 and mapped formats).
//
// Rights: members of the client's care team now (and, for ListReferrals, the
// parties to a referral of the client); anyone else (admins included) gets
// NOT_FOUND, as if the client did not exist.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_CAREPLAN_CAREPLANS_SERVICE_H_
#define SWITCHBOARD_GATEWAY_CAREPLAN_CAREPLANS_SERVICE_H_

#include <memory>
#include <optional>
#include <string>

#include "gateway/careplan/care_reader.h"
#include "gateway/consent/access.h"
#include "gateway/exchange/publisher.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/careplans.grpc.pb.h"

namespace switchboard::gateway::careplan {

class CarePlansService final : public v1::CarePlans::CallbackService {
 public:
  CarePlansService(const identity::RpcGuard* guard, const store::Store* store,
                   store::Committer* committer, const registry::Directory* directory,
                   const consent::AccessDecider* decider, const exchange::Publisher* publisher,
                   std::string plan_event)
      : guard_(guard), store_(store), committer_(committer), publisher_(publisher),
        plan_event_(std::move(plan_event)), reader_(store, directory, decider) {}

  grpc::ServerUnaryReactor* GetCarePlan(grpc::CallbackServerContext* ctx,
                                        const v1::GetCarePlanRequest* request,
                                        v1::CarePlanView* response) override;
  grpc::ServerUnaryReactor* Update(grpc::CallbackServerContext* ctx,
                                   const v1::UpdateCarePlanRequest* request,
                                   v1::UpdateCarePlanResponse* response) override;
  grpc::ServerUnaryReactor* History(grpc::CallbackServerContext* ctx,
                                    const v1::CarePlanHistoryRequest* request,
                                    v1::CarePlanHistoryResponse* response) override;
  grpc::ServerUnaryReactor* GetTimeline(grpc::CallbackServerContext* ctx,
                                        const v1::GetTimelineRequest* request,
                                        v1::GetTimelineResponse* response) override;
  grpc::ServerUnaryReactor* ListReferrals(grpc::CallbackServerContext* ctx,
                                          const v1::ListReferralsRequest* request,
                                          v1::ListReferralsResponse* response) override;

 private:
  // Identifies the caller, checks `client`, resolves it and checks that the
  // caller is in its care team now (or, with `referral_party`, a party to one
  // of its referrals: a target answers before it joins). On any failure
  // finishes the call (an audited refusal; NOT_FOUND for an unknown client and
  // for a caller outside the care team alike) and returns nullopt.
  std::optional<ClientAccess> Open(grpc::CallbackServerContext* ctx, const char* operation,
                             v1::AuditRecord::Action action, const v1::ClientIdentifier& client,
                             const identity::RpcGuard::Finish& finish,
                             bool referral_party = false) const;
  // Answers `result`: audits the view and finishes OK, or refuses (audited)
  // bad input, or finishes with an internal error.
  template <typename Response>
  void Answer(ClientAccess& access, absl::StatusOr<Response> result, Response* response,
              const identity::RpcGuard::Finish& finish) const;

  // Constant after construction.
  const identity::RpcGuard* const guard_;
  const store::Store* const store_;
  store::Committer* const committer_;
  const exchange::Publisher* const publisher_;
  // The event code of care-plan changes (config event_types); empty when the
  // catalogue has none (Update is then refused).
  const std::string plan_event_;
  const CareReader reader_;
};

}  // namespace switchboard::gateway::careplan

#endif  // SWITCHBOARD_GATEWAY_CAREPLAN_CAREPLANS_SERVICE_H_
