#include "tools/cli/adapter_commands.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gateway/registry/adapter_contract.h"
#include "switchboard/v1/registry.grpc.pb.h"
#include "tools/cli/adapter_dir.h"
#include "tools/cli/common.h"
#include "tools/cli/format.h"

ABSL_DECLARE_FLAG(std::string, org);
ABSL_DECLARE_FLAG(std::string, content_type);
ABSL_DECLARE_FLAG(uint32_t, adapter_version);
ABSL_DECLARE_FLAG(bool, accept);
ABSL_DECLARE_FLAG(bool, yes);

namespace switchboard::tools::sbctl {
namespace {

namespace fs = std::filesystem;
using Stub = v1::Registry::Stub;

std::string Version(uint32_t v) { return v == 0 ? "none" : absl::StrCat("v", v); }

std::string Lines(const std::vector<std::string>& lines, absl::string_view indent) {
  std::string out;
  for (const std::string& line : lines) absl::StrAppend(&out, indent, line, "\n");
  return out;
}

std::string StateText(const v1::AdapterBindingState& state) {
  std::string text = absl::StrCat("active ", Version(state.active_version()));
  if (!state.previous_versions().empty()) {
    std::vector<std::string> before;
    for (auto it = state.previous_versions().rbegin(); it != state.previous_versions().rend();
         ++it) {
      before.push_back(Version(*it));
    }
    absl::StrAppend(&text, " (rollback to ", absl::StrJoin(before, ", then "), ")");
  }
  return text;
}

std::string AcceptedText(const google::protobuf::RepeatedPtrField<v1::SampleChange>& accepted) {
  if (accepted.empty()) return "";
  const std::vector<v1::SampleChange> changes(accepted.begin(), accepted.end());
  return absl::StrCat("accepted the changed outputs of ", changes.size(), " sample(s):\n",
                      gateway::registry::DescribeChanges(changes));
}

absl::StatusOr<v1::ListAdapterVersionsResponse> List(Stub& stub, const std::string& org) {
  v1::ListAdapterVersionsRequest req;
  req.set_organisation_id(org);
  auto ctx = NewContext(Options());
  v1::ListAdapterVersionsResponse resp;
  grpc::Status s = stub.ListAdapterVersions(ctx.get(), req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return resp;
}

int FailStatus(const absl::Status& s) {
  return FailRpc(grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message())));
}

const v1::AdapterVersion* Find(const v1::ListAdapterVersionsResponse& list, uint32_t version) {
  for (const auto& v : list.versions()) {
    if (v.version() == version) return &v;
  }
  return nullptr;
}

// The organisation directories DIR names: DIR itself when it holds
// adapter.textproto (the organisation is --org, else its name), otherwise its
// subdirectories that do (only --org's when given).
struct OrgDir {
  std::string org;
  std::string path;
};
absl::StatusOr<std::vector<OrgDir>> OrgDirs(const std::string& dir) {
  const std::string only = absl::GetFlag(FLAGS_org);
  const fs::path root(dir);
  if (fs::exists(root / kAdapterFile)) {
    std::string name = fs::weakly_canonical(root).filename().string();
    return std::vector<OrgDir>{{only.empty() ? name : only, root.string()}};
  }
  std::vector<OrgDir> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !fs::exists(entry.path() / kAdapterFile)) continue;
    if (!only.empty() && name != only) continue;
    dirs.push_back({name, entry.path().string()});
  }
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.org < b.org; });
  if (dirs.empty()) {
    return absl::NotFoundError(absl::StrCat(dir, ": no ", kAdapterFile, " in it or in DIR/",
                                            only.empty() ? "<org>" : only, "/"));
  }
  return dirs;
}

absl::StatusOr<v1::AdapterVersion> ReadVersion(const OrgDir& dir) {
  auto files = ReadAdapterDir(dir.path);
  if (!files.ok()) return files.status();
  auto version = ParseAdapterFiles(*files);
  if (!version.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(dir.path, "/", version.status().message()));
  }
  return version;
}

absl::StatusOr<v1::AdapterVersion> Register(Stub& stub, const std::string& org,
                                            const v1::AdapterVersion& content) {
  v1::RegisterAdapterVersionRequest req;
  req.set_organisation_id(org);
  *req.mutable_config() = content.config();
  *req.mutable_samples() = content.samples();
  req.set_note(content.note());
  auto ctx = NewContext(Options());
  v1::AdapterVersion out;
  grpc::Status s = stub.RegisterAdapterVersion(ctx.get(), req, &out);
  if (!s.ok())
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  return out;
}

// Activates and prints the outcome; the contract check's refusal is printed as
// the gateway words it (each changed sample and its differences).
int Activate(Stub& stub, const std::string& org, uint32_t version, uint32_t was) {
  v1::ActivateAdapterVersionRequest req;
  req.set_organisation_id(org);
  req.set_version(version);
  req.set_accept_changed_outputs(absl::GetFlag(FLAGS_accept));
  auto ctx = NewContext(Options());
  v1::ActivateAdapterVersionResponse resp;
  grpc::Status s = stub.ActivateAdapterVersion(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  std::string text =
      was == version ? absl::StrCat(org, ": v", version, " is already active\n")
                     : absl::StrCat(org, ": activated v", version, " (was ", Version(was), ")\n");
  absl::StrAppend(&text, AcceptedText(resp.accepted()));
  Print(resp, text);
  return 0;
}

int ListCommand(Stub& stub) {
  auto list = List(stub, absl::GetFlag(FLAGS_org));
  if (!list.ok()) return FailStatus(list.status());
  std::string text =
      absl::StrCat(list->organisation_id(), ": ",
                   list->has_state() ? StateText(list->state()) : "no adapter versions", "\n");
  for (const v1::AdapterVersion& v : list->versions()) {
    const bool active = list->state().active_version() == v.version();
    absl::StrAppend(
        &text, absl::StrFormat("%s %-4s %-30s %3d samples  %-20s %-18s %s\n", active ? "*" : " ",
                               Version(v.version()), v.adapter_type(), v.samples_size(),
                               FormatTime(v.created_at()), v.created_by(), v.note()));
  }
  Print(*list, text);
  return 0;
}

// ER7 segments end with \r; files usually have \n (as for publish-raw).
std::string NormalisePayload(const std::string& content_type, std::string payload) {
  if (!absl::StrContains(content_type, "hl7-v2")) return payload;
  return absl::StrReplaceAll(payload, {{"\r\n", "\r"}, {"\n", "\r"}});
}

int TestCommand(Stub& stub, const std::string& path) {
  std::string content_type = absl::GetFlag(FLAGS_content_type);
  if (content_type.empty()) {
    const std::string file = fs::path(path).filename().string();
    const size_t dot = file.find('.');
    if (dot != std::string::npos) content_type = ContentTypeOfExtension(file.substr(dot + 1));
    if (content_type.empty()) {
      return Usage("adapter test: --content_type is required (the file extension does not say)");
    }
  }
  auto input = ReadInput(path);
  if (!input.ok()) return Fail(std::string(input.status().message()), 2);
  v1::TestAdapterRequest req;
  req.set_organisation_id(absl::GetFlag(FLAGS_org));
  req.set_version(absl::GetFlag(FLAGS_adapter_version));
  req.set_content_type(content_type);
  req.set_input(NormalisePayload(content_type, *std::move(input)));
  auto ctx = NewContext(Options());
  v1::TestAdapterResponse resp;
  grpc::Status s = stub.TestAdapter(ctx.get(), req, &resp);
  if (!s.ok()) return FailRpc(s);
  std::string text =
      absl::StrCat("dry run of ", Version(resp.version()), req.version() == 0 ? " (active)" : "",
                   " on ", path, " (", content_type, "); nothing stored\n");
  if (resp.has_message()) {
    absl::StrAppend(&text, "--- canonical message\n", PrintProtoText(resp.message()));
  }
  if (!resp.ignored_elements().empty()) {
    const std::vector<std::string> ignored(resp.ignored_elements().begin(),
                                           resp.ignored_elements().end());
    absl::StrAppend(&text, "--- not mapped\n", Lines(ignored, ""));
  }
  if (!resp.output_content_type().empty()) {
    absl::StrAppend(&text, "--- output a recipient gets (", resp.output_content_type(), ", ",
                    resp.output().size(), " bytes)\n",
                    absl::StrContains(resp.output_content_type(), "hl7-v2")
                        ? absl::StrReplaceAll(resp.output(), {{"\r", "\n"}})
                        : resp.output(),
                    absl::EndsWith(resp.output(), "\n") ? "" : "\n");
  }
  if (!resp.error().empty()) absl::StrAppend(&text, "--- error\n", resp.error(), "\n");
  Print(resp, text);
  return resp.error().empty() ? 0 : 1;
}

int RegisterCommand(Stub& stub, const std::string& dir) {
  auto dirs = OrgDirs(dir);
  if (!dirs.ok()) return Fail(std::string(dirs.status().message()), 2);
  for (const OrgDir& d : *dirs) {
    auto content = ReadVersion(d);
    if (!content.ok()) return Fail(std::string(content.status().message()), 2);
    auto registered = Register(stub, d.org, *content);
    if (!registered.ok()) return FailStatus(registered.status());
    Print(*registered, absl::StrCat(d.org, ": registered v", registered->version(), " (",
                                    registered->adapter_type(), ", ", registered->samples_size(),
                                    " samples); activate it with `sbctl adapter activate ",
                                    registered->version(), "`\n"));
  }
  return 0;
}

int ActivateCommand(Stub& stub, const std::string& arg) {
  uint32_t version = 0;
  if (!absl::SimpleAtoi(arg, &version) || version == 0) {
    return Usage(absl::StrCat("adapter activate: '", arg, "' is not a version (1, 2, ...)"));
  }
  auto list = List(stub, absl::GetFlag(FLAGS_org));
  if (!list.ok()) return FailStatus(list.status());
  return Activate(stub, list->organisation_id(), version, list->state().active_version());
}

int RollbackCommand(Stub& stub) {
  auto list = List(stub, absl::GetFlag(FLAGS_org));
  if (!list.ok()) return FailStatus(list.status());
  v1::RollbackAdapterRequest req;
  req.set_organisation_id(list->organisation_id());
  auto ctx = NewContext(Options());
  v1::AdapterBindingState state;
  grpc::Status s = stub.RollbackAdapter(ctx.get(), req, &state);
  if (!s.ok()) return FailRpc(s);
  Print(state,
        absl::StrCat(list->organisation_id(), ": rolled back to ", Version(state.active_version()),
                     " (was ", Version(list->state().active_version()), "); ", StateText(state),
                     "\n"));
  return 0;
}

int ApplyOne(Stub& stub, const OrgDir& dir) {
  auto candidate = ReadVersion(dir);
  if (!candidate.ok()) return Fail(std::string(candidate.status().message()), 2);
  auto list = List(stub, dir.org);
  if (!list.ok()) return FailStatus(list.status());
  const uint32_t active_version = list->state().active_version();
  const v1::AdapterVersion* active = Find(*list, active_version);
  const std::vector<std::string> changes = DescribeSourceChanges(active, *candidate);
  if (changes.empty()) {
    std::cout << dir.org << ": no changes (" << dir.path << " matches the active version "
              << Version(active_version) << ")\n";
    return 0;
  }
  std::cout << dir.org << ": " << dir.path << " against the active version "
            << Version(active_version) << ":\n"
            << Lines(changes, "  ");
  if (!absl::GetFlag(FLAGS_yes)) {
    std::cout << "(nothing changed: run again with --yes to register and activate it)\n";
    return 0;
  }
  // A registered version with the same content (say, one whose activation was
  // refused by the contract check) is activated rather than registered again.
  uint32_t version = 0;
  for (auto it = list->versions().rbegin(); it != list->versions().rend() && version == 0; ++it) {
    if (it->version() != active_version && DescribeSourceChanges(&*it, *candidate).empty()) {
      version = it->version();
      std::cout << dir.org << ": the directory matches registered v" << version << "\n";
    }
  }
  if (version == 0) {
    auto registered = Register(stub, dir.org, *candidate);
    if (!registered.ok()) return FailStatus(registered.status());
    version = registered->version();
    std::cout << dir.org << ": registered v" << version << " (" << registered->samples_size()
              << " samples)\n";
  }
  return Activate(stub, dir.org, version, active_version);
}

int ApplyCommand(Stub& stub, const std::string& dir) {
  auto dirs = OrgDirs(dir);
  if (!dirs.ok()) return Fail(std::string(dirs.status().message()), 2);
  int code = 0;
  for (const OrgDir& d : *dirs) code = std::max(code, ApplyOne(stub, d));
  return code;
}

int ExportCommand(Stub& stub, const std::string& dir) {
  auto list = List(stub, absl::GetFlag(FLAGS_org));
  if (!list.ok()) return FailStatus(list.status());
  const v1::AdapterVersion* active = Find(*list, list->state().active_version());
  if (active == nullptr) {
    return Fail(absl::StrCat(list->organisation_id(), " has no active adapter version to export"));
  }
  const fs::path root(dir);
  const std::string target =
      fs::exists(root / kAdapterFile) ? root.string() : (root / list->organisation_id()).string();
  const AdapterFiles files = RenderAdapterFiles(*active);
  if (absl::Status s = WriteAdapterDir(target, files); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  Print(*active, absl::StrCat("wrote ", target, ": v", active->version(), ", ", kAdapterFile,
                              " and ", files.size() - 1, " sample files\n"));
  return 0;
}

}  // namespace

int Adapter(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  constexpr char kHelp[] =
      "adapter: list | test FILE | register DIR | activate VERSION | rollback | apply DIR | "
      "export DIR";
  if (args.empty()) return Usage(kHelp);
  auto stub = v1::Registry::NewStub(channel);
  const std::string& sub = args[0];
  const size_t n = args.size() - 1;
  if (sub == "list" && n == 0) return ListCommand(*stub);
  if (sub == "test" && n == 1) return TestCommand(*stub, args[1]);
  if (sub == "register" && n == 1) return RegisterCommand(*stub, args[1]);
  if (sub == "activate" && n == 1) return ActivateCommand(*stub, args[1]);
  if (sub == "rollback" && n == 0) return RollbackCommand(*stub);
  if (sub == "apply" && n == 1) return ApplyCommand(*stub, args[1]);
  if (sub == "export" && n == 1) return ExportCommand(*stub, args[1]);
  return Usage(kHelp);
}

}  // namespace switchboard::tools::sbctl
