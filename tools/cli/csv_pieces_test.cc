#include "tools/cli/csv_pieces.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/csv/csv.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::cli {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kFile[] =
    "school_code,pupil_id,note\n"  // 1
    "E1,P1,a\n"                    // 2
    "\n"                           // 3 (blank)
    "E1,P2,\"two\n"                // 4
    "lines\"\n"                    // 5
    "E1,P3,x\"y\n"                 // 6 (malformed: a quote inside)
    "E1,P4,d\n"                    // 7
    "E2,P1,e";                     // 8 (no line end)

// The records a reader sees in `text`, with their lines.
std::vector<std::pair<int64_t, std::string>> Read(const std::string& text) {
  std::vector<std::pair<int64_t, std::string>> out;
  csv::Reader reader(text);
  while (auto next = reader.Next()) {
    if (next->ok()) {
      out.emplace_back((*next)->line, (*next)->fields[1]);
    } else {
      out.emplace_back(0, std::string(next->status().message()));
    }
  }
  return out;
}

TEST(CsvPieces, CutsAtRecordsAndMapsEveryLineBack) {
  auto pieces =
      CsvPieces::Split(kFile, 2, 1 << 20, {"school_code", "pupil_id"});
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  ASSERT_EQ(pieces->rows(), 4u);  // P1, P2, P4, E2/P1; line 6 is malformed
  ASSERT_EQ(pieces->pieces().size(), 2u);
  EXPECT_EQ(pieces->records()[1].line, 4);
  EXPECT_EQ(pieces->records()[1].lines, 2);
  EXPECT_EQ(pieces->records()[0].key, "E1\x1fP1");

  // Every record is read in exactly one piece, on the line the file has it;
  // the malformed line travels with the piece it sits in.
  std::vector<std::pair<int64_t, std::string>> seen;
  for (const CsvPiece& piece : pieces->pieces()) {
    const std::string text = pieces->PieceText(piece, {});
    EXPECT_EQ(text.rfind("school_code,pupil_id,note\n", 0), 0u) << text;
    for (auto [line, value] : Read(text)) {
      if (line == 1) {
        continue;  // the header
      }
      if (line == 0) {
        // "line N: ..." of the piece's text.
        int64_t service_line = 0;
        ASSERT_TRUE(absl::SimpleAtoi(value.substr(5, value.find(':') - 5),
                                     &service_line))
            << value;
        seen.emplace_back(pieces->FileLine(piece, service_line), "malformed");
        continue;
      }
      seen.emplace_back(pieces->FileLine(piece, line), value);
    }
  }
  EXPECT_EQ(seen,
            (std::vector<std::pair<int64_t, std::string>>{
                {2, "P1"}, {4, "P2"}, {6, "malformed"}, {7, "P4"}, {8, "P1"}}));
  EXPECT_EQ(pieces->RecordAt(7), 2);
  EXPECT_EQ(pieces->RecordAt(5), -1);
}

TEST(CsvPieces, BlanksLeftOutRecordsKeepingLineNumbers) {
  auto pieces = CsvPieces::Split(kFile, 10, 1 << 20, {});
  ASSERT_TRUE(pieces.ok());
  ASSERT_EQ(pieces->pieces().size(), 1u);
  const std::string text = pieces->PieceText(pieces->pieces()[0], {1});
  const auto records = Read(text);
  ASSERT_EQ(records.size(), 5u);  // header, P1, malformed, P4, E2/P1
  EXPECT_EQ(records[1], (std::pair<int64_t, std::string>{2, "P1"}));
  EXPECT_EQ(records[3], (std::pair<int64_t, std::string>{7, "P4"}));
}

TEST(CsvPieces, KeepsPiecesUnderTheByteLimit) {
  std::string file = "school_code,pupil_id\n";
  for (int i = 0; i < 100; ++i) {
    file += "E1,P" + std::to_string(1000 + i) + "\n";  // 9 bytes a line
  }
  auto pieces = CsvPieces::Split(file, 1000, 100, {});
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(pieces->pieces().size(), 10u);  // 11 records (99 bytes) a piece
  size_t rows = 0;
  for (const CsvPiece& piece : pieces->pieces()) {
    EXPECT_LE(piece.end - piece.begin, 100u);
    rows += piece.end_record - piece.first_record;
  }
  EXPECT_EQ(rows, 100u);
}

TEST(CsvPieces, NeedsAHeader) {
  EXPECT_THAT(
      CsvPieces::Split("", 10, 100, {}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 1")));
  auto header_only = CsvPieces::Split("a,b\n", 10, 100, {});
  ASSERT_TRUE(header_only.ok());
  EXPECT_EQ(header_only->rows(), 0u);
  EXPECT_EQ(header_only->pieces().size(), 1u);
}

}  // namespace
}  // namespace kosapo::cli
