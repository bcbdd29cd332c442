// The pure half of plan_commands.h: how care plans, their history, timelines
// and referrals read at a terminal, and the status words sbctl accepts. Kept
// apart from the commands (which read flags and call the gateway) so that
// tests link it alone (library sb::cli_format).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "switchboard/common/time_util.h"
#include "tools/cli/plan_commands.h"

namespace switchboard::tools::sbctl {
namespace {

constexpr char kArrow[] = " → ";
constexpr char kGasScale[] = "gas";

// Columns of text on a terminal: UTF-8 code points (the arrows and dashes
// printed here are one column but several bytes).
size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

// A table whose column widths fit every row: all rows are Fit() first, then
// printed with Row() (possibly between other lines, e.g. headings). Columns are
// two spaces apart; the last is not padded and no line ends in spaces.
class Columns {
 public:
  void Fit(const std::vector<std::string>& row) {
    if (widths_.size() < row.size()) widths_.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths_[i] = std::max(widths_[i], DisplayWidth(row[i]));
    }
  }

  std::string Row(absl::string_view indent, const std::vector<std::string>& row) const {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) {
        const size_t width = i < widths_.size() ? widths_[i] : 0;
        line.append(width - std::min(width, DisplayWidth(row[i])) + 2, ' ');
      }
    }
    absl::StripTrailingAsciiWhitespace(&line);
    return absl::StrCat(line, "\n");
  }

 private:
  std::vector<size_t> widths_;
};

absl::Time At(const google::protobuf::Timestamp& ts) { return FromProtoTime(ts); }

// `2026-11-26 10:02 UTC`, or "-" when unset.
std::string Stamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", At(ts), absl::UTCTimeZone());
}

// `2026-11-26`, or "" when unset.
std::string Day(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d", At(ts), absl::UTCTimeZone());
}

// `ORG (USER)`, `ORG`, or "" when neither is known.
std::string Who(const std::string& organisation, const std::string& user) {
  if (user.empty()) return organisation;
  if (organisation.empty()) return absl::StrCat("(", user, ")");
  return absl::StrCat(organisation, " (", user, ")");
}

// An enum value name as people write it: ON_HOLD -> on-hold.
std::string Words(absl::string_view enum_name) {
  return absl::StrReplaceAll(absl::AsciiStrToLower(enum_name), {{"_", "-"}});
}

std::string KindText(v1::CarePlanItem::Kind kind) {
  if (kind == v1::CarePlanItem::KIND_UNSPECIFIED) return "-";
  return Words(v1::CarePlanItem::Kind_Name(kind));
}

std::string ScaleOf(const v1::ProgressEntry& e) {
  return e.scale().empty() ? kGasScale : e.scale();
}

// GAS ratings are shown signed (+1), those of other scales as they are.
std::string Rating(int32_t value, const std::string& scale) {
  if (scale == kGasScale && value > 0) return absl::StrCat("+", value);
  return absl::StrCat(value);
}

// A rating with its scale when that is not GAS: `+1`, `5 (outcome-star)`.
std::string RatingWithScale(const v1::ProgressEntry& e) {
  if (!e.has_attainment()) return "";
  const std::string scale = ScaleOf(e);
  std::string text = Rating(e.attainment(), scale);
  if (scale != kGasScale) absl::StrAppend(&text, " (", scale, ")");
  return text;
}

// `2026-11-20  +1  note text  — author`, the rating column `rating_width` wide
// (left out when 0: no entry of the item has a rating).
std::string ProgressLine(const v1::ProgressEntry& e, size_t rating_width) {
  std::vector<std::string> parts;
  const std::string day = Day(e.at());
  parts.push_back(day.empty() ? std::string(10, ' ') : day);
  if (rating_width > 0) {
    std::string rating = RatingWithScale(e);
    rating.append(rating_width - DisplayWidth(rating), ' ');
    parts.push_back(std::move(rating));
  }
  if (!e.note().empty()) parts.push_back(e.note());
  if (!e.author().empty()) parts.push_back(absl::StrCat("— ", e.author()));
  std::string line = absl::StrJoin(parts, "  ");
  absl::StripTrailingAsciiWhitespace(&line);
  return line;
}

// The progress entries of an item, one line each after `indent`.
std::string ProgressLines(const google::protobuf::RepeatedPtrField<v1::ProgressEntry>& progress,
                          absl::string_view indent) {
  size_t rating_width = 0;
  for (const v1::ProgressEntry& e : progress) {
    rating_width = std::max(rating_width, DisplayWidth(RatingWithScale(e)));
  }
  std::string out;
  for (const v1::ProgressEntry& e : progress) {
    absl::StrAppend(&out, indent, ProgressLine(e, rating_width), "\n");
  }
  return out;
}

std::string WithheldProgressLine(int32_t count, absl::string_view indent) {
  if (count <= 0) return "";
  return absl::StrCat(indent, "(", count, count == 1 ? " progress entry" : " progress entries",
                      " withheld)\n");
}

// `2026-11-01–2027-02-01`, `2026-11-01–`, `–2027-02-01` or "".
std::string PeriodText(const v1::CarePlanItem& item) {
  if (!item.has_period()) return "";
  const std::string start = Day(item.period().start());
  const std::string end = Day(item.period().end());
  if (start.empty() && end.empty()) return "";
  return absl::StrCat(start, "–", end);
}

std::vector<std::string> ItemRow(const v1::CarePlanItem& item) {
  return {item.id(),         KindText(item.kind()),
          item.owner(),      ItemStatusText(item.status()),
          PeriodText(item),  ProgressTrend(item.progress()),
          item.description()};
}

// A redacted entry says only that something was withheld: nothing of the item
// is read, even if (by a gateway bug) some of it was sent.
constexpr char kRedactedRow[] = "REDACTED  (withheld under the client's consent)";

std::string TimelineTag(v1::TimelineEntry::Kind kind) {
  switch (kind) {
    case v1::TimelineEntry::MESSAGE:
      return "[message]";
    case v1::TimelineEntry::PLAN_CHANGE:
      return "[plan]";
    case v1::TimelineEntry::REFERRAL:
      return "[referral]";
    case v1::TimelineEntry::CONSENT_CHANGE:
      return "[consent]";
    case v1::TimelineEntry::CARE_TEAM_CHANGE:
      return "[care team]";
    case v1::TimelineEntry::ESCALATION:
      return "[escalation]";
    default:
      return "[other]";
  }
}

// A word as a POSIX shell reads it back: as is when it holds only safe
// characters, else in single quotes.
std::string ShellQuote(absl::string_view word) {
  const bool safe = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           absl::string_view("-_.,/:=+@%").find(c) != absl::string_view::npos;
  });
  if (safe) return std::string(word);
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

}  // namespace

std::string ItemStatusText(v1::CarePlanItem::Status status) {
  if (status == v1::CarePlanItem::STATUS_UNSPECIFIED) return "-";
  return Words(v1::CarePlanItem::Status_Name(status));
}

std::string ReferralStatusText(v1::Referral::Status status) {
  if (status == v1::Referral::STATUS_UNSPECIFIED) return "-";
  return Words(v1::Referral::Status_Name(status));
}

std::string ProgressTrend(const google::protobuf::RepeatedPtrField<v1::ProgressEntry>& progress) {
  // Runs of ratings on one scale, in order.
  std::vector<std::pair<std::string, std::vector<std::string>>> runs;
  for (const v1::ProgressEntry& e : progress) {
    if (!e.has_attainment()) continue;
    const std::string scale = ScaleOf(e);
    if (runs.empty() || runs.back().first != scale) runs.push_back({scale, {}});
    runs.back().second.push_back(Rating(e.attainment(), scale));
  }
  std::vector<std::string> parts;
  for (const auto& [scale, ratings] : runs) {
    parts.push_back(absl::StrCat(absl::StrJoin(ratings, kArrow),
                                 scale == kGasScale ? "" : absl::StrCat(" (", scale, ")")));
  }
  return absl::StrJoin(parts, "; ");
}

std::string FormatCarePlan(const v1::CarePlanView& view, std::optional<absl::Time> as_of) {
  std::string out = absl::StrCat("client ", view.client_id());
  if (as_of.has_value()) {
    absl::StrAppend(&out, ", as of ",
                    absl::FormatTime("%Y-%m-%d %H:%M UTC", *as_of, absl::UTCTimeZone()));
  }
  absl::StrAppend(&out, "\n");
  if (view.version() == 0) return absl::StrCat(out, "no care plan yet\n");
  absl::StrAppend(&out, "version ", view.version(), ", updated ", Stamp(view.updated_at()), " by ",
                  Who(view.updated_by_organisation(), view.updated_by_user()), "\n");
  if (view.items().empty()) return absl::StrCat(out, "no items\n");

  // Visible items by domain (sorted; "" is put last), in plan order within one.
  std::map<std::string, std::vector<const v1::CarePlanViewItem*>> by_domain;
  std::vector<const v1::CarePlanViewItem*> withheld;
  const std::vector<std::string> header = {"ID",     "KIND",     "OWNER",      "STATUS",
                                           "PERIOD", "PROGRESS", "DESCRIPTION"};
  Columns columns;
  columns.Fit(header);
  for (const v1::CarePlanViewItem& entry : view.items()) {
    if (entry.redacted()) {
      withheld.push_back(&entry);
      continue;
    }
    by_domain[entry.item().domain()].push_back(&entry);
    columns.Fit(ItemRow(entry.item()));
  }
  std::vector<std::pair<std::string, const std::vector<const v1::CarePlanViewItem*>*>> groups;
  for (const auto& [domain, entries] : by_domain) {
    if (!domain.empty()) groups.push_back({domain, &entries});
  }
  if (auto it = by_domain.find(""); it != by_domain.end()) {
    groups.push_back({"(no domain)", &it->second});
  }

  absl::StrAppend(&out, "\n", columns.Row("  ", header));
  for (const auto& [heading, entries] : groups) {
    absl::StrAppend(&out, heading, "\n");
    for (const v1::CarePlanViewItem* entry : *entries) {
      absl::StrAppend(&out, columns.Row("  ", ItemRow(entry->item())),
                      ProgressLines(entry->item().progress(), "      "),
                      WithheldProgressLine(entry->redacted_progress(), "      "));
    }
  }
  if (!withheld.empty()) {
    absl::StrAppend(&out, "withheld\n");
    for (size_t i = 0; i < withheld.size(); ++i) absl::StrAppend(&out, "  ", kRedactedRow, "\n");
  }
  return out;
}

std::string FormatPlanHistory(const v1::CarePlanHistoryResponse& history) {
  if (history.versions().empty()) {
    return absl::StrCat("no care plan of ", history.client_id(), " yet\n");
  }
  std::string out =
      absl::StrCat("care plan of ", history.client_id(), ": ", history.versions_size(),
                   history.versions_size() == 1 ? " version" : " versions", ", newest first\n");
  for (const v1::CarePlanVersion& v : history.versions()) {
    std::vector<std::string> parts = {absl::StrCat("v", v.version()), Stamp(v.recorded_at())};
    if (const std::string who = Who(v.organisation(), v.user()); !who.empty()) {
      parts.push_back(who);
    }
    if (!v.gateway_message_id().empty()) {
      parts.push_back(absl::StrCat("message ", v.gateway_message_id()));
    }
    if (v.has_occurred_at() && Stamp(v.occurred_at()) != Stamp(v.recorded_at())) {
      parts.push_back(absl::StrCat("(occurred ", Stamp(v.occurred_at()), ")"));
    }
    absl::StrAppend(&out, absl::StrJoin(parts, "  "), "\n");
    for (const v1::CarePlanViewItem& entry : v.changed()) {
      if (entry.redacted()) {
        absl::StrAppend(&out, "    REDACTED (withheld)\n");
        continue;
      }
      const v1::CarePlanItem& item = entry.item();
      absl::StrAppend(&out, "    ", KindText(item.kind()), " ", item.id(),
                      item.domain().empty() ? "" : absl::StrCat(" [", item.domain(), "]"), " ",
                      ItemStatusText(item.status()),
                      item.description().empty() ? "" : absl::StrCat(": ", item.description()),
                      "\n");
      if (!item.progress().empty()) {
        const v1::ProgressEntry& newest = *item.progress().rbegin();
        absl::StrAppend(&out, "      ", ProgressLine(newest, DisplayWidth(RatingWithScale(newest))),
                        "\n");
      }
      absl::StrAppend(&out, WithheldProgressLine(entry.redacted_progress(), "      "));
    }
  }
  return out;
}

std::string FormatTimeline(const v1::GetTimelineResponse& timeline, const std::string& client_arg,
                           const std::vector<std::string>& repeat_flags) {
  std::string out;
  if (timeline.entries().empty()) {
    absl::StrAppend(&out, "nothing in the timeline of ", timeline.client_id(),
                    " that you may see\n");
  } else {
    absl::StrAppend(&out, "timeline of ", timeline.client_id(), ", newest first\n");
  }
  std::optional<std::string> day;  // of the entry before
  for (const v1::TimelineEntry& e : timeline.entries()) {
    // When it happened (a withheld entry has only that: its place in the story).
    const google::protobuf::Timestamp& when = e.has_occurred_at() ? e.occurred_at() : e.recorded_at();
    const std::string entry_day = Day(when);
    if (entry_day != day) {
      day = entry_day;
      absl::StrAppend(&out, entry_day.empty() ? "(no date)" : entry_day, "\n");
    }
    const std::string clock =
        entry_day.empty() ? "--:--" : absl::FormatTime("%H:%M", At(when), absl::UTCTimeZone());
    if (e.redacted()) {
      absl::StrAppend(&out, "  ", clock,
                      "  (withheld: an entry you may not see under the client's consent)\n");
      continue;
    }
    std::vector<std::string> parts = {clock};
    if (const std::string who = Who(e.organisation(), e.user()); !who.empty()) {
      parts.push_back(who);
    }
    parts.push_back(absl::StrCat(TimelineTag(e.kind()), e.title().empty() ? "" : " ", e.title(),
                                 e.partly_redacted() ? "  (some content withheld)" : ""));
    absl::StrAppend(&out, "  ", absl::StrJoin(parts, "  "), "\n");
    for (const std::string& detail : e.details()) {
      absl::StrAppend(&out, std::string(10, ' '), detail, "\n");
    }
  }
  if (!timeline.next_page_token().empty()) {
    std::vector<std::string> words = {"sbctl", "plan", "timeline", ShellQuote(client_arg)};
    for (const std::string& flag : repeat_flags) words.push_back(ShellQuote(flag));
    words.push_back("--page_token");
    words.push_back(ShellQuote(timeline.next_page_token()));
    absl::StrAppend(&out, "more: ", absl::StrJoin(words, " "), "\n");
  }
  return out;
}

std::string FormatReferrals(const v1::ListReferralsResponse& referrals) {
  if (referrals.referrals().empty()) {
    return absl::StrCat("no referral of ", referrals.client_id(),
                        " that you may see (the parties to a referral and the client's "
                        "coordinators see it)\n");
  }
  const std::vector<std::string> header = {"REFERRAL", "SERVICE", "REFERRER → TARGET",
                                           "STATUS",   "UPDATED", "ESCALATED"};
  auto row = [](const v1::ReferralState& r) -> std::vector<std::string> {
    return {r.referral().referral_id(),
            r.referral().service(),
            absl::StrCat(r.referrer(), kArrow, r.referral().target()),
            ReferralStatusText(r.referral().status()),
            Stamp(r.updated_at()),
            Day(r.escalated_at())};
  };
  auto step_row = [](const v1::ReferralStep& s) -> std::vector<std::string> {
    const std::string who = Who(s.organisation(), s.user());
    return {s.has_at() ? absl::FormatTime("%Y-%m-%d %H:%M", At(s.at()), absl::UTCTimeZone()) : "-",
            ReferralStatusText(s.status()), who.empty() ? "" : absl::StrCat("by ", who),
            s.status_reason()};
  };
  Columns columns;
  Columns steps;
  columns.Fit(header);
  for (const v1::ReferralState& r : referrals.referrals()) {
    columns.Fit(row(r));
    for (const v1::ReferralStep& s : r.steps()) steps.Fit(step_row(s));
  }
  std::string out = absl::StrCat("referrals of ", referrals.client_id(), ", newest first\n\n",
                                 columns.Row("", header));
  for (const v1::ReferralState& r : referrals.referrals()) {
    absl::StrAppend(&out, columns.Row("", row(r)));
    for (const v1::ReferralStep& s : r.steps()) absl::StrAppend(&out, steps.Row("  ", step_row(s)));
  }
  return out;
}

std::string FormatUpdateResponse(const v1::UpdateCarePlanResponse& response) {
  return absl::StrCat("version ", response.version(), " (message ", response.message_id(),
                      ", gateway id ", response.gateway_message_id(), ")\n");
}

absl::StatusOr<v1::CarePlanItem::Status> ParseItemStatus(absl::string_view text) {
  const std::string name =
      absl::StrReplaceAll(absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text)), {{"-", "_"}});
  v1::CarePlanItem::Status status;
  if (v1::CarePlanItem::Status_Parse(name, &status) &&
      status != v1::CarePlanItem::STATUS_UNSPECIFIED) {
    return status;
  }
  std::vector<std::string> allowed;
  for (int i = v1::CarePlanItem::Status_MIN; i <= v1::CarePlanItem::Status_MAX; ++i) {
    if (v1::CarePlanItem::Status_IsValid(i) && i != v1::CarePlanItem::STATUS_UNSPECIFIED) {
      allowed.push_back(ItemStatusText(static_cast<v1::CarePlanItem::Status>(i)));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a care plan item status: ", absl::StrJoin(allowed, ", ")));
}

absl::StatusOr<v1::Referral::Status> ParseReferralStatus(absl::string_view text) {
  // FHIR R4 Task.status codes a referral moves to after it was requested.
  static constexpr std::pair<absl::string_view, v1::Referral::Status> kCodes[] = {
      {"received", v1::Referral::RECEIVED},       {"accepted", v1::Referral::ACCEPTED},
      {"rejected", v1::Referral::REJECTED},       {"declined", v1::Referral::REJECTED},
      {"in-progress", v1::Referral::IN_PROGRESS}, {"on-hold", v1::Referral::ON_HOLD},
      {"completed", v1::Referral::COMPLETED},     {"cancelled", v1::Referral::CANCELLED},
      {"failed", v1::Referral::FAILED},
  };
  const std::string code =
      absl::StrReplaceAll(absl::AsciiStrToLower(absl::StripAsciiWhitespace(text)), {{"_", "-"}});
  std::vector<absl::string_view> allowed;
  for (const auto& [name, status] : kCodes) {
    if (name == code) return status;
    allowed.push_back(name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a referral status: ", absl::StrJoin(allowed, ", "),
                   " (declined is rejected)"));
}

}  // namespace switchboard::tools::sbctl
