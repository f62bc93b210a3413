// UTF-8 decoding and free text by characters: what the case and referral
// services check every name, note and reason with.
#include "common/types/text.h"

#include <string>

#include "absl/strings/escaping.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// Malformed UTF-8 of every kind.
constexpr const char* kMalformed[] = {
    "\xFF",              // not a lead byte
    "\x80",              // a lone continuation byte
    "abc\xE3\x81",       // truncated
    "\xE3\x81\x41",      // a bad continuation byte
    "\xF0\x9F\x98",      // truncated four-byte sequence
    "ok\xC3",            // truncated at the end
    "\xC0\xAF",          // overlong '/'
    "\xE0\x80\xAF",      // overlong '/'
    "\xF0\x83\x81\x81",  // overlong (4-byte) ぁ U+3041
    "\xED\xA0\x80",      // surrogate U+D800
    "\xF4\x90\x80\x80",  // U+110000
    "\xF5\x80\x80\x80",  // lead byte F5
};

// ---- NextCodePoint, CodePoints --------------------------------------------

TEST(NextCodePointTest, DecodesOneToFourBytesAndAdvances) {
  const std::string text = "aé食😀";
  size_t pos = 0;
  EXPECT_EQ(NextCodePoint(text, &pos), 'a');
  EXPECT_EQ(pos, 1u);
  EXPECT_EQ(NextCodePoint(text, &pos), 0xE9);
  EXPECT_EQ(pos, 3u);
  EXPECT_EQ(NextCodePoint(text, &pos), 0x98DF);
  EXPECT_EQ(pos, 6u);
  EXPECT_EQ(NextCodePoint(text, &pos), 0x1F600);
  EXPECT_EQ(pos, 10u);
}

TEST(NextCodePointTest, TakesTheBoundariesOfEachLength) {
  for (const auto& [text, code] :
       std::initializer_list<std::pair<const char*, int32_t>>{
           {"\x7F", 0x7F},
           {"\xC2\x80", 0x80},
           {"\xDF\xBF", 0x7FF},
           {"\xE0\xA0\x80", 0x800},
           {"\xED\x9F\xBF", 0xD7FF},
           {"\xEE\x80\x80", 0xE000},
           {"\xEF\xBF\xBF", 0xFFFF},
           {"\xF0\x90\x80\x80", 0x10000},
           {"\xF4\x8F\xBF\xBF", 0x10FFFF}}) {
    size_t pos = 0;
    EXPECT_EQ(NextCodePoint(text, &pos), code) << absl::CEscape(text);
    EXPECT_EQ(pos, std::string(text).size());
  }
}

TEST(NextCodePointTest, RefusesMalformedSequencesWithoutAdvancing) {
  for (const char* bad : kMalformed) {
    const absl::string_view text(bad);
    size_t pos = 0;
    int32_t code = 0;
    while (pos < text.size() && (code = NextCodePoint(text, &pos)) >= 0) {
    }
    EXPECT_EQ(code, -1) << absl::CEscape(bad);
    EXPECT_LT(pos, text.size()) << absl::CEscape(bad);
  }
}

TEST(CodePointsTest, CountsCharactersOrSaysMinusOne) {
  EXPECT_EQ(CodePoints(""), 0);
  EXPECT_EQ(CodePoints("abc"), 3);
  EXPECT_EQ(CodePoints("食事会"), 3);  // nine bytes
  EXPECT_EQ(CodePoints("é😀"), 2);
  for (const char* bad : kMalformed) {
    EXPECT_EQ(CodePoints(bad), -1) << absl::CEscape(bad);
  }
}

// ---- ValidateText ---------------------------------------------------------

TEST(ValidateTextTest, RequiredTextIsNotBlank) {
  for (const char* blank : {" ", "\u3000\u3000", " \t\n", " \u3000\r\n"}) {
    EXPECT_THAT(ValidateText(blank, 100, true, "case.child.name"),
                StatusIs(kInvalid, "case.child.name: required"))
        << blank;
  }
  EXPECT_TRUE(ValidateText(" ", 100, false, "note").ok());
  EXPECT_OK(ValidateText("\u3000x", 100, true, "note"));
}

TEST(ValidateTextTest, CountsCodePointsNotBytes) {
  std::string note;
  for (int i = 0; i < 2000; ++i) {
    note += "あ";  // 6000 bytes in all
  }
  EXPECT_OK(ValidateText(note, 2000, false, "note"));
  EXPECT_THAT(ValidateText(note + "あ", 2000, false, "note"),
              StatusIs(kInvalid, "note: at most 2000 characters"));
  EXPECT_OK(ValidateText(std::string(2000, 'a'), 2000, false, "note"));
  EXPECT_THAT(ValidateText(std::string(2001, 'a'), 2000, false, "note"),
              StatusIs(kInvalid, StartsWith("note: ")));
  // Two-, three- and four-byte sequences count once too.
  EXPECT_OK(ValidateText("é😀", 2, true, "note"));
  EXPECT_THAT(ValidateText("é😀😀", 2, true, "note"),
              StatusIs(kInvalid, StartsWith("note: ")));
  EXPECT_OK(ValidateText("食事会", 3, true, "note"));
  EXPECT_THAT(ValidateText("食事会", 2, true, "note"),
              StatusIs(kInvalid, "note: at most 2 characters"));
}

TEST(ValidateTextTest, RequiredMeansNotEmpty) {
  EXPECT_OK(ValidateText("", 10, false, "note"));
  EXPECT_THAT(ValidateText("", 10, true, "summary"),
              StatusIs(kInvalid, "summary: required"));
  EXPECT_OK(ValidateText("x", 10, true, "summary"));
}

// Only valid UTF-8 (RFC 3629): no overlong forms, surrogates or code points
// above U+10FFFF, so an overlong space is not taken for a space.
TEST(ValidateTextTest, RejectsMalformedUtf8) {
  for (const char* bad : kMalformed) {
    EXPECT_THAT(ValidateText(bad, 100, false, "note"),
                StatusIs(kInvalid, "note: not valid UTF-8"))
        << absl::CEscape(bad);
  }
  EXPECT_THAT(ValidateText("\xC0\xA0", 100, true, "note"),
              StatusIs(kInvalid, "note: not valid UTF-8"));
}

TEST(ValidateTextTest, ChecksUtf8ThenBlanknessThenLength) {
  EXPECT_THAT(ValidateText(" \xFF", 1, true, "note"),
              StatusIs(kInvalid, HasSubstr("UTF-8")));
  EXPECT_THAT(
      ValidateText("   ", 1, true, "note"),
      StatusIs(kInvalid, AllOf(StartsWith("note: "), HasSubstr("required"))));
}

}  // namespace
}  // namespace kosapo
