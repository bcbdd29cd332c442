// The `switchboard.adapters.hl7v2` adapter type: HL7 v2.5 ER7 messages of one
// member to and from the canonical model, and its factory. Pure translation on top
// of er7.h (no I/O, no clock). Thread-safety: an Hl7v2Adapter is immutable after
// Create; const calls may run concurrently.
//
// Inbound (Decode), by trigger event (MSH-9.1^MSH-9.2):
//   ADT^A03 (and ADT^A01/A04 when configured) -> DischargeNote
//   MDM^T02 -> CaseNote
//   REF^I12 -> Referral
// Header: id MSH-10; event from the config's trigger map; source the config's;
// client the first PID-3 identifier with a mapped assigning authority (the member's
// own authority first); other_client_identifiers every other PID-3 repetition with
// a value and a mapped authority, in order, repeats dropped (an unmapped or
// valueless one is not an error: DecodeWithReport lists it as `PID-3(<n>)`, the
// only elements this adapter reports); occurred_at EVN-2, else MSH-7; author
// EVN-5, else TXA-9, else TXA-5, else (REF) the referring provider's PRD-2, as
// "Given Family".
// Segments not listed in the .cc are ignored.
//
// Outbound (Encode) writes ADT^A03, MDM^T02 or REF^I12 by payload (or the trigger
// the config maps to header.event, when one of the same message type does). Not
// expressible in HL7 v2.5 and dropped: security labels (header and sections; the
// gateway has already withheld what the recipient may not see), destinations,
// correlation_id, purpose_of_use, break_glass_reason, Referral.status_reason.
// PID-3 is header.client, then each of other_client_identifiers whose system has an
// assigning authority (the others are dropped), CX-1 and CX-4.1 only (no CX-5
// type code: the model has none).
#ifndef SWITCHBOARD_ADAPTERS_HL7V2_HL7V2_ADAPTER_H_
#define SWITCHBOARD_ADAPTERS_HL7V2_HL7V2_ADAPTER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"
#include "adapters/hl7v2/er7.h"
#include "switchboard/v1/adapters/hl7v2.pb.h"

namespace switchboard::adapters::hl7v2 {

// Content types: Decode accepts both (parameters after ';' are ignored); Encode
// writes the first.
inline constexpr absl::string_view kContentType = "application/hl7-v2";
inline constexpr absl::string_view kContentTypeEr7 = "x-application/hl7-v2+er7";

class Hl7v2Adapter final : public Adapter {
 public:
  // INVALID_ARGUMENT naming the config field (`config.source: required`) when the
  // config is incomplete or inconsistent.
  static absl::StatusOr<std::unique_ptr<Hl7v2Adapter>> Create(v1::adapters::Hl7v2Config config);

  // INVALID_ARGUMENT, starting with the HL7 location (`PID-3: ...`, `MSH-9: ...`),
  // for bytes that do not parse, another facility in MSH-4, an unmapped trigger,
  // no client identifier with a mapped authority, a date/time that is not an HL7
  // DTM with a UTC offset, an ADT without OBX text or DG1, a REF whose referred-to
  // provider is not mapped, or a content type other than the two above.
  absl::StatusOr<v1::Message> Decode(absl::string_view content_type,
                                     absl::string_view bytes) const override;
  // Decode, plus the PID-3 repetitions not mapped (`PID-3(3)`); other unmapped
  // segments and fields are not reported. Errors as Decode.
  absl::StatusOr<DecodeResult> DecodeWithReport(absl::string_view content_type,
                                                absl::string_view bytes) const override;

  // INVALID_ARGUMENT naming the canonical field when the payload has no HL7
  // mapping (care_plan_change, consent_change, notification, none) or the client's
  // identifier system has no configured assigning authority.
  absl::StatusOr<PartnerPayload> Encode(const v1::Message& message) const override;

 private:
  explicit Hl7v2Adapter(v1::adapters::Hl7v2Config config);

  absl::StatusOr<v1::DischargeNote> DecodeAdt(const Message& in, absl::string_view trigger) const;
  absl::StatusOr<v1::CaseNote> DecodeMdm(const Message& in) const;
  absl::StatusOr<v1::Referral> DecodeRef(const Message& in) const;
  // `ignored` may be null.
  absl::StatusOr<v1::Message> DecodeMessage(absl::string_view content_type, absl::string_view bytes,
                                            std::vector<std::string>* ignored) const;
  // Sets header.client and other_client_identifiers from PID-3; appends the
  // repetitions not mapped to `ignored` (may be null).
  absl::Status DecodeClients(const Message& in, v1::MessageHeader& header,
                             std::vector<std::string>* ignored) const;
  absl::StatusOr<Segment> EncodePid(const v1::Message& message) const;
  Segment EncodeMsh(const v1::Message& message, absl::string_view trigger) const;
  std::string TriggerFor(absl::string_view event, absl::string_view message_type,
                         absl::string_view fallback) const;

  // Constant after construction.
  v1::adapters::Hl7v2Config config_;
  std::map<std::string, std::string> triggers_;             // "ADT^A03" -> event
  std::map<std::string, std::string> authority_by_system_;  // system URI -> CX-4.1
  std::map<std::string, std::string> provider_by_org_;      // org id -> PRD-7.1
};

// Factory of the type; its config is switchboard.v1.adapters.Hl7v2Config.
class Hl7v2Factory final : public AdapterFactory {
 public:
  std::string name() const override { return "switchboard.adapters.hl7v2"; }
  std::string config_type() const override;
  // INVALID_ARGUMENT when `config` holds another type or fails Hl7v2Adapter::Create.
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Any& config) const override;
};

}  // namespace switchboard::adapters::hl7v2

#endif  // SWITCHBOARD_ADAPTERS_HL7V2_HL7V2_ADAPTER_H_
