// A client's timeline: one narrative of everything that happened to the client
// across members (messages, plan changes, referral steps, consent and care-team
// changes, escalations), written in the transaction of the change itself and
// read newest first, filtered for the reader.
//
// What a reader sees of an entry is decided when it is read, with the
// consents of that moment:
//   - a message (any payload): its source sees all of it; otherwise referral
//     steps only the referral's parties and the client's coordinators, consent
//     changes only the coordinators, everything else any care-team member;
//     then the consent decides, as for a delivery (denied: withheld; elements
//     denied: removed, the entry marked partly redacted);
//   - a consent change not carried by a message: its recorder and the
//     coordinators;
//   - a care-team change: every care-team member;
//   - an escalation: the referral's parties and the coordinators, as the
//     referral's message is decided.
// A withheld entry keeps only its position, time recorded and the fact that
// something was withheld.
//
// Thread-safe (functions over the store; appends run in the caller's
// transaction).
#ifndef SWITCHBOARD_GATEWAY_CAREPLAN_TIMELINE_H_
#define SWITCHBOARD_GATEWAY_CAREPLAN_TIMELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/consent/access.h"
#include "gateway/store/committer.h"
#include "gateway/store/store.h"
#include "switchboard/v1/careplans.pb.h"
#include "switchboard/v1/storage.pb.h"

namespace switchboard::gateway::careplan {

// Appends `entry` to the client's timeline in `txn` (recorded_at set to the
// transaction's time when unset), placed by occurred_at (recorded_at when
// unset): the timeline reads in the order things happened, so a message that
// arrives late takes its place in the story. Returns its sequence.
uint64_t AppendTimeline(store::Transaction& txn, const std::string& client_id,
                        v1::StoredTimelineEntry entry);

// A message entry: kind from the payload, time, source and author from the
// header.
v1::StoredTimelineEntry MessageEntry(const v1::Message& message, uint64_t message_seq);

// One line for people about a message as a reader may see it (already
// redacted), and its detail lines. Exposed for tests.
void DescribeMessage(const v1::Message& message, v1::TimelineEntry* out);

struct TimelineQuery {
  std::string client_id;
  // The reader (a care-team member: the caller checked).
  std::string reader;
  // 1..500.
  int page_size = 50;
  // Entries before this position (a `next` of an earlier page; empty: from
  // the newest).
  std::string before;
  std::vector<std::string> organisations;
  std::vector<std::string> domains;
};

struct TimelinePage {
  std::vector<v1::TimelineEntry> entries;
  // The position to continue from (opaque); empty when there is nothing older.
  std::string next;
  // Entries returned withheld and partly withheld (for the audit record).
  int withheld = 0;
  int partly_withheld = 0;
};

// A page position as a page token (hex) and back; nullopt for a token that is
// not one.
std::string PageToken(const std::string& position);
std::optional<std::string> ParsePageToken(const std::string& token);

// The reader's page of the client's timeline, newest first.
absl::StatusOr<TimelinePage> ReadTimeline(const store::Store& store,
                                          const consent::AccessDecider& decider,
                                          const consent::ClientState& state,
                                          const registry::Directory::Snapshot& dir,
                                          const TimelineQuery& query, absl::Time now);

}  // namespace switchboard::gateway::careplan

#endif  // SWITCHBOARD_GATEWAY_CAREPLAN_TIMELINE_H_
