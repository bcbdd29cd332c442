// sbctl's commands for push delivery, on the Operations service (operations.proto):
//
//   dlq list [--org ORG]                 dead-lettered deliveries, with their last error
//   dlq show DELIVERY_ID [--org ORG]     one delivery: state, attempts, last error and
//                                        (your own) the message as you may see it now
//   dlq replay DELIVERY_ID...|--all [--org ORG]
//                                        queue them again (each goes through the
//                                        consent decision again when sent)
//   endpoint status [--org ORG]          the push endpoint: circuit breaker, failures,
//                                        last error, counts since start
//
// --org is for admins acting on a member's behalf. Exit codes as in common.h.
#ifndef SWITCHBOARD_TOOLS_CLI_DLQ_COMMANDS_H_
#define SWITCHBOARD_TOOLS_CLI_DLQ_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace switchboard::tools::sbctl {

// `sbctl dlq ARGS`: list, show or replay.
int Dlq(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

// `sbctl endpoint status`.
int Endpoint(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_DLQ_COMMANDS_H_
