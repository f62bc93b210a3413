// The XLSX export (ward_export.h): SpreadsheetML (ECMA-376 part 1) parts in
// a zip written front to back. Only the sheet depends on the comparison's
// size, and it is streamed row by row.
#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/reporting/export/markup.h"
#include "services/reporting/export/ward_export.h"
#include "services/reporting/export/zip_writer.h"

namespace kosapo::reporting::exports {
namespace {

constexpr char kXmlDeclaration[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr char kMainNs[] =
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr char kRelNs[] =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
constexpr char kSheetName[] = "区別実施状況";
constexpr char kLabelHeader[] = "区分";
constexpr char kLegendFlag[] = "黄色";
constexpr char kLegendText[] =
    "同年度の市全体より悪い割合。「-」は分母が0、灰色斜体の「-」は"
    "少数のため非公表。";

// The title, legend and header rows; data starts on the next row.
constexpr int kHeaderRow = 3;
constexpr int kValueColumnWidth = 12;

// Indexes into cellXfs of styles.xml below; the order must match.
enum Style {
  kDefault = 0,
  kTitle = 1,
  kHeader = 2,
  kLabel = 3,
  kCount = 4,
  kCountFlagged = 5,
  kRate = 6,
  kRateFlagged = 7,
  kDash = 8,
  kDashFlagged = 9,
  kDashSuppressed = 10,
  kLegendSwatch = 11,
  kCityLabel = 12,
};

// Fonts: 0 body, 1 title, 2 bold, 3 grey italic. Fills: 0 and 1 are the two
// the format reserves, 2 the city's yellow, 3 the headers' grey. Borders: 0
// none, 1 thin. Number formats: 3 is the built-in "#,##0", 164 "0.0".
constexpr char kStyles[] =
    R"(<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">)"
    R"(<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0"/></numFmts>)"
    R"(<fonts count="4">)"
    R"(<font><sz val="11"/><name val="游ゴシック"/><family val="3"/><charset val="128"/></font>)"
    R"(<font><b/><sz val="14"/><name val="游ゴシック"/><family val="3"/><charset val="128"/></font>)"
    R"(<font><b/><sz val="11"/><name val="游ゴシック"/><family val="3"/><charset val="128"/></font>)"
    R"(<font><i/><sz val="11"/><color rgb="FF808080"/><name val="游ゴシック"/><family val="3"/><charset val="128"/></font>)"
    R"(</fonts>)"
    R"(<fills count="4">)"
    R"(<fill><patternFill patternType="none"/></fill>)"
    R"(<fill><patternFill patternType="gray125"/></fill>)"
    R"(<fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/><bgColor indexed="64"/></patternFill></fill>)"
    R"(<fill><patternFill patternType="solid"><fgColor rgb="FFD9D9D9"/><bgColor indexed="64"/></patternFill></fill>)"
    R"(</fills>)"
    R"(<borders count="2">)"
    R"(<border><left/><right/><top/><bottom/><diagonal/></border>)"
    R"(<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>)"
    R"(<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>)"
    R"(</borders>)"
    R"(<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>)"
    R"(<cellXfs count="13">)"
    R"(<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>)"
    R"(<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>)"
    R"(<xf numFmtId="0" fontId="2" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">)"
    R"(<alignment horizontal="center" vertical="center" wrapText="1"/></xf>)"
    R"(<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1"/>)"
    R"(<xf numFmtId="3" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>)"
    R"(<xf numFmtId="3" fontId="0" fillId="2" borderId="1" xfId="0" applyNumberFormat="1" applyFill="1" applyBorder="1"/>)"
    R"(<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>)"
    R"(<xf numFmtId="164" fontId="0" fillId="2" borderId="1" xfId="0" applyNumberFormat="1" applyFill="1" applyBorder="1"/>)"
    R"(<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment horizontal="right"/></xf>)"
    R"(<xf numFmtId="0" fontId="0" fillId="2" borderId="1" xfId="0" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="right"/></xf>)"
    R"(<xf numFmtId="0" fontId="3" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment horizontal="right"/></xf>)"
    R"(<xf numFmtId="0" fontId="0" fillId="2" borderId="1" xfId="0" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center"/></xf>)"
    R"(<xf numFmtId="0" fontId="2" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1"/>)"
    R"(</cellXfs>)"
    R"(<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>)"
    R"(</styleSheet>)";

constexpr char kContentTypes[] =
    R"(<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
    R"(<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>)"
    R"(<Default Extension="xml" ContentType="application/xml"/>)"
    R"(<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>)"
    R"(<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>)"
    R"(<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>)"
    R"(<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>)"
    R"(</Types>)";

constexpr char kPackageRels[] =
    R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>)"
    R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>)"
    R"(</Relationships>)";

constexpr char kWorkbookRels[] =
    R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>)"
    R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>)"
    R"(</Relationships>)";

// "A", ..., "Z", "AA", ... for a 1-based column.
std::string ColumnName(int column) {
  std::string name;
  for (; column > 0; column = (column - 1) / 26) {
    name.insert(name.begin(), static_cast<char>('A' + (column - 1) % 26));
  }
  return name;
}

std::string Ref(int column, int row) {
  return absl::StrCat(ColumnName(column), row);
}

void AppendText(std::string& out, int column, int row, Style style,
                absl::string_view text) {
  absl::StrAppend(&out, "<c r=\"", Ref(column, row), "\" s=\"", style,
                  "\" t=\"inlineStr\"><is><t");
  if (!text.empty() &&
      (absl::ascii_isspace(text.front()) || absl::ascii_isspace(text.back()))) {
    out.append(" xml:space=\"preserve\"");
  }
  out.push_back('>');
  AppendEscaped(text, &out);
  out.append("</t></is></c>");
}

void AppendNumber(std::string& out, int column, int row, Style style,
                  absl::string_view number) {
  absl::StrAppend(&out, "<c r=\"", Ref(column, row), "\" s=\"", style, "\"><v>",
                  number, "</v></c>");
}

// A published value a spreadsheet can hold as a number: digits with at most
// one decimal point inside ("164066", "2.2").
bool IsDecimal(absl::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') {
    return false;
  }
  int points = 0;
  for (char c : text) {
    if (c == '.') {
      ++points;
    } else if (!absl::ascii_isdigit(c)) {
      return false;
    }
  }
  return points <= 1;
}

void AppendCell(std::string& out, int column, int row, const v1::Cell& cell,
                bool is_rate) {
  const std::string& published = cell.published();
  if (IsDecimal(published)) {
    const Style style = is_rate ? (cell.flagged() ? kRateFlagged : kRate)
                                : (cell.flagged() ? kCountFlagged : kCount);
    AppendNumber(out, column, row, style, published);
    return;
  }
  const Style style = cell.flagged()      ? kDashFlagged
                      : cell.suppressed() ? kDashSuppressed
                                          : kDash;
  AppendText(out, column, row, style, published);
}

std::string Workbook() {
  return absl::StrCat(
      kXmlDeclaration, "<workbook xmlns=\"", kMainNs, "\" xmlns:r=\"", kRelNs,
      "\"><bookViews><workbookView/></bookViews><sheets><sheet name=\"",
      kSheetName,
      "\" sheetId=\"1\" r:id=\"rId1\"/></sheets><definedNames>"
      // The header row repeats on every printed page.
      "<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"0\">'",
      kSheetName, "'!$", kHeaderRow, ":$", kHeaderRow,
      "</definedName></definedNames></workbook>");
}

std::string CoreProperties(const v1::WardComparison& comparison) {
  return absl::StrCat(
      kXmlDeclaration,
      "<cp:coreProperties "
      "xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/"
      "core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
      "<dc:title>",
      Escaped(Title(comparison)), "</dc:title></cp:coreProperties>");
}

// Everything before the first data row: widths follow the longest label,
// the header row is tall enough for its wrapped names.
std::string SheetHead(const v1::WardComparison& comparison) {
  const int last_column = 1 + comparison.columns_size();
  const int last_row = kHeaderRow + comparison.rows_size();
  int label_width = DisplayWidth(kLabelHeader);
  for (const v1::WardRow& row : comparison.rows()) {
    label_width = std::max(label_width, DisplayWidth(row.label_ja()));
  }
  label_width = std::clamp(label_width + 2, 10, 60);
  int header_lines = 1;
  for (const v1::Column& column : comparison.columns()) {
    const int width = DisplayWidth(column.header_ja());
    header_lines = std::max(header_lines, (width + kValueColumnWidth - 3) /
                                              (kValueColumnWidth - 2));
  }
  std::string out = absl::StrCat(
      kXmlDeclaration, "<worksheet xmlns=\"", kMainNs, "\" xmlns:r=\"", kRelNs,
      "\"><sheetPr><pageSetUpPr fitToPage=\"1\"/></sheetPr>",
      "<dimension ref=\"A1:", Ref(last_column, last_row), "\"/>",
      "<sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\">"
      "<pane xSplit=\"1\" ySplit=\"",
      kHeaderRow, "\" topLeftCell=\"", Ref(2, kHeaderRow + 1),
      "\" activePane=\"bottomRight\" state=\"frozen\"/>"
      "<selection pane=\"topRight\"/><selection pane=\"bottomLeft\"/>"
      "<selection pane=\"bottomRight\" activeCell=\"",
      Ref(2, kHeaderRow + 1), "\" sqref=\"", Ref(2, kHeaderRow + 1),
      "\"/></sheetView></sheetViews>"
      "<sheetFormatPr defaultRowHeight=\"18.75\"/>"
      "<cols><col min=\"1\" max=\"1\" width=\"",
      label_width, "\" customWidth=\"1\"/>");
  if (last_column >= 2) {
    absl::StrAppend(&out, "<col min=\"2\" max=\"", last_column, "\" width=\"",
                    kValueColumnWidth, "\" customWidth=\"1\"/>");
  }
  out.append("</cols><sheetData><row r=\"1\" ht=\"24\" customHeight=\"1\">");
  AppendText(out, 1, 1, kTitle, Title(comparison));
  out.append("</row><row r=\"2\">");
  AppendText(out, 1, 2, kLegendSwatch, kLegendFlag);
  AppendText(out, 2, 2, kDefault, kLegendText);
  absl::StrAppend(&out, "</row><row r=\"", kHeaderRow, "\" ht=\"",
                  header_lines * 15 + 6, "\" customHeight=\"1\">");
  AppendText(out, 1, kHeaderRow, kHeader, kLabelHeader);
  int column = 2;
  for (const v1::Column& header : comparison.columns()) {
    AppendText(out, column++, kHeaderRow, kHeader, header.header_ja());
  }
  out.append("</row>");
  return out;
}

constexpr char kSheetTail[] =
    "</sheetData>"
    "<pageMargins left=\"0.4\" right=\"0.4\" top=\"0.6\" bottom=\"0.6\" "
    "header=\"0.3\" footer=\"0.3\"/>"
    "<pageSetup paperSize=\"9\" orientation=\"landscape\" fitToWidth=\"1\" "
    "fitToHeight=\"0\"/></worksheet>";

absl::Status WriteSheet(const v1::WardComparison& comparison, ZipWriter& zip) {
  if (absl::Status begun = zip.Begin("xl/worksheets/sheet1.xml"); !begun.ok()) {
    return begun;
  }
  if (absl::Status head = zip.Write(SheetHead(comparison)); !head.ok()) {
    return head;
  }
  std::map<int, bool> is_rate;
  for (const v1::Column& column : comparison.columns()) {
    is_rate[column.column()] = column.is_rate();
  }
  int r = kHeaderRow;
  std::string out;
  for (const v1::WardRow& row : comparison.rows()) {
    ++r;
    out.clear();
    absl::StrAppend(&out, "<row r=\"", r, "\">");
    AppendText(out, 1, r, row.kind() == v1::ROW_KIND_AREA ? kLabel : kCityLabel,
               row.label_ja());
    int column = 2;
    for (const v1::Cell& cell : row.cells()) {
      AppendCell(out, column++, r, cell, is_rate[cell.column()]);
    }
    out.append("</row>");
    if (absl::Status sent = zip.Write(out); !sent.ok()) {
      return sent;
    }
  }
  return zip.Write(kSheetTail);
}

}  // namespace

absl::Status WriteXlsx(const v1::WardComparison& comparison, ChunkSink& sink) {
  ZipWriter zip(sink);
  const auto xml = [](absl::string_view body) {
    return absl::StrCat(kXmlDeclaration, body);
  };
  for (const auto& [name, content] :
       std::initializer_list<std::pair<const char*, std::string>>{
           {"[Content_Types].xml", xml(kContentTypes)},
           {"_rels/.rels", xml(kPackageRels)},
           {"docProps/core.xml", CoreProperties(comparison)},
           {"xl/workbook.xml", Workbook()},
           {"xl/_rels/workbook.xml.rels", xml(kWorkbookRels)},
           {"xl/styles.xml", xml(kStyles)}}) {
    if (absl::Status added = zip.Add(name, content); !added.ok()) {
      return added;
    }
  }
  if (absl::Status sheet = WriteSheet(comparison, zip); !sheet.ok()) {
    return sheet;
  }
  return zip.Finish();
}

}  // namespace kosapo::reporting::exports
