// RenderClientPage (pages.h): the care team, the shared plan by domain, referrals and
// escalations, the consent summary and the timeline of one client.
#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gateway/web/attainment_chart.h"
#include "gateway/web/page_layout.h"
#include "gateway/web/page_text.h"
#include "gateway/web/pages.h"
#include "gateway/web/template.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::web {
namespace {

constexpr char kWithheld[] = "Something was withheld under the client's consent.";
constexpr char kGas[] = "gas";

// What the page needs from the model everywhere.
class Context {
 public:
  explicit Context(const ClientPage& page) : page_(page) {}

  std::string OrgName(const std::string& id) const {
    auto it = page_.organisation_names.find(id);
    return it == page_.organisation_names.end() || it->second.empty() ? id : it->second;
  }

  const ClientPage& page() const { return page_; }

  // Ids for form controls, unique on the page (never built from member data).
  std::string NextId(absl::string_view prefix) { return absl::StrCat(prefix, "-", ++ids_); }

 private:
  const ClientPage& page_;
  int ids_ = 0;
};

// A scale as the forms and the chart use it.
struct Scale {
  std::string name;  // "gas" or a configured name
  int32_t min = -2;
  int32_t max = 2;
  std::string display;
};

Scale ScaleNamed(const std::string& name, const ClientPage& page) {
  if (name.empty() || name == kGas) return {kGas, -2, 2, "Goal Attainment Scale, \u22122 to +2"};
  auto it = page.attainment_scales.find(name);
  if (it == page.attainment_scales.end()) return {name, -2, 2, name};
  return {name, it->second.min(), it->second.max(),
          it->second.display().empty() ? name : it->second.display()};
}

// The id attribute that links to an item or referral (`item-g-tenancy`), as the
// routes' redirects name it; "" when the id cannot be one (empty, or with spaces).
std::string Anchor(absl::string_view prefix, absl::string_view id) {
  if (id.empty() || std::any_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isspace(static_cast<unsigned char>(c));
      })) {
    return "";
  }
  return absl::StrCat(prefix, id);
}

std::string ScaleOf(const v1::ProgressEntry& e) { return e.scale().empty() ? kGas : e.scale(); }

// Progress entries in time order (the order they were recorded when times tie).
std::vector<const v1::ProgressEntry*> InTimeOrder(const v1::CarePlanItem& item) {
  std::vector<const v1::ProgressEntry*> out;
  for (const v1::ProgressEntry& e : item.progress()) out.push_back(&e);
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return FromProtoTime(a->at()) < FromProtoTime(b->at());
  });
  return out;
}

std::string RatingWithScale(const v1::ProgressEntry& e, const ClientPage& page) {
  const Scale scale = ScaleNamed(ScaleOf(e), page);
  std::string text = RatingText(e.attainment(), scale.min < 0);
  if (scale.name != kGas) absl::StrAppend(&text, " (", scale.name, ")");
  return text;
}

std::string PeriodText(const v1::Period& period) {
  const bool start = IsSet(period.start()), end = IsSet(period.end());
  if (start && end) {
    return absl::StrCat(DayText(FromProtoTime(period.start())), " to ",
                        DayText(FromProtoTime(period.end())));
  }
  if (start) return absl::StrCat("from ", DayText(FromProtoTime(period.start())));
  if (end) return absl::StrCat("until ", DayText(FromProtoTime(period.end())));
  return "";
}

// --- Care team ---------------------------------------------------------------

TemplateList CareTeamRows(const Context& ctx) {
  TemplateList rows;
  for (const v1::CareTeamMember& m : ctx.page().care_team.members()) {
    TemplateMap row;
    const bool since = IsSet(m.period().start()), until = IsSet(m.period().end());
    row.Set("organisation", ctx.OrgName(m.organisation_id()))
        .Set("role", CodeWords(m.role()))
        .Set("since", since ? DayText(FromProtoTime(m.period().start())) : "")
        .Set("since_iso", since ? IsoText(FromProtoTime(m.period().start())) : "")
        .Set("until", until ? DayText(FromProtoTime(m.period().end())) : "")
        .Set("until_iso", until ? IsoText(FromProtoTime(m.period().end())) : "");
    rows.push_back(std::move(row));
  }
  return rows;
}

// --- Shared plan -------------------------------------------------------------

TemplateList RatingOptions(const Scale& scale) {
  static constexpr const char* kGasWords[] = {"much less than expected", "less than expected",
                                              "the expected level", "more than expected",
                                              "much more than expected"};
  std::vector<internal::Option> options = {{"", "No rating"}};
  for (int32_t v = scale.min; v <= scale.max && options.size() < 101; ++v) {
    std::string label = RatingText(v, scale.min < 0);
    if (scale.name == kGas && v >= -2 && v <= 2) absl::StrAppend(&label, ": ", kGasWords[v + 2]);
    options.push_back({absl::StrCat(v), std::move(label)});
  }
  return internal::Options(options, "");
}

TemplateMap ItemMap(const v1::CarePlanViewItem& entry, Context& ctx) {
  const ClientPage& page = ctx.page();
  const v1::CarePlanItem& item = entry.item();
  const std::vector<const v1::ProgressEntry*> progress = InTimeOrder(item);

  // The scale of the newest rating (GAS when none); the chart shows that scale's
  // ratings only.
  std::string scale_name = kGas;
  for (const v1::ProgressEntry* e : progress) {
    if (e->has_attainment()) scale_name = ScaleOf(*e);
  }
  const Scale scale = ScaleNamed(scale_name, page);
  v1::CarePlanItem charted;
  int other_scales = 0;
  for (const v1::ProgressEntry* e : progress) {
    if (!e->has_attainment()) continue;
    if (ScaleOf(*e) == scale.name) {
      *charted.add_progress() = *e;
    } else {
      ++other_scales;
    }
  }
  std::string scale_note;
  if (scale.name != kGas) scale_note = absl::StrCat("Rated on the ", scale.display, ".");
  if (other_scales > 0) {
    absl::StrAppend(&scale_note, scale_note.empty() ? "" : " ", other_scales,
                    other_scales == 1 ? " earlier rating on another scale is"
                                      : " earlier ratings on another scale are",
                    " not in the chart.");
  }

  TemplateMap m;
  const std::string status = ItemStatusWords(item.status());
  const std::string kind = item.kind() == v1::CarePlanItem::ACTIVITY ? "Activity" : "Goal";
  m.Set("description",
        item.description().empty() ? absl::StrCat(kind, " ", item.id()) : item.description())
      .Set("kind", kind)
      .Set("anchor", Anchor("item-", item.id()))
      .Set("owner", ctx.OrgName(item.owner()))
      .Set("status", status.empty() ? "unknown" : status)
      .Set("status_class", status.empty() ? "unknown" : absl::StrReplaceAll(status, {{" ", "-"}}))
      .Set("period", PeriodText(item.period()))
      .Set("chart", TemplateValue::TrustedHtml(AttainmentSvg(charted, scale.min, scale.max)))
      .Set("scale_note", scale_note);

  // The newest entry with a note.
  const v1::ProgressEntry* latest = nullptr;
  for (const v1::ProgressEntry* e : progress) {
    if (!e->note().empty()) latest = e;
  }
  if (latest != nullptr) {
    TemplateMap l;
    l.Set("at", IsSet(latest->at()) ? DayText(FromProtoTime(latest->at())) : "undated")
        .Set("author", latest->author())
        .Set("rating", latest->has_attainment() ? RatingWithScale(*latest, page) : "")
        .Set("note", latest->note());
    m.Set("latest", std::move(l));
  } else {
    m.Set("latest", false);
  }

  TemplateList history;
  for (auto it = progress.rbegin(); it != progress.rend(); ++it) {
    const v1::ProgressEntry& e = **it;
    TemplateMap h;
    h.Set("at", IsSet(e.at()) ? DayText(FromProtoTime(e.at())) : "undated")
        .Set("iso", IsSet(e.at()) ? IsoText(FromProtoTime(e.at())) : "")
        .Set("rating", e.has_attainment() ? RatingWithScale(e, page) : "")
        .Set("note", e.note())
        .Set("author", e.author());
    history.push_back(std::move(h));
  }
  m.Set("history_any", !history.empty())
      .Set("history_count", static_cast<int64_t>(history.size()))
      .Set("history", std::move(history));
  const int32_t withheld = entry.redacted_progress();
  m.Set("withheld_progress", withheld <= 0 ? std::string()
                                           : absl::StrCat(withheld,
                                                          withheld == 1 ? " progress entry was"
                                                                        : " progress entries were",
                                                          " withheld under the client's consent."));

  const bool owned = !item.owner().empty() && item.owner() == page.viewer.organisation_id;
  m.Set("owned", owned);
  if (owned) {
    const bool paused = item.status() == v1::CarePlanItem::ON_HOLD ||
                        item.status() == v1::CarePlanItem::COMPLETED ||
                        item.status() == v1::CarePlanItem::CANCELLED;
    m.Set("progress_action", ItemActionPath(page.client_id, item.id(), "progress"))
        .Set("status_action", ItemActionPath(page.client_id, item.id(), "status"))
        .Set("scale", scale.name)
        .Set("scale_hint", scale.display)
        .Set("rating_id", ctx.NextId("rating"))
        .Set("note_id", ctx.NextId("note"))
        .Set("rating_options", RatingOptions(scale))
        .Set("next_status", paused ? "reopened" : "on-hold")
        .Set("status_button", paused ? "Reopen" : "Put on hold");
  }
  return m;
}

void AddPlan(Context& ctx, TemplateMap& out) {
  const v1::CarePlanView& plan = ctx.page().plan;
  // Visible items by domain (sorted, no domain last), in plan order within one; the
  // withheld ones after them, saying nothing but that.
  std::map<std::string, std::vector<const v1::CarePlanViewItem*>> by_domain;
  int withheld = 0;
  for (const v1::CarePlanViewItem& entry : plan.items()) {
    if (entry.redacted()) {
      ++withheld;
      continue;
    }
    by_domain[entry.item().domain()].push_back(&entry);
  }
  std::vector<std::string> order;
  for (const auto& [domain, items] : by_domain) {
    if (!domain.empty()) order.push_back(domain);
  }
  if (by_domain.contains("")) order.push_back("");
  TemplateList domains;
  for (const std::string& domain : order) {
    TemplateList items;
    for (const v1::CarePlanViewItem* entry : by_domain[domain])
      items.push_back(ItemMap(*entry, ctx));
    TemplateMap d;
    d.Set("title", CodeTitle(domain)).Set("items", std::move(items));
    domains.push_back(std::move(d));
  }
  TemplateList withheld_items;
  for (int i = 0; i < withheld; ++i) {
    TemplateMap w;
    w.Set("text", kWithheld);
    withheld_items.push_back(std::move(w));
  }
  const std::string who = plan.updated_by_user().empty()
                              ? ctx.OrgName(plan.updated_by_organisation())
                              : absl::StrCat(ctx.OrgName(plan.updated_by_organisation()), " (",
                                             plan.updated_by_user(), ")");
  out.Set("plan_exists", plan.version() > 0)
      .Set("plan_version", plan.version())
      .Set("plan_updated",
           IsSet(plan.updated_at()) ? StampText(FromProtoTime(plan.updated_at())) : "")
      .Set("plan_updated_by", who)
      .Set("plan_empty", plan.items().empty())
      .Set("domains", std::move(domains))
      .Set("withheld_any", withheld > 0)
      .Set("withheld_items", std::move(withheld_items));
}

// --- Referrals and escalations -------------------------------------------------

// Waiting for the target's answer (and so open to Accept and Decline).
bool AwaitsAnswer(const v1::ReferralState& r) {
  return r.referral().status() == v1::Referral::REQUESTED ||
         r.referral().status() == v1::Referral::RECEIVED;
}

// In a final status (docs/coordination.md): listed apart, briefly.
bool Closed(const v1::ReferralState& r) {
  switch (r.referral().status()) {
    case v1::Referral::REJECTED:
    case v1::Referral::COMPLETED:
    case v1::Referral::CANCELLED:
    case v1::Referral::FAILED:
      return true;
    default:
      return false;
  }
}

std::string Who(const Context& ctx, const std::string& org, const std::string& user) {
  if (user.empty()) return ctx.OrgName(org);
  if (org.empty()) return user;
  return absl::StrCat(ctx.OrgName(org), " (", user, ")");
}

void AddReferrals(Context& ctx, TemplateMap& out) {
  const ClientPage& page = ctx.page();
  const std::set<std::string> acknowledged(page.acknowledged_escalations.begin(),
                                           page.acknowledged_escalations.end());
  TemplateList referrals, closed, escalations;
  for (const v1::ReferralState& r : page.referrals.referrals()) {
    const v1::Referral& ref = r.referral();
    const std::string id = ref.referral_id();
    const std::string version = absl::StrCat(r.steps_size());
    TemplateList steps;
    for (const v1::ReferralStep& s : r.steps()) {
      TemplateMap step;
      step.Set("at", IsSet(s.at()) ? StampText(FromProtoTime(s.at())) : "undated")
          .Set("iso", IsSet(s.at()) ? IsoText(FromProtoTime(s.at())) : "")
          .Set("status", ReferralStatusWords(s.status()))
          .Set("who", Who(ctx, s.organisation(), s.user()))
          .Set("status_reason", s.status_reason());
      steps.push_back(std::move(step));
    }
    const bool can_answer =
        AwaitsAnswer(r) && !ref.target().empty() && ref.target() == page.viewer.organisation_id;
    const bool escalated = IsSet(r.escalated_at());
    TemplateMap m;
    m.Set("title", absl::StrCat(ref.service().empty() ? "Referral" : CodeTitle(ref.service()), ": ",
                                ctx.OrgName(r.referrer()), " to ", ctx.OrgName(ref.target())))
        .Set("referral_id", id)
        .Set("anchor", Anchor("referral-", id))
        .Set("status", ReferralStatusWords(ref.status()).empty()
                           ? "unknown"
                           : ReferralStatusWords(ref.status()))
        .Set("updated", IsSet(r.updated_at()) ? StampText(FromProtoTime(r.updated_at())) : "")
        .Set("escalated", escalated ? StampText(FromProtoTime(r.escalated_at())) : "")
        .Set("reason", ref.reason())
        .Set("status_reason", ref.status_reason())
        .Set("steps_count", static_cast<int64_t>(steps.size()))
        .Set("steps_any", !steps.empty())
        .Set("steps", std::move(steps))
        .Set("can_answer", can_answer)
        .Set("version", version);
    if (can_answer) {
      m.Set("accept_action", ReferralActionPath(page.client_id, id, "accept"))
          .Set("decline_action", ReferralActionPath(page.client_id, id, "decline"))
          .Set("reason_id", ctx.NextId("decline-reason"));
    }
    (Closed(r) ? closed : referrals).push_back(std::move(m));

    if (escalated && !acknowledged.contains(id)) {
      const std::string since =
          IsSet(r.created_at()) ? absl::StrCat(" since ", DayText(FromProtoTime(r.created_at())))
                                : "";
      TemplateMap e;
      e.Set("text", absl::StrCat("Referral ", id, " (", CodeWords(ref.service()), ") from ",
                                 ctx.OrgName(r.referrer()), " to ", ctx.OrgName(ref.target()),
                                 AwaitsAnswer(r)
                                     ? absl::StrCat(" has had no answer", since)
                                     : absl::StrCat(" is now ", ReferralStatusWords(ref.status())),
                                 "; it was escalated to the coordinators on ",
                                 DayText(FromProtoTime(r.escalated_at())), "."))
          .Set("can_acknowledge", page.can_acknowledge_escalations)
          .Set("version", version);
      if (page.can_acknowledge_escalations) {
        e.Set("acknowledge_action", ReferralActionPath(page.client_id, id, "acknowledge"));
      }
      escalations.push_back(std::move(e));
    }
  }
  out.Set("referrals_any", !referrals.empty() || !closed.empty())
      .Set("open_any", !referrals.empty())
      .Set("referrals", std::move(referrals))
      .Set("closed_any", !closed.empty())
      .Set("closed_count", static_cast<int64_t>(closed.size()))
      .Set("closed", std::move(closed))
      .Set("escalations_any", !escalations.empty())
      .Set("escalations", std::move(escalations));
}

// --- Timeline ------------------------------------------------------------------

std::string KindWords(v1::TimelineEntry::Kind kind) {
  switch (kind) {
    case v1::TimelineEntry::MESSAGE:
      return "Message";
    case v1::TimelineEntry::PLAN_CHANGE:
      return "Plan";
    case v1::TimelineEntry::REFERRAL:
      return "Referral";
    case v1::TimelineEntry::CONSENT_CHANGE:
      return "Consent";
    case v1::TimelineEntry::CARE_TEAM_CHANGE:
      return "Care team";
    case v1::TimelineEntry::ESCALATION:
      return "Escalation";
    default:
      return "Other";
  }
}

std::string TimelineHref(const ClientPage& page, absl::string_view token) {
  std::vector<std::string> query;
  if (!page.timeline_filter.organisation.empty()) {
    query.push_back(absl::StrCat("org=", PercentEncode(page.timeline_filter.organisation)));
  }
  if (!page.timeline_filter.domain.empty()) {
    query.push_back(absl::StrCat("domain=", PercentEncode(page.timeline_filter.domain)));
  }
  if (!token.empty()) query.push_back(absl::StrCat("page=", PercentEncode(token)));
  return absl::StrCat(ClientPath(page.client_id), query.empty() ? "" : "?",
                      absl::StrJoin(query, "&"), "#timeline");
}

void AddTimeline(Context& ctx, TemplateMap& out) {
  const ClientPage& page = ctx.page();
  TemplateList entries;
  std::set<std::string> orgs, domains;
  for (const v1::TimelineEntry& e : page.timeline.entries()) {
    const google::protobuf::Timestamp& when =
        IsSet(e.occurred_at()) ? e.occurred_at() : e.recorded_at();
    TemplateMap m;
    m.Set("when", IsSet(when) ? StampText(FromProtoTime(when)) : "undated")
        .Set("iso", IsSet(when) ? IsoText(FromProtoTime(when)) : "")
        .Set("withheld", e.redacted());
    if (e.redacted()) {
      // Its place in the story and nothing else.
      m.Set("text", kWithheld);
      entries.push_back(std::move(m));
      continue;
    }
    if (!e.organisation().empty()) orgs.insert(e.organisation());
    if (!e.domain().empty()) domains.insert(e.domain());
    TemplateList details;
    for (const std::string& d : e.details()) {
      TemplateMap dm;
      dm.Set("text", d);
      details.push_back(std::move(dm));
    }
    m.Set("kind", KindWords(e.kind()))
        .Set("title", e.title())
        .Set("who", Who(ctx, e.organisation(), e.user()))
        .Set("domain", e.domain().empty() ? "" : CodeWords(e.domain()))
        .Set("details_any", !details.empty())
        .Set("details", std::move(details))
        .Set("partly", e.partly_redacted());
    entries.push_back(std::move(m));
  }

  // Filter choices: the care team and who wrote what is shown, the plan's and the
  // entries' domains, and whatever the filter holds now.
  for (const v1::CareTeamMember& m : page.care_team.members()) orgs.insert(m.organisation_id());
  for (const v1::CarePlanViewItem& item : page.plan.items()) {
    if (!item.redacted() && !item.item().domain().empty()) domains.insert(item.item().domain());
  }
  if (!page.timeline_filter.organisation.empty()) orgs.insert(page.timeline_filter.organisation);
  if (!page.timeline_filter.domain.empty()) domains.insert(page.timeline_filter.domain);
  std::vector<internal::Option> org_options;
  for (const std::string& id : orgs) org_options.push_back({id, ctx.OrgName(id)});
  std::sort(org_options.begin(), org_options.end(),
            [](const auto& a, const auto& b) { return a.label < b.label; });
  org_options.insert(org_options.begin(), {"", "All organisations"});
  std::vector<internal::Option> domain_options = {{"", "All domains"}};
  for (const std::string& d : domains) domain_options.push_back({d, CodeTitle(d)});

  const bool filtered =
      !page.timeline_filter.organisation.empty() || !page.timeline_filter.domain.empty();
  out.Set("timeline_any", !entries.empty())
      .Set("entries", std::move(entries))
      .Set("filtered", filtered)
      .Set("org_options", internal::Options(org_options, page.timeline_filter.organisation))
      .Set("domain_options", internal::Options(domain_options, page.timeline_filter.domain))
      .Set("older_href", page.timeline.next_page_token().empty()
                             ? std::string()
                             : TimelineHref(page, page.timeline.next_page_token()))
      .Set("newest_href",
           page.timeline_filter.page_token.empty() ? std::string() : TimelineHref(page, ""));
}

}  // namespace

absl::StatusOr<std::string> RenderClientPage(const ClientPage& page) {
  Context ctx(page);
  TemplateMap m;
  const std::string heading = page.client_name.empty()
                                  ? absl::StrCat("Client ", page.client_id)
                                  : absl::StrCat(page.client_name, " (", page.client_id, ")");
  TemplateList identifiers;
  for (const v1::ClientIdentifier& id : page.identifiers) {
    TemplateMap i;
    i.Set("value", id.value()).Set("system", id.system());
    identifiers.push_back(std::move(i));
  }
  m.Set("heading", heading)
      .Set("client_href", ClientPath(page.client_id))
      .Set("csrf", page.viewer.csrf_token)
      .Set("version", page.plan.version())
      .Set("identifiers_any", !identifiers.empty())
      .Set("identifiers", std::move(identifiers));

  TemplateList team = CareTeamRows(ctx);
  m.Set("team_any", !team.empty()).Set("team", std::move(team));
  AddPlan(ctx, m);
  AddReferrals(ctx, m);
  TemplateList consent;
  for (const std::string& sentence : page.consent_summary) {
    TemplateMap c;
    c.Set("sentence", sentence);
    consent.push_back(std::move(c));
  }
  m.Set("consent_any", !consent.empty()).Set("consent", std::move(consent));
  AddTimeline(ctx, m);
  return internal::RenderPage("client.html", heading, &page.viewer, page.flash, m);
}

}  // namespace switchboard::gateway::web
