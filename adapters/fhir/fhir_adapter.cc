#include "adapters/fhir/fhir_adapter.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapters/fhir/fhir_bundle_reader.h"
#include "adapters/fhir/fhir_care_plan.h"
#include "adapters/fhir/fhir_consent.h"
#include "adapters/fhir/fhir_json.h"
#include "rapidjson/error/en.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::fhir {
namespace {

using internal::BundleReader;
using internal::Entry;
using internal::FirstCode;
using internal::FirstText;
using internal::IdentifierValue;
using internal::Invalid;
using internal::JsonObject;
using internal::ParseDateTime;
using internal::ReadCoding;

constexpr absl::string_view kLoinc = "http://loinc.org";
constexpr absl::string_view kDischargeSummary = "18842-5";

// FHIR Task.status <-> Referral.Status. `draft`, `ready` and `entered-in-error`
// have no canonical counterpart and are refused.
struct TaskStatus {
  absl::string_view fhir;
  v1::Referral::Status canonical;
};
constexpr TaskStatus kTaskStatuses[] = {
    {"requested", v1::Referral::REQUESTED},     {"received", v1::Referral::RECEIVED},
    {"accepted", v1::Referral::ACCEPTED},       {"rejected", v1::Referral::REJECTED},
    {"in-progress", v1::Referral::IN_PROGRESS}, {"on-hold", v1::Referral::ON_HOLD},
    {"completed", v1::Referral::COMPLETED},     {"cancelled", v1::Referral::CANCELLED},
    {"failed", v1::Referral::FAILED},
};

// ---------------------------------------------------------------------------
// Decoding.

class Decoder {
 public:
  Decoder(const v1::adapters::FhirConfig& config, std::vector<std::string>* ignored)
      : config_(config), ignored_(ignored), bundle_(ignored) {}

  absl::StatusOr<v1::Message> Run(const rapidjson::Value& root) {
    SB_ASSIGN_OR_RETURN(JsonObject bundle, JsonObject::At(root, "Bundle", ignored_));
    SB_ASSIGN_OR_RETURN(std::string type, bundle.String("resourceType"));
    if (type != "Bundle") {
      return Invalid("Bundle.resourceType", absl::StrCat("'", type, "' is not a Bundle"));
    }
    SB_ASSIGN_OR_RETURN(std::string bundle_type, bundle.String("type"));
    if (bundle_type != "message") {
      return Invalid("Bundle.type", absl::StrCat("'", bundle_type, "' is not 'message'"));
    }
    bundle.Skip({"id"});
    v1::Message message;
    v1::MessageHeader& header = *message.mutable_header();
    header.set_source(config_.source());
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> identifier, bundle.Object("identifier"));
    if (!identifier) return Invalid("Bundle.identifier", "required");
    SB_ASSIGN_OR_RETURN(*header.mutable_id(), identifier->RequiredString("value"));
    identifier->Skip({"system"});
    identifier->Finish();
    SB_ASSIGN_OR_RETURN(std::string timestamp, bundle.String("timestamp"));
    if (!timestamp.empty()) {
      SB_ASSIGN_OR_RETURN(*header.mutable_occurred_at(),
                          ParseDateTime("Bundle.timestamp", timestamp));
    }
    SB_RETURN_IF_ERROR(DecodeMeta(bundle, header));
    SB_RETURN_IF_ERROR(bundle_.Index(bundle));
    bundle.Finish();

    SB_ASSIGN_OR_RETURN(Entry * focus, DecodeMessageHeader(header));
    SB_RETURN_IF_ERROR(DecodeClient(header));
    SB_RETURN_IF_ERROR(DecodePayload(*focus, message));
    bundle_.Finish();
    return message;
  }

 private:
  absl::Status DecodeMeta(JsonObject& bundle, v1::MessageHeader& header) {
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> meta, bundle.Object("meta"));
    if (!meta) return absl::OkStatus();
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> security, meta->Array("security"));
    for (JsonObject& coding : security) {
      SB_ASSIGN_OR_RETURN(v1::SecurityLabel label, ReadCoding(coding));
      if (label.system() == kPurposeOfUseSystem) {
        header.set_purpose_of_use(label.code());
        SB_ASSIGN_OR_RETURN(std::vector<JsonObject> extensions, coding.Array("extension"));
        for (JsonObject& ext : extensions) {
          SB_ASSIGN_OR_RETURN(std::string url, ext.String("url"));
          if (url == kBreakGlassReasonUrl) {
            SB_ASSIGN_OR_RETURN(*header.mutable_break_glass_reason(), ext.String("valueString"));
          }
          ext.Finish();
        }
      } else {
        *header.add_security_labels() = std::move(label);
      }
      coding.Finish();
    }
    meta->Finish();
    return absl::OkStatus();
  }

  absl::StatusOr<Entry*> DecodeMessageHeader(v1::MessageHeader& header) {
    JsonObject mh = bundle_.Open(bundle_.entries()[0]);
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> event, mh.Object("eventCoding"));
    if (!event) return Invalid(mh.PathOf("eventCoding"), "required");
    SB_ASSIGN_OR_RETURN(std::string system, event->String("system"));
    if (system != config_.event_system()) {
      return Invalid(event->PathOf("system"),
                     absl::StrCat("'", system, "' is not '", config_.event_system(), "'"));
    }
    SB_ASSIGN_OR_RETURN(*header.mutable_event(), event->RequiredString("code"));
    event->Skip({"display"});
    event->Finish();

    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> sender, mh.Object("sender"));
    if (!sender) return Invalid(mh.PathOf("sender"), "required (the member's identifier)");
    SB_ASSIGN_OR_RETURN(std::string sender_id, IdentifierValue(*sender));
    if (sender_id != config_.source()) {
      return Invalid(
          sender->PathOf("identifier.value"),
          absl::StrCat("'", sender_id, "' is not this member ('", config_.source(), "')"));
    }
    sender->Skip({"reference", "display", "type"});
    sender->Finish();

    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> destinations, mh.Array("destination"));
    for (JsonObject& d : destinations) {
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> receiver, d.Object("receiver"));
      if (!receiver) return Invalid(d.PathOf("receiver"), "required (a member's identifier)");
      SB_ASSIGN_OR_RETURN(std::string org, IdentifierValue(*receiver));
      if (org.empty()) return Invalid(receiver->PathOf("identifier.value"), "required");
      header.add_destinations(org);
      receiver->Skip({"reference", "display", "type"});
      receiver->Finish();
      d.Skip({"endpoint", "name"});
      d.Finish();
    }
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> author, mh.Object("author"));
    if (author) {
      SB_ASSIGN_OR_RETURN(*header.mutable_author(), author->String("display"));
      author->Finish();
    }
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> response, mh.Object("response"));
    if (response) {
      SB_ASSIGN_OR_RETURN(*header.mutable_correlation_id(), response->String("identifier"));
      response->Skip({"code"});
      response->Finish();
    }
    mh.Skip({"source"});  // endpoint of the sending system: the sender identifies the member
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> focus, mh.Array("focus"));
    if (focus.empty()) return Invalid(mh.PathOf("focus"), "required (the payload resource)");
    SB_ASSIGN_OR_RETURN(Entry * payload, bundle_.Resolve(focus[0]));
    for (size_t i = 1; i < focus.size(); ++i) focus[i].Finish();
    mh.Finish();
    return payload;
  }

  absl::Status DecodeClient(v1::MessageHeader& header) {
    for (Entry& e : bundle_.entries()) {
      if (e.type != "Patient") continue;
      JsonObject patient = bundle_.Open(e);
      SB_ASSIGN_OR_RETURN(std::vector<JsonObject> identifiers, patient.Array("identifier"));
      if (identifiers.empty()) {
        return Invalid(patient.PathOf("identifier"), "required (the client's identifier)");
      }
      SB_ASSIGN_OR_RETURN(*header.mutable_client()->mutable_system(),
                          identifiers[0].RequiredString("system"));
      SB_ASSIGN_OR_RETURN(*header.mutable_client()->mutable_value(),
                          identifiers[0].RequiredString("value"));
      identifiers[0].Skip({"use", "type"});
      identifiers[0].Finish();
      // identifier[1..]: further identifiers of the client. One without a system or
      // a value names nobody the gateway can link, so it is reported, not refused;
      // a repeat adds nothing and is dropped.
      for (size_t i = 1; i < identifiers.size(); ++i) {
        JsonObject& identifier = identifiers[i];
        v1::ClientIdentifier id;
        SB_ASSIGN_OR_RETURN(*id.mutable_system(), identifier.String("system"));
        SB_ASSIGN_OR_RETURN(*id.mutable_value(), identifier.String("value"));
        if (id.system().empty() || id.value().empty()) {
          ignored_->push_back(identifier.path());
          continue;
        }
        identifier.Skip({"use", "type"});
        identifier.Finish();
        auto same = [&id](const v1::ClientIdentifier& other) {
          return other.system() == id.system() && other.value() == id.value();
        };
        if (same(header.client()) || std::any_of(header.other_client_identifiers().begin(),
                                                 header.other_client_identifiers().end(), same)) {
          continue;
        }
        *header.add_other_client_identifiers() = std::move(id);
      }
      patient.Finish();  // Demographics are ignored.
      return absl::OkStatus();
    }
    return Invalid("Bundle.entry", "no Patient entry (the client)");
  }

  absl::Status DecodePayload(Entry& focus, v1::Message& message) {
    if (focus.type == "Composition") return DecodeComposition(focus, message);
    if (focus.type == "ServiceRequest") {
      SB_ASSIGN_OR_RETURN(*message.mutable_referral(), DecodeReferral(focus));
      return absl::OkStatus();
    }
    if (focus.type == "CarePlan") {
      SB_ASSIGN_OR_RETURN(*message.mutable_care_plan_change(),
                          internal::DecodeCarePlan(bundle_, focus));
      return absl::OkStatus();
    }
    if (focus.type == "Consent") {
      SB_ASSIGN_OR_RETURN(*message.mutable_consent_change(),
                          internal::DecodeConsent(bundle_, focus, config_.event_system()));
      return absl::OkStatus();
    }
    return Invalid("Bundle.entry[0].resource(MessageHeader).focus[0]",
                   absl::StrCat("a ", focus.type,
                                " is not a payload (Composition, ServiceRequest, CarePlan or "
                                "Consent)"));
  }

  absl::Status DecodeComposition(Entry& entry, v1::Message& message) {
    JsonObject composition = bundle_.Open(entry);
    composition.Skip({"status", "subject", "date", "author"});
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> type, composition.Object("type"));
    if (!type) return Invalid(composition.PathOf("type"), "required");
    bool discharge = false;
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> codings, type->Array("coding"));
    for (JsonObject& c : codings) {
      SB_ASSIGN_OR_RETURN(std::string system, c.String("system"));
      SB_ASSIGN_OR_RETURN(std::string code, c.String("code"));
      discharge = discharge || (system == kLoinc && code == kDischargeSummary);
      c.Skip({"display"});
      c.Finish();
    }
    type->Skip({"text"});
    type->Finish();
    SB_ASSIGN_OR_RETURN(std::string title, composition.String("title"));
    google::protobuf::RepeatedPtrField<v1::Section> sections;
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> section_json, composition.Array("section"));
    for (JsonObject& s : section_json) {
      SB_ASSIGN_OR_RETURN(*sections.Add(), DecodeSection(s));
    }
    if (discharge) {
      v1::DischargeNote& note = *message.mutable_discharge_note();
      note.set_title(title);
      *note.mutable_sections() = std::move(sections);
      SB_ASSIGN_OR_RETURN(Entry * encounter,
                          bundle_.ResolveMember(composition, "encounter", "Encounter"));
      SB_RETURN_IF_ERROR(DecodeEncounter(*encounter, note));
    } else {
      v1::CaseNote& note = *message.mutable_case_note();
      note.set_title(title);
      *note.mutable_sections() = std::move(sections);
      SB_ASSIGN_OR_RETURN(std::vector<JsonObject> categories, composition.Array("category"));
      if (!categories.empty()) {
        SB_ASSIGN_OR_RETURN(*note.mutable_domain(), FirstCode(categories[0]));
      }
      for (size_t i = 1; i < categories.size(); ++i) categories[i].Finish();
    }
    composition.Finish();
    return absl::OkStatus();
  }

  absl::StatusOr<v1::Section> DecodeSection(JsonObject& s) {
    v1::Section section;
    SB_ASSIGN_OR_RETURN(*section.mutable_title(), s.String("title"));
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> code, s.Object("code"));
    if (code) {
      SB_ASSIGN_OR_RETURN(*section.mutable_code(), FirstCode(*code));
    }
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> text, s.Object("text"));
    if (text) {
      SB_ASSIGN_OR_RETURN(std::string div, text->String("div"));
      section.set_text(internal::XhtmlToText(div));
      text->Skip({"status"});
      text->Finish();
    }
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> extensions, s.Array("extension"));
    for (JsonObject& ext : extensions) {
      SB_ASSIGN_OR_RETURN(std::string url, ext.String("url"));
      if (url != kSectionSecurityUrl) {
        ignored_->push_back(ext.path());
        continue;
      }
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> coding, ext.Object("valueCoding"));
      if (!coding) return Invalid(ext.PathOf("valueCoding"), "required");
      SB_ASSIGN_OR_RETURN(*section.add_security_labels(), ReadCoding(*coding));
      coding->Finish();
      ext.Finish();
    }
    s.Finish();
    return section;
  }

  absl::Status DecodeEncounter(Entry& entry, v1::DischargeNote& note) {
    JsonObject encounter = bundle_.Open(entry);
    encounter.Skip({"status", "class", "subject"});
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> period, encounter.Object("period"));
    if (period) {
      SB_ASSIGN_OR_RETURN(std::string start, period->String("start"));
      SB_ASSIGN_OR_RETURN(std::string end, period->String("end"));
      if (!start.empty()) {
        SB_ASSIGN_OR_RETURN(*note.mutable_admitted_at(),
                            ParseDateTime(period->PathOf("start"), start));
      }
      if (!end.empty()) {
        SB_ASSIGN_OR_RETURN(*note.mutable_discharged_at(),
                            ParseDateTime(period->PathOf("end"), end));
      }
      period->Finish();
    }
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> hospitalization,
                        encounter.Object("hospitalization"));
    if (hospitalization) {
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> disposition,
                          hospitalization->Object("dischargeDisposition"));
      if (disposition) {
        SB_ASSIGN_OR_RETURN(*note.mutable_discharge_disposition(), FirstCode(*disposition));
      }
      hospitalization->Finish();
    }
    encounter.Finish();
    return absl::OkStatus();
  }

  absl::StatusOr<v1::Referral> DecodeReferral(Entry& entry) {
    v1::Referral referral;
    JsonObject request = bundle_.Open(entry);
    request.Skip({"status", "intent", "subject", "authoredOn", "requester"});
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> identifiers, request.Array("identifier"));
    if (identifiers.empty()) return Invalid(request.PathOf("identifier"), "required");
    SB_ASSIGN_OR_RETURN(*referral.mutable_referral_id(), identifiers[0].RequiredString("value"));
    identifiers[0].Skip({"system", "use"});
    for (JsonObject& i : identifiers) i.Finish();
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> performers, request.Array("performer"));
    if (!performers.empty()) {
      SB_ASSIGN_OR_RETURN(*referral.mutable_target(), IdentifierValue(performers[0]));
      performers[0].Skip({"reference", "display", "type"});
    }
    for (JsonObject& p : performers) p.Finish();
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> code, request.Object("code"));
    if (code) {
      SB_ASSIGN_OR_RETURN(*referral.mutable_service(), code->String("text"));
      if (referral.service().empty()) {
        SB_ASSIGN_OR_RETURN(*referral.mutable_service(), FirstCode(*code));
      }
      code->Skip({"coding"});
      code->Finish();
    }
    SB_ASSIGN_OR_RETURN(*referral.mutable_reason(), FirstText(request, "reasonCode"));
    SB_ASSIGN_OR_RETURN(*referral.mutable_note(), FirstText(request, "note"));
    request.Finish();

    referral.set_status(v1::Referral::REQUESTED);  // No Task: just requested.
    for (Entry& e : bundle_.entries()) {
      if (e.type != "Task") continue;
      JsonObject task = bundle_.Open(e);
      task.Skip({"intent", "for", "authoredOn", "lastModified", "requester"});
      SB_ASSIGN_OR_RETURN(Entry * focus, bundle_.ResolveMember(task, "focus", "ServiceRequest"));
      if (focus != &entry) {
        e.used = false;
        continue;
      }
      SB_ASSIGN_OR_RETURN(std::string status, task.RequiredString("status"));
      bool known = false;
      for (const TaskStatus& s : kTaskStatuses) {
        if (s.fhir == status) {
          referral.set_status(s.canonical);
          known = true;
        }
      }
      if (!known) {
        return Invalid(task.PathOf("status"),
                       absl::StrCat("'", status,
                                    "' has no referral status (requested, received, "
                                    "accepted, rejected, in-progress, on-hold, "
                                    "completed, cancelled, failed)"));
      }
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> reason, task.Object("statusReason"));
      if (reason) {
        SB_ASSIGN_OR_RETURN(*referral.mutable_status_reason(), reason->String("text"));
        reason->Skip({"coding"});
        reason->Finish();
      }
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> owner, task.Object("owner"));
      if (owner) {
        SB_ASSIGN_OR_RETURN(std::string org, IdentifierValue(*owner));
        if (referral.target().empty()) referral.set_target(org);
        owner->Skip({"reference", "display", "type"});
        owner->Finish();
      }
      SB_ASSIGN_OR_RETURN(std::string task_note, FirstText(task, "note"));
      if (referral.note().empty()) referral.set_note(task_note);
      task.Finish();
      break;
    }
    return referral;
  }

  const v1::adapters::FhirConfig& config_;
  std::vector<std::string>* ignored_;
  BundleReader bundle_;
};

}  // namespace

// ---------------------------------------------------------------------------
// FhirAdapter.

absl::StatusOr<std::unique_ptr<FhirAdapter>> FhirAdapter::Create(v1::adapters::FhirConfig config) {
  if (config.source().empty()) return absl::InvalidArgumentError("config.source: required");
  if (config.event_system().empty()) config.set_event_system(std::string(kDefaultEventSystem));
  return std::unique_ptr<FhirAdapter>(new FhirAdapter(std::move(config)));
}

absl::StatusOr<v1::Message> FhirAdapter::Decode(absl::string_view content_type,
                                                absl::string_view bytes) const {
  SB_ASSIGN_OR_RETURN(DecodeReport report, DecodeWithReport(content_type, bytes));
  return std::move(report.message);
}

absl::StatusOr<DecodeReport> FhirAdapter::DecodeWithReport(absl::string_view content_type,
                                                           absl::string_view bytes) const {
  const std::string media = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
  if (media != kContentType && media != kContentTypeJson) {
    return absl::InvalidArgumentError(absl::StrCat("content_type: '", content_type, "' is not ",
                                                   kContentType, " or ", kContentTypeJson));
  }
  rapidjson::Document doc;
  doc.Parse(bytes.data(), bytes.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Bundle: not JSON at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  DecodeReport report;
  Decoder decoder(config_, &report.ignored);
  SB_ASSIGN_OR_RETURN(report.message, decoder.Run(doc));
  return report;
}

// ---------------------------------------------------------------------------
// Factory.

std::string FhirFactory::config_type() const {
  return v1::adapters::FhirConfig::descriptor()->full_name();
}

absl::StatusOr<std::unique_ptr<Adapter>> FhirFactory::Create(
    const google::protobuf::Any& config) const {
  v1::adapters::FhirConfig typed;
  if (!config.UnpackTo(&typed)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adapter '", name(), "': config is '", config.type_url(), "', expected ", config_type()));
  }
  SB_ASSIGN_OR_RETURN(std::unique_ptr<FhirAdapter> adapter, FhirAdapter::Create(typed));
  return std::unique_ptr<Adapter>(std::move(adapter));
}

}  // namespace switchboard::adapters::fhir
