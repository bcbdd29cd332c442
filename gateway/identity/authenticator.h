// Who is calling: the organisation whose registered certificate SAN appears in
// the caller's verified TLS client certificate. Nothing else (metadata, message
// bodies) ever identifies a member. The person named in metadata `sb-user` is
// recorded as claimed, for the audit trail only.
//
// Thread-safe.
#ifndef SWITCHBOARD_GATEWAY_IDENTITY_AUTHENTICATOR_H_
#define SWITCHBOARD_GATEWAY_IDENTITY_AUTHENTICATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/registry/directory.h"
#include "grpcpp/server_context.h"

namespace switchboard::gateway::identity {

// An identified, active member.
struct Caller {
  std::string organisation_id;
  bool admin = false;
  // As claimed in metadata `sb-user` (printable, at most 128 characters).
  std::string user;
};

// The identity material of one call, as presented.
struct PeerInfo {
  bool authenticated = false;          // TLS peer with a verified certificate
  std::vector<std::string> sans;       // every SAN of the certificate
  std::string user;                    // metadata `sb-user`, sanitised
};

// Reads the TLS peer and the metadata of a server call.
PeerInfo ReadPeer(const grpc::ServerContextBase& context);

// Matches the peer to a member:
//   UNAUTHENTICATED   no verified certificate, no registered SAN, or SANs of two
//                     members;
//   PERMISSION_DENIED the member is suspended.
absl::StatusOr<Caller> Identify(const PeerInfo& peer, const registry::Directory::Snapshot& dir);

}  // namespace switchboard::gateway::identity

#endif  // SWITCHBOARD_GATEWAY_IDENTITY_AUTHENTICATOR_H_
