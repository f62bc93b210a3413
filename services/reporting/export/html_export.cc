// The HTML export (ward_export.h): one page that reads well on screen and
// on paper and needs nothing from outside: no scripts, fonts, images or
// style sheets. The yellow of a flagged cell is never the only signal: the
// cell also says it in text for screen readers, and the legend explains it.
#include <string>

#include "absl/strings/str_cat.h"
#include "services/reporting/export/markup.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting::exports {
namespace {

constexpr char kStyle[] = R"(
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic",
       "Meiryo", sans-serif; margin: 16px; color: #000; background: #fff;
       font-size: 13px; }
h1 { font-size: 18px; margin: 0 0 8px; }
p.meta { margin: 0 0 8px; }
ul.legend { list-style: none; margin: 0 0 12px; padding: 0; }
ul.legend li { margin: 2px 0; }
.swatch { display: inline-block; min-width: 2.5em; margin-right: 6px;
          padding: 0 4px; border: 1px solid #666; text-align: center; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: bold; padding-bottom: 6px; }
th, td { border: 1px solid #666; padding: 2px 5px; }
thead th { background: #d9d9d9; vertical-align: bottom; font-size: 12px;
           max-width: 6.5em; }
tbody th { text-align: left; white-space: nowrap; font-weight: normal; }
tbody tr.city th { font-weight: bold; }
td { text-align: right; white-space: nowrap;
     font-variant-numeric: tabular-nums; }
.flag { background: #ffff00; }
.suppressed { color: #555; font-style: italic; background: #eeeeee; }
.sr { position: absolute; width: 1px; height: 1px; margin: -1px;
      padding: 0; border: 0; overflow: hidden; clip: rect(0 0 0 0);
      white-space: nowrap; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { margin: 0; }
}
)";

constexpr char kFlaggedText[] = "（市全体より悪い）";
constexpr char kSuppressedText[] = "（少数のため非公表）";

void AppendCell(std::string& out, const v1::Cell& cell) {
  std::string classes;
  if (cell.flagged()) {
    classes = "flag";
  }
  if (cell.suppressed()) {
    absl::StrAppend(&classes, classes.empty() ? "" : " ", "suppressed");
  }
  out.append(classes.empty() ? "<td>"
                             : absl::StrCat("<td class=\"", classes, "\">"));
  AppendEscaped(cell.published(), &out);
  if (cell.suppressed()) {
    absl::StrAppend(&out,
                    "<span aria-hidden=\"true\">※</span><span class=\"sr\">",
                    kSuppressedText, "</span>");
  }
  if (cell.flagged()) {
    absl::StrAppend(&out, "<span class=\"sr\">", kFlaggedText, "</span>");
  }
  out.append("</td>");
}

std::string Head(const v1::WardComparison& comparison) {
  const std::string title = Escaped(Title(comparison));
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>",
      title, "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>",
      title, "</h1>\n<p class=\"meta\">市区町村コード ",
      Escaped(comparison.municipality_code()),
      "</p>\n<ul class=\"legend\">\n"
      "<li><span class=\"swatch flag\">&nbsp;</span>黄色: "
      "同年度の市全体より悪い割合</li>\n"
      "<li><span class=\"swatch\">-</span>分母が0のため算出できない値</li>\n"
      "<li><span class=\"swatch suppressed\">-※</span>"
      "少数のため非公表の値</li>\n</ul>\n<table>\n<caption>",
      title, "</caption>\n<thead>\n<tr><th scope=\"col\">区分</th>");
  for (const v1::Column& column : comparison.columns()) {
    out.append("<th scope=\"col\">");
    AppendEscaped(column.header_ja(), &out);
    out.append("</th>");
  }
  out.append("</tr>\n</thead>\n<tbody>\n");
  return out;
}

}  // namespace

absl::Status WriteHtml(const v1::WardComparison& comparison, ChunkSink& sink) {
  if (absl::Status sent = sink.Append(Head(comparison)); !sent.ok()) {
    return sent;
  }
  std::string out;
  for (const v1::WardRow& row : comparison.rows()) {
    out.assign(row.kind() == v1::ROW_KIND_AREA ? "<tr>"
                                               : "<tr class=\"city\">");
    out.append("<th scope=\"row\">");
    AppendEscaped(row.label_ja(), &out);
    out.append("</th>");
    for (const v1::Cell& cell : row.cells()) {
      AppendCell(out, cell);
    }
    out.append("</tr>\n");
    if (absl::Status sent = sink.Append(out); !sent.ok()) {
      return sent;
    }
  }
  return sink.Append("</tbody>\n</table>\n</body>\n</html>\n");
}

}  // namespace kosapo::reporting::exports
