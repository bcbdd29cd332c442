// The canonical JSON adapter: the protobuf JSON mapping of switchboard.v1.Message
// (what deploy/demo/*.json hold). Pure translation; thread-safe.
#ifndef SWITCHBOARD_ADAPTERS_CANONICAL_JSON_CANONICAL_JSON_ADAPTER_H_
#define SWITCHBOARD_ADAPTERS_CANONICAL_JSON_CANONICAL_JSON_ADAPTER_H_

#include "adapters/adapter.h"
#include "switchboard/v1/adapters/canonical_json.pb.h"

namespace switchboard::adapters::canonical_json {

inline constexpr char kContentType[] = "application/json";

class CanonicalJsonAdapter final : public Adapter {
 public:
  explicit CanonicalJsonAdapter(v1::adapters::CanonicalJsonConfig config)
      : config_(std::move(config)) {}

  // INVALID_ARGUMENT "json: <parser's message>" for malformed JSON, a field the
  // model does not know (unless configured to ignore them) or a wrong value type;
  // also for a content type other than application/json (parameters allowed).
  absl::StatusOr<v1::Message> Decode(absl::string_view content_type,
                                     absl::string_view bytes) const override;
  absl::StatusOr<PartnerPayload> Encode(const v1::Message& message) const override;

 private:
  // Constant after construction.
  const v1::adapters::CanonicalJsonConfig config_;
};

}  // namespace switchboard::adapters::canonical_json

#endif  // SWITCHBOARD_ADAPTERS_CANONICAL_JSON_CANONICAL_JSON_ADAPTER_H_
