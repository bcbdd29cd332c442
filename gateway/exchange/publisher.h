// Exchange.Publish's logic, without gRPC: check, deduplicate, validate, resolve the
// client, route, then store message + dedup key + one queued delivery per
// recipient + audit record in one synced write, and only then hand back the
// receipt. Every refusal is audited before it is returned.
//
// Thread-safe; Publish never blocks on disk syncs (the Committer does them).
#ifndef SWITCHBOARD_GATEWAY_EXCHANGE_PUBLISHER_H_
#define SWITCHBOARD_GATEWAY_EXCHANGE_PUBLISHER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "gateway/careplan/plan_ops.h"
#include "gateway/careplan/referral_ops.h"
#include "gateway/config/event_catalogue.h"
#include "gateway/consent/access.h"
#include "gateway/consent/consent_ops.h"
#include "gateway/identity/authenticator.h"
#include "gateway/registry/directory.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "switchboard/v1/config.pb.h"
#include "switchboard/v1/delivery.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::gateway::exchange {

// What care-plan changes and referrals carried by messages need.
struct Coordination {
  careplan::Scales scales = {{"gas", {-2, 2}}};
  careplan::ReferralContext referrals;
};

class Publisher {
 public:
  using Done = std::function<void(absl::StatusOr<v1::Receipt>)>;
  // Told, on commit (in commit order, on the committer's completion thread, once
  // durable: must not block),
  // which message was accepted and which recipients have new deliveries.
  using OnAccepted =
      std::function<void(uint64_t message_seq, const std::shared_ptr<const v1::Message>& message,
                         const std::vector<std::string>& recipients)>;

  // Identifier system -> the members authoritative for it
  // (GatewayConfig.identifier_authorities).
  using IdentifierAuthorities = absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>>;

  Publisher(const store::Store* store, store::Committer* committer,
            const registry::Directory* directory, const config::EventCatalogue* events,
            const consent::AccessDecider* decider, consent::ConsentOpsContext consent_ops,
            v1::Limits limits, OnAccepted on_accepted, IdentifierAuthorities authorities = {},
            absl::flat_hash_set<std::string> strong_systems = {},
            std::function<void()> on_identifiers_changed = nullptr,
            Coordination coordination = {});

  // The config's identifier authorities as a map. INVALID_ARGUMENT naming
  // `identifier_authorities[i]` for an empty system or member list, or a system
  // listed twice.
  static absl::StatusOr<IdentifierAuthorities> MakeAuthorities(
      const google::protobuf::RepeatedPtrField<v1::IdentifierAuthority>& config);

  // Calls `done` exactly once (from some thread) with the receipt, or:
  //   INVALID_ARGUMENT    bad input, naming the field (size, header, payload,
  //                       unknown client, bad destination);
  //   ABORTED             the message would link an identifier that another
  //                       message linked meanwhile: publish again;
  //   FAILED_PRECONDITION the identifiers name more than one client (listed
  //                       for review), or
  //   PERMISSION_DENIED   header.source is not the caller, or a destination is
  //                       not involved with the client;
  //                       a destination is suspended;
  //   ALREADY_EXISTS      header.id was published before with other content.
  // A recipient the consent or the sharing policy denies the whole message gets
  // a WITHHELD delivery (audited with the reason; not in the receipt). A
  // ConsentChange payload is recorded as by Consents.Record (same checks and
  // rights, in the same write). Purpose ETREAT is a break-glass by the source:
  // PERMISSION_DENIED (audited) without the right, else granted as by
  // Consents.BreakGlass in the same write.
  // The client is named by header.client and other_client_identifiers
  // (policy/client_linking.h decides; docs/coordination.md "Identity across
  // members"):
  //   - identifiers of two or more clients: FAILED_PRECONDITION naming only
  //     the identifiers the message carried; the message is not stored, a
  //     ClientReview is recorded and audited in a write of its own;
  //   - one client: its unknown identifiers of a strong system or of a system
  //     the caller is authoritative for are linked to it (audited
  //     REGISTRY_CHANGE, in the message's write); other unknown ones are left
  //     unlinked;
  //   - no client, and the caller is authoritative for one identifier's
  //     system: a new client (enterprise id) with those identifiers;
  //   - no client otherwise: INVALID_ARGUMENT.
  // `on_identifiers_changed` runs on commit whenever identifiers were added.
  // Care coordination (docs/coordination.md): a CarePlanChange is applied as
  // the plan's next version in the message's write (careplan/plan_ops.h:
  // ABORTED for a stale expected_version, PERMISSION_DENIED for another
  // member's item or a sender outside the care team); a Referral is a step of
  // a referral (careplan/referral_ops.h), routed to the other party and the
  // coordinators, and a new one is refused (FAILED_PRECONDITION) when the
  // consent withholds it from its target. Every accepted message is on the
  // client's timeline.
  // A re-publish of identical content returns the original receipt and stores
  // nothing (not even an audit record: nothing happened).
  void Publish(const identity::Caller& caller, v1::Message message, Done done) const;

 private:
  // Constant after construction.
  const store::Store* const store_;
  store::Committer* const committer_;
  const registry::Directory* const directory_;
  const config::EventCatalogue* const events_;
  const consent::AccessDecider* const decider_;
  const consent::ConsentOpsContext consent_ops_;
  const v1::Limits limits_;
  const OnAccepted on_accepted_;
  const IdentifierAuthorities authorities_;
  const absl::flat_hash_set<std::string> strong_systems_;
  const std::function<void()> on_identifiers_changed_;
  const Coordination coordination_;
};

}  // namespace switchboard::gateway::exchange

#endif  // SWITCHBOARD_GATEWAY_EXCHANGE_PUBLISHER_H_
