// LineDiff: minimal changes with a little context, hunks apart, nothing for
// equal texts.
#include "gateway/common/line_diff.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace switchboard::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(LineDiffTest, SameLinesGiveNothing) {
  EXPECT_THAT(LineDiff("a\nb\n", "a\nb"), IsEmpty());
  EXPECT_THAT(LineDiff("", ""), IsEmpty());
}

TEST(LineDiffTest, AChangedLineIsShownWithItsContext) {
  EXPECT_THAT(LineDiff("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nfour\n5\n6\n7\n", 1),
              ElementsAre("@@", "  3", "- 4", "+ four", "  5"));
}

TEST(LineDiffTest, AddedAndRemovedLinesKeepTheirOrder) {
  EXPECT_THAT(LineDiff("a\nb\nc", "a\nc\nd"), ElementsAre("  a", "- b", "  c", "+ d"));
  EXPECT_THAT(LineDiff("", "x"), ElementsAre("+ x"));
}

TEST(LineDiffTest, DistantChangesAreSeparateHunks) {
  EXPECT_THAT(LineDiff("a\n1\n2\n3\n4\nb", "A\n1\n2\n3\n4\nB", 0),
              ElementsAre("- a", "+ A", "@@", "- b", "+ B"));
}

}  // namespace
}  // namespace switchboard::gateway
