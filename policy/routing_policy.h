// Who receives a message: the routing rules of the federation, as a pure function.
//
// A message goes to its explicit destinations when it names any (each must be an
// active member involved with the client: in its care team now, or subscribed to
// the event), otherwise to the client's current care team plus the subscribers of
// its event. Never to the source, never to a suspended member. The consent policy
// (consent_policy.h) then decides what each recipient may see.
//
// Pure: no I/O, no clocks (the caller passes `now`). Thread-safe.
#ifndef SWITCHBOARD_POLICY_ROUTING_POLICY_H_
#define SWITCHBOARD_POLICY_ROUTING_POLICY_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/message.pb.h"
#include "switchboard/v1/organisation.pb.h"

namespace switchboard::policy {

// Looks an organisation up by id; nullptr when there is none.
using OrganisationLookup =
    absl::FunctionRef<const v1::Organisation*(absl::string_view id)>;

struct RoutingInput {
  // The validated header (source, event, destinations are read).
  const v1::MessageHeader& header;
  // The client's care team; empty members when it has none.
  const v1::CareTeam& care_team;
  // Organisations subscribed to header.event, in any order.
  const std::vector<std::string>& event_subscribers;
  OrganisationLookup find_organisation;
  absl::Time now;
};

// Returns the recipients, sorted and without duplicates (possibly empty).
// Errors (each names the destination by index and quotes it):
//   INVALID_ARGUMENT     a destination is empty, listed twice, the source itself,
//                        or not a member;
//   FAILED_PRECONDITION  a destination is suspended;
//   PERMISSION_DENIED    a destination is neither in the client's care team now
//                        nor subscribed to the event.
absl::StatusOr<std::vector<std::string>> SelectRecipients(const RoutingInput& in);

// True when `organisation_id` is a member of `care_team` at `now`.
bool IsCareTeamMember(const v1::CareTeam& care_team, absl::string_view organisation_id,
                      absl::Time now);

}  // namespace switchboard::policy

#endif  // SWITCHBOARD_POLICY_ROUTING_POLICY_H_
