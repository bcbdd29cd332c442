#include "adapters/fhir/fhir_consent.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/fhir/fhir_adapter.h"
#include "adapters/fhir/fhir_json.h"
#include "switchboard/common/status_macros.h"

namespace switchboard::adapters::fhir::internal {
namespace {

using rapidjson::Value;
using Provision = v1::ConsentProvision;

constexpr absl::string_view kScopeSystem = "http://terminology.hl7.org/CodeSystem/consentscope";
constexpr absl::string_view kOwnScopeSystem = "https://switchboard.example/fhir/consent-scope";
constexpr absl::string_view kDefaultScope = "patient-privacy";
constexpr absl::string_view kFhirScopes[] = {"adr", "research", "patient-privacy", "treatment"};
constexpr absl::string_view kLoinc = "http://loinc.org";
constexpr absl::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
constexpr absl::string_view kParticipationType =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

struct ConsentStatus {
  v1::Consent::Status canonical;
  absl::string_view fhir;
};
constexpr ConsentStatus kStatuses[] = {
    {v1::Consent::DRAFT, "draft"},
    {v1::Consent::ACTIVE, "active"},
    {v1::Consent::INACTIVE, "inactive"},
    {v1::Consent::REJECTED, "rejected"},
    {v1::Consent::ENTERED_IN_ERROR, "entered-in-error"},
};

struct MemberRole {
  v1::Organisation::Role canonical;
  absl::string_view code;
};
constexpr MemberRole kRoles[] = {
    {v1::Organisation::HOSPITAL, "hospital"},
    {v1::Organisation::AGENCY, "agency"},
    {v1::Organisation::COORDINATOR, "coordinator"},
    {v1::Organisation::ADMIN, "admin"},
};

// ---------------------------------------------------------------------------
// Decoding.

absl::StatusOr<v1::ConsentActor> DecodeActor(JsonObject& actor) {
  actor.Skip({"role"});
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> reference, actor.Object("reference"));
  if (!reference) return Invalid(actor.PathOf("reference"), "required");
  reference->Skip({"type", "display"});
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> identifier, reference->Object("identifier"));
  if (!identifier) {
    return Invalid(reference->PathOf("identifier"), absl::StrCat("required (system ", kMemberSystem,
                                                                 " or ", kMemberRoleSystem, ")"));
  }
  SB_ASSIGN_OR_RETURN(std::string system, identifier->String("system"));
  SB_ASSIGN_OR_RETURN(std::string value, identifier->RequiredString("value"));
  identifier->Finish();
  reference->Finish();
  actor.Finish();
  v1::ConsentActor out;
  if (system == kMemberSystem) {
    out.set_organisation_id(value);
    return out;
  }
  if (system == kMemberRoleSystem) {
    for (const MemberRole& r : kRoles) {
      if (r.code == value) {
        out.set_role(r.canonical);
        return out;
      }
    }
    return Invalid(
        identifier->PathOf("value"),
        absl::StrCat("'", value, "' is not a member role (hospital, agency, coordinator, admin)"));
  }
  return Invalid(
      identifier->PathOf("system"),
      absl::StrCat("'", system, "' is neither ", kMemberSystem, " nor ", kMemberRoleSystem));
}

// `root_period` (the root only) receives the root's period, which is the
// consent's; the root rule's own period is then its extension.
absl::StatusOr<Provision> DecodeProvision(JsonObject& p, absl::string_view event_system, bool root,
                                          std::optional<v1::Period>* root_period,
                                          std::vector<std::string>* ignored) {
  Provision out;
  SB_ASSIGN_OR_RETURN(std::string type, p.String("type"));
  if (type == "permit") {
    out.set_type(Provision::PERMIT);
  } else if (type == "deny") {
    out.set_type(Provision::DENY);
  } else if (!type.empty()) {
    return Invalid(p.PathOf("type"), absl::StrCat("'", type, "' is not permit or deny"));
  }
  SB_ASSIGN_OR_RETURN(std::optional<v1::Period> period, ReadPeriod(p, "period"));
  if (root) {
    *root_period = std::exchange(period, std::nullopt);  // The consent's period.
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> extensions, p.Array("extension"));
    for (JsonObject& ext : extensions) {
      SB_ASSIGN_OR_RETURN(std::string url, ext.String("url"));
      if (url != kConsentRulePeriodUrl) {
        ignored->push_back(ext.path());
        continue;
      }
      SB_ASSIGN_OR_RETURN(period, ReadPeriod(ext, "valuePeriod"));
      if (!period) return Invalid(ext.PathOf("valuePeriod"), "required");
      ext.Finish();
    }
  }
  if (period) *out.mutable_period() = *std::move(period);
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> actors, p.Array("actor"));
  for (JsonObject& actor : actors) {
    SB_ASSIGN_OR_RETURN(*out.add_actors(), DecodeActor(actor));
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> purposes, p.Array("purpose"));
  for (JsonObject& purpose : purposes) {
    SB_ASSIGN_OR_RETURN(*out.add_purposes(), purpose.RequiredString("code"));
    purpose.Skip({"system", "display"});
    purpose.Finish();
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> labels, p.Array("securityLabel"));
  for (JsonObject& label : labels) {
    SB_ASSIGN_OR_RETURN(*out.add_security_labels(), ReadCoding(label));
    label.Finish();
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> classes, p.Array("class"));
  for (JsonObject& c : classes) {
    SB_ASSIGN_OR_RETURN(std::string system, c.String("system"));
    if (system != event_system) {
      return Invalid(c.PathOf("system"),
                     absl::StrCat("'", system, "' is not the event system '", event_system, "'"));
    }
    SB_ASSIGN_OR_RETURN(*out.add_event_codes(), c.RequiredString("code"));
    c.Skip({"display"});
    c.Finish();
  }
  SB_ASSIGN_OR_RETURN(std::optional<v1::Period> data_period, ReadPeriod(p, "dataPeriod"));
  if (data_period) *out.mutable_data_period() = *std::move(data_period);
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> nested, p.Array("provision"));
  for (JsonObject& n : nested) {
    SB_ASSIGN_OR_RETURN(*out.add_provisions(),
                        DecodeProvision(n, event_system, /*root=*/false, nullptr, ignored));
  }
  p.Finish();
  return out;
}

// Consent.patient: a reference to a Patient entry, or a logical reference.
absl::StatusOr<v1::ClientIdentifier> DecodePatient(BundleReader& bundle, JsonObject& patient) {
  v1::ClientIdentifier client;
  if (patient.Has("reference")) {
    SB_ASSIGN_OR_RETURN(Entry * entry, bundle.Resolve(patient));
    if (entry->type != "Patient") {
      return Invalid(patient.path(),
                     absl::StrCat("refers to a ", entry->type, ", expected a Patient"));
    }
    // Read without Finish: the Patient entry's other elements are the client
    // decoder's to report.
    JsonObject resource = bundle.Open(*entry);
    SB_ASSIGN_OR_RETURN(std::vector<JsonObject> identifiers, resource.Array("identifier"));
    if (identifiers.empty()) {
      return Invalid(resource.PathOf("identifier"), "required (the client's identifier)");
    }
    SB_ASSIGN_OR_RETURN(*client.mutable_system(), identifiers[0].RequiredString("system"));
    SB_ASSIGN_OR_RETURN(*client.mutable_value(), identifiers[0].RequiredString("value"));
    return client;
  }
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> identifier, patient.Object("identifier"));
  if (!identifier) return Invalid(patient.PathOf("reference"), "required (or an identifier)");
  SB_ASSIGN_OR_RETURN(*client.mutable_system(), identifier->RequiredString("system"));
  SB_ASSIGN_OR_RETURN(*client.mutable_value(), identifier->RequiredString("value"));
  identifier->Skip({"use", "type"});
  identifier->Finish();
  patient.Skip({"type", "display"});
  patient.Finish();
  return client;
}

// ---------------------------------------------------------------------------
// Encoding.

absl::StatusOr<Value> EncodeProvision(const Provision& p, const std::string& field,
                                      absl::string_view event_system, bool root, JsonBuilder& j,
                                      const v1::Period* consent_period) {
  Value out = JsonBuilder::Obj();
  if (root && IsSet(p.period())) {
    j.Set(out, "extension",
          j.One(j.Extension(kConsentRulePeriodUrl, "valuePeriod", j.Period(p.period()))));
  }
  if (p.type() == Provision::PERMIT) j.Set(out, "type", "permit");
  if (p.type() == Provision::DENY) j.Set(out, "type", "deny");
  if (root ? consent_period != nullptr : IsSet(p.period())) {
    j.Set(out, "period", j.Period(root ? *consent_period : p.period()));
  }
  if (p.actors_size() > 0) {
    Value actors = JsonBuilder::Arr();
    for (int i = 0; i < p.actors_size(); ++i) {
      const v1::ConsentActor& a = p.actors(i);
      Value actor = JsonBuilder::Obj();
      j.Set(actor, "role",
            j.Concept(j.Coding(kParticipationType, "IRCP", "information recipient")));
      if (a.has_organisation_id()) {
        j.Set(actor, "reference", j.MemberRef(a.organisation_id()));
      } else {
        absl::string_view code;
        for (const MemberRole& r : kRoles) {
          if (a.has_role() && r.canonical == a.role()) code = r.code;
        }
        if (code.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, ".actors[", i, "]: an organisation_id or a role is required"));
        }
        j.Set(actor, "reference", j.LogicalRef(kMemberRoleSystem, code));
      }
      j.Push(actors, std::move(actor));
    }
    j.Set(out, "actor", std::move(actors));
  }
  if (p.purposes_size() > 0) {
    Value purposes = JsonBuilder::Arr();
    for (const std::string& purpose : p.purposes()) {
      j.Push(purposes, j.Coding(kPurposeOfUseSystem, purpose));
    }
    j.Set(out, "purpose", std::move(purposes));
  }
  if (p.security_labels_size() > 0) {
    Value labels = JsonBuilder::Arr();
    for (const v1::SecurityLabel& l : p.security_labels()) j.Push(labels, j.Label(l));
    j.Set(out, "securityLabel", std::move(labels));
  }
  if (p.event_codes_size() > 0) {
    Value classes = JsonBuilder::Arr();
    for (const std::string& code : p.event_codes()) j.Push(classes, j.Coding(event_system, code));
    j.Set(out, "class", std::move(classes));
  }
  if (IsSet(p.data_period())) j.Set(out, "dataPeriod", j.Period(p.data_period()));
  if (p.provisions_size() > 0) {
    Value nested = JsonBuilder::Arr();
    for (int i = 0; i < p.provisions_size(); ++i) {
      SB_ASSIGN_OR_RETURN(
          Value n, EncodeProvision(p.provisions(i), absl::StrCat(field, ".provisions[", i, "]"),
                                   event_system, false, j, nullptr));
      j.Push(nested, std::move(n));
    }
    j.Set(out, "provision", std::move(nested));
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::ConsentChange> DecodeConsent(BundleReader& bundle, Entry& entry,
                                                absl::string_view event_system) {
  JsonObject resource = bundle.Open(entry);
  resource.Skip({"category", "policyRule", "policy"});
  v1::ConsentChange change;
  v1::Consent& consent = *change.mutable_consent();

  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> meta, resource.Object("meta"));
  if (meta) {
    SB_ASSIGN_OR_RETURN(std::string version, meta->String("versionId"));
    int64_t v = 0;
    if (!version.empty() && !absl::SimpleAtoi(version, &v)) {
      return Invalid(meta->PathOf("versionId"),
                     absl::StrCat("'", version, "' is not a consent version (an integer)"));
    }
    consent.set_version(v);
    SB_ASSIGN_OR_RETURN(std::string updated, meta->String("lastUpdated"));
    if (!updated.empty()) {
      SB_ASSIGN_OR_RETURN(*consent.mutable_updated_at(),
                          ParseDateTime(meta->PathOf("lastUpdated"), updated));
    }
    meta->Finish();
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> extensions, resource.Array("extension"));
  for (JsonObject& ext : extensions) {
    SB_ASSIGN_OR_RETURN(std::string url, ext.String("url"));
    if (url == kConsentStatusReasonUrl) {
      SB_ASSIGN_OR_RETURN(*consent.mutable_status_reason(), ext.String("valueString"));
    } else if (url == kConsentUpdatedByUrl) {
      SB_ASSIGN_OR_RETURN(std::optional<JsonObject> ref, ext.Object("valueReference"));
      if (!ref) return Invalid(ext.PathOf("valueReference"), "required");
      SB_ASSIGN_OR_RETURN(*consent.mutable_updated_by(), IdentifierValue(*ref));
      ref->Skip({"type", "display"});
      ref->Finish();
    } else {
      bundle.ignored()->push_back(ext.path());
      continue;
    }
    ext.Finish();
  }

  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> identifiers, resource.Array("identifier"));
  if (identifiers.empty())
    return Invalid(resource.PathOf("identifier"), "required (the consent's id)");
  SB_ASSIGN_OR_RETURN(*consent.mutable_id(), identifiers[0].RequiredString("value"));
  identifiers[0].Skip({"system", "use"});
  for (JsonObject& i : identifiers) i.Finish();

  SB_ASSIGN_OR_RETURN(std::string status, resource.RequiredString("status"));
  for (const ConsentStatus& s : kStatuses) {
    if (s.fhir == status) consent.set_status(s.canonical);
  }
  if (consent.status() == v1::Consent::STATUS_UNSPECIFIED) {
    return Invalid(resource.PathOf("status"),
                   absl::StrCat("'", status,
                                "' has no consent status (draft, active, inactive, "
                                "rejected, entered-in-error)"));
  }
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> scope, resource.Object("scope"));
  if (scope) {
    SB_ASSIGN_OR_RETURN(*consent.mutable_scope(), FirstCode(*scope));
    if (consent.scope() == kDefaultScope) consent.clear_scope();
  }
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> patient, resource.Object("patient"));
  if (patient) {
    SB_ASSIGN_OR_RETURN(*consent.mutable_client(), DecodePatient(bundle, *patient));
  }
  SB_ASSIGN_OR_RETURN(std::string date, resource.String("dateTime"));
  if (!date.empty()) {
    SB_ASSIGN_OR_RETURN(*consent.mutable_recorded_at(),
                        ParseDateTime(resource.PathOf("dateTime"), date));
  }
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> organizations, resource.Array("organization"));
  if (!organizations.empty()) {
    SB_ASSIGN_OR_RETURN(*consent.mutable_recorded_by(), IdentifierValue(organizations[0]));
    organizations[0].Skip({"reference", "display", "type"});
  }
  for (JsonObject& o : organizations) o.Finish();
  SB_ASSIGN_OR_RETURN(std::vector<JsonObject> performers, resource.Array("performer"));
  for (JsonObject& p : performers) {
    // The grantor (the client) is not mapped; a member performer is the
    // recorder when no organization says so.
    SB_ASSIGN_OR_RETURN(std::optional<JsonObject> identifier, p.Object("identifier"));
    if (identifier) {
      SB_ASSIGN_OR_RETURN(std::string system, identifier->String("system"));
      SB_ASSIGN_OR_RETURN(std::string value, identifier->String("value"));
      if (system == kMemberSystem && consent.recorded_by().empty()) consent.set_recorded_by(value);
      identifier->Finish();
    }
    p.Skip({"reference", "display", "type"});
    p.Finish();
  }
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> source, resource.Object("sourceReference"));
  if (source) {
    SB_ASSIGN_OR_RETURN(std::string value, IdentifierValue(*source));
    if (value.empty()) {
      SB_ASSIGN_OR_RETURN(value, source->String("reference"));
    }
    consent.set_source_reference(value);
    source->Skip({"display", "type"});
    source->Finish();
  }
  SB_ASSIGN_OR_RETURN(std::optional<JsonObject> provision, resource.Object("provision"));
  if (provision) {
    std::optional<v1::Period> period;
    SB_ASSIGN_OR_RETURN(
        *consent.mutable_provision(),
        DecodeProvision(*provision, event_system, /*root=*/true, &period, bundle.ignored()));
    if (period) *consent.mutable_period() = *std::move(period);
  }
  resource.Finish();
  return change;
}

absl::Status EncodeConsent(const v1::ConsentChange& change, absl::string_view id,
                           const v1::ClientIdentifier& message_client,
                           absl::string_view patient_url, absl::string_view event_system,
                           JsonBuilder& j, Value& entries) {
  const std::string field = "message.consent_change.consent";
  const v1::Consent& c = change.consent();
  absl::string_view status;
  for (const ConsentStatus& s : kStatuses) {
    if (s.canonical == c.status()) status = s.fhir;
  }
  if (status.empty()) return absl::InvalidArgumentError(field + ".status: required");
  if (c.provision().type() == Provision::TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(field + ".provision.type: required (PERMIT or DENY)");
  }

  Value consent = j.Resource("Consent", id);
  if (c.version() != 0 || c.has_updated_at()) {
    Value meta = JsonBuilder::Obj();
    if (c.version() != 0) j.Set(meta, "versionId", absl::StrCat(c.version()));
    if (c.has_updated_at()) j.Set(meta, "lastUpdated", FormatDateTime(c.updated_at()));
    j.Set(consent, "meta", std::move(meta));
  }
  Value extensions = JsonBuilder::Arr();
  if (!c.status_reason().empty()) {
    j.Push(extensions,
           j.Extension(kConsentStatusReasonUrl, "valueString", j.Str(c.status_reason())));
  }
  if (!c.updated_by().empty()) {
    j.Push(extensions,
           j.Extension(kConsentUpdatedByUrl, "valueReference", j.MemberRef(c.updated_by())));
  }
  if (!extensions.Empty()) j.Set(consent, "extension", std::move(extensions));
  Value identifier = JsonBuilder::Obj();
  j.Set(identifier, "value", c.id());
  j.Set(consent, "identifier", j.One(std::move(identifier)));
  j.Set(consent, "status", status);
  const absl::string_view scope = c.scope().empty() ? kDefaultScope : absl::string_view(c.scope());
  bool fhir_scope = false;
  for (absl::string_view s : kFhirScopes) fhir_scope |= s == scope;
  j.Set(consent, "scope", j.Concept(j.Coding(fhir_scope ? kScopeSystem : kOwnScopeSystem, scope)));
  j.Set(consent, "category", j.One(j.Concept(j.Coding(kLoinc, "59284-0", "Patient Consent"))));
  const bool message_client_is_client =
      (c.client().system().empty() && c.client().value().empty()) ||
      (c.client().system() == message_client.system() &&
       c.client().value() == message_client.value());
  j.Set(consent, "patient",
        message_client_is_client ? j.Ref(patient_url)
                                 : j.LogicalRef(c.client().system(), c.client().value()));
  if (c.has_recorded_at()) j.Set(consent, "dateTime", FormatDateTime(c.recorded_at()));
  // The grantor: the client.
  j.Set(consent, "performer",
        j.One(message_client_is_client ? j.Ref(patient_url)
                                       : j.LogicalRef(c.client().system(), c.client().value())));
  if (!c.recorded_by().empty()) j.Set(consent, "organization", j.One(j.MemberRef(c.recorded_by())));
  if (!c.source_reference().empty()) {
    Value source = JsonBuilder::Obj(), source_id = JsonBuilder::Obj();
    j.Set(source_id, "value", c.source_reference());
    j.Set(source, "identifier", std::move(source_id));
    j.Set(consent, "sourceReference", std::move(source));
  }
  j.Set(consent, "policyRule",
        j.Concept(c.provision().type() == Provision::PERMIT
                      ? j.Coding(kActCode, "OPTIN", "opt-in")
                      : j.Coding(kActCode, "OPTOUT", "opt-out")));
  SB_ASSIGN_OR_RETURN(Value provision,
                      EncodeProvision(c.provision(), field + ".provision", event_system,
                                      /*root=*/true, j, IsSet(c.period()) ? &c.period() : nullptr));
  j.Set(consent, "provision", std::move(provision));
  j.Push(entries, j.Entry("Consent", id, std::move(consent)));
  return absl::OkStatus();
}

}  // namespace switchboard::adapters::fhir::internal
