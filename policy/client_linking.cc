#include "policy/client_linking.h"

#include <algorithm>

namespace switchboard::policy {

ClientLinkDecision DecideClientLink(absl::Span<const IdentifierLookup> ids) {
  ClientLinkDecision out;
  bool sender_issues_one = false;
  for (const IdentifierLookup& id : ids) {
    if (id.issued_by_sender) sender_issues_one = true;
    if (id.client_id.empty()) continue;
    if (std::find(out.conflicting_clients.begin(), out.conflicting_clients.end(), id.client_id) ==
        out.conflicting_clients.end()) {
      out.conflicting_clients.push_back(id.client_id);
    }
  }
  if (out.conflicting_clients.size() > 1) {
    out.kind = ClientLinkDecision::Kind::kConflict;
    return out;
  }
  if (out.conflicting_clients.empty()) {
    if (!sender_issues_one) {
      out.kind = ClientLinkDecision::Kind::kUnknownClient;
      return out;
    }
    out.kind = ClientLinkDecision::Kind::kNewClient;
  } else {
    out.kind = ClientLinkDecision::Kind::kKnownClient;
    out.client_id = out.conflicting_clients.front();
  }
  out.conflicting_clients.clear();
  for (const IdentifierLookup& id : ids) {
    if (!id.client_id.empty()) continue;
    if (id.strong || id.issued_by_sender) {
      out.link.push_back(id.identifier);
    } else {
      out.not_linked.push_back(id.identifier);
    }
  }
  return out;
}

}  // namespace switchboard::policy
