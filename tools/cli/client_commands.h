// sbctl's client commands, on the Registry service (registry.proto):
//
//   client register FILE                    Registry.RegisterClient (JSON of switchboard.v1.Client)
//   client link SYSTEM|VALUE SYSTEM|VALUE   Registry.LinkIdentifier (client, new identifier)
//   client unlink SYSTEM|VALUE SYSTEM|VALUE Registry.UnlinkIdentifier (client, identifier)
//   client review [--all]                   Registry.ListClientReviews (open ones; --all: resolved too)
//   client review --resolve ID --reason TEXT
//                                           Registry.ResolveClientReview
//
// Returns sbctl's exit code (common.h): 2 for a wrong command line or input
// file (nothing sent), 1 when the gateway refuses (`sbctl: CODE: message`), 0
// otherwise.
#ifndef SWITCHBOARD_TOOLS_CLI_CLIENT_COMMANDS_H_
#define SWITCHBOARD_TOOLS_CLI_CLIENT_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "switchboard/v1/client.pb.h"

namespace switchboard::tools::sbctl {

// `sbctl client ARGS`: register, link, unlink or review.
int Client(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

// The reviews as a table for a person at a terminal (exposed for tests).
std::string FormatClientReviews(const std::vector<v1::ClientReview>& reviews);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_CLIENT_COMMANDS_H_
