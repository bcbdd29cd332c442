#include "gateway/careplan/timeline.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gateway/careplan/names.h"
#include "gateway/store/keys.h"
#include "policy/consent_policy.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::gateway::careplan {
namespace {

using store::Cf;
namespace keys = store::keys;

// Narrative longer than this is cut in a timeline line (the whole text is in
// the message).
constexpr size_t kMaxLine = 240;

std::string Cut(const std::string& text) {
  std::string one = absl::StrReplaceAll(text, {{"\n", " "}, {"\r", " "}});
  if (one.size() <= kMaxLine) return one;
  return absl::StrCat(one.substr(0, kMaxLine), "…");
}

std::string Day(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d", FromProtoTime(ts), absl::UTCTimeZone());
}

v1::TimelineEntry::Kind KindOf(const v1::Message& message) {
  switch (message.payload_case()) {
    case v1::Message::kCarePlanChange: return v1::TimelineEntry::PLAN_CHANGE;
    case v1::Message::kReferral: return v1::TimelineEntry::REFERRAL;
    case v1::Message::kConsentChange: return v1::TimelineEntry::CONSENT_CHANGE;
    default: return v1::TimelineEntry::MESSAGE;
  }
}

void AddSections(const google::protobuf::RepeatedPtrField<v1::Section>& sections,
                 v1::TimelineEntry* out) {
  for (const v1::Section& s : sections) {
    out->add_details(s.title().empty() ? Cut(s.text()) : Cut(absl::StrCat(s.title(), ": ", s.text())));
  }
}

template <typename R>
bool Contains(const R& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

uint64_t AppendTimeline(store::Transaction& txn, const std::string& client_id,
                        v1::StoredTimelineEntry entry) {
  if (!entry.has_recorded_at()) *entry.mutable_recorded_at() = ToProtoTime(txn.now());
  const uint64_t seq = txn.NextSeq();
  const absl::Time at = FromProtoTime(entry.has_occurred_at() ? entry.occurred_at() : entry.recorded_at());
  const uint64_t micros = static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(at)));
  txn.PutProto(Cf::kCarePlans, keys::TimelineEntry(client_id, micros, seq), entry);
  return seq;
}

std::string PageToken(const std::string& position) { return absl::BytesToHexString(position); }

std::optional<std::string> ParsePageToken(const std::string& token) {
  if (token.size() != 32) return std::nullopt;
  for (char c : token) {
    if (!absl::ascii_isxdigit(c)) return std::nullopt;
  }
  return absl::HexStringToBytes(token);
}

v1::StoredTimelineEntry MessageEntry(const v1::Message& message, uint64_t message_seq) {
  v1::StoredTimelineEntry e;
  e.set_kind(KindOf(message));
  *e.mutable_occurred_at() = message.header().occurred_at();
  e.set_organisation(message.header().source());
  e.set_user(message.header().author());
  e.set_message_seq(message_seq);
  if (message.has_referral()) e.set_referral_id(message.referral().referral_id());
  return e;
}

void DescribeMessage(const v1::Message& message, v1::TimelineEntry* out) {
  out->set_event(message.header().event());
  switch (message.payload_case()) {
    case v1::Message::kDischargeNote: {
      const v1::DischargeNote& d = message.discharge_note();
      out->set_domain("health");
      out->set_title(absl::StrCat("Discharge summary: ", d.title()));
      std::string stay;
      if (d.has_admitted_at()) absl::StrAppend(&stay, "admitted ", Day(d.admitted_at()));
      if (d.has_discharged_at()) {
        absl::StrAppend(&stay, stay.empty() ? "" : ", ", "discharged ", Day(d.discharged_at()));
      }
      if (!d.discharge_disposition().empty()) {
        absl::StrAppend(&stay, stay.empty() ? "" : " ", "to ", d.discharge_disposition());
      }
      if (!stay.empty()) out->add_details(stay);
      AddSections(d.sections(), out);
      break;
    }
    case v1::Message::kCaseNote: {
      const v1::CaseNote& c = message.case_note();
      out->set_domain(c.domain());
      out->set_title(absl::StrCat("Case note: ", c.title().empty() ? "(untitled)" : c.title()));
      AddSections(c.sections(), out);
      break;
    }
    case v1::Message::kReferral: {
      const v1::Referral& r = message.referral();
      out->set_referral_id(r.referral_id());
      if (r.status() == v1::Referral::REQUESTED) {
        out->set_title(absl::StrCat("Referral ", r.referral_id(), " to ", r.target(), ": ",
                                    r.service()));
        if (!r.reason().empty()) out->add_details(Cut(absl::StrCat("reason: ", r.reason())));
      } else {
        out->set_title(absl::StrCat("Referral ", r.referral_id(), " (", r.service(), ") ",
                                    ReferralStatusName(r.status())));
        if (!r.status_reason().empty()) out->add_details(Cut(absl::StrCat("reason: ", r.status_reason())));
      }
      if (!r.note().empty()) out->add_details(Cut(absl::StrCat("note: ", r.note())));
      break;
    }
    case v1::Message::kCarePlanChange: {
      const v1::CarePlanChange& c = message.care_plan_change();
      std::vector<std::string> domains;
      for (const v1::CarePlanItem& item : c.items()) {
        if (!item.domain().empty() && !Contains(domains, item.domain())) domains.push_back(item.domain());
        out->add_details(Cut(absl::StrCat(KindName(item.kind()), " ", item.id(),
                                          item.domain().empty() ? "" : absl::StrCat(" [", item.domain(), "]"),
                                          " ", ItemStatusName(item.status()), ": ", item.description())));
        if (item.progress_size() > 0) {
          out->add_details(absl::StrCat("  ", ProgressText(item.progress(item.progress_size() - 1))));
        }
      }
      out->set_domain(absl::StrJoin(domains, ","));
      out->set_title(c.items_size() == 1
                         ? absl::StrCat("Care plan: ", KindName(c.items(0).kind()), " ",
                                        c.items(0).id(), " ", ItemStatusName(c.items(0).status()))
                         : absl::StrCat("Care plan: ", c.items_size(), " items changed"));
      break;
    }
    case v1::Message::kConsentChange: {
      const v1::Consent& c = message.consent_change().consent();
      out->set_title(absl::StrCat("Consent ", c.id(), " recorded (",
                                  absl::AsciiStrToLower(v1::Consent::Status_Name(c.status())), ")"));
      break;
    }
    case v1::Message::kNotification:
      out->set_title(absl::StrCat("Notice (", message.notification().kind(), "): ",
                                  Cut(message.notification().text())));
      break;
    case v1::Message::PAYLOAD_NOT_SET:
      out->set_title("(empty message)");
      break;
  }
}

absl::StatusOr<TimelinePage> ReadTimeline(const store::Store& store,
                                          const consent::AccessDecider& decider,
                                          const consent::ClientState& state,
                                          const registry::Directory::Snapshot& dir,
                                          const TimelineQuery& query, absl::Time now) {
  const std::string& reader = query.reader;
  const bool coordinator = consent::IsCoordinator(state.care_team, dir, reader, now);
  const bool filtered = !query.organisations.empty() || !query.domains.empty();

  // The reader's view of one stored entry.
  auto render = [&](const v1::StoredTimelineEntry& stored,
                    uint64_t seq) -> absl::StatusOr<v1::TimelineEntry> {
    v1::TimelineEntry e;
    e.set_seq(seq);
    e.set_kind(stored.kind());
    *e.mutable_occurred_at() = stored.occurred_at();
    *e.mutable_recorded_at() = stored.recorded_at();
    e.set_organisation(stored.organisation());
    e.set_user(stored.user());
    e.set_referral_id(stored.referral_id());
    auto withheld = [&]() {
      v1::TimelineEntry w;
      w.set_seq(seq);
      w.set_kind(v1::TimelineEntry::MESSAGE);
      // Its place in the story (the order of the entries says as much).
      *w.mutable_occurred_at() = stored.occurred_at();
      w.set_redacted(true);
      return w;
    };
    // Whether the consent lets the reader see the message at `message_seq`;
    // the message as the reader may see it.
    auto decide = [&](uint64_t message_seq,
                      v1::Message* seen) -> absl::StatusOr<std::optional<bool>> {
      v1::StoredMessage msg;
      SB_ASSIGN_OR_RETURN(bool found, store.GetProto(Cf::kMessages, keys::Sequence(message_seq), &msg));
      if (!found) return std::optional<bool>();
      if (msg.message().header().source() == reader) {
        *seen = msg.message();
        return std::optional<bool>(false);
      }
      SB_ASSIGN_OR_RETURN(v1::AccessDecision d, decider.Decide(state, reader, msg.message(), now));
      if (d.effect() == v1::AccessDecision::DENY) return std::optional<bool>();
      if (d.effect() == v1::AccessDecision::PERMIT_REDACTED) {
        *seen = policy::Redact(msg.message(), d);
        return std::optional<bool>(true);
      }
      *seen = msg.message();
      return std::optional<bool>(false);
    };
    // Referral parties: the referrer (from the referral's state) and the target.
    auto is_party = [&](const std::string& referral_id,
                        const std::string& target) -> absl::StatusOr<bool> {
      if (reader == target) return true;
      v1::ReferralState r;
      SB_ASSIGN_OR_RETURN(bool found, store.GetProto(Cf::kCarePlans,
                                                     keys::Referral(state.client_id, referral_id), &r));
      return found && (r.referrer() == reader || r.referral().target() == reader);
    };

    if (stored.message_seq() != 0) {
      v1::StoredMessage msg;
      SB_ASSIGN_OR_RETURN(bool found,
                          store.GetProto(Cf::kMessages, keys::Sequence(stored.message_seq()), &msg));
      if (!found) return withheld();
      const v1::Message& m = msg.message();
      if (m.header().source() != reader) {
        bool audience = true;
        if (m.has_referral()) {
          SB_ASSIGN_OR_RETURN(bool party, is_party(m.referral().referral_id(), m.referral().target()));
          audience = coordinator || party;
        } else if (m.has_consent_change() || m.has_notification()) {
          audience = coordinator;
        }
        if (!audience) return withheld();
      }
      v1::Message seen;
      SB_ASSIGN_OR_RETURN(std::optional<bool> partly, decide(stored.message_seq(), &seen));
      if (!partly.has_value()) return withheld();
      // A plan change of which nothing is left says only that something was
      // withheld.
      if (seen.has_care_plan_change() && seen.care_plan_change().items().empty()) return withheld();
      DescribeMessage(seen, &e);
      e.set_partly_redacted(*partly);
      e.set_gateway_message_id(msg.receipt().gateway_message_id());
      return e;
    }
    switch (stored.kind()) {
      case v1::TimelineEntry::CARE_TEAM_CHANGE:
        break;
      case v1::TimelineEntry::ESCALATION: {
        SB_ASSIGN_OR_RETURN(bool party, is_party(stored.referral_id(), ""));
        if (!coordinator && !party) return withheld();
        if (stored.about_message_seq() != 0) {
          v1::Message seen;
          SB_ASSIGN_OR_RETURN(std::optional<bool> partly, decide(stored.about_message_seq(), &seen));
          if (!partly.has_value()) return withheld();
        }
        break;
      }
      default:  // consent changes and anything newer: the coordinators and the audience
        if (!coordinator && !Contains(stored.audience(), reader) && stored.organisation() != reader) {
          return withheld();
        }
        break;
    }
    e.set_title(stored.title());
    *e.mutable_details() = stored.details();
    return e;
  };

  TimelinePage page;
  const std::string prefix = keys::TimelinePrefix(query.client_id);
  std::string upper = query.before.empty() ? store::PrefixUpperBound(prefix) : prefix + query.before;
  auto it = store.NewIterator(Cf::kCarePlans, upper);
  std::string last_position;  // of the last entry looked at
  it->SeekToLast();
  for (; it->Valid(); it->Prev()) {
    const rocksdb::Slice key = it->key();
    if (!key.starts_with(prefix)) break;
    if (static_cast<int>(page.entries.size()) >= query.page_size) {
      page.next = std::move(last_position);
      break;
    }
    const std::optional<uint64_t> seq = keys::TrailingSeq(absl::string_view(key.data(), key.size()));
    if (!seq.has_value()) continue;
    v1::StoredTimelineEntry stored;
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("unparseable timeline entry of client ", query.client_id));
    }
    SB_ASSIGN_OR_RETURN(v1::TimelineEntry e, render(stored, *seq));
    last_position = std::string(key.data() + prefix.size(), key.size() - prefix.size());
    if (filtered) {
      // A withheld entry cannot be matched without saying what it is: a
      // filtered page leaves it out.
      if (e.redacted()) continue;
      if (!query.organisations.empty() && !Contains(query.organisations, e.organisation())) continue;
      if (!query.domains.empty()) {
        bool any = false;
        for (absl::string_view d : absl::StrSplit(e.domain(), ',', absl::SkipEmpty())) {
          any = any || Contains(query.domains, std::string(d));
        }
        if (!any) continue;
      }
    }
    if (e.redacted()) ++page.withheld;
    if (e.partly_redacted()) ++page.partly_withheld;
    page.entries.push_back(std::move(e));
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading the timeline");
  return page;
}

}  // namespace switchboard::gateway::careplan
