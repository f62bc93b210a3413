#include "common/csv/csv.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::csv {

// Found by argument-dependent lookup, so outside the anonymous namespace.
void PrintTo(const Record& record, std::ostream* os) {
  *os << "line " << record.line << ": {\""
      << absl::StrJoin(record.fields, "\", \"") << "\"}";
}

namespace {

using ::kosapo::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// CP932 bytes of the text in the comment.
constexpr char kYamadaCp932[] =                   // 山田,ヤマダ
    "\x8E\x52\x93\x63,\x83\x84\x83\x7D\x83\x5F";  //
constexpr char kCircledOneCp932[] = "\x87\x40";   // ① (NEC extension)
constexpr char kTakaCp932[] = "\xFB\xFC";         // 髙 (IBM extension)

std::vector<absl::StatusOr<Record>> ReadAll(absl::string_view text) {
  Reader reader(text);
  std::vector<absl::StatusOr<Record>> records;
  while (std::optional<absl::StatusOr<Record>> next = reader.Next()) {
    records.push_back(*std::move(next));
  }
  return records;
}

// Reads `text`, failing the test on any error.
std::vector<Record> ReadOk(absl::string_view text) {
  std::vector<Record> records;
  for (absl::StatusOr<Record>& record : ReadAll(text)) {
    EXPECT_TRUE(record.ok()) << record.status();
    if (record.ok()) {
      records.push_back(*std::move(record));
    }
  }
  return records;
}

Record MakeRecord(int64_t line, std::vector<std::string> fields) {
  return Record{line, std::move(fields)};
}

::testing::Matcher<const Record&> RecordIs(int64_t line,
                                           std::vector<std::string> fields) {
  return AllOf(Field("line", &Record::line, line),
               Field("fields", &Record::fields, ElementsAreArray(fields)));
}

// ---- DecodeToUtf8 ----

TEST(DecodeToUtf8, StripsUtf8BomAndKeepsText) {
  const std::string bytes =
      "\xEF\xBB\xBF"
      "名前,年\n山田,5\n";
  for (Encoding encoding : {Encoding::kAuto, Encoding::kUtf8}) {
    ASSERT_OK_AND_ASSIGN(Decoded decoded, DecodeToUtf8(bytes, encoding));
    EXPECT_EQ(decoded.utf8, "名前,年\n山田,5\n");
    EXPECT_EQ(decoded.encoding, Encoding::kUtf8);
  }
}

TEST(DecodeToUtf8, AcceptsUtf8WithoutBom) {
  ASSERT_OK_AND_ASSIGN(Decoded decoded,
                       DecodeToUtf8("山田,ヤマダ\r\n", Encoding::kAuto));
  EXPECT_EQ(decoded.utf8, "山田,ヤマダ\r\n");
  EXPECT_EQ(decoded.encoding, Encoding::kUtf8);
}

TEST(DecodeToUtf8, AutoReadsAsciiAsUtf8) {
  ASSERT_OK_AND_ASSIGN(Decoded decoded, DecodeToUtf8("a,b\n", Encoding::kAuto));
  EXPECT_EQ(decoded.utf8, "a,b\n");
  EXPECT_EQ(decoded.encoding, Encoding::kUtf8);
}

TEST(DecodeToUtf8, EmptyInputIsEmptyUtf8) {
  for (Encoding encoding :
       {Encoding::kAuto, Encoding::kUtf8, Encoding::kCp932}) {
    ASSERT_OK_AND_ASSIGN(Decoded decoded, DecodeToUtf8("", encoding));
    EXPECT_EQ(decoded.utf8, "");
  }
}

TEST(DecodeToUtf8, AutoDetectsCp932) {
  ASSERT_OK_AND_ASSIGN(
      Decoded decoded,
      DecodeToUtf8(absl::StrCat(kYamadaCp932, "\r\n"), Encoding::kAuto));
  EXPECT_EQ(decoded.utf8, "山田,ヤマダ\r\n");
  EXPECT_EQ(decoded.encoding, Encoding::kCp932);
}

TEST(DecodeToUtf8, Cp932DecodesNecAndIbmExtensions) {
  const std::string bytes =
      absl::StrCat(kCircledOneCp932, ",", kTakaCp932, "\x8B\xB4\n");
  for (Encoding encoding : {Encoding::kAuto, Encoding::kCp932}) {
    ASSERT_OK_AND_ASSIGN(Decoded decoded, DecodeToUtf8(bytes, encoding));
    EXPECT_EQ(decoded.utf8, "①,髙橋\n");
    EXPECT_EQ(decoded.encoding, Encoding::kCp932);
  }
}

TEST(DecodeToUtf8, Cp932KeepsBackslashAndHalfWidthKana) {
  // 0x5C is a backslash in CP932 (a yen sign only in some fonts); 0xB1 is
  // half-width katakana ｱ.
  ASSERT_OK_AND_ASSIGN(Decoded decoded,
                       DecodeToUtf8("C:\\x,\xB1", Encoding::kCp932));
  EXPECT_EQ(decoded.utf8, "C:\\x,ｱ");
}

TEST(DecodeToUtf8, Cp932GrowsOutputForThreeBytesPerInputByte) {
  // Half-width kana: one CP932 byte becomes three UTF-8 bytes, more than the
  // first output buffer holds.
  const std::string bytes(100000, '\xB1');
  ASSERT_OK_AND_ASSIGN(Decoded decoded, DecodeToUtf8(bytes, Encoding::kCp932));
  ASSERT_EQ(decoded.utf8.size(), 300000u);
  EXPECT_EQ(decoded.utf8.substr(0, 6), "ｱｱ");
  EXPECT_EQ(decoded.utf8.substr(299994), "ｱｱ");
}

TEST(DecodeToUtf8, InvalidCp932NamesLineAndOffset) {
  // 0x85 starts no CP932 character; 18 bytes precede it.
  const std::string bytes =
      absl::StrCat("a,b\r\n", kYamadaCp932, "\n", "x\x85\x40y\n");
  for (Encoding encoding : {Encoding::kAuto, Encoding::kCp932}) {
    EXPECT_THAT(
        DecodeToUtf8(bytes, encoding),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 "line 3: invalid CP932 byte sequence at byte offset 18"));
  }
}

TEST(DecodeToUtf8, TruncatedCp932AtEndNamesLine) {
  EXPECT_THAT(DecodeToUtf8("a\nb\n\x82", Encoding::kCp932),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 3: invalid CP932 byte sequence at "
                                 "byte offset 4 (truncated")));
}

TEST(DecodeToUtf8, InvalidUtf8UnderKUtf8NamesLineAndOffset) {
  EXPECT_THAT(DecodeToUtf8("a,b\nc,d\n\xFF\n", Encoding::kUtf8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 3: invalid UTF-8 byte sequence at byte offset 8"));
  // CP932 under kUtf8 is an error, not a silent conversion.
  EXPECT_THAT(DecodeToUtf8(kYamadaCp932, Encoding::kUtf8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 1: invalid UTF-8")));
}

TEST(DecodeToUtf8, OffsetCountsTheBom) {
  EXPECT_THAT(DecodeToUtf8("\xEF\xBB\xBF"
                           "a\n\xC3",
                           Encoding::kUtf8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 2: invalid UTF-8 byte sequence at byte offset 5"));
}

TEST(DecodeToUtf8, RejectsOverlongSurrogateAndOutOfRangeUtf8) {
  for (absl::string_view bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                                "\xF4\x90\x80\x80", "\xE3\x81"}) {
    EXPECT_THAT(DecodeToUtf8(bad, Encoding::kUtf8),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("byte offset 0")))
        << absl::CEscape(bad);
  }
  ASSERT_OK_AND_ASSIGN(Decoded decoded,
                       DecodeToUtf8("\xF0\x9F\x98\x80", Encoding::kUtf8));
  EXPECT_EQ(decoded.utf8, "😀");
}

TEST(DecodeToUtf8, AutoWithBomDoesNotFallBackToCp932) {
  EXPECT_THAT(
      DecodeToUtf8(absl::StrCat("\xEF\xBB\xBF"
                                "a\n",
                                kYamadaCp932),
                   Encoding::kAuto),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invalid UTF-8")));
}

// ---- Reader ----

TEST(Reader, ReadsRecordsWithLineNumbers) {
  EXPECT_THAT(
      ReadOk("a,b,c\n1,2,3\n"),
      ElementsAre(RecordIs(1, {"a", "b", "c"}), RecordIs(2, {"1", "2", "3"})));
}

TEST(Reader, EmptyInputHasNoRecords) {
  EXPECT_THAT(ReadAll(""), IsEmpty());
  EXPECT_THAT(ReadAll("\r\n\n"), IsEmpty());
  EXPECT_THAT(ReadAll("\xEF\xBB\xBF"), IsEmpty());
}

TEST(Reader, QuotedFieldsHoldCommasQuotesAndNewlines) {
  const std::string text =
      "id,note\n"
      "1,\"a, b\"\n"
      "2,\"she said \"\"hi\"\"\"\n"
      "3,\"line one\nline two\r\nline three\"\n"
      "4,\"\"\n"
      "5,after\n";
  EXPECT_THAT(
      ReadOk(text),
      ElementsAre(RecordIs(1, {"id", "note"}), RecordIs(2, {"1", "a, b"}),
                  RecordIs(3, {"2", "she said \"hi\""}),
                  RecordIs(4, {"3", "line one\nline two\r\nline three"}),
                  RecordIs(7, {"4", ""}), RecordIs(8, {"5", "after"})));
}

TEST(Reader, HandlesCrlfLineEnds) {
  EXPECT_THAT(ReadOk("a,b\r\n\"x\",y\r\n,\r\n"),
              ElementsAre(RecordIs(1, {"a", "b"}), RecordIs(2, {"x", "y"}),
                          RecordIs(3, {"", ""})));
}

TEST(Reader, ReadsFinalLineWithoutNewline) {
  EXPECT_THAT(ReadOk("a,b\nc,d"),
              ElementsAre(RecordIs(1, {"a", "b"}), RecordIs(2, {"c", "d"})));
  EXPECT_THAT(ReadOk("a,\"b\""), ElementsAre(RecordIs(1, {"a", "b"})));
  EXPECT_THAT(ReadOk("a,"), ElementsAre(RecordIs(1, {"a", ""})));
}

TEST(Reader, SkipsEmptyLinesButCountsThem) {
  EXPECT_THAT(ReadOk("a\n\r\n\nb\n\n\n\r\n"),
              ElementsAre(RecordIs(1, {"a"}), RecordIs(4, {"b"})));
}

TEST(Reader, KeepsSpacesAndEmptyFields) {
  EXPECT_THAT(ReadOk(" a ,,\" b \"\n\"\"\n"),
              ElementsAre(RecordIs(1, {" a ", "", " b "}), RecordIs(2, {""})));
}

TEST(Reader, SkipsLeadingBom) {
  EXPECT_THAT(ReadOk("\xEF\xBB\xBF"
                     "school_code,name\n"),
              ElementsAre(RecordIs(1, {"school_code", "name"})));
}

TEST(Reader, ReportsStrayQuoteAndReadsNextLine) {
  const std::vector<absl::StatusOr<Record>> records =
      ReadAll("a,b\n1,5\" tall\n2,ok\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[1], StatusIs(absl::StatusCode::kInvalidArgument,
                                   "line 2: quote inside an unquoted field"));
  ASSERT_OK(records[2]);
  EXPECT_THAT(*records[2], RecordIs(3, {"2", "ok"}));
}

TEST(Reader, ReportsTextAfterClosingQuoteAndReadsNextLine) {
  const std::vector<absl::StatusOr<Record>> records =
      ReadAll("\"a\"b,c\n\"x\ny\"z\nnext,1\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0],
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 1: unexpected text after closing quote"));
  // The record starts on line 2; the fault is on line 3.
  EXPECT_THAT(records[1],
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 2: unexpected text after closing quote "
                       "(on line 3)"));
  ASSERT_OK(records[2]);
  EXPECT_THAT(*records[2], RecordIs(4, {"next", "1"}));
}

TEST(Reader, ReportsUnterminatedQuoteAndReadsFollowingLines) {
  const std::vector<absl::StatusOr<Record>> records =
      ReadAll("a,b\n1,\"open\n2,x\n3,y");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_THAT(records[1], StatusIs(absl::StatusCode::kInvalidArgument,
                                   "line 2: unterminated quoted field"));
  ASSERT_OK(records[2]);
  EXPECT_THAT(*records[2], RecordIs(3, {"2", "x"}));
  ASSERT_OK(records[3]);
  EXPECT_THAT(*records[3], RecordIs(4, {"3", "y"}));
}

TEST(Reader, UnterminatedQuoteAfterMultilineFieldResumesAfterItsLine) {
  const std::vector<absl::StatusOr<Record>> records =
      ReadAll("\"a\nb\",\"c\nd,e\nf,g");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_THAT(records[0],
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 1: unterminated quoted field (on line 2)"));
  ASSERT_OK(records[1]);
  EXPECT_THAT(*records[1], RecordIs(3, {"d", "e"}));
  ASSERT_OK(records[2]);
  EXPECT_THAT(*records[2], RecordIs(4, {"f", "g"}));
}

TEST(Reader, ReportsEveryMalformedLineOfMany) {
  constexpr int kLines = 50000;
  std::string text;
  for (int i = 0; i < kLines; ++i) {
    absl::StrAppend(&text, i % 2 == 0 ? "a\"b,c\n" : "\"a\"b,c\n");
  }
  text += "last,line";
  const std::vector<absl::StatusOr<Record>> records = ReadAll(text);
  ASSERT_EQ(records.size(), kLines + 1u);
  EXPECT_THAT(records[kLines - 1],
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("line ", kLines,
                                    ": unexpected text after closing quote")));
  ASSERT_OK(records[kLines]);
  EXPECT_THAT(*records[kLines], RecordIs(kLines + 1, {"last", "line"}));
}

TEST(Reader, ReadsManyRowsLinearly) {
  constexpr int kRows = 200000;
  std::string text = "school_code,grade,name,note\r\n";
  for (int i = 0; i < kRows; ++i) {
    absl::StrAppend(&text, "S", i % 977, ",", i % 6 + 1,
                    ",山田 太郎,\"a, \"\"b\"\"\"", "\r\n");
  }
  Reader reader(text);
  int64_t rows = 0;
  int64_t last_line = 0;
  while (std::optional<absl::StatusOr<Record>> record = reader.Next()) {
    ASSERT_OK(*record);
    ASSERT_EQ((*record)->fields.size(), 4u);
    last_line = (*record)->line;
    ++rows;
  }
  EXPECT_EQ(rows, kRows + 1);
  EXPECT_EQ(last_line, kRows + 1);
}

// ---- Table ----

TEST(Table, MapsTrimmedColumnNamesToFields) {
  ASSERT_OK_AND_ASSIGN(
      Table table, Table::FromHeader(MakeRecord(1, {"\xEF\xBB\xBF school_code",
                                                    " grade ", "人数"}),
                                     {"school_code", "人数"}));
  EXPECT_TRUE(table.Has("school_code"));
  EXPECT_TRUE(table.Has("grade"));
  EXPECT_FALSE(table.Has("remarks"));
  EXPECT_THAT(table.columns(), ElementsAre("school_code", "grade", "人数"));
  const Record row = MakeRecord(2, {"S001", "3", "120"});
  EXPECT_OK(table.CheckWidth(row));
  EXPECT_EQ(table.Get(row, "school_code"), "S001");
  EXPECT_EQ(table.Get(row, "人数"), "120");
  EXPECT_EQ(table.Get(row, "remarks"), "");
}

TEST(Table, RejectsMissingRequiredColumn) {
  EXPECT_THAT(Table::FromHeader(MakeRecord(1, {"grade", "count"}),
                                {"school_code", "grade"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 1: missing column 'school_code'"));
  EXPECT_THAT(
      Table::FromHeader(MakeRecord(1, {"grade"}), {"school_code", "count"}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "line 1: missing columns 'school_code', 'count'"));
}

TEST(Table, RejectsDuplicateColumn) {
  EXPECT_THAT(Table::FromHeader(MakeRecord(1, {"name", "grade", " name"}), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 1: duplicate column 'name'"));
}

TEST(Table, AllowsEmptyColumnNames) {
  ASSERT_OK_AND_ASSIGN(Table table,
                       Table::FromHeader(MakeRecord(1, {"a", "", ""}), {"a"}));
  EXPECT_FALSE(table.Has(""));
  EXPECT_OK(table.CheckWidth(MakeRecord(2, {"x", "", ""})));
}

TEST(Table, ReportsWidthMismatchWithLine) {
  ASSERT_OK_AND_ASSIGN(Table table,
                       Table::FromHeader(MakeRecord(1, {"a", "b", "c"}), {}));
  EXPECT_THAT(table.CheckWidth(MakeRecord(7, {"1", "2"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 7: expected 3 fields, found 2"));
  EXPECT_THAT(table.CheckWidth(MakeRecord(8, {"1", "2", "3", "4"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 8: expected 3 fields, found 4"));
  // Get stays safe on a short record.
  EXPECT_EQ(table.Get(MakeRecord(7, {"1"}), "c"), "");
}

// ---- Writer ----

TEST(Writer, WritesBomAndCrlf) {
  Writer writer;
  writer.AddRow({"a", "b"});
  writer.AddRow({"1", "2"});
  EXPECT_EQ(writer.data(),
            "\xEF\xBB\xBF"
            "a,b\r\n1,2\r\n");
}

TEST(Writer, OmitsBomWhenAsked) {
  Writer writer(/*utf8_bom=*/false);
  writer.AddRow({"a"});
  EXPECT_EQ(writer.data(), "a\r\n");
}

TEST(Writer, QuotesOnlyWhenNeeded) {
  Writer writer(/*utf8_bom=*/false);
  writer.AddRow({"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere",
                 " lead", "trail ", "in side", "", "山田"});
  EXPECT_EQ(writer.data(),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\","
            "\" lead\",\"trail \",in side,,山田\r\n");
}

TEST(Writer, WritesLoneEmptyFieldAsQuotes) {
  Writer writer(/*utf8_bom=*/false);
  writer.AddRow({""});
  writer.AddRow({});
  EXPECT_EQ(writer.data(), "\"\"\r\n\r\n");
}

TEST(Writer, GuardsAgainstFormulaInjection) {
  Writer writer(/*utf8_bom=*/false);
  writer.AddRow({"=SUM(A1:A2)", "+1", "-2", "@cmd", "\tx", "\rx", "a=b"});
  EXPECT_EQ(writer.data(),
            "'=SUM(A1:A2),'+1,'-2,'@cmd,\"'\tx\",\"'\rx\",a=b\r\n");
}

TEST(Writer, NumericColumnsKeepSignedNumbersButNotFormulas) {
  Writer writer(/*utf8_bom=*/false);
  writer.AddRow({"-12", "+3.5e2", "-.5", "-1+1", "=1", "-5", "12"},
                {true, true, true, true, true});
  EXPECT_EQ(writer.data(), "-12,+3.5e2,-.5,'-1+1,'=1,'-5,12\r\n");
}

TEST(Writer, NumericColumnsKeepTheLoneDashOfNoValue) {
  Writer writer(/*utf8_bom=*/false);
  writer.AddRow({"-", "-", "--", "- ", "-A1"}, {true, false, true, true, true});
  EXPECT_EQ(writer.data(), "-,'-,'--,\"'- \",'-A1\r\n");
}

TEST(Writer, RoundTripsThroughReader) {
  const std::vector<std::string> tricky = {
      "a,b",         "\"quoted\"",  "multi\r\nline\nend", " padded ", "",
      "山田 髙橋 ①", "tab\tinside", "trailing\"",         "\"\"",     "x"};
  Writer writer;
  writer.AddRow({"id", "value"});
  for (size_t i = 0; i < tricky.size(); ++i) {
    writer.AddRow({absl::StrCat(i), tricky[i]});
  }
  writer.AddRow({""});
  ASSERT_OK_AND_ASSIGN(Decoded decoded,
                       DecodeToUtf8(writer.data(), Encoding::kAuto));
  const std::vector<Record> records = ReadOk(decoded.utf8);
  ASSERT_EQ(records.size(), tricky.size() + 2);
  EXPECT_THAT(records.front().fields, ElementsAre("id", "value"));
  for (size_t i = 0; i < tricky.size(); ++i) {
    EXPECT_THAT(records[i + 1].fields, ElementsAre(absl::StrCat(i), tricky[i]));
  }
  EXPECT_THAT(records.back().fields, ElementsAre(""));
  // "multi\r\nline\nend" spans lines 4 to 6, so the next row is on line 7.
  EXPECT_EQ(records[4].line, 7);
}

}  // namespace
}  // namespace kosapo::csv
