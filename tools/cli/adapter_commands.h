// sbctl's adapter lifecycle commands, on the Registry service (registry.proto):
//
//   adapter list                         your adapter's versions; which is active
//   adapter test FILE [--content_type T] [--adapter_version N]
//                                        dry run: the canonical message and the
//                                        output a recipient gets, or the error
//   adapter register DIR                 a new version from DIR (not activated)
//   adapter activate VERSION [--accept]  make it live (contract check first)
//   adapter rollback                     back to the version active before
//   adapter apply DIR [--yes] [--accept] show what DIR changes against the active
//                                        version; with --yes register (or reuse
//                                        a matching registered version) and
//                                        activate it
//   adapter export DIR                   write the active version to DIR
//
// DIR is an organisation's directory (it holds adapter.textproto; the
// organisation is its name) or a directory of them, DIR/<org>/ (layout in
// adapter_dir.h). Every command takes --org ORG: an admin acting for a member, or
// the one organisation of DIR to use. Exit codes as in common.h.
#ifndef SWITCHBOARD_TOOLS_CLI_ADAPTER_COMMANDS_H_
#define SWITCHBOARD_TOOLS_CLI_ADAPTER_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace switchboard::tools::sbctl {

// `sbctl adapter ARGS`.
int Adapter(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_ADAPTER_COMMANDS_H_
