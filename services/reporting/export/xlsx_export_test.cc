// The XLSX export read back: unzipped with minizip, then the sheet's XML
// checked cell by cell (value, number or text, number format) and each
// cell's fill looked up through styles.xml, so a flagged cell must really
// be yellow and an unflagged one must not. Where python3 or unzip are on
// the machine, they test the archive too.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "services/reporting/export/testing/sample_comparison.h"
#include "services/reporting/export/testing/unzip.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting::exports {
namespace {

using exports_testing::CountFlagged;
using exports_testing::CountSuppressed;
using exports_testing::PublishedComparison;
using exports_testing::PublishedInput;
using exports_testing::Unzip;
using exports_testing::WriteTempFile;

constexpr char kYellow[] = "FFFFFF00";

std::string Xlsx(const v1::WardComparison& comparison) {
  StringSink sink;
  const absl::Status written = WriteXlsx(comparison, sink);
  EXPECT_TRUE(written.ok()) << written;
  return sink.data();
}

std::string Unescape(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&lt;", "<"},
                                    {"&gt;", ">"},
                                    {"&quot;", "\""},
                                    {"&#39;", "'"},
                                    {"&amp;", "&"}});
}

std::string Between(const std::string& text, const std::string& open,
                    const std::string& close) {
  const size_t start = text.find(open);
  if (start == std::string::npos) {
    return "";
  }
  const size_t end = text.find(close, start);
  return text.substr(start, end == std::string::npos ? end : end - start);
}

std::string Attribute(const std::string& tag, const std::string& name) {
  std::smatch match;
  const std::regex pattern("(?:^|\\s)" + name + "=\"([^\"]*)\"");
  return std::regex_search(tag, match, pattern) ? match[1].str() : "";
}

// What a cell style means, as read from styles.xml.
struct CellStyle {
  std::string number_format;  // "General", "#,##0", "0.0", ...
  std::string fill_color;     // "FFFFFF00", or "" for no solid fill
  bool italic = false;
};

std::vector<CellStyle> ReadStyles(const std::string& styles) {
  std::map<std::string, std::string> formats = {
      {"0", "General"}, {"1", "0"}, {"3", "#,##0"}};
  const std::string num_fmts = Between(styles, "<numFmts", "</numFmts>");
  const std::regex num_fmt("<numFmt ([^>]*)/>");
  for (std::sregex_iterator it(num_fmts.begin(), num_fmts.end(), num_fmt), end;
       it != end; ++it) {
    formats[Attribute((*it)[1], "numFmtId")] =
        Unescape(Attribute((*it)[1], "formatCode"));
  }
  std::vector<std::string> fills;
  const std::string fill_list = Between(styles, "<fills", "</fills>");
  const std::regex fill("<fill>(.*?)</fill>");
  for (std::sregex_iterator it(fill_list.begin(), fill_list.end(), fill), end;
       it != end; ++it) {
    const std::string body = (*it)[1];
    fills.push_back(Attribute(body, "patternType") == "solid"
                        ? Attribute(Between(body, "<fgColor", ">"), "rgb")
                        : "");
  }
  std::vector<bool> italic_fonts;
  const std::string font_list = Between(styles, "<fonts", "</fonts>");
  const std::regex font("<font>(.*?)</font>");
  for (std::sregex_iterator it(font_list.begin(), font_list.end(), font), end;
       it != end; ++it) {
    italic_fonts.push_back(absl::StrContains((*it)[1].str(), "<i/>"));
  }
  std::vector<CellStyle> out;
  const std::string xfs = Between(styles, "<cellXfs", "</cellXfs>");
  const std::regex xf("<xf ([^>]*)>");
  for (std::sregex_iterator it(xfs.begin(), xfs.end(), xf), end; it != end;
       ++it) {
    CellStyle style;
    style.number_format = formats[Attribute((*it)[1], "numFmtId")];
    size_t fill_id = 0, font_id = 0;
    EXPECT_TRUE(absl::SimpleAtoi(Attribute((*it)[1], "fillId"), &fill_id));
    EXPECT_TRUE(absl::SimpleAtoi(Attribute((*it)[1], "fontId"), &font_id));
    EXPECT_LT(fill_id, fills.size());
    EXPECT_LT(font_id, italic_fonts.size());
    style.fill_color = fill_id < fills.size() ? fills[fill_id] : "?";
    style.italic = font_id < italic_fonts.size() && italic_fonts[font_id];
    out.push_back(style);
  }
  return out;
}

struct SheetCell {
  int style = 0;
  bool is_text = false;
  std::string value;  // unescaped
};

// Cells of the sheet by reference ("B4").
std::map<std::string, SheetCell> ReadCells(const std::string& sheet) {
  std::map<std::string, SheetCell> cells;
  const std::regex cell(
      "<c r=\"([A-Z]+[0-9]+)\" s=\"([0-9]+)\"( t=\"inlineStr\")?>"
      "(?:<v>([^<]*)</v>|<is><t[^>]*>([^<]*)</t></is>)</c>");
  for (std::sregex_iterator it(sheet.begin(), sheet.end(), cell), end;
       it != end; ++it) {
    SheetCell c;
    EXPECT_TRUE(absl::SimpleAtoi((*it)[2].str(), &c.style));
    c.is_text = (*it)[3].matched;
    c.value = Unescape(c.is_text ? (*it)[5].str() : (*it)[4].str());
    EXPECT_TRUE(cells.emplace((*it)[1], c).second) << "twice: " << (*it)[1];
  }
  return cells;
}

std::string ColumnName(int column) {  // 1-based, up to Z is enough here
  return std::string(1, static_cast<char>('A' + column - 1));
}

struct Workbook {
  std::map<std::string, std::string> parts;
  std::vector<std::string> order;
};

Workbook Open(const std::string& xlsx) {
  Workbook workbook;
  auto entries = Unzip(xlsx);
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (entries.ok()) {
    for (const auto& entry : *entries) {
      workbook.order.push_back(entry.name);
      workbook.parts[entry.name] = entry.data;
    }
  }
  return workbook;
}

TEST(XlsxExport, IsAnOfficeOpenXmlPackage) {
  const Workbook workbook = Open(Xlsx(PublishedComparison()));
  ASSERT_FALSE(workbook.order.empty());
  EXPECT_EQ(workbook.order.front(), "[Content_Types].xml");
  for (const char* part :
       {"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
        "xl/styles.xml", "xl/worksheets/sheet1.xml", "docProps/core.xml"}) {
    ASSERT_EQ(workbook.parts.count(part), 1u) << part;
    EXPECT_TRUE(absl::StartsWith(workbook.parts.at(part), "<?xml"));
  }
  const std::string& types = workbook.parts.at("[Content_Types].xml");
  EXPECT_TRUE(absl::StrContains(
      types,
      "PartName=\"/xl/worksheets/sheet1.xml\" "
      "ContentType=\"application/"
      "vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\""));
  EXPECT_TRUE(absl::StrContains(workbook.parts.at("xl/workbook.xml"),
                                "<sheet name=\"区別実施状況\""));
  EXPECT_TRUE(absl::StrContains(workbook.parts.at("_rels/.rels"),
                                "Target=\"xl/workbook.xml\""));
}

TEST(XlsxExport, EveryCellHoldsThePublishedValueWithTheCitysYellow) {
  const v1::WardComparison comparison = PublishedComparison();
  ASSERT_GT(CountFlagged(comparison), 20);  // the published table has many
  const Workbook workbook = Open(Xlsx(comparison));
  const std::vector<CellStyle> styles =
      ReadStyles(workbook.parts.at("xl/styles.xml"));
  const std::string& sheet = workbook.parts.at("xl/worksheets/sheet1.xml");
  const std::map<std::string, SheetCell> cells = ReadCells(sheet);
  auto style_of = [&](const SheetCell& cell) {
    EXPECT_LT(static_cast<size_t>(cell.style), styles.size());
    return cell.style < static_cast<int>(styles.size()) ? styles[cell.style]
                                                        : CellStyle{};
  };

  // Title, header row and the frozen panes.
  ASSERT_EQ(cells.count("A1"), 1u);
  EXPECT_EQ(cells.at("A1").value,
            "こどもサポートネット 区別実施状況 令和5年度 (令和6年3月末)");
  EXPECT_EQ(cells.at("A3").value, "区分");
  for (int c = 1; c <= 18; ++c) {
    const std::string ref = ColumnName(c + 1) + "3";
    ASSERT_EQ(cells.count(ref), 1u) << ref;
    EXPECT_EQ(cells.at(ref).value, comparison.columns(c - 1).header_ja());
    EXPECT_TRUE(cells.at(ref).is_text);
  }
  EXPECT_TRUE(
      absl::StrContains(sheet,
                        "<pane xSplit=\"1\" ySplit=\"3\" topLeftCell=\"B4\" "
                        "activePane=\"bottomRight\" state=\"frozen\"/>"));
  EXPECT_TRUE(absl::StrContains(sheet, "<dimension ref=\"A1:S31\"/>"));

  int yellow = 0;
  for (int r = 0; r < comparison.rows_size(); ++r) {
    const v1::WardRow& row = comparison.rows(r);
    const std::string line = absl::StrCat(4 + r);
    SCOPED_TRACE(row.label_ja());
    ASSERT_EQ(cells.count("A" + line), 1u);
    EXPECT_EQ(cells.at("A" + line).value, row.label_ja());
    EXPECT_TRUE(cells.at("A" + line).is_text);
    ASSERT_EQ(row.cells_size(), 18);
    for (int c = 1; c <= 18; ++c) {
      const v1::Cell& expected = row.cells(c - 1);
      const std::string ref = ColumnName(c + 1) + line;
      SCOPED_TRACE(ref);
      ASSERT_EQ(cells.count(ref), 1u);
      const SheetCell& cell = cells.at(ref);
      EXPECT_EQ(cell.value, expected.published());
      const CellStyle style = style_of(cell);
      if (expected.published() == "-") {
        EXPECT_TRUE(cell.is_text);
      } else {
        EXPECT_FALSE(cell.is_text);  // a number
        EXPECT_EQ(style.number_format,
                  comparison.columns(c - 1).is_rate() ? "0.0" : "#,##0");
      }
      if (expected.flagged()) {
        EXPECT_EQ(style.fill_color, kYellow);
        ++yellow;
      } else {
        EXPECT_EQ(style.fill_color, "");
      }
    }
  }
  EXPECT_EQ(yellow, CountFlagged(comparison));
}

TEST(XlsxExport, SuppressedCellsAreGreyItalicDashes) {
  ComparisonInput input = PublishedInput();
  input.suppress_below = 10;
  const v1::WardComparison comparison = BuildComparison(input);
  ASSERT_GT(CountSuppressed(comparison), 0);
  const Workbook workbook = Open(Xlsx(comparison));
  const std::vector<CellStyle> styles =
      ReadStyles(workbook.parts.at("xl/styles.xml"));
  const auto cells = ReadCells(workbook.parts.at("xl/worksheets/sheet1.xml"));
  int italic = 0;
  for (const auto& [ref, cell] : cells) {
    if (cell.style < static_cast<int>(styles.size()) &&
        styles[cell.style].italic) {
      EXPECT_EQ(cell.value, "-") << ref;
      EXPECT_TRUE(cell.is_text) << ref;
      ++italic;
    }
  }
  EXPECT_EQ(italic, CountSuppressed(comparison));
}

TEST(XlsxExport, EscapesLabelsAndHeaders) {
  ComparisonInput input = PublishedInput();
  input.areas[0].display_name = "<b>北&区</b> \"'";
  input.areas[1].display_name = std::string("bad\x01\xff", 5);
  const v1::WardComparison comparison = BuildComparison(input);
  const Workbook workbook = Open(Xlsx(comparison));
  const std::string& sheet = workbook.parts.at("xl/worksheets/sheet1.xml");
  EXPECT_TRUE(
      absl::StrContains(sheet, "&lt;b&gt;北&amp;区&lt;/b&gt; &quot;&#39;</t>"));
  EXPECT_FALSE(absl::StrContains(sheet, "<b>"));
  // A control character and a stray byte cannot make the XML unreadable.
  EXPECT_TRUE(absl::StrContains(sheet, "bad\xEF\xBF\xBD\xEF\xBF\xBD</t>"));
  const auto cells = ReadCells(sheet);
  bool found = false;
  for (const auto& [ref, cell] : cells) {
    found = found || cell.value == "<b>北&区</b> \"'";
  }
  EXPECT_TRUE(found);
}

TEST(XlsxExport, SameComparisonSameBytes) {
  const v1::WardComparison comparison = PublishedComparison();
  EXPECT_EQ(Xlsx(comparison), Xlsx(comparison));
  v1::WardComparison other = comparison;
  other.mutable_rows(5)->mutable_cells(2)->set_flagged(
      !other.rows(5).cells(2).flagged());
  EXPECT_NE(Xlsx(comparison), Xlsx(other));
}

// Runs a shell command and returns its exit code and output.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return {-1, ""};
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool Have(const std::string& program) {
  return Shell("command -v " + program).first == 0;
}

TEST(XlsxExport, OtherZipToolsAcceptIt) {
  const std::string path = WriteTempFile(Xlsx(PublishedComparison()), ".xlsx");
  int checked = 0;
  if (Have("unzip")) {
    const auto [code, output] = Shell("unzip -tq '" + path + "'");
    EXPECT_EQ(code, 0) << output;
    EXPECT_TRUE(absl::StrContains(output, "No errors")) << output;
    ++checked;
  }
  if (Have("python3")) {
    const auto [code, output] = Shell("python3 -m zipfile -t '" + path + "'");
    EXPECT_EQ(code, 0) << output;
    EXPECT_FALSE(absl::StrContains(output, "corrupted")) << output;
    // Every part is well-formed XML.
    const auto [parsed, errors] = Shell(
        "python3 -c 'import sys, zipfile, xml.dom.minidom as m\n"
        "z = zipfile.ZipFile(sys.argv[1])\n"
        "assert z.testzip() is None\n"
        "for n in z.namelist(): m.parseString(z.read(n))\n"
        "print(len(z.namelist()))' '" +
        path + "'");
    EXPECT_EQ(parsed, 0) << errors;
    EXPECT_EQ(errors, "7\n");
    ++checked;
  }
  std::remove(path.c_str());
  if (checked == 0) {
    GTEST_SKIP() << "neither unzip nor python3 is installed";
  }
}

}  // namespace
}  // namespace kosapo::reporting::exports
