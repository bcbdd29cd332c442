#include "adapters/hl7v2/hl7v2_adapter.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "switchboard/common/status_macros.h"
#include "switchboard/common/time_util.h"

namespace switchboard::adapters::hl7v2 {
namespace {

using google::protobuf::Timestamp;

absl::Status Invalid(absl::string_view location, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(location, ": ", what));
}

// ---------------------------------------------------------------------------
// Tables.

// Message types and trigger events this adapter knows, and the default events.
constexpr absl::string_view kTriggers[] = {"ADT^A01", "ADT^A03", "ADT^A04", "MDM^T02", "REF^I12"};

std::map<std::string, std::string> DefaultTriggers() {
  return {{"ADT^A03", "discharge"}, {"MDM^T02", "case-note"}, {"REF^I12", "referral"}};
}

// HL7 table 0112 (discharge disposition, UB-92 codes) <-> our lower-case
// DischargeNote.discharge_disposition codes, for the common codes. Other codes are
// kept as their PV1-36.2 text, else the code itself.
struct Disposition {
  absl::string_view hl7;
  absl::string_view canonical;
  absl::string_view text;
};
constexpr Disposition kDispositions[] = {
    {"01", "home", "Discharged to home or self care"},
    {"02", "short-term-hospital", "Discharged/transferred to another short term hospital"},
    {"03", "skilled-nursing-facility", "Discharged/transferred to skilled nursing facility"},
    {"04", "intermediate-care-facility", "Discharged/transferred to intermediate care facility"},
    {"05", "other-institution", "Discharged/transferred to another type of institution"},
    {"06", "home-health-care", "Discharged/transferred to home under care of home health"},
    {"07", "left-against-medical-advice", "Left against medical advice"},
    {"08", "home-iv-provider", "Discharged/transferred to home under care of home IV provider"},
    {"09", "admitted-as-inpatient", "Admitted as an inpatient to this hospital"},
    {"20", "expired", "Expired"},
    {"30", "still-patient", "Still patient"},
};

// HL7 table 0283 (referral status) is only A, E, P, R.
absl::StatusOr<v1::Referral::Status> ReferralStatusFromHl7(absl::string_view code) {
  if (code.empty() || code == "P") return v1::Referral::REQUESTED;  // pending: not yet decided
  if (code == "A") return v1::Referral::ACCEPTED;
  if (code == "R") return v1::Referral::REJECTED;
  if (code == "E") return v1::Referral::CANCELLED;  // expired: no longer to be acted on
  return Invalid(
      "RF1-1", absl::StrCat("referral status '", code, "' is not in HL7 table 0283 (A, E, P, R)"));
}

// Lossy where Task.status is finer than table 0283: work under way or done after
// acceptance is still "accepted"; a failed referral reads as rejected.
std::vector<std::string> ReferralStatusToHl7(v1::Referral::Status status) {
  switch (status) {
    case v1::Referral::REQUESTED:
    case v1::Referral::RECEIVED:
      return {"P", "Pending", "HL70283"};
    case v1::Referral::ACCEPTED:
    case v1::Referral::IN_PROGRESS:
    case v1::Referral::ON_HOLD:
    case v1::Referral::COMPLETED:
      return {"A", "Accepted", "HL70283"};
    case v1::Referral::REJECTED:
    case v1::Referral::FAILED:
      return {"R", "Rejected", "HL70283"};
    case v1::Referral::CANCELLED:
      return {"E", "Expired", "HL70283"};
    default:
      return {};
  }
}

// ---------------------------------------------------------------------------
// Values.

// HL7 DTM with a UTC offset: YYYYMMDDHHMM[SS[.S[S[S[S]]]]]+/-ZZZZ. Dates alone and
// times without an offset are refused rather than guessed.
absl::StatusOr<Timestamp> ParseDtm(absl::string_view location, absl::string_view value) {
  const absl::Status bad = Invalid(location, absl::StrCat("'", value,
                                                          "' is not an HL7 DTM with a UTC offset "
                                                          "(YYYYMMDDHHMM[SS[.SSSS]]+ZZZZ)"));
  const size_t sign = value.find_first_of("+-");
  if (sign == absl::string_view::npos) return bad;
  absl::string_view main = value.substr(0, sign);
  absl::string_view offset = value.substr(sign + 1);
  absl::string_view fraction;
  if (size_t dot = main.find('.'); dot != absl::string_view::npos) {
    fraction = main.substr(dot + 1);
    main = main.substr(0, dot);
    if (main.size() != 14 || fraction.empty() || fraction.size() > 4) return bad;
  }
  auto all_digits = [](absl::string_view s) {
    for (char c : s) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  if ((main.size() != 12 && main.size() != 14) || offset.size() != 4 || !all_digits(main) ||
      !all_digits(offset) || !all_digits(fraction)) {
    return bad;
  }
  auto num = [](absl::string_view s) {
    int n = 0;
    for (char c : s) n = n * 10 + (c - '0');
    return n;
  };
  const int y = num(main.substr(0, 4)), mo = num(main.substr(4, 2)), d = num(main.substr(6, 2)),
            h = num(main.substr(8, 2)), mi = num(main.substr(10, 2)),
            s = main.size() == 14 ? num(main.substr(12, 2)) : 0;
  const absl::CivilSecond civil(y, mo, d, h, mi, s);
  // CivilSecond normalises (month 13 -> next year); a changed field means invalid.
  if (civil.year() != y || civil.month() != mo || civil.day() != d || civil.hour() != h ||
      civil.minute() != mi || civil.second() != s) {
    return bad;
  }
  const int off_h = num(offset.substr(0, 2)), off_m = num(offset.substr(2, 2));
  if (off_h > 14 || off_m > 59) return bad;
  absl::Duration off = absl::Hours(off_h) + absl::Minutes(off_m);
  if (value[sign] == '-') off = -off;
  absl::Time t = absl::FromCivil(civil, absl::UTCTimeZone()) - off;
  if (!fraction.empty()) {
    int64_t nanos = num(fraction);
    for (size_t i = fraction.size(); i < 9; ++i) nanos *= 10;
    t += absl::Nanoseconds(nanos);
  }
  return ToProtoTime(t);
}

// UTC, with 1/10000 s when the time has a fraction (HL7 DTM allows no more).
std::string FormatDtm(const Timestamp& ts) {
  const absl::Time t = FromProtoTime(ts);
  std::string out = absl::FormatTime("%Y%m%d%H%M%S", t, absl::UTCTimeZone());
  if (ts.nanos() / 100000 != 0) {
    absl::StrAppend(&out, ".", absl::FormatTime("%E4f", t, absl::UTCTimeZone()).substr(2));
  }
  absl::StrAppend(&out, "+0000");
  return out;
}

// A TX/FT/ST value as written: components and subcomponents rejoined, because a
// sender that did not escape '^' or '&' in text still meant them as text.
std::string RepetitionText(const Repetition& rep) {
  std::vector<std::string> parts;
  for (const Component& c : rep.components())
    parts.push_back(absl::StrJoin(c.subcomponents(), "&"));
  return absl::StrJoin(parts, "^");
}

// All repetitions of a field as lines.
std::string FieldText(const Field& field) {
  std::vector<std::string> lines;
  for (const Repetition& r : field.repetitions()) lines.push_back(RepetitionText(r));
  return absl::StrJoin(lines, "\n");
}

// One repetition per line (TX has no line-break escape of its own).
Field TextField(absl::string_view text) {
  std::vector<Repetition> reps;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    reps.push_back(Repetition::Of({std::string(line)}));
  }
  return Field(std::move(reps));
}

std::string JoinNonEmpty(std::vector<std::string> parts, absl::string_view sep) {
  parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
  return absl::StrJoin(parts, sep);
}

// XCN (id^family^given...) or XPN (family^given...) as "Given Family".
std::string PersonName(const Repetition& r, int family_component) {
  return JoinNonEmpty(
      {r.component(family_component + 1).value(), r.component(family_component).subcomponent(1)},
      " ");
}

// "Given Names Family" -> {family, given}: the last word is the family name.
std::pair<std::string, std::string> SplitName(absl::string_view name) {
  const size_t space = name.rfind(' ');
  if (space == absl::string_view::npos) return {std::string(name), ""};
  return {std::string(name.substr(space + 1)), std::string(name.substr(0, space))};
}

// CE/CWE text, else its code.
std::string CodedText(const Field& f) {
  return f.component(2).value().empty() ? f.component(1).value() : f.component(2).value();
}

// Builds a segment by field number.
class SegmentBuilder {
 public:
  explicit SegmentBuilder(std::string id) : id_(std::move(id)) {}
  SegmentBuilder& Set(int number, Field value) {
    if (fields_.size() < static_cast<size_t>(number)) fields_.resize(number);
    fields_[number - 1] = std::move(value);
    return *this;
  }
  SegmentBuilder& Set(int number, std::vector<std::string> components) {
    return Set(number, Field::Of(std::move(components)));
  }
  Segment Build() { return Segment(id_, std::move(fields_)); }

 private:
  std::string id_;
  std::vector<Field> fields_;
};

// ---------------------------------------------------------------------------
// Shared pieces of the message structures.

// Sections from OBX segments with TX/FT/ST text: OBX-3.1 code, OBX-3.2 title,
// OBX-5 repetitions as lines. Other value types (CE, NM, ...) are not narrative.
std::vector<v1::Section> ObxSections(const Message& in) {
  std::vector<v1::Section> sections;
  for (const Segment& s : in.segments()) {
    if (s.id() != "OBX") continue;
    const std::string& type = s.field(2).value();
    if (type != "TX" && type != "FT" && type != "ST") continue;
    v1::Section section;
    section.set_code(s.field(3).component(1).value());
    section.set_title(s.field(3).component(2).value());
    section.set_text(FieldText(s.field(5)));
    sections.push_back(std::move(section));
  }
  return sections;
}

// DG1-3 diagnoses as "code text" lines.
std::string Diagnoses(const Message& in) {
  std::vector<std::string> lines;
  for (const Segment& s : in.segments()) {
    if (s.id() != "DG1") continue;
    std::string line =
        JoinNonEmpty({s.field(3).component(1).value(), s.field(3).component(2).value()}, " ");
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return absl::StrJoin(lines, "\n");
}

std::vector<Segment> EncodeObx(const google::protobuf::RepeatedPtrField<v1::Section>& sections) {
  std::vector<Segment> out;
  int n = 0;
  for (const v1::Section& section : sections) {
    out.push_back(SegmentBuilder("OBX")
                      .Set(1, {absl::StrCat(++n)})
                      .Set(2, {"TX"})
                      .Set(3, {section.code(), section.title()})
                      .Set(5, TextField(section.text()))
                      .Set(11, {"F"})
                      .Build());
  }
  return out;
}

Segment EncodeEvn(absl::string_view trigger, const v1::MessageHeader& header) {
  SegmentBuilder evn("EVN");
  evn.Set(1, {std::string(trigger.substr(4))});
  if (header.has_occurred_at()) evn.Set(2, {FormatDtm(header.occurred_at())});
  if (!header.author().empty()) {
    auto [family, given] = SplitName(header.author());
    evn.Set(5, {"", family, given});
  }
  return evn.Build();
}

}  // namespace

// ---------------------------------------------------------------------------
// Construction.

Hl7v2Adapter::Hl7v2Adapter(v1::adapters::Hl7v2Config config) : config_(std::move(config)) {}

absl::StatusOr<std::unique_ptr<Hl7v2Adapter>> Hl7v2Adapter::Create(
    v1::adapters::Hl7v2Config config) {
  if (config.source().empty()) return Invalid("config.source", "required");
  if (config.sending_facility().empty()) return Invalid("config.sending_facility", "required");
  if (config.assigning_authorities().empty()) {
    return Invalid("config.assigning_authorities", "at least one is required");
  }
  std::unique_ptr<Hl7v2Adapter> adapter(new Hl7v2Adapter(config));
  for (const auto& [authority, system] : config.assigning_authorities()) {
    const std::string field = absl::StrCat("config.assigning_authorities['", authority, "']");
    if (authority.empty()) return Invalid("config.assigning_authorities", "empty authority");
    if (system.empty()) return Invalid(field, "identifier system is required");
    auto [it, inserted] = adapter->authority_by_system_.emplace(system, authority);
    if (!inserted) {
      return Invalid(field, absl::StrCat("system '", system, "' is also named by '", it->second,
                                         "'; each system needs one authority"));
    }
  }
  if (!config.own_assigning_authority().empty() &&
      !config.assigning_authorities().contains(config.own_assigning_authority())) {
    return Invalid("config.own_assigning_authority",
                   absl::StrCat("'", config.own_assigning_authority(),
                                "' is not a key of config.assigning_authorities"));
  }
  adapter->triggers_ = DefaultTriggers();
  for (const auto& [trigger, event] : config.trigger_events()) {
    const std::string field = absl::StrCat("config.trigger_events['", trigger, "']");
    if (std::find(std::begin(kTriggers), std::end(kTriggers), trigger) == std::end(kTriggers)) {
      return Invalid(
          field, absl::StrCat("unsupported trigger; supported: ", absl::StrJoin(kTriggers, ", ")));
    }
    if (event.empty()) return Invalid(field, "event code is required");
    adapter->triggers_[trigger] = event;
  }
  for (const auto& [provider, org] : config.providers()) {
    const std::string field = absl::StrCat("config.providers['", provider, "']");
    if (provider.empty()) return Invalid("config.providers", "empty provider id");
    if (org.empty()) return Invalid(field, "organisation id is required");
    // Several providers (teams) may be one organisation: the smallest id is written.
    auto [it, inserted] = adapter->provider_by_org_.emplace(org, provider);
    if (!inserted && provider < it->second) it->second = provider;
  }
  return adapter;
}

// ---------------------------------------------------------------------------
// Inbound.

absl::StatusOr<v1::Message> Hl7v2Adapter::Decode(absl::string_view content_type,
                                                 absl::string_view bytes) const {
  return DecodeMessage(content_type, bytes, /*ignored=*/nullptr);
}

absl::StatusOr<DecodeResult> Hl7v2Adapter::DecodeWithReport(absl::string_view content_type,
                                                            absl::string_view bytes) const {
  DecodeResult result;
  SB_ASSIGN_OR_RETURN(result.message, DecodeMessage(content_type, bytes, &result.ignored));
  return result;
}

absl::StatusOr<v1::Message> Hl7v2Adapter::DecodeMessage(absl::string_view content_type,
                                                        absl::string_view bytes,
                                                        std::vector<std::string>* ignored) const {
  const absl::string_view media =
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';')));
  if (!absl::EqualsIgnoreCase(media, kContentType) &&
      !absl::EqualsIgnoreCase(media, kContentTypeEr7)) {
    return Invalid("content type", absl::StrCat("'", content_type, "' is not ", kContentType,
                                                " or ", kContentTypeEr7));
  }
  SB_ASSIGN_OR_RETURN(const Message in, ParseEr7(bytes));
  const Segment& msh = in.segment("MSH");

  const std::string& facility = msh.field(4).component(1).value();
  if (facility != config_.sending_facility()) {
    return Invalid("MSH-4", absl::StrCat("sending facility '", facility, "' is not '",
                                         config_.sending_facility(),
                                         "', the facility this adapter is configured for"));
  }
  const std::string& type = msh.field(9).component(1).value();
  const std::string trigger = absl::StrCat(type, "^", msh.field(9).component(2).value());
  if (std::find(std::begin(kTriggers), std::end(kTriggers), trigger) == std::end(kTriggers)) {
    return Invalid("MSH-9", absl::StrCat("message type '", trigger, "' is not supported (",
                                         absl::StrJoin(kTriggers, ", "), ")"));
  }
  auto event = triggers_.find(trigger);
  if (event == triggers_.end()) {
    return Invalid("MSH-9", absl::StrCat("trigger event '", trigger,
                                         "' is not mapped to a gateway event "
                                         "(config.trigger_events)"));
  }

  v1::Message out;
  v1::MessageHeader& header = *out.mutable_header();
  header.set_id(msh.field(10).value());
  if (header.id().empty()) return Invalid("MSH-10", "message control id is required");
  header.set_event(event->second);
  header.set_source(config_.source());
  SB_RETURN_IF_ERROR(DecodeClients(in, header, ignored));

  const Segment& evn = in.segment("EVN");
  if (!evn.field(2).value().empty()) {
    SB_ASSIGN_OR_RETURN(*header.mutable_occurred_at(), ParseDtm("EVN-2", evn.field(2).value()));
  } else if (!msh.field(7).value().empty()) {
    SB_ASSIGN_OR_RETURN(*header.mutable_occurred_at(), ParseDtm("MSH-7", msh.field(7).value()));
  } else {
    return Invalid("MSH-7", "message date/time is required (EVN-2 is empty too)");
  }
  const Segment& txa = in.segment("TXA");
  for (const Repetition* r :
       {&evn.field(5).repetition(1), &txa.field(9).repetition(1), &txa.field(5).repetition(1)}) {
    if (header.author().empty()) header.set_author(PersonName(*r, 2));
  }

  if (type == "ADT") {
    SB_ASSIGN_OR_RETURN(*out.mutable_discharge_note(), DecodeAdt(in, trigger));
  } else if (type == "MDM") {
    SB_ASSIGN_OR_RETURN(*out.mutable_case_note(), DecodeMdm(in));
  } else {
    SB_ASSIGN_OR_RETURN(*out.mutable_referral(), DecodeRef(in));
    for (const Segment& s : in.segments()) {
      if (header.author().empty() && s.id() == "PRD" && s.field(1).value() == "RP") {
        header.set_author(PersonName(s.field(2).repetition(1), 1));
      }
    }
  }
  return out;
}

absl::Status Hl7v2Adapter::DecodeClients(const Message& in, v1::MessageHeader& header,
                                         std::vector<std::string>* ignored) const {
  const Field& ids = in.segment("PID").field(3);
  std::vector<std::string> seen;
  const Repetition* chosen = nullptr;
  for (const Repetition& r : ids.repetitions()) {
    const std::string& authority = r.component(4).subcomponent(1);
    seen.push_back(authority.empty() ? "(none)" : authority);
    if (r.component(1).value().empty() || !config_.assigning_authorities().contains(authority)) {
      continue;
    }
    if (authority == config_.own_assigning_authority()) {
      chosen = &r;
      break;
    }
    if (chosen == nullptr) chosen = &r;
  }
  if (chosen == nullptr) {
    return Invalid("PID-3", absl::StrCat("no identifier with a known assigning authority (got ",
                                         seen.empty() ? "none" : absl::StrJoin(seen, ", "), ")"));
  }
  auto identifier_of = [&](const Repetition& r) {
    v1::ClientIdentifier id;
    id.set_system(config_.assigning_authorities().at(r.component(4).subcomponent(1)));
    id.set_value(r.component(1).value());
    return id;
  };
  *header.mutable_client() = identifier_of(*chosen);
  // The other repetitions, in order. One that repeats an identifier already taken
  // (the same id sent twice, e.g. with another CX-5 type) adds nothing and is
  // dropped; one without a value or whose authority is not configured cannot be
  // named as a system and is reported, not refused: the client is already known.
  for (size_t i = 0; i < ids.repetitions().size(); ++i) {
    const Repetition& r = ids.repetitions()[i];
    if (&r == chosen || r.empty()) continue;
    if (r.component(1).value().empty() ||
        !config_.assigning_authorities().contains(r.component(4).subcomponent(1))) {
      if (ignored != nullptr) ignored->push_back(absl::StrCat("PID-3(", i + 1, ")"));
      continue;
    }
    v1::ClientIdentifier id = identifier_of(r);
    auto same = [&id](const v1::ClientIdentifier& other) {
      return other.system() == id.system() && other.value() == id.value();
    };
    if (same(header.client()) || std::any_of(header.other_client_identifiers().begin(),
                                             header.other_client_identifiers().end(), same)) {
      continue;
    }
    *header.add_other_client_identifiers() = std::move(id);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::DischargeNote> Hl7v2Adapter::DecodeAdt(const Message& in,
                                                          absl::string_view trigger) const {
  v1::DischargeNote note;
  note.set_title(trigger == "ADT^A03"   ? "Discharge summary"
                 : trigger == "ADT^A01" ? "Admission"
                                        : "Registration");
  const Segment& pv1 = in.segment("PV1");
  if (const std::string& v = pv1.field(44).value(); !v.empty()) {
    SB_ASSIGN_OR_RETURN(*note.mutable_admitted_at(), ParseDtm("PV1-44", v));
  }
  if (const std::string& v = pv1.field(45).value(); !v.empty()) {
    SB_ASSIGN_OR_RETURN(*note.mutable_discharged_at(), ParseDtm("PV1-45", v));
  }
  const std::string& code = pv1.field(36).component(1).value();
  note.set_discharge_disposition(code);
  if (!pv1.field(36).component(2).value().empty()) {
    note.set_discharge_disposition(pv1.field(36).component(2).value());
  }
  for (const Disposition& d : kDispositions) {
    if (d.hl7 == code) note.set_discharge_disposition(std::string(d.canonical));
  }
  for (v1::Section& s : ObxSections(in)) *note.add_sections() = std::move(s);
  if (note.sections().empty()) {
    std::string diagnoses = Diagnoses(in);
    if (diagnoses.empty()) {
      return Invalid("OBX",
                     "no OBX with TX or FT text and no DG1 diagnosis: a discharge "
                     "note needs at least one section");
    }
    v1::Section* s = note.add_sections();
    s->set_title("Diagnoses");
    s->set_text(std::move(diagnoses));
  }
  return note;
}

absl::StatusOr<v1::CaseNote> Hl7v2Adapter::DecodeMdm(const Message& in) const {
  v1::CaseNote note;
  note.set_title(CodedText(in.segment("TXA").field(2)));
  note.set_domain(config_.case_note_domain());
  for (v1::Section& s : ObxSections(in)) *note.add_sections() = std::move(s);
  if (note.sections().empty()) {
    return Invalid("OBX", "no OBX with TX or FT text: a case note needs at least one section");
  }
  return note;
}

absl::StatusOr<v1::Referral> Hl7v2Adapter::DecodeRef(const Message& in) const {
  const Segment& rf1 = in.segment("RF1");
  v1::Referral referral;
  referral.set_referral_id(rf1.field(6).component(1).value());
  if (referral.referral_id().empty()) {
    return Invalid("RF1-6", "originating referral identifier is required");
  }
  SB_ASSIGN_OR_RETURN(v1::Referral::Status status,
                      ReferralStatusFromHl7(rf1.field(1).component(1).value()));
  referral.set_status(status);
  referral.set_service(CodedText(rf1.field(3)));
  if (referral.service().empty()) referral.set_service(CodedText(rf1.field(5)));
  referral.set_reason(CodedText(rf1.field(10)));
  if (referral.reason().empty()) referral.set_reason(Diagnoses(in));

  const Segment* to = nullptr;
  for (const Segment& s : in.segments()) {
    if (s.id() == "PRD" && s.field(1).value() == "RT") {
      to = &s;
      break;
    }
  }
  if (to == nullptr) return Invalid("PRD-1", "no PRD with role RT (referred-to provider)");
  std::string provider = to->field(7).component(1).value();
  if (provider.empty()) provider = to->field(4).component(4).subcomponent(1);
  auto org = config_.providers().find(provider);
  if (org == config_.providers().end()) {
    return Invalid("PRD-7", absl::StrCat("referred-to provider '", provider,
                                         "' (PRD-7.1, else PRD-4.4) is not in config.providers"));
  }
  referral.set_target(org->second);

  std::vector<std::string> notes;
  for (const Segment& s : in.segments()) {
    if (s.id() == "NTE" && !s.field(3).empty()) notes.push_back(FieldText(s.field(3)));
  }
  referral.set_note(absl::StrJoin(notes, "\n"));
  return referral;
}

// ---------------------------------------------------------------------------
// Outbound.

std::string Hl7v2Adapter::TriggerFor(absl::string_view event, absl::string_view message_type,
                                     absl::string_view fallback) const {
  for (const auto& [trigger, mapped] : triggers_) {
    if (mapped == event && absl::StartsWith(trigger, message_type)) return trigger;
  }
  return std::string(fallback);
}

Segment Hl7v2Adapter::EncodeMsh(const v1::Message& message, absl::string_view trigger) const {
  const auto& out = config_.outbound();
  auto or_default = [](const std::string& v, absl::string_view d) {
    return v.empty() ? std::string(d) : v;
  };
  const std::string structure = absl::StrCat(
      trigger.substr(0, 3), "_", trigger == "ADT^A04" ? "A01" : std::string(trigger.substr(4)));
  SegmentBuilder msh("MSH");
  msh.Set(1, {"|"})
      .Set(2, {"^~\\&"})
      .Set(3, {or_default(out.gateway_application(), "SWITCHBOARD")})
      .Set(4, {or_default(out.gateway_facility(), "SWITCHBOARD")})
      .Set(5, {out.member_application()})
      .Set(6, {or_default(out.member_facility(), config_.sending_facility())})
      .Set(9, {std::string(trigger.substr(0, 3)), std::string(trigger.substr(4)), structure})
      .Set(10, {message.header().id()})
      .Set(11, {"P"})
      .Set(12, {"2.5"});
  // No clock here: the message time is the event time, which keeps Encode pure.
  if (message.header().has_occurred_at()) {
    msh.Set(7, {FormatDtm(message.header().occurred_at())});
  }
  return msh.Build();
}

absl::StatusOr<Segment> Hl7v2Adapter::EncodePid(const v1::Message& message) const {
  const v1::MessageHeader& header = message.header();
  auto authority = authority_by_system_.find(header.client().system());
  if (authority == authority_by_system_.end()) {
    return Invalid("message.header.client.system",
                   absl::StrCat("no assigning authority in config.assigning_authorities for '",
                                header.client().system(), "'"));
  }
  // CX-5 (identifier type) stays empty, for the client as for the others: the
  // canonical model does not carry it and CX-5 is optional in v2.5.
  std::vector<Repetition> ids = {
      Repetition::Of({header.client().value(), "", "", authority->second})};
  // Further identifiers follow the client's, in their order. Those of a system with
  // no configured authority are left out (the recipient could not read them, and
  // the client is named already); so are repeats.
  std::vector<const v1::ClientIdentifier*> written = {&header.client()};
  for (const v1::ClientIdentifier& other : header.other_client_identifiers()) {
    auto other_authority = authority_by_system_.find(other.system());
    if (other_authority == authority_by_system_.end() || other.value().empty()) continue;
    if (std::any_of(written.begin(), written.end(), [&other](const v1::ClientIdentifier* w) {
          return w->system() == other.system() && w->value() == other.value();
        })) {
      continue;
    }
    written.push_back(&other);
    ids.push_back(Repetition::Of({other.value(), "", "", other_authority->second}));
  }
  return SegmentBuilder("PID").Set(1, {"1"}).Set(3, Field(std::move(ids))).Build();
}

absl::StatusOr<PartnerPayload> Hl7v2Adapter::Encode(const v1::Message& message) const {
  const v1::MessageHeader& header = message.header();
  std::vector<Segment> segments;
  SB_ASSIGN_OR_RETURN(Segment pid, EncodePid(message));
  switch (message.payload_case()) {
    case v1::Message::kDischargeNote: {
      const v1::DischargeNote& note = message.discharge_note();
      const std::string trigger = TriggerFor(header.event(), "ADT", "ADT^A03");
      segments.push_back(EncodeMsh(message, trigger));
      segments.push_back(EncodeEvn(trigger, header));
      segments.push_back(std::move(pid));
      SegmentBuilder pv1("PV1");
      pv1.Set(1, {"1"}).Set(2, {"U"});  // patient class unknown: the model has none
      if (!note.discharge_disposition().empty()) {
        pv1.Set(36, {note.discharge_disposition()});
        for (const Disposition& d : kDispositions) {
          if (d.canonical == note.discharge_disposition()) {
            pv1.Set(36, {std::string(d.hl7), std::string(d.text), "HL70112"});
          }
        }
      }
      if (note.has_admitted_at()) pv1.Set(44, {FormatDtm(note.admitted_at())});
      if (note.has_discharged_at()) pv1.Set(45, {FormatDtm(note.discharged_at())});
      segments.push_back(pv1.Build());
      for (Segment& s : EncodeObx(note.sections())) segments.push_back(std::move(s));
      break;
    }
    case v1::Message::kCaseNote: {
      const v1::CaseNote& note = message.case_note();
      const std::string trigger = TriggerFor(header.event(), "MDM", "MDM^T02");
      segments.push_back(EncodeMsh(message, trigger));
      segments.push_back(EncodeEvn(trigger, header));
      segments.push_back(std::move(pid));
      segments.push_back(SegmentBuilder("PV1").Set(1, {"1"}).Set(2, {"N"}).Build());
      SegmentBuilder txa("TXA");
      txa.Set(1, {"1"}).Set(2, {"", note.title()}).Set(3, {"TX"});
      if (header.has_occurred_at()) txa.Set(4, {FormatDtm(header.occurred_at())});
      if (!header.author().empty()) {
        auto [family, given] = SplitName(header.author());
        txa.Set(9, {"", family, given});
      }
      txa.Set(12, {header.id()}).Set(17, {"DO"});  // unique document number; "documented"
      segments.push_back(txa.Build());
      for (Segment& s : EncodeObx(note.sections())) segments.push_back(std::move(s));
      break;
    }
    case v1::Message::kReferral: {
      const v1::Referral& referral = message.referral();
      auto provider = provider_by_org_.find(referral.target());
      if (provider == provider_by_org_.end()) {
        return Invalid("message.referral.target",
                       absl::StrCat("organisation '", referral.target(),
                                    "' has no provider id in config.providers"));
      }
      const std::string trigger = TriggerFor(header.event(), "REF", "REF^I12");
      segments.push_back(EncodeMsh(message, trigger));
      SegmentBuilder rf1("RF1");
      rf1.Set(1, ReferralStatusToHl7(referral.status()))
          .Set(3, {"", referral.service()})
          .Set(6, {referral.referral_id()})
          .Set(10, {"", referral.reason()});
      segments.push_back(rf1.Build());
      if (!header.author().empty()) {
        auto [family, given] = SplitName(header.author());
        segments.push_back(SegmentBuilder("PRD")
                               .Set(1, {"RP", "Referring Provider", "HL70286"})
                               .Set(2, {family, given})
                               .Build());
      }
      segments.push_back(SegmentBuilder("PRD")
                             .Set(1, {"RT", "Referred to Provider", "HL70286"})
                             .Set(7, {provider->second})
                             .Build());
      segments.push_back(std::move(pid));
      if (!referral.note().empty()) {
        segments.push_back(
            SegmentBuilder("NTE").Set(1, {"1"}).Set(3, TextField(referral.note())).Build());
      }
      break;
    }
    default:
      return Invalid(
          "message.payload",
          message.payload_case() == v1::Message::PAYLOAD_NOT_SET
              ? "no payload"
              : absl::StrCat(
                    "payload '",
                    v1::Message::descriptor()->FindFieldByNumber(message.payload_case())->name(),
                    "' has no HL7 v2.5 mapping"));
  }
  return PartnerPayload{std::string(kContentType), EncodeEr7(Message(std::move(segments)))};
}

// ---------------------------------------------------------------------------
// Factory.

std::string Hl7v2Factory::config_type() const {
  return v1::adapters::Hl7v2Config::descriptor()->full_name();
}

absl::StatusOr<std::unique_ptr<Adapter>> Hl7v2Factory::Create(
    const google::protobuf::Any& config) const {
  v1::adapters::Hl7v2Config typed;
  if (!config.UnpackTo(&typed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter '", name(), "': config is '", config.type_url(), "', expected ", config_type()));
  }
  SB_ASSIGN_OR_RETURN(std::unique_ptr<Hl7v2Adapter> adapter, Hl7v2Adapter::Create(typed));
  return std::unique_ptr<Adapter>(std::move(adapter));
}

}  // namespace switchboard::adapters::hl7v2
