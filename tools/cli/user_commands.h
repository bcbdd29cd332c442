// sbctl's people commands, on the Registry service (registry.proto, users.proto):
//
//   user add ORG USERNAME [--display_name TEXT]  Registry.AddUser
//   user disable ORG USERNAME                    Registry.DisableUser
//   user reset ORG USERNAME                      Registry.ResetUserPassword
//   user list ORG                                Registry.ListUsers
//
// A member manages its own organisation's people (run with its certificate),
// an admin any organisation's. `add` and `reset` print the one-time password
// once, with a line saying that it must be changed at first sign-in.
//
// Returns sbctl's exit code (common.h): 2 for a wrong command line (nothing
// sent), 1 when the gateway refuses (`sbctl: CODE: message`), 0 otherwise.
#ifndef SWITCHBOARD_TOOLS_CLI_USER_COMMANDS_H_
#define SWITCHBOARD_TOOLS_CLI_USER_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "switchboard/v1/users.pb.h"

namespace switchboard::tools::sbctl {

// `sbctl user ARGS`: add, disable, reset or list.
int User(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

// The people as a table for a person at a terminal (exposed for tests).
std::string FormatUsers(const google::protobuf::RepeatedPtrField<v1::User>& users);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_USER_COMMANDS_H_
