#include "gateway/common/log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace switchboard::gateway {
namespace {

void Write(absl::string_view level, absl::string_view event,
           std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " level=", level, " event=", event);
  for (const auto& [key, value] : fields) {
    const bool quote = value.empty() || value.find_first_of(" \"=") != std::string::npos;
    if (quote) {
      std::string escaped;
      for (char c : value) {
        if (c == '"' || c == '\\') escaped.push_back('\\');
        escaped.push_back(c == '\n' ? ' ' : c);
      }
      absl::StrAppend(&line, " ", key, "=\"", escaped, "\"");
    } else {
      absl::StrAppend(&line, " ", key, "=", value);
    }
  }
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines do not interleave
}

}  // namespace

void LogInfo(absl::string_view event, std::initializer_list<LogField> fields) {
  Write("info", event, fields);
}
void LogWarning(absl::string_view event, std::initializer_list<LogField> fields) {
  Write("warn", event, fields);
}
void LogError(absl::string_view event, std::initializer_list<LogField> fields) {
  Write("error", event, fields);
}

}  // namespace switchboard::gateway
