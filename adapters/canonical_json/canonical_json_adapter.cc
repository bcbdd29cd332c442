#include "adapters/canonical_json/canonical_json_adapter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace switchboard::adapters::canonical_json {

absl::StatusOr<v1::Message> CanonicalJsonAdapter::Decode(absl::string_view content_type,
                                                         absl::string_view bytes) const {
  absl::string_view media = content_type.substr(0, content_type.find(';'));
  media = absl::StripAsciiWhitespace(media);
  if (!media.empty() && !absl::EqualsIgnoreCase(media, kContentType)) {
    return absl::InvalidArgumentError(
        absl::StrCat("content type '", content_type, "' is not ", kContentType));
  }
  v1::Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = config_.ignore_unknown_fields();
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(bytes.data(), bytes.size()), &message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("json: ", status.message().as_string()));
  }
  return message;
}

absl::StatusOr<PartnerPayload> CanonicalJsonAdapter::Encode(const v1::Message& message) const {
  PartnerPayload out;
  out.content_type = kContentType;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = config_.pretty();
  options.preserve_proto_field_names = false;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out.bytes, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("json: ", status.message().as_string()));
  }
  return out;
}

}  // namespace switchboard::adapters::canonical_json
