// The web view's pages as pure functions: a plain view model in, a whole HTML
// document out. The route code (sessions, CSRF, reads through CareReader) fills the
// models; nothing here reads the store, the clock or a request.
//
// The pages are server-rendered HTML5 readable without JavaScript (app.js only
// prevents double submits), keyboard navigable (skip link, visible focus, forms
// with labels) and safe under a Content-Security-Policy without inline script or
// style: every value from the gateway or a member is HTML-escaped by the template
// engine (template.h); the only raw HTML is the attainment chart the code draws.
// Templates and static files: gateway/web/templates, gateway/web/static (embedded:
// embedded_assets.h).
//
// Withheld content: a redacted plan item or timeline entry is shown as "Something
// was withheld under the client's consent." and nothing of its fields is read, even
// if (by a bug elsewhere) some were filled in.
//
// The URLs the pages link and post to (the routes must serve these; {client},
// {item} and {referral} are percent-encoded ids, see the *Path functions below):
//   GET  /sign-in             POST /sign-in   csrf, organisation, user, password, next
//   POST /sign-out                            csrf
//   GET  /password            POST /password  csrf, current_password, new_password,
//                                             confirm_password
//   GET  /clients?q=TEXT                      the search
//   GET  /clients/{client}?org=ID&domain=CODE&page=TOKEN   the client page (#timeline)
//   POST /clients/{client}/items/{item}/progress   csrf, version, scale, rating, note
//        (rating: "" for none, else a decimal integer of the scale, e.g. "-2")
//   POST /clients/{client}/items/{item}/status     csrf, version, status
//        (status: "on-hold" or "reopened")
//   POST /clients/{client}/referrals/{referral}/accept       csrf, version
//   POST /clients/{client}/referrals/{referral}/decline      csrf, version, reason
//   POST /clients/{client}/referrals/{referral}/acknowledge  csrf, version
//   GET  /static/app.css, /static/app.js
// `version` in item forms is the plan version the page showed (for
// UpdateCarePlanRequest.expected_version: a mismatch is the "changed since you
// opened the page" case, kItemChangedMessage). In referral forms it is the number of
// steps the page showed of that referral (ReferralState.steps_size()), so that the
// route can tell a referral that moved on since from one it may answer.
//
// Errors: every Render* returns INTERNAL only when an embedded template is broken or
// does not fit the code (a build defect, caught by pages_test); never for data.
//
// Thread-safety: all functions may be called from any thread at once (the templates
// are parsed once, on first use, under C++'s static initialisation guarantee).
#ifndef SWITCHBOARD_GATEWAY_WEB_PAGES_H_
#define SWITCHBOARD_GATEWAY_WEB_PAGES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "switchboard/v1/careplans.pb.h"
#include "switchboard/v1/client.pb.h"
#include "switchboard/v1/common.pb.h"
#include "switchboard/v1/config.pb.h"

namespace switchboard::gateway::web {

inline constexpr char kItemChangedMessage[] =
    "This goal changed since you opened the page \u2014 reload to see the latest version.";
inline constexpr char kReferralChangedMessage[] =
    "This referral changed since you opened the page \u2014 reload to see where it stands.";
// For a failed sign-in, whatever failed (no user enumeration).
inline constexpr char kSignInFailedMessage[] =
    "The organisation, user name or password is not right.";

// The person signed in, shown in every page's header with a sign-out form.
struct Viewer {
  // As the person's account names them, e.g. "J. Rivera".
  std::string person_name;
  // The organisation the person acts for: its id (decides which goals and referrals
  // get forms) and display name.
  std::string organisation_id;
  std::string organisation_name;
  // The session's CSRF token: the hidden `csrf` field of every POST form.
  std::string csrf_token;
};

// A message at the top of a page, e.g. kItemChangedMessage.
struct Flash {
  enum class Kind { kNone, kInfo, kSuccess, kWarning, kError };
  Kind kind = Kind::kNone;
  std::string text;
};

struct SignInPage {
  // Refilled after a failed attempt (never the password).
  std::string organisation;
  std::string user_name;
  // Shown as an alert when set, e.g. kSignInFailedMessage.
  std::string error;
  // The pre-session CSRF token (login CSRF): hidden `csrf`.
  std::string csrf_token;
  // Where to go after signing in (hidden `next`); the route must accept only a
  // local path. Empty: none.
  std::string next;
  Flash flash;  // e.g. "You were signed out after 30 minutes without activity."
};

struct ChangePasswordPage {
  Viewer viewer;
  // True after a sign-in with a one-time password: says why the page is shown.
  bool required = false;
  int min_length = 12;
  // Shown as an alert when set, e.g. "The two new passwords differ."
  std::string error;
  Flash flash;
};

struct ClientSearchResult {
  // Enterprise id: the link goes to ClientPath(client_id).
  std::string client_id;
  // When the gateway knows one; may be empty.
  std::string name;
  // The identifiers to show (the route chooses: e.g. those of the reader's systems).
  std::vector<v1::ClientIdentifier> identifiers;
};

struct ClientsPage {
  Viewer viewer;
  // The search as typed ("" before a search).
  std::string query;
  // True when `results` answer `query`; false when they list the reader's clients
  // without a search (or nothing yet).
  bool searched = false;
  std::vector<ClientSearchResult> results;
  Flash flash;
};

// What the timeline shows: the filters of the GET form and the page.
struct TimelineFilter {
  // Organisation id, "" for all.
  std::string organisation;
  // Domain code, "" for all.
  std::string domain;
  // The page token this page was read with ("" for the newest).
  std::string page_token;
};

struct ClientPage {
  Viewer viewer;
  // Enterprise id (links and forms), and the name when the gateway knows one.
  std::string client_id;
  std::string client_name;
  // The identifiers to show under the heading.
  std::vector<v1::ClientIdentifier> identifiers;
  v1::CareTeam care_team;
  // Display names by organisation id (an id without one is shown as the id).
  absl::flat_hash_map<std::string, std::string> organisation_names;
  // CareReader::Plan for the reader. Items the reader's organisation owns
  // (item.owner == viewer.organisation_id) get the progress and status forms.
  v1::CarePlanView plan;
  // One page of CareReader::Timeline for the reader (newest first, as read), with
  // the filters and token it was read with; "Older" links to next_page_token.
  v1::GetTimelineResponse timeline;
  TimelineFilter timeline_filter;
  // ListReferrals for the reader. Referrals whose target is the reader's
  // organisation and whose status is REQUESTED or RECEIVED get Accept and Decline.
  v1::ListReferralsResponse referrals;
  // Escalated referrals are listed as notices unless their id is in
  // `acknowledged_escalations`; with `can_acknowledge_escalations` (a coordinator
  // of the client) each gets an Acknowledge form.
  bool can_acknowledge_escalations = false;
  std::vector<std::string> acknowledged_escalations;
  // policy::SummariseConsent for the care team.
  std::vector<std::string> consent_summary;
  // GatewayConfig.attainment_scales by name (`gas`, −2..+2, is built in).
  std::map<std::string, v1::AttainmentScale> attainment_scales;
  Flash flash;
};

// 403, 404 or 500 (any other status reads as 500).
struct ErrorPage {
  int status = 500;
  // A plain message; empty: the standard one for the status.
  std::string message;
  // Set when a person is signed in (the header shows them).
  const Viewer* viewer = nullptr;
};

absl::StatusOr<std::string> RenderSignIn(const SignInPage& page);
absl::StatusOr<std::string> RenderChangePassword(const ChangePasswordPage& page);
absl::StatusOr<std::string> RenderClients(const ClientsPage& page);
absl::StatusOr<std::string> RenderClientPage(const ClientPage& page);
absl::StatusOr<std::string> RenderError(const ErrorPage& page);

// Parses every embedded template (done once, on first use, by the Render*
// functions too). Call at start to fail early: INTERNAL naming the template and
// line when one is broken.
absl::Status LoadPageTemplates();

// Paths of the pages and forms above, ids percent-encoded.
std::string ClientPath(absl::string_view client_id);
std::string ItemActionPath(absl::string_view client_id, absl::string_view item_id,
                           absl::string_view action);
std::string ReferralActionPath(absl::string_view client_id, absl::string_view referral_id,
                               absl::string_view action);

}  // namespace switchboard::gateway::web

#endif  // SWITCHBOARD_GATEWAY_WEB_PAGES_H_
