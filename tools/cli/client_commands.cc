#include "tools/cli/client_commands.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/v1/registry.grpc.pb.h"
#include "tools/cli/common.h"
#include "tools/cli/format.h"

ABSL_DECLARE_FLAG(std::string, reason);
ABSL_DECLARE_FLAG(std::string, resolve);
ABSL_DECLARE_FLAG(bool, all);

namespace switchboard::tools::sbctl {
namespace {

constexpr char kClientUsage[] =
    "client: register FILE | link SYSTEM|VALUE SYSTEM|VALUE | unlink SYSTEM|VALUE SYSTEM|VALUE | "
    "review [--all] | review --resolve ID --reason TEXT";

std::string FormatClient(const v1::Client& client) {
  std::string out = absl::StrCat("client ", client.id(), "\n");
  for (const v1::ClientIdentifier& id : client.identifiers()) {
    absl::StrAppend(&out, "  ", IdentifierText(id), "\n");
  }
  return out;
}

int Register(v1::Registry::Stub& stub, const std::string& path) {
  v1::RegisterClientRequest req;
  if (auto p = ParseJsonFile(path, req.mutable_client()); !p.ok()) {
    return Fail(std::string(p.message()), 2);
  }
  auto ctx = NewContext(Options());
  v1::Client out;
  grpc::Status s = stub.RegisterClient(ctx.get(), req, &out);
  if (!s.ok()) return FailRpc(s);
  Print(out, absl::StrCat("registered client ", out.id(), " (", out.identifiers_size(),
                          " identifiers)\n"));
  return 0;
}

// link or unlink: both take the client and the identifier.
int Change(v1::Registry::Stub& stub, bool link, const std::string& client_text,
           const std::string& identifier_text) {
  auto client = ParseIdentifier(client_text);
  if (!client.ok()) return Usage(std::string(client.status().message()));
  auto identifier = ParseIdentifier(identifier_text);
  if (!identifier.ok()) return Usage(std::string(identifier.status().message()));
  auto ctx = NewContext(Options());
  v1::Client out;
  grpc::Status s;
  if (link) {
    v1::LinkIdentifierRequest req;
    *req.mutable_client() = *client;
    *req.mutable_identifier() = *identifier;
    s = stub.LinkIdentifier(ctx.get(), req, &out);
  } else {
    v1::UnlinkIdentifierRequest req;
    *req.mutable_client() = *client;
    *req.mutable_identifier() = *identifier;
    s = stub.UnlinkIdentifier(ctx.get(), req, &out);
  }
  if (!s.ok()) return FailRpc(s);
  Print(out, absl::StrCat(link ? "linked '" : "unlinked '", identifier_text,
                          link ? "' to " : "' from ", FormatClient(out)));
  return 0;
}

int Review(v1::Registry::Stub& stub) {
  const std::string resolve = absl::GetFlag(FLAGS_resolve);
  auto ctx = NewContext(Options());
  if (!resolve.empty()) {
    if (absl::GetFlag(FLAGS_reason).empty()) {
      return Usage("client review --resolve ID: --reason TEXT is required");
    }
    v1::ResolveClientReviewRequest req;
    req.set_id(resolve);
    req.set_resolution(absl::GetFlag(FLAGS_reason));
    v1::ClientReview out;
    grpc::Status s = stub.ResolveClientReview(ctx.get(), req, &out);
    if (!s.ok()) return FailRpc(s);
    Print(out, absl::StrCat("resolved ", out.id(), " by ", out.resolved_by(), ": ",
                            out.resolution(), "\n"));
    return 0;
  }
  v1::ListClientReviewsRequest req;
  req.set_include_resolved(absl::GetFlag(FLAGS_all));
  v1::ListClientReviewsResponse resp;
  grpc::Status s = stub.ListClientReviews(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  Print(resp, FormatClientReviews({resp.reviews().begin(), resp.reviews().end()}));
  return 0;
}

}  // namespace

std::string FormatClientReviews(const std::vector<v1::ClientReview>& reviews) {
  if (reviews.empty()) return "no client reviews\n";
  std::string out = absl::StrFormat("%-23s %-20s %-8s %-18s %-16s %-40s %s\n", "REVIEW", "CREATED",
                                    "STATUS", "SOURCE", "MESSAGE", "IDENTIFIER", "CLIENT");
  for (const v1::ClientReview& r : reviews) {
    for (int i = 0; i < r.entries_size(); ++i) {
      const auto& e = r.entries(i);
      const bool first = i == 0;
      absl::StrAppend(
          &out, absl::StrFormat("%-23s %-20s %-8s %-18s %-16s %-40s %s\n", first ? r.id() : "",
                                first ? FormatTime(r.created_at()) : "",
                                first ? v1::ClientReview::Status_Name(r.status()) : "",
                                first ? r.source() : "", first ? r.message_id() : "",
                                IdentifierText(e.identifier()),
                                e.client_id().empty() ? "(unknown)" : e.client_id()));
    }
    if (r.status() == v1::ClientReview::RESOLVED) {
      absl::StrAppend(&out, "  resolved ", FormatTime(r.resolved_at()), " by ", r.resolved_by(),
                      ": ", r.resolution(), "\n");
    }
  }
  return out;
}

int Client(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (args.empty()) return Usage(kClientUsage);
  auto stub = v1::Registry::NewStub(channel);
  if (args[0] == "register" && args.size() == 2) return Register(*stub, args[1]);
  if (args[0] == "link" && args.size() == 3) return Change(*stub, true, args[1], args[2]);
  if (args[0] == "unlink" && args.size() == 3) return Change(*stub, false, args[1], args[2]);
  if (args[0] == "review" && args.size() == 1) return Review(*stub);
  return Usage(kClientUsage);
}

}  // namespace switchboard::tools::sbctl
