#include "gateway/exchange/publisher.h"

#include <algorithm>
#include <memory>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/common/deterministic.h"
#include "gateway/common/sha256.h"
#include "gateway/exchange/message_validator.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/registry_ops.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "policy/routing_policy.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::exchange {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kOperation[] = "Exchange/Publish";

// Transaction: the client `client_id` with the one identifier `id`, introduced
// by `caller` (authoritative for the identifier's system). ABORTED when another
// message created a client with that identifier meanwhile.
absl::Status CreateClient(store::Transaction& txn, const identity::Caller& caller,
                          const std::string& client_id, const v1::ClientIdentifier& id) {
  const std::string id_key = keys::Identifier(id.system(), id.value());
  SB_ASSIGN_OR_RETURN(auto owner, txn.Get(Cf::kClients, id_key));
  if (owner.has_value()) {
    return absl::AbortedError(
        absl::StrCat("message.header.client: '", IdentifierText(id),
                     "' was just registered by another message; publish again"));
  }
  v1::Client client;
  client.set_id(client_id);
  *client.add_identifiers() = id;
  txn.PutProto(Cf::kClients, keys::Client(client_id), client);
  txn.Put(Cf::kClients, id_key, client_id);
  v1::AuditRecord record = identity::AuditFor(caller, kOperation, v1::AuditRecord::REGISTRY_CHANGE);
  record.set_client_id(client_id);
  record.set_detail(absl::StrCat("created client ", client_id, " for identifier '",
                                 IdentifierText(id), "': the sender is authoritative for ",
                                 id.system()));
  txn.Audit(std::move(record));
  return absl::OkStatus();
}

// The StoredMessage fields known before the commit (message, hash, client), as
// serialised bytes; the commit appends the receipt (serialised protobuf messages
// concatenate into one). Built on the caller's thread, so the single writer only
// serialises the small receipt.
std::string StoredMessagePrefix(const std::string& message_bytes, const std::string& hash,
                                const std::string& client_id) {
  using google::protobuf::internal::WireFormatLite;
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream o(&raw);
    WireFormatLite::WriteBytes(v1::StoredMessage::kMessageFieldNumber, message_bytes, &o);
    WireFormatLite::WriteBytes(v1::StoredMessage::kContentSha256FieldNumber, hash, &o);
    WireFormatLite::WriteString(v1::StoredMessage::kClientIdFieldNumber, client_id, &o);
  }
  return out;
}

// The outcome of looking for an earlier publish of the same (source, id).
struct Earlier {
  bool found = false;
  absl::StatusOr<v1::Receipt> result;  // the receipt, or ALREADY_EXISTS
};

Earlier Compare(const v1::StoredMessage& stored, const std::string& hash,
                const std::string& message_id) {
  Earlier e;
  e.found = true;
  if (stored.content_sha256() == hash) {
    e.result = stored.receipt();
  } else {
    e.result = absl::AlreadyExistsError(absl::StrCat(
        "message.header.id: '", message_id, "' was already published with other content (as ",
        stored.receipt().gateway_message_id(), "); use a new id for a new message"));
  }
  return e;
}

}  // namespace

Publisher::Publisher(const store::Store* store, store::Committer* committer,
                     const registry::Directory* directory, const config::EventCatalogue* events,
                     const consent::AccessDecider* decider, consent::ConsentOpsContext consent_ops,
                     v1::Limits limits, OnAccepted on_accepted, IdentifierAuthorities authorities)
    : store_(store),
      committer_(committer),
      directory_(directory),
      events_(events),
      decider_(decider),
      consent_ops_(std::move(consent_ops)),
      limits_(std::move(limits)),
      on_accepted_(std::move(on_accepted)),
      authorities_(std::move(authorities)) {}

absl::StatusOr<Publisher::IdentifierAuthorities> Publisher::MakeAuthorities(
    const google::protobuf::RepeatedPtrField<v1::IdentifierAuthority>& config) {
  IdentifierAuthorities out;
  for (int i = 0; i < config.size(); ++i) {
    const std::string field = absl::StrCat("identifier_authorities[", i, "]");
    const v1::IdentifierAuthority& a = config[i];
    if (a.system().empty())
      return absl::InvalidArgumentError(absl::StrCat(field, ".system: required"));
    if (a.organisation_ids().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".organisation_ids: at least one member"));
    }
    if (out.contains(a.system())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".system: '", a.system(), "' is listed twice"));
    }
    out[a.system()].insert(a.organisation_ids().begin(), a.organisation_ids().end());
  }
  return out;
}

void Publisher::Publish(const identity::Caller& caller, v1::Message message, Done done) const {
  v1::AuditRecord record = identity::AuditFor(caller, kOperation, v1::AuditRecord::PUBLISH);
  record.set_message_id(message.header().id().substr(0, 128));
  auto refuse = [&](absl::Status status) {
    identity::SubmitRefusal(committer_, record, status,
                            [done](const absl::Status& s) { done(s); });
  };

  const size_t size = message.ByteSizeLong();
  if (size > limits_.max_message_bytes()) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "message: ", size, " bytes is over the limit of ", limits_.max_message_bytes(), " bytes")));
  }
  if (!message.has_header()) return refuse(absl::InvalidArgumentError("message.header: required"));
  const v1::MessageHeader& header = message.header();
  if (header.source().empty()) {
    return refuse(absl::InvalidArgumentError("message.header.source: required"));
  }
  if (header.source() != caller.organisation_id) {
    return refuse(absl::PermissionDeniedError(absl::StrCat(
        "message.header.source: '", header.source().substr(0, 64), "' is not the caller ('",
        caller.organisation_id, "'); a member publishes only as itself")));
  }
  if (absl::Status s = CheckToken("message.header.id", header.id()); !s.ok()) return refuse(s);

  NormaliseMessage(&message);
  const std::string message_bytes = DeterministicBytes(message);
  const std::string hash = Sha256({message_bytes});
  const std::string dedup_key = keys::Dedup(caller.organisation_id, header.id());

  // A resend of something already accepted gets the original answer, even if the
  // registry has changed since (that is what makes retries safe).
  {
    auto seq = store_->Get(Cf::kDedup, dedup_key);
    if (!seq.ok()) return done(seq.status());
    // Only from what is on disk: an earlier copy still being synced is answered
    // by the transaction below, after that sync.
    if (seq->has_value() &&
        store::DecodeSeq(**seq).value_or(UINT64_MAX) <= committer_->durable_seq()) {
      v1::StoredMessage stored;
      auto found = store_->GetProto(Cf::kMessages, **seq, &stored);
      if (!found.ok()) return done(found.status());
      if (*found) {
        Earlier earlier = Compare(stored, hash, header.id());
        if (!earlier.result.ok()) return refuse(earlier.result.status());
        return done(std::move(earlier.result));
      }
    }
  }

  const absl::Time now = absl::Now();
  if (absl::Status s = ValidateMessage(message, *events_, limits_, now); !s.ok()) {
    return refuse(s);
  }
  auto client_id = registry::ResolveClient(*store_, header.client());
  if (!client_id.ok()) return done(client_id.status());
  // A client nobody knows yet is created by a sender authoritative for the
  // identifier's system (a hospital for its own MRNs), and only by one.
  bool new_client = false;
  if (!client_id->has_value()) {
    auto authority = authorities_.find(header.client().system());
    if (authority == authorities_.end() || !authority->second.contains(caller.organisation_id)) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          "message.header.client: no client with identifier '", IdentifierText(header.client()),
          "' (only a member authoritative for its system may introduce a new client)")));
    }
    absl::BitGen bitgen;
    *client_id =
        absl::StrCat("client-", absl::Hex(absl::Uniform<uint64_t>(bitgen), absl::kZeroPad16));
    new_client = true;
  }
  record.set_client_id(**client_id);
  const auto dir = directory_->snapshot();

  // A consent carried by the message: checked now, recorded in the write.
  if (message.has_consent_change()) {
    const v1::Consent& c = message.consent_change().consent();
    constexpr char kField[] = "message.consent_change.consent";
    if (absl::Status s = consent::CheckConsentInput(consent_ops_, c, kField); !s.ok()) {
      return refuse(s);
    }
    auto named = registry::ResolveClient(*store_, c.client());
    if (!named.ok()) return done(named.status());
    if (*named != *client_id) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          kField, ".client: names another client than message.header.client ('",
          IdentifierText(c.client()), "')")));
    }
  }
  // Break-glass by the source.
  const bool break_glass = header.purpose_of_use() == "ETREAT";
  std::vector<uint64_t> release;
  if (break_glass) {
    std::vector<v1::Organisation::Role> roles;
    if (const v1::Organisation* org = dir->Find(caller.organisation_id)) {
      for (int r : org->roles()) roles.push_back(static_cast<v1::Organisation::Role>(r));
    }
    if (!decider_->policy().MayBreakGlass(caller.organisation_id, roles)) {
      record.set_action(v1::AuditRecord::BREAK_GLASS);
      return refuse(absl::PermissionDeniedError(absl::StrCat(
          "message.header.purpose_of_use: the sharing policy does not allow '",
          caller.organisation_id, "' to use emergency access (ETREAT, break-glass)")));
    }
    auto candidates = consent::ReleaseCandidates(*store_, caller.organisation_id, **client_id);
    if (!candidates.ok()) return done(candidates.status());
    release = *std::move(candidates);
  }

  auto loaded = decider_->Load(**client_id);
  if (!loaded.ok()) return done(loaded.status());
  const std::shared_ptr<const consent::ClientState> state = *std::move(loaded);
  const v1::CareTeam* team = &state->care_team;
  auto recipients = policy::SelectRecipients(policy::RoutingInput{
      .header = header,
      .care_team = *team,
      .event_subscribers = dir->SubscribersOf(header.event()),
      .find_organisation = [&dir](absl::string_view id) { return dir->Find(id); },
      .now = now,
  });
  if (!recipients.ok()) return refuse(recipients.status());
  // A consent can reveal what kind of sensitive information exists ("deny HIV
  // to housing"): a ConsentChange goes to the client's coordinators only.
  if (message.has_consent_change()) {
    const std::vector<std::string> coordinators = consent::Coordinators(*team, *dir, now);
    std::erase_if(*recipients, [&](const std::string& r) {
      return std::find(coordinators.begin(), coordinators.end(), r) == coordinators.end();
    });
  }
  // The consent decision for each recipient: a denied one is withheld.
  std::vector<std::string> routed;
  std::vector<std::pair<std::string, std::string>> withheld;  // recipient, reason
  for (const std::string& r : *recipients) {
    auto decision = decider_->Decide(*state, r, message, now);
    if (!decision.ok()) return done(decision.status());
    if (decision->effect() == v1::AccessDecision::DENY) {
      withheld.emplace_back(r, decision->reason());
    } else {
      routed.push_back(r);
    }
  }

  auto receipt = std::make_shared<v1::Receipt>();
  auto accepted = std::make_shared<const v1::Message>(std::move(message));
  committer_->Submit(
      [this, record, receipt, accepted, dedup_key, hash, client_id = **client_id, new_client,
       prefix = StoredMessagePrefix(message_bytes, hash, **client_id),
       recipients = std::move(routed), withheld = std::move(withheld), break_glass,
       release = std::move(release), caller](store::Transaction& txn) mutable -> absl::Status {
        const v1::MessageHeader& header = accepted->header();
        // Again, atomically: a concurrent identical publish may have won the race.
        auto seq = txn.Get(Cf::kDedup, dedup_key);
        if (!seq.ok()) return seq.status();
        if (seq->has_value()) {
          v1::StoredMessage earlier_msg;
          auto found = txn.GetProto(Cf::kMessages, **seq, &earlier_msg);
          if (!found.ok()) return found.status();
          Earlier earlier = Compare(earlier_msg, hash, header.id());
          if (!earlier.result.ok()) {
            txn.AuditOnRefusal(identity::Refusal(record, earlier.result.status()));
            return earlier.result.status();
          }
          *receipt = *earlier.result;
          return absl::OkStatus();
        }
        if (new_client) SB_RETURN_IF_ERROR(CreateClient(txn, caller, client_id, header.client()));
        const uint64_t message_seq = txn.NextSeq();
        const std::string gateway_id = store::GatewayMessageId(message_seq);
        receipt->set_message_id(header.id());
        receipt->set_source(header.source());
        receipt->set_gateway_message_id(gateway_id);
        *receipt->mutable_accepted_at() = ToProtoTime(txn.now());
        v1::StoredDelivery delivery;
        v1::Delivery* d = delivery.mutable_delivery();
        d->set_state(v1::Delivery::PENDING);
        d->set_message_id(header.id());
        d->set_source(header.source());
        d->set_gateway_message_id(gateway_id);
        d->set_event(header.event());
        *d->mutable_created_at() = receipt->accepted_at();
        delivery.set_message_seq(message_seq);
        delivery.set_client_id(client_id);
        for (const std::string& recipient : recipients) {
          const uint64_t delivery_seq = txn.NextSeq();
          auto* r = receipt->add_recipients();
          r->set_organisation_id(recipient);
          r->set_delivery_id(store::DeliveryId(delivery_seq));
          d->set_id(r->delivery_id());
          d->set_recipient(recipient);
          txn.PutProto(Cf::kOutbox, keys::RecipientSeq(recipient, delivery_seq), delivery);
        }
        std::vector<std::string> withheld_ids;
        for (const auto& [recipient, reason] : withheld) {
          const uint64_t delivery_seq = txn.NextSeq();
          d->set_id(store::DeliveryId(delivery_seq));
          d->set_recipient(recipient);
          d->set_state(v1::Delivery::WITHHELD);
          delivery.set_decision(reason);
          txn.PutProto(Cf::kDeliveries, keys::RecipientSeq(recipient, delivery_seq), delivery);
          txn.Put(Cf::kConsents, keys::Withheld(recipient, client_id, delivery_seq), "");
          txn.Audit(consent::WithholdRecord(delivery, kOperation));
          withheld_ids.push_back(recipient);
        }
        v1::StoredMessage receipt_part;
        *receipt_part.mutable_receipt() = *receipt;
        txn.Put(Cf::kMessages, keys::Sequence(message_seq),
                prefix + receipt_part.SerializeAsString());
        txn.Put(Cf::kDedup, dedup_key, keys::Sequence(message_seq));
        if (accepted->has_consent_change()) {
          v1::Consent stored_consent;
          SB_RETURN_IF_ERROR(consent::RecordConsent(
              txn, consent_ops_, caller, kOperation, "message.consent_change.consent", client_id,
              accepted->consent_change().consent(), &stored_consent));
        }
        record.set_gateway_message_id(gateway_id);
        record.set_detail(absl::StrCat("event=", header.event(), " routed to [",
                                       absl::StrJoin(recipients, ","), "]",
                                       withheld_ids.empty()
                                           ? ""
                                           : absl::StrCat(" withheld from [",
                                                          absl::StrJoin(withheld_ids, ","), "]")));
        txn.Audit(record);
        if (break_glass) {
          v1::BreakGlassGrant grant;
          SB_RETURN_IF_ERROR(consent::GrantBreakGlass(txn, consent_ops_, caller, kOperation,
                                                      client_id, header.break_glass_reason(),
                                                      release, gateway_id, &grant));
        }
        if (!recipients.empty()) {
          txn.OnCommit([this, message_seq, accepted, recipients] {
            on_accepted_(message_seq, accepted, recipients);
          });
        }
        return absl::OkStatus();
      },
      [receipt, done](const absl::Status& status) {
        if (!status.ok()) return done(status);
        done(*receipt);
      });
}

}  // namespace switchboard::gateway::exchange
