// The HTML export as text: escaping of everything that comes from data,
// self-containment, and the table markup screen readers rely on.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/reporting/export/markup.h"
#include "services/reporting/export/testing/sample_comparison.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting::exports {
namespace {

using exports_testing::CountFlagged;
using exports_testing::CountSuppressed;
using exports_testing::PublishedComparison;
using exports_testing::PublishedInput;

std::string Html(const v1::WardComparison& comparison) {
  StringSink sink;
  const absl::Status written = WriteHtml(comparison, sink);
  EXPECT_TRUE(written.ok()) << written;
  return sink.data();
}

int Occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(Markup, EscapesEveryMarkupCharacterAndBadBytes) {
  EXPECT_EQ(Escaped("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(Escaped("北区\t\n"), "北区\t\n");
  EXPECT_EQ(Escaped(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Escaped("\xC3"), "\xEF\xBF\xBD");          // truncated sequence
  EXPECT_EQ(Escaped("\xEF\xBF\xBE"), "\xEF\xBF\xBD");  // U+FFFE
  EXPECT_EQ(DisplayWidth("区分"), 4);
  EXPECT_EQ(DisplayWidth("FY2023 (令和5年度)"), 18);
}

TEST(HtmlExport, IsOneSelfContainedJapanesePage) {
  const v1::WardComparison comparison = PublishedComparison();
  const std::string html = Html(comparison);
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>\n<html lang=\"ja\">"));
  EXPECT_TRUE(absl::StrContains(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(absl::StrContains(
      html,
      "<title>こどもサポートネット 区別実施状況 令和5年度 (令和6年3月末)"
      "</title>"));
  for (const char* outside :
       {"<script", "<link", "src=", "http:", "https:", "@import", "url("}) {
    EXPECT_FALSE(absl::StrContains(html, outside)) << outside;
  }
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n"));
}

TEST(HtmlExport, TableMarkupForScreenReaders) {
  const v1::WardComparison comparison = PublishedComparison();
  const std::string html = Html(comparison);
  EXPECT_EQ(Occurrences(html, "<caption>"), 1);
  EXPECT_EQ(Occurrences(html, "<th scope=\"col\">"), 19);
  EXPECT_EQ(Occurrences(html, "<th scope=\"row\">"), comparison.rows_size());
  for (const v1::Column& column : comparison.columns()) {
    EXPECT_TRUE(absl::StrContains(
        html, absl::StrCat("<th scope=\"col\">", column.header_ja(), "</th>")));
  }
  // Every value in its row, in order.
  for (const v1::WardRow& row : comparison.rows()) {
    std::string expected =
        absl::StrCat("<th scope=\"row\">", row.label_ja(), "</th>");
    const size_t at = html.find(expected);
    ASSERT_NE(at, std::string::npos) << row.label_ja();
    size_t pos = at;
    for (const v1::Cell& cell : row.cells()) {
      pos = html.find(absl::StrCat(">", cell.published()), pos);
      ASSERT_NE(pos, std::string::npos) << row.label_ja() << cell.column();
    }
    EXPECT_LT(pos, html.find("</tr>", at));
  }
  // Yellow is never the only signal.
  ASSERT_GT(CountFlagged(comparison), 0);
  EXPECT_EQ(Occurrences(html, "<td class=\"flag\">"), CountFlagged(comparison));
  EXPECT_EQ(Occurrences(html, "（市全体より悪い）"), CountFlagged(comparison));
  EXPECT_TRUE(absl::StrContains(html, ".flag { background: #ffff00; }"));
  EXPECT_TRUE(absl::StrContains(html, "<ul class=\"legend\">"));
}

TEST(HtmlExport, MarksSuppressedCells) {
  ComparisonInput input = PublishedInput();
  input.suppress_below = 10;
  const v1::WardComparison comparison = BuildComparison(input);
  ASSERT_GT(CountSuppressed(comparison), 0);
  const std::string html = Html(comparison);
  EXPECT_EQ(Occurrences(html,
                        "<td class=\"suppressed\">-<span "
                        "aria-hidden=\"true\">※</span>"),
            CountSuppressed(comparison));
  EXPECT_EQ(Occurrences(html, "（少数のため非公表）"),
            CountSuppressed(comparison));
}

TEST(HtmlExport, EscapesEverythingFromData) {
  ComparisonInput input = PublishedInput();
  input.municipality = "<i>27100</i>";
  input.areas[0].display_name = "<script>alert(\"区\")</script>&'";
  v1::WardComparison comparison = BuildComparison(input);
  comparison.mutable_columns(0)->set_header_ja("<img src=x onerror=alert(1)>");
  comparison.mutable_rows(4)->mutable_cells(0)->set_published("<b>1</b>");
  const std::string html = Html(comparison);
  EXPECT_FALSE(absl::StrContains(html, "<script"));
  EXPECT_FALSE(absl::StrContains(html, "<img"));
  EXPECT_FALSE(absl::StrContains(html, "<i>"));
  EXPECT_FALSE(absl::StrContains(html, "<b>"));
  EXPECT_TRUE(absl::StrContains(
      html,
      "&lt;script&gt;alert(&quot;区&quot;)&lt;/script&gt;&amp;&#39;</th>"));
  EXPECT_TRUE(
      absl::StrContains(html, "&lt;img src=x onerror=alert(1)&gt;</th>"));
  EXPECT_TRUE(absl::StrContains(html, "&lt;i&gt;27100&lt;/i&gt;"));
  EXPECT_TRUE(absl::StrContains(html, ">&lt;b&gt;1&lt;/b&gt;</td>"));
}

}  // namespace
}  // namespace kosapo::reporting::exports
