// How the identifiers of one message map onto clients: the federation's
// identity rule (docs/coordination.md "Identity across members") as a pure
// function. No silent merges: identifiers that point at two clients are a
// conflict for a person to resolve, never joined by a message.
//
// Pure: no I/O. Thread-safe.
#ifndef SWITCHBOARD_POLICY_CLIENT_LINKING_H_
#define SWITCHBOARD_POLICY_CLIENT_LINKING_H_

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "switchboard/v1/common.pb.h"

namespace switchboard::policy {

// One identifier of a message, as looked up in the registry.
struct IdentifierLookup {
  v1::ClientIdentifier identifier;
  // Enterprise id of the client it belongs to; empty when nobody has it.
  std::string client_id;
  // Its system is one of the config's strong_identifier_systems.
  bool strong = false;
  // The sender is authoritative for its system (identifier_authorities).
  bool issued_by_sender = false;
};

struct ClientLinkDecision {
  enum class Kind {
    // The identifiers belong to two or more clients: refuse, list for review.
    kConflict,
    // One known client (client_id); `link` are to be added to it.
    kKnownClient,
    // Nobody knows any identifier and the sender issues one of them: a new
    // client with the identifiers in `link`.
    kNewClient,
    // Nobody knows any identifier and the sender issues none: refuse.
    kUnknownClient,
  };
  Kind kind = Kind::kUnknownClient;
  // kKnownClient: the client.
  std::string client_id;
  // kConflict: the distinct clients, in the order the message names them.
  std::vector<std::string> conflicting_clients;
  // Unknown identifiers that become the client's (kKnownClient, kNewClient).
  std::vector<v1::ClientIdentifier> link;
  // Unknown identifiers left unlinked: neither strong nor issued by the sender.
  std::vector<v1::ClientIdentifier> not_linked;
};

// `ids` are the message's identifiers, header.client first. An unknown
// identifier is linked when its system is strong or the sender issues it (a
// hospital vouches for its own MRNs); any other unknown one is left alone and
// the message is still accepted when the others name one client.
ClientLinkDecision DecideClientLink(absl::Span<const IdentifierLookup> ids);

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_CLIENT_LINKING_H_
