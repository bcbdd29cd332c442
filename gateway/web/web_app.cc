#include "gateway/web/web_app.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/careplan/referral_ops.h"
#include "gateway/identity/rpc_guard.h"
#include "gateway/registry/registry_ops.h"
#include "gateway/store/keys.h"
#include "gateway/web/embedded_assets.h"
#include "gateway/web/forms.h"
#include "gateway/web/pages.h"
#include "gateway/web/user_ops.h"
#include "policy/consent_summary.h"
#include "policy/routing_policy.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::web {
namespace {

namespace http = boost::beast::http;
using connectors::HttpRequest;
using connectors::HttpRespond;
using connectors::HttpResponse;
using store::Cf;
namespace keys = store::keys;

constexpr char kSessionCookie[] = "sb_session";
constexpr char kSignInCookie[] = "sb_signin";
constexpr int kTimelinePage = 20;
constexpr char kCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// Headers every answer carries.
void Secure(HttpResponse& r) {
  r.set("Content-Security-Policy", kCsp);
  r.set("X-Frame-Options", "DENY");
  r.set("Referrer-Policy", "no-referrer");
  r.set("X-Content-Type-Options", "nosniff");
  r.set(http::field::strict_transport_security, "max-age=31536000");
}

HttpResponse Html(http::status status, std::string body) {
  HttpResponse r(status, 11);
  r.set(http::field::content_type, "text/html; charset=utf-8");
  r.set(http::field::cache_control, "no-store");
  Secure(r);
  r.body() = std::move(body);
  return r;
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r(http::status::see_other, 11);
  r.set(http::field::location, location);
  r.set(http::field::cache_control, "no-store");
  Secure(r);
  return r;
}

std::string SessionCookie(const std::string& id) {
  return absl::StrCat(kSessionCookie, "=", id, "; Path=/; Secure; HttpOnly; SameSite=Strict");
}
std::string ClearedSessionCookie() {
  return absl::StrCat(kSessionCookie, "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

Flash MakeFlash(int kind, std::string text) {
  Flash f;
  f.kind = static_cast<Flash::Kind>(std::clamp(kind, 0, 4));
  f.text = std::move(text);
  return f;
}

// Only a local path may be a `next` (no scheme, no host, no `//`).
bool LocalPath(const std::string& next) {
  return !next.empty() && next[0] == '/' && (next.size() == 1 || (next[1] != '/' && next[1] != '\\'));
}

v1::ClientIdentifier Enterprise(const std::string& client_id) {
  v1::ClientIdentifier id;
  id.set_system(registry::kEnterpriseIdSystem);
  id.set_value(client_id);
  return id;
}

// Percent-decoding of one path segment.
std::optional<std::string> Segment(absl::string_view s) {
  auto decoded = ParseForm(absl::StrCat("x=", s));
  if (!decoded.ok()) return std::nullopt;
  std::string out = Field(*decoded, "x");
  if (out.empty() || out.find('/') != std::string::npos) return std::nullopt;
  return out;
}

}  // namespace

struct WebApp::Request {
  HttpRequest http;
  HttpRespond respond;
  std::string path;
  Form query;
  Form form;
  std::optional<Session> session;
  absl::Time now;

  void Send(HttpResponse r) { respond(std::move(r)); }
  identity::Caller Caller() const {
    identity::Caller c;
    c.organisation_id = session->organisation_id;
    c.user = absl::StrCat(session->display_name, " (", session->username, ")");
    return c;
  }
};

WebApp::WebApp(const store::Store* store, store::Committer* committer,
               const registry::Directory* directory, const consent::AccessDecider* decider,
               const exchange::Publisher* publisher, WebOptions options)
    : store_(store),
      committer_(committer),
      directory_(directory),
      decider_(decider),
      publisher_(publisher),
      options_(std::move(options)),
      reader_(store, directory, decider),
      sessions_(options_.sessions),
      workers_(2) {}

WebApp::~WebApp() { Stop(); }

void WebApp::Stop() { workers_.Stop(); }

absl::Status WebApp::AddRoutes(connectors::HttpRoutes* routes) {
  if (absl::Status s = LoadPageTemplates(); !s.ok()) return s;
  auto handler = [this](HttpRequest request, const identity::PeerInfo&, HttpRespond respond) {
    Handle(std::move(request), std::move(respond));
  };
  for (const char* path : {"/", "/sign-in", "/password", "/clients"}) {
    if (absl::Status s = routes->Add(http::verb::get, path, handler); !s.ok()) return s;
  }
  for (const char* path : {"/sign-in", "/sign-out", "/password"}) {
    if (absl::Status s = routes->Add(http::verb::post, path, handler); !s.ok()) return s;
  }
  if (absl::Status s = routes->AddPrefix(http::verb::get, "/clients/", handler); !s.ok()) return s;
  if (absl::Status s = routes->AddPrefix(http::verb::post, "/clients/", handler); !s.ok()) return s;
  if (absl::Status s = routes->AddPrefix(http::verb::get, "/static/", handler); !s.ok()) return s;
  routes->SetErrorRenderer("/", [](http::status status, const std::string&) {
    ErrorPage page;
    page.status = static_cast<int>(status) == 404 ? 404 : static_cast<int>(status);
    auto html = RenderError(page);
    return Html(status, html.ok() ? *html : "error");
  });
  return absl::OkStatus();
}

void WebApp::Handle(HttpRequest request, HttpRespond respond) {
  auto r = std::make_shared<Request>();
  r->http = std::move(request);
  r->respond = std::move(respond);
  // Off the I/O thread: store reads, scrypt and rendering take their time.
  workers_.Schedule([this, r] { Serve(*r); });
}

void WebApp::Serve(Request& r) {
  r.now = absl::Now();
  const std::string target(r.http.target());
  r.path = std::string(PathOf(target));
  auto query = QueryOf(target);
  if (query.ok()) r.query = *std::move(query);
  const bool post = r.http.method() == http::verb::post;
  auto error = [&](int status, const std::string& message) {
    ErrorPage page;
    page.status = status;
    page.message = message;
    Viewer viewer;
    if (r.session.has_value()) {
      viewer.person_name = r.session->display_name;
      viewer.organisation_id = r.session->organisation_id;
      const auto dir = directory_->snapshot();
      const v1::Organisation* org = dir->Find(r.session->organisation_id);
      viewer.organisation_name = org != nullptr ? org->display_name() : r.session->organisation_id;
      viewer.csrf_token = r.session->csrf;
      page.viewer = &viewer;
    }
    auto html = RenderError(page);
    r.Send(Html(static_cast<http::status>(status), html.ok() ? *html : message));
  };

  if (absl::StartsWith(r.path, "/static/")) return Static(r, r.path.substr(1));
  if (auto cookie = CookieValue(std::string(r.http[http::field::cookie]), kSessionCookie)) {
    r.session = sessions_.Find(*cookie, r.now);
  }
  // A person disabled, or whose password was reset, since signing in is
  // signed out at their next request.
  if (r.session.has_value()) {
    v1::StoredUser person;
    auto found = store_->GetProto(Cf::kRegistry, keys::User(r.session->organisation_id,
                                                            r.session->username), &person);
    if (!found.ok() || !*found || person.user().status() != v1::User::ACTIVE ||
        (person.user().must_change_password() && !r.session->must_change_password)) {
      sessions_.RemovePerson(r.session->organisation_id, r.session->username);
      r.session.reset();
    }
  }
  if (post) {
    auto form = ParseForm(r.http.body());
    if (!form.ok()) return error(400, "The form could not be read.");
    r.form = *std::move(form);
  }
  if (r.path == "/") return r.Send(Redirect(r.session ? "/clients" : "/sign-in"));
  if (r.path == "/sign-in") return post ? SignIn(r) : SignInForm(r, "");

  // Everything else is for signed-in people.
  if (!r.session.has_value()) {
    return r.Send(Redirect(post ? "/sign-in" : absl::StrCat("/sign-in?next=", UrlEncode(target))));
  }
  if (post && !SameToken(Field(r.form, "csrf"), r.session->csrf)) {
    return error(403, "This form was not sent from a page of this site, or it has expired. "
                      "Reload the page and try again.");
  }
  if (r.path == "/sign-out" && post) return SignOut(r);
  if (r.path == "/password") return post ? ChangePassword(r) : PasswordForm(r, "");
  if (r.session->must_change_password) return r.Send(Redirect("/password"));
  if (r.path == "/clients" && !post) return Clients(r);

  // /clients/{client}[/items/{item}/{action} | /referrals/{referral}/{action}]
  absl::string_view rest(r.path);
  if (absl::ConsumePrefix(&rest, "/clients/")) {
    std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
    std::vector<std::string> decoded;
    for (absl::string_view p : parts) {
      auto s = Segment(p);
      if (!s.has_value()) return error(404, "");
      decoded.push_back(*s);
    }
    if (decoded.size() == 1 && !post) return ClientPage(r, decoded[0]);
    if (decoded.size() == 4 && post && decoded[1] == "items") {
      return ItemAction(r, decoded[0], decoded[2], decoded[3]);
    }
    if (decoded.size() == 4 && post && decoded[1] == "referrals") {
      return ReferralAction(r, decoded[0], decoded[2], decoded[3]);
    }
  }
  error(404, "");
}

void WebApp::Static(Request& r, const std::string& name) {
  std::optional<EmbeddedFile> file = FindEmbeddedFile(name);
  if (!file.has_value()) {
    HttpResponse out = Html(http::status::not_found, "not found");
    return r.Send(std::move(out));
  }
  HttpResponse out(http::status::ok, 11);
  Secure(out);
  out.set(http::field::etag, std::string(file->etag));
  out.set(http::field::cache_control, "public, max-age=300");
  if (std::string(r.http[http::field::if_none_match]) == file->etag) {
    out.result(http::status::not_modified);
    return r.Send(std::move(out));
  }
  out.set(http::field::content_type, std::string(file->content_type));
  out.body() = std::string(file->content);
  r.Send(std::move(out));
}

void WebApp::SignInForm(Request& r, const std::string& error) {
  SignInPage page;
  page.error = error;
  page.organisation = Field(r.form, "organisation");
  page.user_name = Field(r.form, "user");
  const std::string next = r.query.count("next") ? Field(r.query, "next") : Field(r.form, "next");
  if (LocalPath(next)) page.next = next;
  // Login CSRF: a token in a cookie and in the form, compared at sign-in.
  page.csrf_token = RandomToken();
  auto html = RenderSignIn(page);
  HttpResponse out = Html(error.empty() ? http::status::ok : http::status::unauthorized,
                          html.ok() ? *html : "error");
  out.insert(http::field::set_cookie, absl::StrCat(kSignInCookie, "=", page.csrf_token,
                                                   "; Path=/sign-in; Secure; HttpOnly; SameSite=Strict"));
  r.Send(std::move(out));
}

void WebApp::SignIn(Request& r) {
  auto cookie = CookieValue(std::string(r.http[http::field::cookie]), kSignInCookie);
  if (!cookie.has_value() || !SameToken(*cookie, Field(r.form, "csrf"))) {
    return SignInForm(r, "The sign-in form expired. Please try again.");
  }
  const std::string org = absl::AsciiStrToLower(Field(r.form, "organisation"));
  const std::string user = absl::AsciiStrToLower(Field(r.form, "user"));
  const std::string next = Field(r.form, "next");
  auto shared = std::make_shared<Request>(std::move(r));
  SubmitSignIn(*store_, committer_, org, user, Field(shared->form, "password"),
               [this, shared, next](absl::StatusOr<v1::User> person) {
                 if (!person.ok()) {
                   // Whatever failed, the same words (no user enumeration).
                   workers_.Schedule([this, shared] { SignInForm(*shared, kSignInFailedMessage); });
                   return;
                 }
                 Session s = sessions_.Create(person->organisation_id(), person->username(),
                                              person->display_name(), person->must_change_password(),
                                              absl::Now());
                 HttpResponse out = Redirect(person->must_change_password() ? "/password"
                                             : LocalPath(next)                ? next
                                                                              : "/clients");
                 out.insert(http::field::set_cookie, SessionCookie(s.id));
                 shared->Send(std::move(out));
               });
}

void WebApp::SignOut(Request& r) {
  sessions_.Remove(r.session->id);
  HttpResponse out = Redirect("/sign-in");
  out.insert(http::field::set_cookie, ClearedSessionCookie());
  r.Send(std::move(out));
}

void WebApp::PasswordForm(Request& r, const std::string& error) {
  ChangePasswordPage page;
  const auto dir = directory_->snapshot();
  const v1::Organisation* org = dir->Find(r.session->organisation_id);
  page.viewer = Viewer{r.session->display_name, r.session->organisation_id,
                       org != nullptr ? org->display_name() : r.session->organisation_id,
                       r.session->csrf};
  page.required = r.session->must_change_password;
  page.error = error;
  auto html = RenderChangePassword(page);
  r.Send(Html(error.empty() ? http::status::ok : http::status::bad_request, html.ok() ? *html : "error"));
}

void WebApp::ChangePassword(Request& r) {
  const std::string next = Field(r.form, "new_password");
  if (next != Field(r.form, "confirm_password")) {
    return PasswordForm(r, "The two new passwords differ.");
  }
  auto shared = std::make_shared<Request>(std::move(r));
  SubmitChangePassword(
      *store_, committer_, shared->session->organisation_id, shared->session->username,
      Field(shared->form, "current_password"), next, [this, shared](absl::StatusOr<v1::User> person) {
        if (!person.ok()) {
          const std::string message = absl::IsInvalidArgument(person.status())
                                          ? std::string(person.status().message())
                                          : "The current password is not right.";
          workers_.Schedule([this, shared, message] { PasswordForm(*shared, message); });
          return;
        }
        sessions_.PasswordChanged(shared->session->id);
        sessions_.SetFlash(shared->session->id, static_cast<int>(Flash::Kind::kSuccess),
                           "Your password was changed.");
        shared->Send(Redirect("/clients"));
      });
}

void WebApp::Clients(Request& r) {
  ClientsPage page;
  const auto dir = directory_->snapshot();
  const std::string& org = r.session->organisation_id;
  const v1::Organisation* own = dir->Find(org);
  page.viewer = Viewer{r.session->display_name, org, own != nullptr ? own->display_name() : org,
                       r.session->csrf};
  auto flash = sessions_.TakeFlash(r.session->id);
  page.flash = MakeFlash(flash.first, flash.second);
  page.query = std::string(absl::StripAsciiWhitespace(Field(r.query, "q")));
  page.searched = !page.query.empty();
  const std::string needle = absl::AsciiStrToLower(page.query);
  auto systems_it = options_.own_systems.find(org);
  auto own_system = [&](const std::string& system) {
    return systems_it != options_.own_systems.end() &&
           std::find(systems_it->second.begin(), systems_it->second.end(), system) !=
               systems_it->second.end();
  };
  // The clients of the organisation's care teams (and of referrals to it):
  // matched by enterprise id or by the organisation's own identifiers only.
  std::vector<std::string> ids;
  {
    const std::string prefix = keys::CareTeam("");
    auto it = store_->NewIterator(Cf::kClients, store::PrefixUpperBound(prefix));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      v1::CareTeam team;
      if (team.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) &&
          policy::IsCareTeamMember(team, org, r.now)) {
        ids.push_back(it->key().ToString().substr(prefix.size()));
      }
    }
  }
  for (const std::string& id : ids) {
    v1::Client client;
    auto found = store_->GetProto(Cf::kClients, keys::Client(id), &client);
    if (!found.ok() || !*found) continue;
    ClientSearchResult result;
    result.client_id = id;
    result.name = client.name();
    bool match = needle.empty() || absl::StrContains(absl::AsciiStrToLower(id), needle) ||
                 absl::StrContains(absl::AsciiStrToLower(client.name()), needle);
    for (const v1::ClientIdentifier& ident : client.identifiers()) {
      if (!own_system(ident.system())) continue;
      result.identifiers.push_back(ident);
      match = match || absl::StrContains(absl::AsciiStrToLower(ident.value()), needle);
    }
    if (match) page.results.push_back(std::move(result));
  }
  auto html = RenderClients(page);
  r.Send(Html(http::status::ok, html.ok() ? *html : "error"));
}

void WebApp::ClientPage(Request& r, const std::string& client_id) {
  const identity::Caller caller = r.Caller();
  auto opened = reader_.Open(caller, "Web/ClientPage", v1::AuditRecord::VIEW, Enterprise(client_id),
                             /*referral_party=*/true);
  auto not_found = [&] {
    ErrorPage page;
    page.status = 404;
    page.message = "There is no such client among your organisation's clients.";
    auto html = RenderError(page);
    r.Send(Html(http::status::not_found, html.ok() ? *html : "not found"));
  };
  if (auto* refused = std::get_if<careplan::Refused>(&opened)) {
    if (!refused->audit.has_value()) return not_found();
    auto shared = std::make_shared<Request>(std::move(r));
    identity::SubmitRefusal(committer_, *refused->audit, refused->status,
                            [shared](const absl::Status&) {
                              ErrorPage page;
                              page.status = 404;
                              page.message = "There is no such client among your organisation's clients.";
                              auto html = RenderError(page);
                              shared->Send(Html(http::status::not_found, html.ok() ? *html : "not found"));
                            });
    return;
  }
  careplan::ClientAccess access = std::get<careplan::ClientAccess>(std::move(opened));
  const auto dir = directory_->snapshot();
  const std::string& org = r.session->organisation_id;
  const bool member = policy::IsCareTeamMember(access.state->care_team, org, r.now);

  web::ClientPage page;
  const v1::Organisation* own = dir->Find(org);
  page.viewer = Viewer{r.session->display_name, org, own != nullptr ? own->display_name() : org,
                       r.session->csrf};
  page.client_id = client_id;
  page.timeline_filter.organisation = Field(r.query, "org");
  page.timeline_filter.domain = Field(r.query, "domain");
  page.timeline_filter.page_token = Field(r.query, "page");
  auto flash = sessions_.TakeFlash(r.session->id);
  page.flash = MakeFlash(flash.first, flash.second);
  std::vector<std::string> details;
  if (member) {
    page.care_team = access.state->care_team;
    auto plan = reader_.Plan(access, std::nullopt);
    if (!plan.ok()) return r.Send(Html(http::status::internal_server_error, "error"));
    page.plan = *std::move(plan);
    details.push_back(access.record.detail());
    v1::GetTimelineRequest timeline;
    timeline.set_page_size(kTimelinePage);
    timeline.set_page_token(page.timeline_filter.page_token);
    if (!page.timeline_filter.organisation.empty()) {
      timeline.add_organisations(page.timeline_filter.organisation);
    }
    if (!page.timeline_filter.domain.empty()) timeline.add_domains(page.timeline_filter.domain);
    auto read = reader_.Timeline(access, timeline);
    if (!read.ok()) {
      page.flash = MakeFlash(static_cast<int>(Flash::Kind::kError),
                             "The timeline filter or page was not understood; showing the newest.");
      timeline.clear_page_token();
      timeline.clear_organisations();
      timeline.clear_domains();
      page.timeline_filter = {};
      read = reader_.Timeline(access, timeline);
    }
    if (read.ok()) page.timeline = *std::move(read);
    details.push_back(access.record.detail());
    // A coordinator reads every organisation's sentence; another member only
    // its own (the rest would say what the consent hides from others).
    std::vector<v1::Organisation> orgs;
    for (const v1::CareTeamMember& m : page.care_team.members()) {
      if (const v1::Organisation* o = dir->Find(m.organisation_id())) {
        orgs.push_back(*o);
        page.organisation_names[o->id()] = o->display_name();
      }
    }
    page.can_acknowledge_escalations =
        consent::IsCoordinator(access.state->care_team, *dir, org, r.now);
    std::vector<std::string> sentences =
        policy::SummariseConsent(access.state->consents, page.care_team, orgs,
                                 policy::DefaultLabelWords(), decider_->policy(), r.now);
    const std::string own_name = page.viewer.organisation_name;
    for (std::string& s : sentences) {
      if (page.can_acknowledge_escalations || absl::StartsWith(s, own_name)) {
        page.consent_summary.push_back(std::move(s));
      }
    }
  } else {
    page.flash = MakeFlash(static_cast<int>(Flash::Kind::kInfo),
                           "Your organisation is not in this client's care team: you see the "
                           "referral to you; the plan and the timeline are shared once you accept.");
  }
  auto referrals = reader_.Referrals(access);
  if (referrals.ok()) page.referrals = *std::move(referrals);
  details.push_back(access.record.detail());
  for (const v1::ReferralState& ref : page.referrals.referrals()) {
    if (ref.has_escalation_acknowledged_at()) {
      page.acknowledged_escalations.push_back(ref.referral().referral_id());
    }
    for (const std::string& id : {ref.referrer(), ref.referral().target()}) {
      const v1::Organisation* o = dir->Find(id);
      page.organisation_names.emplace(id, o != nullptr ? o->display_name() : id);
    }
  }
  for (const auto& [name, scale] : options_.scales) page.attainment_scales[name] = scale;
  // The client's identifiers the organisation issues.
  v1::Client client;
  if (auto found = store_->GetProto(Cf::kClients, keys::Client(client_id), &client); found.ok() && *found) {
    page.client_name = client.name();
    auto systems = options_.own_systems.find(org);
    for (const v1::ClientIdentifier& id : client.identifiers()) {
      if (systems != options_.own_systems.end() &&
          std::find(systems->second.begin(), systems->second.end(), id.system()) != systems->second.end()) {
        page.identifiers.push_back(id);
      }
    }
  }
  auto html = RenderClientPage(page);
  if (!html.ok()) return r.Send(Html(http::status::internal_server_error, "error"));
  access.record.set_detail(absl::StrCat("web client page: ", absl::StrJoin(details, "; ")));
  // Shown only once the view is audited.
  auto shared = std::make_shared<Request>(std::move(r));
  identity::SubmitAudit(committer_, std::move(access.record), absl::OkStatus(),
                        [shared, body = *std::move(html)](const absl::Status& s) mutable {
                          if (!s.ok()) return shared->Send(Html(http::status::service_unavailable, "unavailable"));
                          shared->Send(Html(http::status::ok, std::move(body)));
                        });
}

void WebApp::ItemAction(Request& r, const std::string& client_id, const std::string& item_id,
                        const std::string& action) {
  // Back to the top of the page, where the outcome (saved, or changed since
  // the page was opened) is shown.
  const std::string back = ClientPath(client_id);
  const identity::Caller caller = r.Caller();
  auto opened = reader_.Open(caller, "Web/UpdateCarePlan", v1::AuditRecord::PUBLISH, Enterprise(client_id));
  if (std::holds_alternative<careplan::Refused>(opened)) return r.Send(Redirect("/clients"));
  careplan::ClientAccess access = std::get<careplan::ClientAccess>(std::move(opened));
  const std::string& org = r.session->organisation_id;
  auto fail = [&](const std::string& text) {
    sessions_.SetFlash(r.session->id, static_cast<int>(Flash::Kind::kError), text);
    r.Send(Redirect(back));
  };
  int64_t version = 0;
  if (!absl::SimpleAtoi(Field(r.form, "version"), &version)) return fail("The form was incomplete.");
  auto plan = reader_.Plan(access, std::nullopt);
  if (!plan.ok()) return fail("The plan could not be read.");
  const v1::CarePlanItem* found = nullptr;
  for (const v1::CarePlanViewItem& v : plan->items()) {
    if (!v.redacted() && v.item().id() == item_id && v.item().owner() == org) found = &v.item();
  }
  if (found == nullptr) return fail("Your organisation has no such goal in this plan.");
  v1::CarePlanItem item = *found;
  if (action == "progress") {
    const std::string rating = Field(r.form, "rating");
    const std::string note(absl::StripAsciiWhitespace(Field(r.form, "note")));
    if (rating.empty() && note.empty()) return fail("Give a rating or a note.");
    v1::ProgressEntry* e = item.add_progress();
    *e->mutable_at() = ToProtoTime(r.now);
    int32_t value = 0;
    if (!rating.empty()) {
      if (!absl::SimpleAtoi(rating, &value)) return fail("The rating was not a number.");
      e->set_attainment(value);
      const std::string scale = Field(r.form, "scale");
      if (!scale.empty() && scale != "gas") e->set_scale(scale);
    }
    e->set_note(note);
    e->set_author(r.session->display_name);
  } else if (action == "status") {
    const std::string status = Field(r.form, "status");
    if (status == "on-hold") {
      item.set_status(v1::CarePlanItem::ON_HOLD);
    } else if (status == "reopened") {
      item.set_status(v1::CarePlanItem::REOPENED);
    } else {
      return fail("Unknown status.");
    }
  } else {
    return fail("Unknown action.");
  }
  v1::UpdateCarePlanRequest request;
  *request.mutable_client() = Enterprise(client_id);
  request.set_expected_version(version);
  *request.add_items() = std::move(item);
  auto message = reader_.UpdateMessage(access, options_.plan_event, request);
  if (!message.ok()) return fail(std::string(message.status().message()));
  auto shared = std::make_shared<Request>(std::move(r));
  publisher_->Publish(caller, *std::move(message),
                      [this, shared, back](absl::StatusOr<v1::Receipt> receipt) {
                        const std::string& id = shared->session->id;
                        if (receipt.ok()) {
                          sessions_.SetFlash(id, static_cast<int>(Flash::Kind::kSuccess), "Saved.");
                        } else if (absl::IsAborted(receipt.status())) {
                          sessions_.SetFlash(id, static_cast<int>(Flash::Kind::kWarning),
                                             kItemChangedMessage);
                        } else {
                          sessions_.SetFlash(id, static_cast<int>(Flash::Kind::kError),
                                             std::string(receipt.status().message()));
                        }
                        shared->Send(Redirect(back));
                      });
}

void WebApp::ReferralAction(Request& r, const std::string& client_id,
                            const std::string& referral_id, const std::string& action) {
  const std::string back = ClientPath(client_id);
  const identity::Caller caller = r.Caller();
  auto opened = reader_.Open(caller, "Web/Referral", v1::AuditRecord::PUBLISH, Enterprise(client_id),
                             /*referral_party=*/true);
  if (std::holds_alternative<careplan::Refused>(opened)) return r.Send(Redirect("/clients"));
  careplan::ClientAccess access = std::get<careplan::ClientAccess>(std::move(opened));
  const std::string session_id = r.session->id;
  auto flash = [this, session_id](Flash::Kind kind, std::string text) {
    sessions_.SetFlash(session_id, static_cast<int>(kind), std::move(text));
  };
  auto referrals = reader_.Referrals(access);
  if (!referrals.ok()) {
    flash(Flash::Kind::kError, "The referrals could not be read.");
    return r.Send(Redirect(back));
  }
  const v1::ReferralState* state = nullptr;
  for (const v1::ReferralState& s : referrals->referrals()) {
    if (s.referral().referral_id() == referral_id) state = &s;
  }
  if (state == nullptr) {
    flash(Flash::Kind::kError, "There is no such referral for your organisation.");
    return r.Send(Redirect(back));
  }
  int64_t steps = -1;
  if (!absl::SimpleAtoi(Field(r.form, "version"), &steps) || steps != state->steps_size()) {
    flash(Flash::Kind::kWarning, kReferralChangedMessage);
    return r.Send(Redirect(back));
  }
  auto shared = std::make_shared<Request>(std::move(r));
  if (action == "acknowledge") {
    committer_->Submit(
        [caller, client_id, referral_id, dir = directory_->snapshot()](store::Transaction& txn) {
          return careplan::AcknowledgeEscalation(txn, caller, client_id, referral_id, *dir);
        },
        [shared, flash, back](const absl::Status& s) {
          flash(s.ok() ? Flash::Kind::kSuccess : Flash::Kind::kError,
                s.ok() ? "Escalation acknowledged." : std::string(s.message()));
          shared->Send(Redirect(back));
        });
    return;
  }
  if (action != "accept" && action != "decline") {
    flash(Flash::Kind::kError, "Unknown action.");
    return shared->Send(Redirect(back));
  }
  const std::string reason(absl::StripAsciiWhitespace(Field(shared->form, "reason")));
  if (action == "decline" && reason.empty()) {
    flash(Flash::Kind::kError, "Say why the referral is declined.");
    return shared->Send(Redirect(back));
  }
  v1::Message m;
  v1::MessageHeader* h = m.mutable_header();
  absl::BitGen bitgen;
  h->set_id(absl::StrCat(referral_id, "-", action, "-", absl::Hex(absl::Uniform<uint32_t>(bitgen), absl::kZeroPad8)));
  h->set_event(options_.referral_event);
  h->set_source(caller.organisation_id);
  *h->mutable_client() = Enterprise(client_id);
  *h->mutable_occurred_at() = ToProtoTime(shared->now);
  h->set_author(caller.user);
  *m.mutable_referral() = state->referral();
  m.mutable_referral()->set_status(action == "accept" ? v1::Referral::ACCEPTED : v1::Referral::REJECTED);
  m.mutable_referral()->set_status_reason(reason);
  m.mutable_referral()->clear_note();
  publisher_->Publish(caller, std::move(m),
                      [shared, flash, back, action](absl::StatusOr<v1::Receipt> receipt) {
                        if (receipt.ok()) {
                          flash(Flash::Kind::kSuccess,
                                action == "accept" ? "Referral accepted." : "Referral declined.");
                        } else {
                          flash(Flash::Kind::kError, std::string(receipt.status().message()));
                        }
                        shared->Send(Redirect(back));
                      });
}

}  // namespace switchboard::gateway::web
