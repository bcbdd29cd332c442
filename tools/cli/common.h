// What every sbctl command shares: the usage text, the connection options from
// the flags, printing (text, or protobuf JSON with --json), failing with
// `sbctl: CODE: message` and sbctl's exit codes, and reading input files and
// client identifiers. The flags themselves are defined in sbctl.cc (so that
// `sbctl --help` lists them); the ones read here are declared below.
//
// Exit codes: 0 done; 1 the gateway refused or failed (or a check found a
// problem); 2 the command line or an input file is wrong (nothing was sent).
//
// Not thread-safe beyond what std::cout and std::cerr are: commands print from
// one thread.
#ifndef SWITCHBOARD_TOOLS_CLI_COMMON_H_
#define SWITCHBOARD_TOOLS_CLI_COMMON_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/status.h"
#include "switchboard/v1/common.pb.h"
#include "tools/cli/connection.h"

ABSL_DECLARE_FLAG(std::string, addr);
ABSL_DECLARE_FLAG(std::string, as);
ABSL_DECLARE_FLAG(std::string, certs_dir);
ABSL_DECLARE_FLAG(std::string, ca);
ABSL_DECLARE_FLAG(std::string, cert);
ABSL_DECLARE_FLAG(std::string, key);
ABSL_DECLARE_FLAG(std::string, user);
ABSL_DECLARE_FLAG(int, timeout_ms);
ABSL_DECLARE_FLAG(bool, json);

namespace switchboard::tools::sbctl {

// `sbctl help`: every command. Keep it in step with Run() in sbctl.cc.
extern const char kUsage[];

// Prints `sbctl: message` to stderr; returns `code`.
int Fail(const std::string& message, int code = 1);
// Prints `sbctl: CODE: message` (with a hint for UNAVAILABLE); returns 1.
int FailRpc(const grpc::Status& status);
// Prints the problem and the usage text; returns 2.
int Usage(const std::string& problem);

// The connection options the flags name.
ConnectionOptions Options();

// Prints `text`, or `message` as one line of protobuf JSON with --json.
void Print(const google::protobuf::Message& message, const std::string& text);

// The contents of `path`, or of stdin for `-`. NOT_FOUND when unreadable.
absl::StatusOr<std::string> ReadInput(const std::string& path);

// Parses the protobuf JSON in `path` (camelCase names, enums as names; unknown
// fields are errors). INVALID_ARGUMENT `PATH: json: ...` naming the field.
template <typename M>
absl::Status ParseJsonFile(const std::string& path, M* out) {
  auto text = ReadInput(path);
  if (!text.ok()) return text.status();
  auto s = google::protobuf::util::JsonStringToMessage(*text, out);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": json: ", s.message().as_string()));
  }
  return absl::OkStatus();
}

// A client identifier as members write it, `SYSTEM|VALUE` (the value is what
// follows the last `|`), or a bare enterprise id such as `client-0004` (system
// `urn:switchboard:client`). INVALID_ARGUMENT quoting the text otherwise.
absl::StatusOr<v1::ClientIdentifier> ParseIdentifier(const std::string& text);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_COMMON_H_
