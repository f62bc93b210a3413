#include "common/pg/arrays.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::pg {
namespace {

TEST(TextArray, QuotesEveryElement) {
  EXPECT_EQ(TextArray({}), "{}");
  EXPECT_EQ(TextArray({"a"}), R"({"a"})");
  EXPECT_EQ(TextArray({"a", "b"}), R"({"a","b"})");
  EXPECT_EQ(TextArray({""}), R"({""})");
}

TEST(TextArray, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(TextArray({R"(say "hi")"}), R"({"say \"hi\""})");
  EXPECT_EQ(TextArray({R"(a\b)"}), R"({"a\\b"})");
  EXPECT_EQ(TextArray({R"(\")"}), R"({"\\\""})");
}

TEST(TextArray, LeavesWhatQuotingProtectsAsItIs) {
  EXPECT_EQ(TextArray({"a,b", "{c}", " d ", "NULL", "北区"}),
            R"({"a,b","{c}"," d ","NULL","北区"})");
}

TEST(IdArray, JoinsTheNumbers) {
  EXPECT_EQ(IdArray({}), "{}");
  EXPECT_EQ(IdArray({7}), "{7}");
  EXPECT_EQ(IdArray({1, 22, 9007199254740993}), "{1,22,9007199254740993}");
}

}  // namespace
}  // namespace kosapo::pg
