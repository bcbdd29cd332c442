// sbctl's consent commands, on the Consents service (consents.proto):
//
//   consent record FILE|-          Consents.Record  (FILE: JSON of switchboard.v1.Consent)
//   consent revoke CLIENT ID --reason TEXT           Consents.Revoke
//   consent list CLIENT            Consents.List
//   consent check CLIENT --recipient ORG --event CODE [--purpose P] [--label CODE...]
//                                  Consents.CheckAccess
//   break-glass CLIENT --reason TEXT                 Consents.BreakGlass
//
// CLIENT is `SYSTEM|VALUE`. Each returns sbctl's exit code (common.h): 2 for a
// wrong command line or input file (nothing sent), 1 when the gateway refuses
// (`sbctl: CODE: message`), 0 otherwise; `consent check` exits 0 for DENY as
// for PERMIT (the question was answered).
#ifndef SWITCHBOARD_TOOLS_CLI_CONSENT_COMMANDS_H_
#define SWITCHBOARD_TOOLS_CLI_CONSENT_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace switchboard::tools::sbctl {

// `sbctl consent ARGS`: record, revoke, list or check.
int Consent(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

// `sbctl break-glass CLIENT --reason TEXT`.
int BreakGlass(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_CONSENT_COMMANDS_H_
