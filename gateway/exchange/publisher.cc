#include "gateway/exchange/publisher.h"

#include <algorithm>
#include <memory>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/careplan/timeline.h"
#include "gateway/common/deterministic.h"
#include "gateway/common/sha256.h"
#include "gateway/exchange/message_validator.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/registry_ops.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "policy/client_linking.h"
#include "policy/routing_policy.h"
#include "gateway/registry/identity_ops.h"
#include "switchboard/common/field_checks.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::exchange {
namespace {

using store::Cf;
namespace keys = store::keys;

constexpr char kOperation[] = "Exchange/Publish";

// The message's identifiers (header.client first) as the registry knows them.
absl::StatusOr<std::vector<policy::IdentifierLookup>> LookUpIdentifiers(
    const store::Store& store, const v1::MessageHeader& header, const std::string& sender,
    const Publisher::IdentifierAuthorities& authorities,
    const absl::flat_hash_set<std::string>& strong) {
  std::vector<policy::IdentifierLookup> out;
  auto add = [&](const v1::ClientIdentifier& id) -> absl::Status {
    policy::IdentifierLookup lookup;
    lookup.identifier = id;
    SB_ASSIGN_OR_RETURN(auto owner, registry::ResolveClient(store, id));
    if (owner.has_value()) lookup.client_id = *owner;
    lookup.strong = strong.contains(id.system());
    auto authority = authorities.find(id.system());
    lookup.issued_by_sender =
        authority != authorities.end() && authority->second.contains(sender);
    out.push_back(std::move(lookup));
    return absl::OkStatus();
  };
  SB_RETURN_IF_ERROR(add(header.client()));
  for (const v1::ClientIdentifier& id : header.other_client_identifiers()) {
    SB_RETURN_IF_ERROR(add(id));
  }
  return out;
}

// The refusal of a message whose identifiers name several clients. Names only
// what the sender sent: another client's enterprise id or identifiers must not
// reach a member that may not be in that client's care team.
absl::Status ConflictError(const std::vector<policy::IdentifierLookup>& ids, size_t clients,
                           const std::string& review_id) {
  std::vector<std::string> known;
  for (const policy::IdentifierLookup& id : ids) {
    if (!id.client_id.empty()) known.push_back(absl::StrCat("'", IdentifierText(id.identifier), "'"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "message.header: the client identifiers ", absl::StrJoin(known, ", "), " belong to ",
      clients, " different clients; the message is refused (not stored) and listed for review as ",
      review_id, ": an admin or coordinator links or unlinks the identifiers, then publish again"));
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
                     v1::Limits limits, OnAccepted on_accepted, IdentifierAuthorities authorities,
                     absl::flat_hash_set<std::string> strong_systems,
                     std::function<void()> on_identifiers_changed, Coordination coordination)
    : store_(store),
      committer_(committer),
      directory_(directory),
      events_(events),
      decider_(decider),
      consent_ops_(std::move(consent_ops)),
      limits_(std::move(limits)),
      on_accepted_(std::move(on_accepted)),
      authorities_(std::move(authorities)),
      strong_systems_(std::move(strong_systems)),
      on_identifiers_changed_(std::move(on_identifiers_changed)),
      coordination_(std::move(coordination)) {}

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
  auto lookups = LookUpIdentifiers(*store_, header, caller.organisation_id, authorities_,
                                   strong_systems_);
  if (!lookups.ok()) return done(lookups.status());
  const policy::ClientLinkDecision link = policy::DecideClientLink(*lookups);
  std::optional<std::string> client_id;
  bool new_client = false;
  switch (link.kind) {
    case policy::ClientLinkDecision::Kind::kConflict: {
      // Recorded for a person to resolve, in a write of its own: the message
      // itself is not stored.
      auto answer = std::make_shared<absl::Status>();
      committer_->Submit(
          [record, caller, header = header, lookups = *std::move(lookups),
           clients = link.conflicting_clients.size(), answer](store::Transaction& txn) mutable -> absl::Status {
            SB_ASSIGN_OR_RETURN(std::string review_id,
                                registry::OpenClientReview(txn, caller, kOperation, header, lookups));
            *answer = ConflictError(lookups, clients, review_id);
            txn.Audit(identity::Refusal(std::move(record), *answer));
            return absl::OkStatus();
          },
          [answer, done](const absl::Status& status) { done(status.ok() ? *answer : status); });
      return;
    }
    case policy::ClientLinkDecision::Kind::kUnknownClient:
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          "message.header.client: no client with identifier '", IdentifierText(header.client()),
          "' (only a member authoritative for its system may introduce a new client)")));
    case policy::ClientLinkDecision::Kind::kKnownClient:
      client_id = link.client_id;
      break;
    case policy::ClientLinkDecision::Kind::kNewClient: {
      // A client nobody knows yet is created by a sender authoritative for one
      // of the identifiers' systems (a hospital for its own MRNs).
      absl::BitGen bitgen;
      client_id =
          absl::StrCat("client-", absl::Hex(absl::Uniform<uint64_t>(bitgen), absl::kZeroPad16));
      new_client = true;
      break;
    }
  }
  record.set_client_id(*client_id);
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
    auto candidates = consent::ReleaseCandidates(*store_, caller.organisation_id, *client_id);
    if (!candidates.ok()) return done(candidates.status());
    release = *std::move(candidates);
  }

  auto loaded = decider_->Load(*client_id);
  if (!loaded.ok()) return done(loaded.status());
  const std::shared_ptr<const consent::ClientState> state = *std::move(loaded);
  const v1::CareTeam* team = &state->care_team;
  if (message.has_care_plan_change() &&
      !policy::IsCareTeamMember(*team, caller.organisation_id, now)) {
    return refuse(absl::PermissionDeniedError(absl::StrCat(
        "message.care_plan_change: '", caller.organisation_id,
        "' is not in the client's care team; only care-team members change the care plan")));
  }
  absl::StatusOr<std::vector<std::string>> recipients;
  if (message.has_referral()) {
    // A referral goes to the other party (in the care team or not) and the
    // client's coordinators.
    recipients = careplan::ReferralRecipients(*store_, *client_id, message,
                                              consent::Coordinators(*team, *dir, now),
                                              dir->SubscribersOf(header.event()), *dir);
  } else {
    recipients = policy::SelectRecipients(policy::RoutingInput{
        .header = header,
        .care_team = *team,
        .event_subscribers = dir->SubscribersOf(header.event()),
        .find_organisation = [&dir](absl::string_view id) { return dir->Find(id); },
        .now = now,
    });
  }
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
      if (message.has_referral() && message.referral().status() == v1::Referral::REQUESTED &&
          r == message.referral().target()) {
        return refuse(absl::FailedPreconditionError(absl::StrCat(
            "message.referral.target: the client's consent (or the sharing policy) does not allow '",
            r, "' to receive this referral (nothing was sent); record a consent that does, then "
            "refer again")));
      }
      withheld.emplace_back(r, decision->reason());
    } else {
      routed.push_back(r);
    }
  }

  auto receipt = std::make_shared<v1::Receipt>();
  auto accepted = std::make_shared<const v1::Message>(std::move(message));
  committer_->Submit(
      [this, record, receipt, accepted, dedup_key, hash, client_id = *client_id, new_client,
       links = link.link, prefix = StoredMessagePrefix(message_bytes, hash, *client_id),
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
        SB_RETURN_IF_ERROR(registry::AddIdentifiers(
            txn, caller, kOperation, client_id, new_client, links,
            absl::StrCat("named by message '", header.id(), "' of ", header.source(),
                         " (a strong identifier system, or one the sender issues)"),
            on_identifiers_changed_));
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
        // Care coordination, in the same write: refused as a whole if its
        // check fails (the refusal alone is audited).
        auto refused = [&](absl::Status status) {
          txn.AuditOnRefusal(identity::Refusal(record, status));
          return status;
        };
        if (accepted->has_care_plan_change()) {
          auto version = careplan::ApplyPlanChange(txn, coordination_.scales, client_id, *accepted,
                                                   message_seq, gateway_id);
          if (!version.ok()) return refused(version.status());
        }
        if (accepted->has_referral()) {
          absl::Status s = careplan::ApplyReferral(txn, coordination_.referrals, caller, client_id,
                                                   *accepted, gateway_id, *directory_->snapshot());
          if (!s.ok()) return refused(s);
        }
        // A consent change is on the timeline by RecordConsent.
        if (!accepted->has_consent_change()) {
          careplan::AppendTimeline(txn, client_id, careplan::MessageEntry(*accepted, message_seq));
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
