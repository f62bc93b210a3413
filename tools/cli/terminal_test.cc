#include "tools/cli/terminal.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(DisplayWidth, CountsWideCharactersTwiceAndMarksZero) {
  EXPECT_EQ(DisplayWidth("abc"), 3);
  EXPECT_EQ(DisplayWidth("北区"), 4);
  EXPECT_EQ(DisplayWidth("令和5年度 (令和6年3月末)"), 24);
  EXPECT_EQ(DisplayWidth("アウトリーチ"), 12);
  EXPECT_EQ(DisplayWidth("（）・"), 6);    // full-width forms
  EXPECT_EQ(DisplayWidth("ｱｳﾄ"), 3);       // half-width katakana
  EXPECT_EQ(DisplayWidth("か\u3099"), 2);  // combining dakuten
  EXPECT_EQ(DisplayWidth("①"), 1);         // ambiguous: narrow
  EXPECT_EQ(DisplayWidth("髙𠮷"), 4);      // CP932 and plane 2 kanji
  EXPECT_EQ(DisplayWidth("\x1b[30;43m2.2\x1b[0m"), 3);
}

TEST(WrapToWidth, BreaksJapaneseAnywhereButNotBeforeClosingMarks) {
  EXPECT_THAT(WrapToWidth("児童生徒数", 8), ElementsAre("児童生徒", "数"));
  // "）" may not start a line: "ト" moves down with it.
  EXPECT_THAT(WrapToWidth("割合（アウト）", 12),
              ElementsAre("割合（アウ", "ト）"));
  // Nor may the prolonged sound mark.
  EXPECT_THAT(WrapToWidth("アウトリーチ", 8), ElementsAre("アウト", "リーチ"));
  EXPECT_THAT(WrapToWidth("abc", 8), ElementsAre("abc"));
  EXPECT_THAT(WrapToWidth("", 8), ElementsAre(""));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back();
  }
  return lines;
}

TEST(TextTable, LinesUpWideCharactersAndMarksHighlightedCells) {
  TextTable table;
  table.AddColumn("区", false);
  table.AddColumn("児童生徒数", true, 8);
  table.AddColumn("rate", true);
  table.AddRow({{"北区"}, {"164066"}, {"2.2", true}});
  table.AddSeparator();
  table.AddRow({{"東淀川区"}, {"7"}, {"-"}});
  const std::string out = table.Render(Highlight::kMarker);
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 6u) << out;
  for (const std::string& line : lines) {
    EXPECT_EQ(DisplayWidth(line), DisplayWidth(lines[0])) << out;
  }
  EXPECT_THAT(out, HasSubstr("児童生徒"));
  EXPECT_THAT(out, HasSubstr("2.2*"));
  EXPECT_THAT(out, HasSubstr("   -"));  // right-aligned in the marker slot
  EXPECT_THAT(out, Not(HasSubstr("\x1b[")));
}

TEST(TextTable, PaintsHighlightedCellsOnATerminal) {
  TextTable table;
  table.AddColumn("rate", true);
  table.AddRow({{"2.2", true}});
  table.AddRow({{"10.5"}});
  const std::string out = table.Render(Highlight::kAnsi);
  EXPECT_THAT(out, HasSubstr("\x1b[30;43m 2.2\x1b[0m"));
  EXPECT_THAT(out, Not(HasSubstr("*")));
  for (const std::string& line : Lines(out)) {
    EXPECT_EQ(DisplayWidth(line), 4) << out;
  }
}

TEST(ProgressDisplay, PrintsPlainLinesAtEachTenthWhenNotATerminal) {
  std::ostringstream out;
  ProgressDisplay progress(out, false, "sheets", 200);
  for (int done = 0; done <= 200; done += 5) {
    progress.Update(done);
  }
  progress.Finish();
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 10u) << out.str();
  EXPECT_EQ(lines[0], "sheets: 20/200 (10%)");
  EXPECT_EQ(lines[9], "sheets: 200/200 (100%)");
}

TEST(ProgressDisplay, RedrawsOneBarOnATerminal) {
  std::ostringstream out;
  ProgressDisplay progress(out, true, "sheets", 4);
  progress.Update(2);
  progress.Update(4);
  progress.Finish();
  EXPECT_THAT(out.str(), HasSubstr("\rsheets  [###############"));
  EXPECT_THAT(out.str(), HasSubstr("4/4  100%"));
  EXPECT_EQ(Lines(out.str()).size(), 1u);
}

}  // namespace
}  // namespace kosapo::cli
