// The CSV export read back with the shared RFC 4180 reader: the BOM, the
// header, every published value, formula neutralisation of labels, and the
// published "-" kept bare.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/csv/csv.h"
#include "gtest/gtest.h"
#include "services/reporting/export/testing/sample_comparison.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting::exports {
namespace {

using exports_testing::CountDashes;
using exports_testing::PublishedComparison;
using exports_testing::PublishedInput;

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

std::string Csv(const v1::WardComparison& comparison) {
  StringSink sink;
  const absl::Status written = WriteCsv(comparison, sink);
  EXPECT_TRUE(written.ok()) << written;
  return sink.data();
}

std::vector<std::vector<std::string>> ReadBack(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  csv::Reader reader(text);
  while (auto record = reader.Next()) {
    EXPECT_TRUE(record->ok()) << record->status();
    if (record->ok()) {
      records.push_back((*record)->fields);
    }
  }
  return records;
}

TEST(CsvExport, ReadsBackAsTheComparisonWithABom) {
  const v1::WardComparison comparison = PublishedComparison();
  ASSERT_EQ(comparison.rows_size(), 28);  // 3 earlier + city + 24 wards
  const std::string text = Csv(comparison);
  ASSERT_TRUE(absl::StartsWith(text, kBom));
  EXPECT_FALSE(absl::StartsWith(text.substr(kBom.size()), kBom));
  const auto records = ReadBack(text);
  ASSERT_EQ(records.size(), 1u + comparison.rows_size());
  ASSERT_EQ(records[0].size(), 19u);
  EXPECT_EQ(records[0][0], "区分");
  EXPECT_EQ(records[0][1], "児童生徒数");
  for (int c = 0; c < comparison.columns_size(); ++c) {
    EXPECT_EQ(records[0][c + 1], comparison.columns(c).header_ja());
  }
  for (int r = 0; r < comparison.rows_size(); ++r) {
    const v1::WardRow& row = comparison.rows(r);
    const std::vector<std::string>& record = records[r + 1];
    ASSERT_EQ(record.size(), 19u) << row.label_ja();
    EXPECT_EQ(record[0], row.label_ja());
    for (int c = 0; c < row.cells_size(); ++c) {
      EXPECT_EQ(record[c + 1], row.cells(c).published())
          << row.label_ja() << " column " << c + 1;
    }
  }
  // Spot checks against the published sheet: the city total of FY2023 and
  // the first ward.
  EXPECT_EQ(records[4][0], "令和5年度 (令和6年3月末)");
  EXPECT_EQ(records[4][1], "164066");
  EXPECT_EQ(records[4][3], "2.2");
  EXPECT_NE(text.find("\r\n"), std::string::npos);
}

TEST(CsvExport, NeutralisesFormulasInLabelsButKeepsThePublishedDash) {
  ComparisonInput input = PublishedInput();
  ASSERT_GE(input.areas.size(), 5u);
  input.areas[0].display_name = "=HYPERLINK(\"http://x\",\"区\")";
  input.areas[1].display_name = "+1";
  input.areas[2].display_name = "@SUM(A1)";
  input.areas[3].display_name = "-";
  input.areas[4].display_name = "\tTab";
  // An area with nothing counted: every rate has a zero denominator.
  input.areas.push_back({"EMPTY", "空の区", 99, ""});
  const v1::WardComparison comparison = BuildComparison(input);
  ASSERT_GE(CountDashes(comparison), 10);

  const std::string text = Csv(comparison);
  const auto records = ReadBack(text);
  ASSERT_EQ(records.size(), 1u + comparison.rows_size());
  auto record_of = [&](const std::string& area) {
    for (int r = 0; r < comparison.rows_size(); ++r) {
      if (comparison.rows(r).area_code() == area) {
        return records[r + 1];
      }
    }
    ADD_FAILURE() << area;
    return std::vector<std::string>{};
  };
  EXPECT_EQ(record_of(input.areas[0].code)[0],
            "'=HYPERLINK(\"http://x\",\"区\")");
  EXPECT_EQ(record_of(input.areas[1].code)[0], "'+1");
  EXPECT_EQ(record_of(input.areas[2].code)[0], "'@SUM(A1)");
  EXPECT_EQ(record_of(input.areas[3].code)[0], "'-");  // a label, not a value
  EXPECT_EQ(record_of(input.areas[4].code)[0], "'\tTab");

  // The published "-" stays bare, as the city prints it.
  const std::vector<std::string> empty = record_of("EMPTY");
  ASSERT_EQ(empty.size(), 19u);
  EXPECT_EQ(empty[0], "空の区");
  for (int column : {3, 5, 7, 8, 10, 12, 14, 16, 17, 18}) {
    EXPECT_EQ(empty[column], "-") << column;
  }
  EXPECT_NE(text.find("\r\n空の区,0,0,-,0,-,0,-,-,0,-,0,-,0,-,0,-,-,-\r\n"),
            std::string::npos);
  EXPECT_EQ(text.find(",'-"), std::string::npos);
}

TEST(CsvExport, SuppressedCellsAreABareDash) {
  ComparisonInput input = PublishedInput();
  input.suppress_below = 10;
  const v1::WardComparison comparison = BuildComparison(input);
  ASSERT_GT(exports_testing::CountSuppressed(comparison), 0);
  const auto records = ReadBack(Csv(comparison));
  int dashes = 0;
  for (size_t r = 1; r < records.size(); ++r) {
    for (size_t c = 1; c < records[r].size(); ++c) {
      dashes += records[r][c] == "-" ? 1 : 0;
    }
  }
  EXPECT_EQ(dashes, CountDashes(comparison));
}

TEST(CsvExport, QuotesLabelsAsRfc4180) {
  ComparisonInput input = PublishedInput();
  input.areas[0].display_name = "北区, \"中央\"\n二行目";
  const v1::WardComparison comparison = BuildComparison(input);
  const std::string text = Csv(comparison);
  EXPECT_NE(text.find("\"北区, \"\"中央\"\"\n二行目\","), std::string::npos);
  const auto records = ReadBack(text);
  bool found = false;
  for (const auto& record : records) {
    found = found || record[0] == "北区, \"中央\"\n二行目";
  }
  EXPECT_TRUE(found);
}

TEST(CsvExport, StreamsTheSameBytesInChunks) {
  const v1::WardComparison comparison = PublishedComparison();
  std::string joined;
  int chunks = 0;
  ChunkingSink sink(100, [&](std::string chunk) {
    EXPECT_LE(chunk.size(), 100u);
    joined += chunk;
    ++chunks;
    return absl::OkStatus();
  });
  ASSERT_TRUE(Write(comparison, v1::EXPORT_FORMAT_CSV, sink).ok());
  ASSERT_TRUE(sink.Close().ok());
  EXPECT_EQ(joined, Csv(comparison));
  EXPECT_GT(chunks, 10);
}

TEST(ExportInfo, NamesTheFileByYearAndDate) {
  const v1::WardComparison comparison = PublishedComparison();
  auto csv = InfoOf(comparison, v1::EXPORT_FORMAT_CSV);
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(csv->file_name, "ward-comparison-fy2023-2024-03-31.csv");
  EXPECT_EQ(csv->content_type, "text/csv; charset=utf-8");
  auto xlsx = InfoOf(comparison, v1::EXPORT_FORMAT_XLSX);
  ASSERT_TRUE(xlsx.ok());
  EXPECT_EQ(xlsx->file_name, "ward-comparison-fy2023-2024-03-31.xlsx");
  auto html = InfoOf(comparison, v1::EXPORT_FORMAT_HTML);
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->file_name, "ward-comparison-fy2023-2024-03-31.html");
  EXPECT_EQ(Title(comparison),
            "こどもサポートネット 区別実施状況 令和5年度 (令和6年3月末)");
  for (auto format :
       {v1::EXPORT_FORMAT_UNSPECIFIED, static_cast<v1::ExportFormat>(42)}) {
    const auto info = InfoOf(comparison, format);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(info.status().message(), "format:"));
    StringSink sink;
    EXPECT_EQ(Write(comparison, format, sink).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(sink.data().empty());
  }
}

}  // namespace
}  // namespace kosapo::reporting::exports
