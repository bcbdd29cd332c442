// The adapter interface: translation between a partner's bytes and the canonical
// Message, in both directions. Adapters translate only: no storage, no routing, no
// I/O. Implementations must be thread-safe for concurrent const calls.
#ifndef SWITCHBOARD_ADAPTERS_ADAPTER_H_
#define SWITCHBOARD_ADAPTERS_ADAPTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "switchboard/v1/message.pb.h"

namespace switchboard::adapters {

// Bytes in a partner's format.
struct PartnerPayload {
  std::string content_type;
  std::string bytes;
};

// Decode's result with the report of what the adapter did not map.
struct DecodeResult {
  v1::Message message;
  // Locations (in the partner format's own notation, e.g. a JSON path
  // `Bundle.entry[1].resource(Patient).name`) of elements present but not mapped,
  // in document order. Empty when the adapter does not report them.
  std::vector<std::string> ignored;
};

class Adapter {
 public:
  virtual ~Adapter() = default;

  // Partner bytes -> canonical message. INVALID_ARGUMENT names what is wrong and
  // where (a JSON path, an HL7 segment/field). UNIMPLEMENTED if the adapter has no
  // inbound direction. Does not validate routing-level rules (the gateway does).
  virtual absl::StatusOr<v1::Message> Decode(absl::string_view content_type,
                                             absl::string_view bytes) const = 0;

  // Decode, plus the elements it dropped. Errors as Decode. The default reports
  // nothing; adapters that can tell (fhir) override it.
  virtual absl::StatusOr<DecodeResult> DecodeWithReport(absl::string_view content_type,
                                                        absl::string_view bytes) const {
    absl::StatusOr<v1::Message> message = Decode(content_type, bytes);
    if (!message.ok()) return message.status();
    return DecodeResult{*std::move(message), {}};
  }

  // Canonical message -> partner bytes. UNIMPLEMENTED if the adapter has no
  // outbound direction; INVALID_ARGUMENT if the message cannot be expressed.
  virtual absl::StatusOr<PartnerPayload> Encode(const v1::Message& message) const = 0;
};

// Makes adapters of one type from its typed config (Envoy's extension factory).
class AdapterFactory {
 public:
  virtual ~AdapterFactory() = default;
  // Reverse-DNS type name, e.g. `switchboard.adapters.canonical_json`.
  virtual std::string name() const = 0;
  // Full name of the typed config message, e.g.
  // `switchboard.v1.adapters.CanonicalJsonConfig`.
  virtual std::string config_type() const = 0;
  // INVALID_ARGUMENT if `config` is not of config_type() or is invalid.
  virtual absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Any& config) const = 0;
};

}  // namespace switchboard::adapters

#endif  // SWITCHBOARD_ADAPTERS_ADAPTER_H_
