#include "gateway/registry/identity_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gateway/identity/rpc_guard.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::registry {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kOpLink[] = "Registry/LinkIdentifier";
constexpr char kOpUnlink[] = "Registry/UnlinkIdentifier";
constexpr char kOpResolveReview[] = "Registry/ResolveClientReview";

absl::Status Refuse(store::Transaction& txn, v1::AuditRecord record, absl::Status status) {
  txn.AuditOnRefusal(identity::Refusal(std::move(record), status));
  return status;
}

std::string ReviewId(uint64_t seq) {
  return absl::StrCat("review-", absl::Hex(seq, absl::kZeroPad16));
}

std::optional<uint64_t> ParseReviewId(absl::string_view id) {
  if (!absl::ConsumePrefix(&id, "review-") || id.size() != 16) return std::nullopt;
  uint64_t seq = 0;
  for (char c : id) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    seq = seq * 16 + static_cast<uint64_t>(digit);
  }
  return seq;
}

// The client named by `client`, with its enterprise id in `id`.
absl::StatusOr<bool> ReadClient(store::Transaction& txn, const v1::ClientIdentifier& client,
                                v1::Client* out) {
  SB_ASSIGN_OR_RETURN(auto id,
                      txn.Get(Cf::kClients, keys::Identifier(client.system(), client.value())));
  if (!id.has_value()) return false;
  SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kClients, keys::Client(*id), out));
  if (!found) {
    return absl::DataLossError(
        absl::StrCat("clients: identifier index names client '", *id, "' which is not stored"));
  }
  return true;
}

bool SameIdentifier(const v1::ClientIdentifier& a, const v1::ClientIdentifier& b) {
  return a.system() == b.system() && a.value() == b.value();
}

}  // namespace

absl::Status CheckIdentityRights(const Directory& directory, const identity::Caller& actor) {
  if (actor.admin) return absl::OkStatus();
  const auto snap = directory.snapshot();
  if (const v1::Organisation* org = snap->Find(actor.organisation_id)) {
    for (int r : org->roles()) {
      if (r == v1::Organisation::COORDINATOR) return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("'", actor.organisation_id,
                   "' may not change client identities: admins and coordinators only"));
}

namespace {

// What linking and unlinking both check first: the actor's rights, both
// identifiers, and that `client` names a client (read into *found; its id goes
// into *record). A refusal is audited and returned.
absl::Status Prepare(store::Transaction& txn, const RegistryContext& ctx,
                     const identity::Caller& actor, const v1::ClientIdentifier& client,
                     const v1::ClientIdentifier& identifier, v1::AuditRecord* record,
                     v1::Client* found) {
  if (absl::Status s = CheckIdentityRights(*ctx.directory, actor); !s.ok()) {
    return Refuse(txn, *record, s);
  }
  if (absl::Status s = CheckIdentifier("client", client); !s.ok()) return Refuse(txn, *record, s);
  if (absl::Status s = CheckIdentifier("identifier", identifier); !s.ok()) {
    return Refuse(txn, *record, s);
  }
  SB_ASSIGN_OR_RETURN(bool known, ReadClient(txn, client, found));
  if (!known) {
    return Refuse(txn, *record,
                  absl::NotFoundError(absl::StrCat("client: no client with identifier '",
                                                   IdentifierText(client), "'")));
  }
  record->set_client_id(found->id());
  return absl::OkStatus();
}

}  // namespace

absl::Status LinkIdentifier(store::Transaction& txn, const RegistryContext& ctx,
                            const identity::Caller& actor, const v1::ClientIdentifier& client,
                            const v1::ClientIdentifier& identifier, v1::Client* out) {
  v1::AuditRecord record = identity::AuditFor(actor, kOpLink, v1::AuditRecord::REGISTRY_CHANGE);
  v1::Client found;
  SB_RETURN_IF_ERROR(Prepare(txn, ctx, actor, client, identifier, &record, &found));
  SB_ASSIGN_OR_RETURN(
      auto owner, txn.Get(Cf::kClients, keys::Identifier(identifier.system(), identifier.value())));
  if (owner.has_value() && *owner == found.id()) {
    *out = found;
    return absl::OkStatus();
  }
  if (owner.has_value()) {
    return Refuse(
        txn, record,
        absl::FailedPreconditionError(absl::StrCat(
            "identifier: '", IdentifierText(identifier), "' already belongs to client ", *owner,
            " (not ", found.id(), "); merging two clients is not supported: unlink it from ",
            *owner, " first (sbctl client unlink) if it was linked there by mistake")));
  }
  *found.add_identifiers() = identifier;
  txn.PutProto(Cf::kClients, keys::Client(found.id()), found);
  txn.Put(Cf::kClients, keys::Identifier(identifier.system(), identifier.value()), found.id());
  record.set_detail(
      absl::StrCat("linked identifier '", IdentifierText(identifier), "' to client ", found.id()));
  txn.Audit(record);
  if (ctx.on_identifiers_changed) txn.OnCommit(ctx.on_identifiers_changed);
  *out = found;
  return absl::OkStatus();
}

absl::Status UnlinkIdentifier(store::Transaction& txn, const RegistryContext& ctx,
                              const identity::Caller& actor, const v1::ClientIdentifier& client,
                              const v1::ClientIdentifier& identifier, v1::Client* out) {
  v1::AuditRecord record = identity::AuditFor(actor, kOpUnlink, v1::AuditRecord::REGISTRY_CHANGE);
  v1::Client found;
  SB_RETURN_IF_ERROR(Prepare(txn, ctx, actor, client, identifier, &record, &found));
  auto* ids = found.mutable_identifiers();
  auto it = std::find_if(ids->begin(), ids->end(), [&](const v1::ClientIdentifier& id) {
    return SameIdentifier(id, identifier);
  });
  if (it == ids->end()) {
    return Refuse(
        txn, record,
        absl::NotFoundError(absl::StrCat("identifier: client ", found.id(), " has no identifier '",
                                         IdentifierText(identifier), "'")));
  }
  if (ids->size() == 1) {
    return Refuse(
        txn, record,
        absl::FailedPreconditionError(absl::StrCat(
            "identifier: '", IdentifierText(identifier), "' is the last identifier of client ",
            found.id(), "; a client keeps at least one (link another first)")));
  }
  ids->erase(it);
  txn.PutProto(Cf::kClients, keys::Client(found.id()), found);
  txn.Delete(Cf::kClients, keys::Identifier(identifier.system(), identifier.value()));
  record.set_detail(absl::StrCat("unlinked identifier '", IdentifierText(identifier),
                                 "' from client ", found.id()));
  txn.Audit(record);
  if (ctx.on_identifiers_changed) txn.OnCommit(ctx.on_identifiers_changed);
  *out = found;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ClientReview>> ReadClientReviews(const store::Store& store,
                                                                bool include_resolved) {
  std::vector<v1::ClientReview> out;
  const std::string prefix(keys::kClientReviewPrefix);
  auto it = store.NewIterator(Cf::kClients, store::PrefixUpperBound(prefix));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    v1::ClientReview review;
    if (!review.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("clients: unparseable client review");
    }
    if (include_resolved || review.status() == v1::ClientReview::OPEN) {
      out.push_back(std::move(review));
    }
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading client reviews");
  return out;
}

absl::Status ResolveClientReview(store::Transaction& txn, const RegistryContext& ctx,
                                 const identity::Caller& actor, const std::string& id,
                                 const std::string& resolution, v1::ClientReview* out) {
  v1::AuditRecord record =
      identity::AuditFor(actor, kOpResolveReview, v1::AuditRecord::REGISTRY_CHANGE);
  if (absl::Status s = CheckIdentityRights(*ctx.directory, actor); !s.ok()) {
    return Refuse(txn, record, s);
  }
  if (absl::Status s = CheckText("resolution", resolution, 500, true); !s.ok()) {
    return Refuse(txn, record, s);
  }
  const std::optional<uint64_t> seq = ParseReviewId(id);
  v1::ClientReview review;
  bool found = false;
  if (seq.has_value()) {
    SB_ASSIGN_OR_RETURN(found, txn.GetProto(Cf::kClients, keys::ClientReview(*seq), &review));
  }
  if (!found) {
    return Refuse(txn, record,
                  absl::NotFoundError(absl::StrCat("no client review '", id.substr(0, 64), "'")));
  }
  if (review.status() != v1::ClientReview::OPEN) {
    return Refuse(txn, record,
                  absl::FailedPreconditionError(absl::StrCat(
                      "client review ", id, " is already resolved: ", review.resolution())));
  }
  review.set_status(v1::ClientReview::RESOLVED);
  review.set_resolution(resolution);
  review.set_resolved_by(actor.user.empty() ? actor.organisation_id
                                            : absl::StrCat(actor.organisation_id, "/", actor.user));
  *review.mutable_resolved_at() = ToProtoTime(txn.now());
  txn.PutProto(Cf::kClients, keys::ClientReview(*seq), review);
  txn.Delete(Cf::kClients, keys::ClientReviewOfMessage(review.source(), review.message_id()));
  record.set_detail(absl::StrCat("resolved client review ", id, ": ", resolution));
  txn.Audit(record);
  *out = review;
  return absl::OkStatus();
}

absl::Status AddIdentifiers(store::Transaction& txn, const identity::Caller& actor,
                            absl::string_view operation, const std::string& client_id, bool create,
                            const std::vector<v1::ClientIdentifier>& identifiers,
                            absl::string_view why, const std::function<void()>& on_changed) {
  if (identifiers.empty()) return absl::OkStatus();
  v1::Client client;
  if (create) {
    client.set_id(client_id);
  } else {
    SB_ASSIGN_OR_RETURN(bool found, txn.GetProto(Cf::kClients, keys::Client(client_id), &client));
    if (!found) {
      return absl::AbortedError(
          absl::StrCat("message.header.client: the client changed meanwhile; publish again"));
    }
  }
  for (size_t i = 0; i < identifiers.size(); ++i) {
    const v1::ClientIdentifier& id = identifiers[i];
    const std::string key = keys::Identifier(id.system(), id.value());
    SB_ASSIGN_OR_RETURN(auto owner, txn.Get(Cf::kClients, key));
    if (owner.has_value()) {
      return absl::AbortedError(
          absl::StrCat("message.header: '", IdentifierText(id),
                       "' was just linked by another message; publish again"));
    }
    *client.add_identifiers() = id;
    txn.Put(Cf::kClients, key, client_id);
    v1::AuditRecord record = identity::AuditFor(actor, operation, v1::AuditRecord::REGISTRY_CHANGE);
    record.set_client_id(client_id);
    record.set_detail(absl::StrCat(create && i == 0 ? "created client " : "linked to client ",
                                   client_id, " identifier '", IdentifierText(id), "': ", why));
    txn.Audit(std::move(record));
  }
  txn.PutProto(Cf::kClients, keys::Client(client_id), client);
  if (on_changed) txn.OnCommit(on_changed);
  return absl::OkStatus();
}

absl::StatusOr<std::string> OpenClientReview(store::Transaction& txn, const identity::Caller& actor,
                                             absl::string_view operation,
                                             const v1::MessageHeader& header,
                                             const std::vector<policy::IdentifierLookup>& ids) {
  const std::string index = keys::ClientReviewOfMessage(header.source(), header.id());
  SB_ASSIGN_OR_RETURN(auto existing, txn.Get(Cf::kClients, index));
  if (existing.has_value()) {
    if (auto seq = store::DecodeSeq(*existing)) return ReviewId(*seq);
  }
  const uint64_t seq = txn.NextSeq();
  v1::ClientReview review;
  review.set_id(ReviewId(seq));
  std::vector<std::string> clients;
  for (const policy::IdentifierLookup& id : ids) {
    auto* entry = review.add_entries();
    *entry->mutable_identifier() = id.identifier;
    entry->set_client_id(id.client_id);
    if (!id.client_id.empty() &&
        std::find(clients.begin(), clients.end(), id.client_id) == clients.end()) {
      clients.push_back(id.client_id);
    }
  }
  review.set_source(header.source());
  review.set_message_id(header.id());
  review.set_event(header.event());
  *review.mutable_created_at() = ToProtoTime(txn.now());
  review.set_status(v1::ClientReview::OPEN);
  txn.PutProto(Cf::kClients, keys::ClientReview(seq), review);
  txn.Put(Cf::kClients, index, store::EncodeSeq(seq));
  for (const std::string& client_id : clients) {
    v1::AuditRecord record = identity::AuditFor(actor, operation, v1::AuditRecord::REGISTRY_CHANGE);
    record.set_client_id(client_id);
    record.set_message_id(header.id());
    record.set_detail(absl::StrCat("opened client review ", review.id(), ": message '", header.id(),
                                   "' names identifiers of clients [", absl::StrJoin(clients, ","),
                                   "]"));
    txn.Audit(std::move(record));
  }
  return review.id();
}

}  // namespace switchboard::gateway::registry
