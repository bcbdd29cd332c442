// gRPC Exchange service: guard -> delegate (Publisher, RawPublisher, Dispatcher)
// -> respond.
#ifndef SWITCHBOARD_GATEWAY_EXCHANGE_EXCHANGE_SERVICE_H_
#define SWITCHBOARD_GATEWAY_EXCHANGE_EXCHANGE_SERVICE_H_

#include "gateway/delivery/dispatcher.h"
#include "gateway/exchange/publisher.h"
#include "gateway/exchange/raw_publisher.h"
#include "gateway/identity/rpc_guard.h"
#include "switchboard/v1/exchange.grpc.pb.h"

namespace switchboard::gateway::exchange {

class ExchangeService final : public v1::Exchange::CallbackService {
 public:
  ExchangeService(const identity::RpcGuard* guard, const Publisher* publisher,
                  const RawPublisher* raw_publisher, delivery::Dispatcher* dispatcher)
      : guard_(guard),
        publisher_(publisher),
        raw_publisher_(raw_publisher),
        dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const v1::Message* request, v1::Receipt* response) override;
  grpc::ServerUnaryReactor* PublishRaw(grpc::CallbackServerContext* context,
                                       const v1::PublishRawRequest* request,
                                       v1::Receipt* response) override;
  grpc::ServerBidiReactor<v1::Ack, v1::Delivery>* Subscribe(
      grpc::CallbackServerContext* context) override;

 private:
  // Constant after construction.
  const identity::RpcGuard* const guard_;
  const Publisher* const publisher_;
  const RawPublisher* const raw_publisher_;
  delivery::Dispatcher* const dispatcher_;
};

}  // namespace switchboard::gateway::exchange

#endif  // SWITCHBOARD_GATEWAY_EXCHANGE_EXCHANGE_SERVICE_H_
