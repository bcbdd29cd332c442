// sbctl's commands for the shared care plan, the client's timeline and
// referrals, on the CarePlans service (careplans.proto) and Exchange.Publish:
//
//   plan show CLIENT [--as_of TIME]          CarePlans.GetCarePlan (TIME: RFC 3339)
//   plan history CLIENT                      CarePlans.History
//   plan timeline CLIENT [--page_size N] [--page_token T] [--from ORG...] [--domain D...]
//                                            CarePlans.GetTimeline
//   plan update CLIENT FILE                  CarePlans.Update (FILE: JSON of
//                                            switchboard.v1.UpdateCarePlanRequest;
//                                            CLIENT replaces its client)
//   plan progress CLIENT ITEM_ID [--rating N] [--scale S] [--note TEXT] [--plan_version N]
//   plan status CLIENT ITEM_ID STATUS [--note TEXT] [--plan_version N]
//                                            GetCarePlan, then Update of that one item
//   referral list CLIENT                     CarePlans.ListReferrals
//   referral update CLIENT REFERRAL_ID STATUS [--reason TEXT] [--note TEXT]
//                                            ListReferrals, then Exchange.Publish of a
//                                            `referral` message from --as
//
// CLIENT is `SYSTEM|VALUE`, or a bare enterprise id such as `client-0004`
// (sent as `urn:switchboard:client|client-0004`, which the gateway resolves).
// Commands return sbctl's exit code (common.h): 2 for a wrong command line or
// input file (nothing sent), 1 when the gateway refuses (`sbctl: CODE:
// message`) or the item or referral named is not there, 0 otherwise.
//
// The Format* and Parse* functions below are pure (no flags, no I/O; plan_format.cc,
// in the sb::cli_format library) so that tests call them on hand-built protos.
// Times are printed in UTC. Thread-safe.
#ifndef SWITCHBOARD_TOOLS_CLI_PLAN_COMMANDS_H_
#define SWITCHBOARD_TOOLS_CLI_PLAN_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "switchboard/v1/careplans.pb.h"
#include "switchboard/v1/payloads.pb.h"

namespace switchboard::tools::sbctl {

// `sbctl plan ARGS`: show, history, timeline, update, progress or status.
int Plan(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

// `sbctl referral ARGS`: list or update.
int Referral(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args);

// ---- Formatting (pure) -------------------------------------------------------

// The plan for a person at a terminal: the client and version line (or "no
// care plan yet"), then one table of the items grouped by domain (domains
// sorted, items in the plan's order within one), each item followed by its
// progress entries, oldest first. Items withheld from the caller come last,
// under "withheld", as a row that says nothing of them (whatever the view
// holds for them). `as_of` (when the plan was asked for as it was then) is
// named in the header.
std::string FormatCarePlan(const v1::CarePlanView& view,
                           std::optional<absl::Time> as_of = std::nullopt);

// Every version, newest first: who changed what and when, with each changed
// item's newest progress entry.
std::string FormatPlanHistory(const v1::CarePlanHistoryResponse& history);

// The timeline grouped by day (newest first, as the gateway sends it), each
// entry with its time, author, kind tag, title and details; then, when there
// is more, the command that shows the next page: `client_arg` (as the user
// wrote it) and `repeat_flags` (e.g. `--from=st-marys`, which a page token
// does not carry) are quoted for a POSIX shell when they need it.
std::string FormatTimeline(const v1::GetTimelineResponse& timeline, const std::string& client_arg,
                           const std::vector<std::string>& repeat_flags = {});

// The referrals as a table, each followed by its steps, oldest first.
std::string FormatReferrals(const v1::ListReferralsResponse& referrals);

// The answer to an Update: `version N (message MSG_ID, gateway id GW)`.
std::string FormatUpdateResponse(const v1::UpdateCarePlanResponse& response);

// The attainment ratings of `progress` as a trend, oldest first, e.g.
// `-1 → 0 → +1` (GAS ratings signed) or `3 → 5 (outcome-star)`; a change of
// scale starts a new run after `; `. Empty when no entry has a rating.
std::string ProgressTrend(const google::protobuf::RepeatedPtrField<v1::ProgressEntry>& progress);

// A status as people write it: lower case with hyphens (`on-hold`), "-" for
// STATUS_UNSPECIFIED.
std::string ItemStatusText(v1::CarePlanItem::Status status);
std::string ReferralStatusText(v1::Referral::Status status);

// ---- Parsing command-line words (pure) ---------------------------------------

// `on-hold`, `ON_HOLD`, `On-Hold`... as a CarePlanItem status. INVALID_ARGUMENT
// naming the allowed ones otherwise (STATUS_UNSPECIFIED is not allowed).
absl::StatusOr<v1::CarePlanItem::Status> ParseItemStatus(absl::string_view text);

// A referral status as a FHIR Task code or our enum name: `received`,
// `accepted`, `rejected` (or `declined`), `in-progress`, `on-hold`,
// `completed`, `cancelled`, `failed`. INVALID_ARGUMENT naming the allowed ones
// otherwise (`requested` is how a referral starts: publish it instead).
absl::StatusOr<v1::Referral::Status> ParseReferralStatus(absl::string_view text);

}  // namespace switchboard::tools::sbctl

#endif  // SWITCHBOARD_TOOLS_CLI_PLAN_COMMANDS_H_
