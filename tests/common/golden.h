// Test data files and golden canonical messages (tests/data/<dir>/...), for
// adapter tests. SB_UPDATE_GOLDENS=1 rewrites goldens instead of comparing; the
// change is then reviewed in git. Header-only, test-only.
#ifndef SWITCHBOARD_TESTS_COMMON_GOLDEN_H_
#define SWITCHBOARD_TESTS_COMMON_GOLDEN_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "switchboard/common/text_proto.h"

namespace switchboard::testing {

// SB_SOURCE_DIR/tests/data/<dir>/<name> (ctest sets SB_SOURCE_DIR).
inline std::string TestDataPath(const std::string& dir, const std::string& name) {
  const char* source = std::getenv("SB_SOURCE_DIR");
  EXPECT_NE(source, nullptr) << "SB_SOURCE_DIR is not set (ctest sets it)";
  return absl::StrCat(source == nullptr ? "." : source, "/tests/data/", dir, "/", name);
}

inline std::string ReadTestData(const std::string& dir, const std::string& name) {
  std::ifstream in(TestDataPath(dir, name), std::ios::binary);
  EXPECT_TRUE(in.good()) << dir << "/" << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string ProtoText(const google::protobuf::Message& m) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(m, &text);
  return text;
}

// Compares `actual` with the textproto tests/data/<dir>/<golden>, printing a
// diff and the actual message on mismatch.
template <typename M>
void ExpectGoldenMessage(const std::string& dir, const std::string& golden, const M& actual) {
  if (std::getenv("SB_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(TestDataPath(dir, golden), std::ios::binary) << ProtoText(actual);
    return;
  }
  M expected;
  absl::Status parsed = ParseTextProto(ReadTestData(dir, golden), golden, &expected);
  ASSERT_TRUE(parsed.ok()) << parsed;
  google::protobuf::util::MessageDifferencer differ;
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(expected, actual))
      << golden << " differs:\n"
      << diff << "actual (review, then update the golden):\n"
      << ProtoText(actual);
}

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_COMMON_GOLDEN_H_
