#include "tools/cli/user_commands.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "switchboard/v1/registry.grpc.pb.h"
#include "tools/cli/common.h"
#include "tools/cli/format.h"

ABSL_DECLARE_FLAG(std::string, display_name);

namespace switchboard::tools::sbctl {
namespace {

constexpr char kUserUsage[] =
    "user: add ORG USERNAME [--display_name TEXT] | disable ORG USERNAME | reset ORG USERNAME | "
    "list ORG";

std::string Status(const v1::User& user) {
  return user.status() == v1::User::DISABLED ? "DISABLED" : "ACTIVE";
}

// The one time a one-time password is shown.
std::string IssuedPassword(const v1::User& user, const std::string& password) {
  return absl::StrCat("one-time password for ", user.username(), " of ", user.organisation_id(),
                      ": ", password,
                      "\nIt must be changed at first sign-in. It is shown only this once: give it "
                      "to the person by a safe route.\n");
}

}  // namespace

std::string FormatUsers(const google::protobuf::RepeatedPtrField<v1::User>& users) {
  if (users.empty()) return "no people\n";
  std::string out = absl::StrFormat("%-24s %-30s %-9s %-12s %s\n", "USERNAME", "NAME", "STATUS",
                                    "PASSWORD", "CREATED");
  for (const v1::User& u : users) {
    absl::StrAppendFormat(&out, "%-24s %-30s %-9s %-12s %s\n", u.username(),
                          u.display_name().empty() ? "-" : u.display_name(), Status(u),
                          u.must_change_password() ? "one-time" : "own",
                          FormatTime(u.created_at()));
  }
  return out;
}

int User(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.empty()) return Usage(kUserUsage);
  const std::string& sub = args[0];
  auto stub = v1::Registry::NewStub(channel);
  auto ctx = NewContext(Options());
  grpc::Status s;
  if (sub == "add" && args.size() == 3) {
    v1::AddUserRequest req;
    req.set_organisation_id(args[1]);
    req.set_username(args[2]);
    req.set_display_name(absl::GetFlag(FLAGS_display_name));
    v1::AddUserResponse resp;
    s = stub->AddUser(ctx.get(), req, &resp);
    if (!s.ok()) return FailRpc(s);
    Print(resp,
          absl::StrCat("added user ", resp.user().username(), " to ", resp.user().organisation_id(),
                       "\n", IssuedPassword(resp.user(), resp.one_time_password())));
    return 0;
  }
  if (sub == "reset" && args.size() == 3) {
    v1::ResetUserPasswordRequest req;
    req.set_organisation_id(args[1]);
    req.set_username(args[2]);
    v1::ResetUserPasswordResponse resp;
    s = stub->ResetUserPassword(ctx.get(), req, &resp);
    if (!s.ok()) return FailRpc(s);
    Print(resp, absl::StrCat("reset the password of ", resp.user().username(), " of ",
                             resp.user().organisation_id(), " (", Status(resp.user()), ")\n",
                             IssuedPassword(resp.user(), resp.one_time_password())));
    return 0;
  }
  if (sub == "disable" && args.size() == 3) {
    v1::DisableUserRequest req;
    req.set_organisation_id(args[1]);
    req.set_username(args[2]);
    v1::User user;
    s = stub->DisableUser(ctx.get(), req, &user);
    if (!s.ok()) return FailRpc(s);
    Print(user, absl::StrCat("disabled user ", user.username(), " of ", user.organisation_id(),
                             ": they can no longer sign in\n"));
    return 0;
  }
  if (sub == "list" && args.size() == 2) {
    v1::ListUsersRequest req;
    req.set_organisation_id(args[1]);
    v1::ListUsersResponse resp;
    s = stub->ListUsers(ctx.get(), req, &resp);
    if (!s.ok()) return FailRpc(s);
    Print(resp, FormatUsers(resp.users()));
    return 0;
  }
  return Usage(kUserUsage);
}

}  // namespace switchboard::tools::sbctl
