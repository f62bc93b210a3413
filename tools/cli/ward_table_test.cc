#include "tools/cli/ward_table.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::cli {
namespace {

namespace rv1 = ::kosapo::reporting::v1;
using ::testing::HasSubstr;
using ::testing::Not;

rv1::WardRow Row(rv1::RowKind kind, const std::string& label,
                 const std::vector<std::string>& published,
                 const std::vector<int>& flagged_columns) {
  rv1::WardRow row;
  row.set_kind(kind);
  row.set_label_ja(label);
  for (size_t i = 0; i < published.size(); ++i) {
    rv1::Cell* cell = row.add_cells();
    cell->set_column(static_cast<int>(i) + 1);
    cell->set_published(published[i]);
    for (int column : flagged_columns) {
      cell->set_flagged(cell->flagged() || column == cell->column());
    }
  }
  return row;
}

rv1::WardComparison Sample() {
  rv1::WardComparison comparison;
  comparison.set_municipality_code("27100");
  const char* headers[] = {"児童生徒数", "対象ケース数", "対象者抽出割合",
                           "アウトリーチができたケース数",
                           "アウトリーチができた割合"};
  for (int c = 1; c <= 5; ++c) {
    rv1::Column* column = comparison.add_columns();
    column->set_column(c);
    column->set_header_ja(headers[c - 1]);
    column->set_is_rate(c == 3 || c == 5);
  }
  *comparison.add_rows() =
      Row(rv1::ROW_KIND_EARLIER_CITY_TOTAL, "令和4年度 (令和5年3月末)",
          {"164028", "3356", "2.0", "3333", "99.3"}, {});
  *comparison.add_rows() =
      Row(rv1::ROW_KIND_CITY_TOTAL, "令和5年度 (令和6年3月末)",
          {"164066", "3608", "2.2", "3563", "98.8"}, {});
  *comparison.add_rows() = Row(rv1::ROW_KIND_AREA, "北区",
                               {"4511", "81", "1.8", "81", "100.0"}, {3});
  *comparison.add_rows() =
      Row(rv1::ROW_KIND_AREA, "東淀川区", {"7030", "0", "0.0", "0", "-"}, {3});
  return comparison;
}

// Display columns of a line of this table, counted independently of
// terminal.cc: ASCII takes one column, every 3-byte UTF-8 character here
// (kanji, kana, full-width forms) two.
int Columns(const std::string& line) {
  int columns = 0;
  for (size_t i = 0; i < line.size();) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c < 0x80) {
      columns += 1;
      i += 1;
    } else {
      EXPECT_EQ(c & 0xF0, 0xE0) << line;
      columns += 2;
      i += 3;
    }
  }
  return columns;
}

TEST(RenderWardComparison, AlignsEveryRowAndMarksFlaggedCells) {
  const std::string out = RenderWardComparison(Sample(), Highlight::kMarker);
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  // Title, blank, then the table up to the blank line before the legend.
  ASSERT_GT(lines.size(), 4u) << out;
  EXPECT_THAT(lines[0], HasSubstr("令和5年度 (令和6年3月末)"));
  std::vector<std::string> table;
  for (size_t i = 2; i < lines.size() && !lines[i].empty(); ++i) {
    table.push_back(lines[i]);
  }
  ASSERT_GE(table.size(), 7u) << out;
  for (const std::string& line : table) {
    EXPECT_EQ(Columns(line), Columns(table[0])) << out;
  }
  EXPECT_THAT(out, HasSubstr("市全体 令和4年度 (令和5年3月末)"));
  EXPECT_THAT(out, HasSubstr("1.8*"));
  EXPECT_THAT(out, HasSubstr("0.0*"));
  EXPECT_THAT(out, HasSubstr("* = 市全体より悪い値"));
  EXPECT_THAT(out, Not(HasSubstr("2.2*")));
  EXPECT_THAT(out, Not(HasSubstr("\x1b[")));
  // Headers wrap at four kanji a line, under their column number.
  EXPECT_THAT(out, HasSubstr("リーチが"));  // ー never starts a line
  EXPECT_THAT(out, HasSubstr("児童生徒"));
}

TEST(RenderWardComparison, PaintsFlaggedCellsYellowOnATerminal) {
  const std::string out = RenderWardComparison(Sample(), Highlight::kAnsi);
  EXPECT_THAT(out, HasSubstr("\x1b[30;43m"));
  EXPECT_THAT(out, Not(HasSubstr("1.8*")));
  EXPECT_THAT(out, HasSubstr("黄色"));
}

}  // namespace
}  // namespace kosapo::cli
