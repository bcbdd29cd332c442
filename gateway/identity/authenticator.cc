#include "gateway/identity/authenticator.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/grpc_security_constants.h"

namespace switchboard::gateway::identity {
namespace {

constexpr size_t kMaxUserLength = 128;

std::string Sanitise(absl::string_view raw) {
  std::string out;
  for (char c : raw.substr(0, kMaxUserLength)) {
    out.push_back((c >= 0x20 && c < 0x7f) ? c : '?');
  }
  return out;
}

}  // namespace

PeerInfo ReadPeer(const grpc::ServerContextBase& context) {
  PeerInfo peer;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    peer.authenticated = true;
    for (const grpc::string_ref& san : auth->FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME)) {
      peer.sans.emplace_back(san.data(), san.size());
    }
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("sb-user");
  if (it != metadata.end()) peer.user = Sanitise(absl::string_view(it->second.data(), it->second.size()));
  return peer;
}

absl::StatusOr<Caller> Identify(const PeerInfo& peer, const registry::Directory::Snapshot& dir) {
  if (!peer.authenticated) {
    return absl::UnauthenticatedError("a verified client certificate is required");
  }
  const v1::Organisation* match = nullptr;
  for (const std::string& san : peer.sans) {
    const v1::Organisation* org = dir.FindBySan(san);
    if (org == nullptr) continue;
    if (match != nullptr && match->id() != org->id()) {
      return absl::UnauthenticatedError(absl::StrCat("the client certificate names two members ('",
                                                     match->id(), "' and '", org->id(), "')"));
    }
    match = org;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client certificate (SAN ", absl::StrJoin(peer.sans, ", "),
                     ") is not registered to any member"));
  }
  if (match->status() != v1::Organisation::ACTIVE) {
    return absl::PermissionDeniedError(
        absl::StrCat("member '", match->id(), "' is suspended"));
  }
  Caller caller;
  caller.organisation_id = match->id();
  for (int role : match->roles()) {
    if (role == v1::Organisation::ADMIN) caller.admin = true;
  }
  caller.user = peer.user;
  return caller;
}

}  // namespace switchboard::gateway::identity
