#include "gateway/common/line_diff.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace switchboard::gateway {
namespace {

constexpr size_t kMaxPairs = 4'000'000;

std::vector<absl::string_view> Lines(absl::string_view text) {
  if (text.empty()) return {};
  if (text.back() == '\n') text.remove_suffix(1);
  return absl::StrSplit(text, '\n');
}

// One line of the edit script: ' ' kept, '-' removed, '+' added.
struct Edit {
  char op;
  absl::string_view line;
};

// Longest common subsequence by dynamic programming: the texts compared here
// (samples, configs) are small, and a minimal diff reads best.
std::vector<Edit> Script(const std::vector<absl::string_view>& a,
                         const std::vector<absl::string_view>& b) {
  const size_t n = a.size();
  const size_t m = b.size();
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::vector<Edit> edits;
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      edits.push_back({' ', a[i++]});
      ++j;
    } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
      edits.push_back({'-', a[i++]});  // removals before additions, as diff(1) does
    } else {
      edits.push_back({'+', b[j++]});
    }
  }
  return edits;
}

}  // namespace

std::vector<std::string> LineDiff(absl::string_view before, absl::string_view after, int context) {
  const std::vector<absl::string_view> a = Lines(before);
  const std::vector<absl::string_view> b = Lines(after);
  if (a == b) return {};
  if ((a.size() + 1) * (b.size() + 1) > kMaxPairs) {
    return {absl::StrCat("(too long to compare line by line: ", a.size(), " lines before, ",
                         b.size(), " after)")};
  }
  const std::vector<Edit> edits = Script(a, b);
  // Keep the changes and `context` kept lines either side of each.
  std::vector<bool> shown(edits.size(), false);
  for (size_t k = 0; k < edits.size(); ++k) {
    if (edits[k].op == ' ') continue;
    const size_t from = k >= static_cast<size_t>(context) ? k - context : 0;
    const size_t to = std::min(edits.size(), k + context + 1);
    for (size_t x = from; x < to; ++x) shown[x] = true;
  }
  std::vector<std::string> out;
  bool gap = false;
  for (size_t k = 0; k < edits.size(); ++k) {
    if (!shown[k]) {
      gap = true;
      continue;
    }
    if (gap || (out.empty() && k > 0)) out.push_back("@@");
    gap = false;
    out.push_back(absl::StrCat(std::string(1, edits[k].op), " ", edits[k].line));
  }
  return out;
}

}  // namespace switchboard::gateway
