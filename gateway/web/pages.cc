// The simple pages (sign in, password, clients, errors) and what every page shares.
// The client page is in client_page.cc.
#include "gateway/web/pages.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gateway/web/embedded_assets.h"
#include "gateway/web/page_layout.h"
#include "gateway/web/page_text.h"
#include "gateway/web/template.h"

namespace switchboard::gateway::web {
namespace {

constexpr absl::string_view kTemplateDir = "templates/";

using Templates = absl::flat_hash_map<std::string, Template>;

absl::StatusOr<Templates> ParseTemplates() {
  Templates out;
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    absl::string_view name = file.name;
    if (!absl::ConsumePrefix(&name, kTemplateDir)) continue;
    absl::StatusOr<Template> parsed = Template::Parse(name, file.content);
    if (!parsed.ok()) {
      return absl::InternalError(absl::StrCat("web template ", parsed.status().message()));
    }
    out.emplace(std::string(name), *std::move(parsed));
  }
  return out;
}

const absl::StatusOr<Templates>& ParsedTemplates() {
  static const auto* const kTemplates = new absl::StatusOr<Templates>(ParseTemplates());
  return *kTemplates;
}

absl::StatusOr<std::string> RenderTemplate(absl::string_view name, const TemplateMap& data) {
  const absl::StatusOr<Templates>& templates = ParsedTemplates();
  if (!templates.ok()) return templates.status();
  auto it = templates->find(name);
  if (it == templates->end()) {
    return absl::InternalError(absl::StrCat("web template ", name, ": not embedded"));
  }
  absl::StatusOr<std::string> html = it->second.Render(data);
  if (!html.ok()) {
    return absl::InternalError(absl::StrCat("web template ", html.status().message()));
  }
  return html;
}

TemplateMap FlashMap(const Flash& flash) {
  const char* kind = "info";
  switch (flash.kind) {
    case Flash::Kind::kSuccess:
      kind = "success";
      break;
    case Flash::Kind::kWarning:
      kind = "warning";
      break;
    case Flash::Kind::kError:
      kind = "error";
      break;
    default:
      break;
  }
  const bool alert = flash.kind == Flash::Kind::kWarning || flash.kind == Flash::Kind::kError;
  TemplateMap m;
  m.Set("kind", kind).Set("role", alert ? "alert" : "status").Set("text", flash.text);
  return m;
}

std::string IdentifiersText(const std::vector<v1::ClientIdentifier>& ids) {
  std::vector<std::string> parts;
  for (const v1::ClientIdentifier& id : ids) {
    parts.push_back(absl::StrCat(id.value(), " (", id.system(), ")"));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

namespace internal {

absl::StatusOr<std::string> RenderPage(absl::string_view name, absl::string_view title,
                                       const Viewer* viewer, const Flash& flash,
                                       const TemplateMap& content) {
  absl::StatusOr<std::string> body = RenderTemplate(name, content);
  if (!body.ok()) return body.status();
  TemplateMap layout;
  layout.Set("title", title).Set("content", TemplateValue::TrustedHtml(*std::move(body)));
  if (viewer != nullptr) {
    TemplateMap v;
    v.Set("person_name", viewer->person_name)
        .Set("organisation_name", viewer->organisation_name.empty() ? viewer->organisation_id
                                                                    : viewer->organisation_name)
        .Set("csrf_token", viewer->csrf_token);
    layout.Set("viewer", std::move(v));
  }
  if (flash.kind != Flash::Kind::kNone && !flash.text.empty()) layout.Set("flash", FlashMap(flash));
  return RenderTemplate("layout.html", layout);
}

TemplateList Options(const std::vector<Option>& options, absl::string_view selected) {
  TemplateList out;
  for (const Option& o : options) {
    TemplateMap m;
    m.Set("value", o.value).Set("label", o.label).Set("selected", o.value == selected);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace internal

absl::Status LoadPageTemplates() { return ParsedTemplates().status(); }

std::string ClientPath(absl::string_view client_id) {
  return absl::StrCat("/clients/", PercentEncode(client_id));
}

std::string ItemActionPath(absl::string_view client_id, absl::string_view item_id,
                           absl::string_view action) {
  return absl::StrCat(ClientPath(client_id), "/items/", PercentEncode(item_id), "/", action);
}

std::string ReferralActionPath(absl::string_view client_id, absl::string_view referral_id,
                               absl::string_view action) {
  return absl::StrCat(ClientPath(client_id), "/referrals/", PercentEncode(referral_id), "/",
                      action);
}

absl::StatusOr<std::string> RenderSignIn(const SignInPage& page) {
  TemplateMap m;
  m.Set("organisation", page.organisation)
      .Set("user_name", page.user_name)
      .Set("error", page.error)
      .Set("csrf_token", page.csrf_token)
      .Set("next", page.next);
  return internal::RenderPage("sign_in.html", "Sign in", nullptr, page.flash, m);
}

absl::StatusOr<std::string> RenderChangePassword(const ChangePasswordPage& page) {
  TemplateMap m;
  m.Set("required", page.required)
      .Set("min_length", page.min_length)
      .Set("error", page.error)
      .Set("csrf_token", page.viewer.csrf_token);
  return internal::RenderPage("change_password.html", "Change your password", &page.viewer,
                              page.flash, m);
}

absl::StatusOr<std::string> RenderClients(const ClientsPage& page) {
  TemplateList results;
  for (const ClientSearchResult& r : page.results) {
    TemplateMap m;
    m.Set("href", ClientPath(r.client_id))
        .Set("label", r.name.empty() ? r.client_id : absl::StrCat(r.name, " (", r.client_id, ")"))
        .Set("identifiers", IdentifiersText(r.identifiers));
    results.push_back(std::move(m));
  }
  const bool any = !results.empty();
  TemplateMap m;
  m.Set("query", page.query)
      .Set("has_results", any)
      .Set("results_heading", page.searched
                                  ? absl::StrCat("Clients matching \u201c", page.query, "\u201d")
                                  : std::string("Your clients"))
      .Set("results", std::move(results))
      .Set("no_results", !any && page.searched)
      .Set("no_clients", !any && !page.searched);
  return internal::RenderPage("clients.html", "Clients", &page.viewer, page.flash, m);
}

absl::StatusOr<std::string> RenderError(const ErrorPage& page) {
  std::string heading = "Something went wrong";
  std::string message = "The gateway could not show this page. Try again in a moment.";
  if (page.status == 404) {
    heading = "Page not found";
    message = "There is no such page, or nothing here that you may see.";
  } else if (page.status == 403) {
    heading = "Not allowed";
    message = "You may not do this.";
  }
  if (!page.message.empty()) message = page.message;
  TemplateMap m;
  m.Set("heading", heading)
      .Set("message", message)
      .Set("back_href", page.viewer != nullptr ? "/clients" : "/sign-in")
      .Set("back_text", page.viewer != nullptr ? "Go to your clients" : "Go to sign in");
  return internal::RenderPage("error.html", heading, page.viewer, Flash{}, m);
}

}  // namespace switchboard::gateway::web
