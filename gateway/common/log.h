// Operator logs: one line per event on stderr, key=value, no payload content and
// no client identifiers (those belong in the audit trail). Thread-safe.
//
//   LogInfo("publish_refused", {{"org", caller}, {"code", "INVALID_ARGUMENT"}});
#ifndef SWITCHBOARD_GATEWAY_COMMON_LOG_H_
#define SWITCHBOARD_GATEWAY_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace switchboard::gateway {

using LogField = std::pair<absl::string_view, std::string>;

void LogInfo(absl::string_view event, std::initializer_list<LogField> fields = {});
void LogWarning(absl::string_view event, std::initializer_list<LogField> fields = {});
// ERROR means someone should be paged.
void LogError(absl::string_view event, std::initializer_list<LogField> fields = {});

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_COMMON_LOG_H_
