// A line diff for people: what changed between two texts, as `-` / `+` lines with
// a little unchanged context (`  `), hunks separated by `@@`. Used to show how an
// adapter version's output or config differs from another's. Pure; thread-safe.
#ifndef SWITCHBOARD_GATEWAY_COMMON_LINE_DIFF_H_
#define SWITCHBOARD_GATEWAY_COMMON_LINE_DIFF_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace switchboard::gateway {

// The lines of `before` and `after` (split on '\n'; a final newline does not
// make an empty last line) as a minimal diff, `context` unchanged lines around
// each change. Empty when the texts have the same lines. Texts too large to
// compare line by line (more than 4 million line pairs) give one line saying so.
std::vector<std::string> LineDiff(absl::string_view before, absl::string_view after,
                                  int context = 2);

}  // namespace switchboard::gateway

#endif  // SWITCHBOARD_GATEWAY_COMMON_LINE_DIFF_H_
