// Parsing a textproto with an error that names where: `origin:line:column: what`.
// Used for the gateway's config and the sharing policy. Pure; thread-safe.
#ifndef SWITCHBOARD_COMMON_TEXT_PROTO_H_
#define SWITCHBOARD_COMMON_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace switchboard {

// INVALID_ARGUMENT naming `origin`, the line and the column of the first error.
inline absl::Status ParseTextProto(const std::string& text, absl::string_view origin,
                                   google::protobuf::Message* out) {
  class Collector final : public google::protobuf::io::ErrorCollector {
   public:
    explicit Collector(absl::string_view origin) : origin_(origin) {}
    void AddError(int line, int column, const std::string& message) override {
      if (first_.empty()) {
        first_ = absl::StrCat(origin_, ":", line + 1, ":", column + 1, ": ", message);
      }
    }
    std::string first_;

   private:
    std::string origin_;
  };
  google::protobuf::TextFormat::Parser parser;
  Collector errors(origin);
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(text, out)) return absl::OkStatus();
  return absl::InvalidArgumentError(errors.first_.empty() ? absl::StrCat(origin, ": does not parse")
                                                          : errors.first_);
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_TEXT_PROTO_H_
