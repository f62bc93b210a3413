#include "tools/cli/ward_table.h"

#include "absl/strings/str_cat.h"

namespace kosapo::cli {
namespace {

namespace rv1 = ::kosapo::reporting::v1;

// Four kanji a header line: the table stays about 200 columns wide.
constexpr int kHeaderWrap = 8;

}  // namespace

std::string RenderWardComparison(const rv1::WardComparison& comparison,
                                 Highlight highlight) {
  TextTable table;
  table.AddColumn("区・年度", false);
  for (const rv1::Column& column : comparison.columns()) {
    table.AddColumn(absl::StrCat(column.column(), "\n", column.header_ja()),
                    true, kHeaderWrap);
  }
  std::string title;
  bool any_flagged = false;
  bool any_suppressed = false;
  bool separated = false;
  for (const rv1::WardRow& row : comparison.rows()) {
    if (row.kind() == rv1::ROW_KIND_CITY_TOTAL) {
      title = row.label_ja();
    }
    if (row.kind() == rv1::ROW_KIND_AREA && !separated) {
      table.AddSeparator();
      separated = true;
    }
    std::vector<TextTable::Cell> cells;
    cells.push_back({row.kind() == rv1::ROW_KIND_AREA
                         ? row.label_ja()
                         : absl::StrCat("市全体 ", row.label_ja()),
                     false});
    for (const rv1::Cell& cell : row.cells()) {
      cells.push_back({cell.published(), cell.flagged()});
      any_flagged = any_flagged || cell.flagged();
      any_suppressed = any_suppressed || cell.suppressed();
    }
    table.AddRow(std::move(cells));
  }
  std::string out =
      absl::StrCat("こどもサポートネットの区別実施状況  ", title,
                   "  (municipality ", comparison.municipality_code(), ")\n\n");
  absl::StrAppend(&out, table.Render(highlight));
  if (any_flagged) {
    absl::StrAppend(
        &out, "\n",
        highlight == Highlight::kAnsi ? "\x1b[30;43m 黄色 \x1b[0m" : "*",
        " = 市全体より悪い値 (worse than the city total of the "
        "year)\n");
  } else {
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "- = 分母が0 (zero denominator)",
                  any_suppressed ? " または秘匿 (or suppressed)" : "", "\n");
  return out;
}

}  // namespace kosapo::cli
