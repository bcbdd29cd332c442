#include "gateway/exchange/exchange_service.h"

#include "absl/strings/numbers.h"
#include "gateway/common/grpc_status.h"

namespace switchboard::gateway::exchange {

grpc::ServerUnaryReactor* ExchangeService::Publish(grpc::CallbackServerContext* context,
                                                   const v1::Message* request,
                                                   v1::Receipt* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*context, "Exchange/Publish", finish);
  if (!caller) return reactor;
  publisher_->Publish(*caller, *request,
                      [reactor, response](absl::StatusOr<v1::Receipt> receipt) {
                        if (receipt.ok()) *response = *std::move(receipt);
                        reactor->Finish(ToGrpcStatus(receipt.status()));
                      });
  return reactor;
}

grpc::ServerUnaryReactor* ExchangeService::PublishRaw(grpc::CallbackServerContext* context,
                                                      const v1::PublishRawRequest* request,
                                                      v1::Receipt* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = FinishWith(reactor);
  auto caller = guard_->Identify(*context, "Exchange/PublishRaw", finish);
  if (!caller) return reactor;
  raw_publisher_->Publish(*caller, *request,
                          [reactor, response](absl::StatusOr<v1::Receipt> receipt) {
                            if (receipt.ok()) *response = *std::move(receipt);
                            reactor->Finish(ToGrpcStatus(receipt.status()));
                          });
  return reactor;
}

grpc::ServerBidiReactor<v1::Ack, v1::Delivery>* ExchangeService::Subscribe(
    grpc::CallbackServerContext* context) {
  auto* rejected = new delivery::RejectedStream();
  auto caller = guard_->Identify(*context, "Exchange/Subscribe",
                                 [rejected](const absl::Status& s) { rejected->Reject(s); });
  if (!caller) return rejected;
  // Identified: the rejected stream was never handed to gRPC.
  delete rejected;
  // The initial window comes with the call (metadata `sb-window`) so that the
  // very first deliveries already respect it; Ack.window changes it later.
  uint32_t window = 0;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("sb-window"); it != metadata.end()) {
    if (!absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &window)) {
      window = 0;
    }
  }
  return dispatcher_->NewSession(*caller, window);
}

}  // namespace switchboard::gateway::exchange
