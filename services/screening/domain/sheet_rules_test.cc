#include "services/screening/domain/sheet_rules.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/digest.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kosapo::screening {
namespace {

v1::Sheet Pupil() {
  v1::Sheet sheet;
  sheet.set_school_code("E1");
  sheet.set_pupil_id("P-0001");
  sheet.set_grade(3);
  sheet.set_class_name("2組");
  sheet.set_pupil_name("山田 太郎");
  sheet.set_pupil_kana("ヤマダ タロウ");
  sheet.mutable_birth_date()->set_year(2015);
  sheet.mutable_birth_date()->set_month(5);
  sheet.mutable_birth_date()->set_day(20);
  sheet.set_sex(v1::SEX_MALE);
  sheet.set_note("給食をよく残す");
  return sheet;
}

// Adds an answer to `item`: a level, or a flag.
void AddLevel(v1::Sheet& sheet, const std::string& item, int level) {
  v1::Answer* answer = sheet.add_answers();
  answer->set_item(item);
  answer->set_level(level);
}
void AddFlag(v1::Sheet& sheet, const std::string& item, bool flag) {
  v1::Answer* answer = sheet.add_answers();
  answer->set_item(item);
  answer->set_flag(flag);
}

// ---- The texts as nlohmann::json built and dumped them ----
//
// The reference the hand-written serializer must match byte for byte: the
// stored content hashes and JSON texts were made with exactly this code.

nlohmann::json ReferenceAnswers(const v1::Sheet& sheet) {
  nlohmann::json out = nlohmann::json::array();
  if (sheet.answers_size() == 0) {
    return out;
  }
  std::map<std::string, nlohmann::json> by_item;
  for (const v1::Answer& answer : sheet.answers()) {
    const bool flag = answer.value_case() == v1::Answer::kFlag;
    if (flag ? !answer.flag() : answer.level() == 0) {
      continue;
    }
    by_item[answer.item()] = {
        {"item", answer.item()},
        {"kind", flag ? "flag" : "level"},
        {"value", flag ? (answer.flag() ? 1 : 0) : answer.level()}};
  }
  for (auto& [item, json] : by_item) {
    out.push_back(std::move(json));
  }
  return out;
}

std::string ReferenceAnswersJson(const v1::Sheet& sheet) {
  return ReferenceAnswers(sheet).dump();
}

std::string ReferenceTriggeredJson(const Score& score) {
  nlohmann::json out = nlohmann::json::array();
  for (const Trigger& trigger : score.triggered) {
    out.push_back({{"item", trigger.item},
                   {"points", trigger.points},
                   {"always_review", trigger.always_review}});
  }
  return out.dump();
}

std::string ReferenceFingerprintText(const v1::Sheet& sheet) {
  const nlohmann::json content = {
      {"school", sheet.school_code()},
      {"pupil", sheet.pupil_id()},
      {"grade", sheet.grade()},
      {"class", sheet.class_name()},
      {"name", sheet.pupil_name()},
      {"kana", sheet.pupil_kana()},
      {"birth",
       {sheet.birth_date().year(), sheet.birth_date().month(),
        sheet.birth_date().day()}},
      {"sex", std::string(SexToDb(sheet.sex()))},
      {"answers", ReferenceAnswers(sheet)},
      {"note", sheet.note()}};
  return content.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// What `call` throws as nlohmann::json::type_error, or "" if it returns.
template <typename Call>
std::string TypeErrorOf(Call call) {
  try {
    call();
  } catch (const nlohmann::json::type_error& error) {
    return error.what();
  }
  return "";
}

// ---- Generated sheets and scores ----

// Pieces that strings are made of: everything the escaping distinguishes
// (each control character, 0x7F, quote, backslash, '/') and UTF-8 of every
// length at the edges of table 3-7.
std::vector<std::string> ValidPieces() {
  std::vector<std::string> pieces = {"\"",         "\\",         "/",
                                     "\x7f",       "a",          "Z",
                                     " ",          "0",          "{",
                                     "}",          ":",          ",",
                                     "é",          "山田",       "ヤマダ",
                                     "ｱｲ",         "\u3000",     "\u2028",
                                     "😀",          "𠮷",         "\u0080",
                                     "\u07ff",     "\u0800",     "\ud7ff",
                                     "\ue000",     "\uffff",     "\xef\xbf\xbd",
                                     "\U00010000", "\U0010ffff", "u0041",
                                     "\\u0041"};
  for (int c = 0; c < 0x20; ++c) {
    pieces.push_back(std::string(1, static_cast<char>(c)));
  }
  return pieces;
}

// Byte sequences that are not well-formed UTF-8 (each alone or before the
// next piece).
std::vector<std::string> InvalidPieces() {
  return {"\x80",
          "\xbf",
          "\xc0\x80",
          "\xc1\xbf",
          "\xc2",
          "\xc2\x41",
          "\xe0\x80\x80",
          "\xe0\x9f\xbf",
          "\xe3\x81",
          "\xed\xa0\x80",
          "\xed\xbf\xbf",
          "\xef\xbf",
          "\xf0\x80\x80\x80",
          "\xf0\x8f\xbf\xbf",
          "\xf4\x90\x80\x80",
          "\xf5\x80\x80\x80",
          "\xf8\x88\x80\x80\x80",
          "\xfe",
          "\xff",
          "\xf0\x9f\x98",
          "\xe3\x81\xc2\x80"};
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : random_(seed) {}

  int Int(int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random_);
  }

  // A string of 0 to `max_pieces` pieces; with `invalid`, some pieces are
  // malformed UTF-8.
  std::string Text(int max_pieces, bool invalid = false) {
    static const std::vector<std::string> valid = ValidPieces();
    static const std::vector<std::string> bad = InvalidPieces();
    std::string text;
    const int pieces = Int(0, max_pieces);
    for (int i = 0; i < pieces; ++i) {
      if (invalid && Int(0, 3) == 0) {
        text += bad[Int(0, static_cast<int>(bad.size()) - 1)];
      } else {
        text += valid[Int(0, static_cast<int>(valid.size()) - 1)];
      }
    }
    return text;
  }

  // An item code: mostly from a small set so that items repeat.
  std::string Item(bool invalid = false) {
    static const std::vector<std::string> codes = {"school_absence",
                                                   "home_injury",
                                                   "meals_hunger",
                                                   "economic_unpaid_fees",
                                                   "a",
                                                   "b",
                                                   "a_b",
                                                   "ab",
                                                   "B",
                                                   ""};
    return Int(0, 3) == 0 ? Text(4, invalid)
                          : codes[Int(0, static_cast<int>(codes.size()) - 1)];
  }

  v1::Sheet Sheet(bool invalid = false) {
    v1::Sheet sheet;
    sheet.set_school_code(Text(3, invalid));
    sheet.set_pupil_id(Text(3, invalid));
    sheet.set_grade(Int(-3, 12));
    sheet.set_class_name(Text(6, invalid));
    sheet.set_pupil_name(Text(8, invalid));
    sheet.set_pupil_kana(Text(8, invalid));
    if (Int(0, 9) != 0) {
      sheet.mutable_birth_date()->set_year(Int(1990, 2030));
      sheet.mutable_birth_date()->set_month(Int(0, 13));
      sheet.mutable_birth_date()->set_day(Int(-1, 32));
    }
    sheet.set_sex(static_cast<v1::Sex>(Int(0, 3)));
    sheet.set_note(Text(Int(0, 4) == 0 ? 60 : 10, invalid));
    const int answers = Int(0, 3) == 0 ? Int(0, 40) : Int(0, 5);
    for (int i = 0; i < answers; ++i) {
      v1::Answer* answer = sheet.add_answers();
      answer->set_item(Item(invalid));
      switch (Int(0, 3)) {
        case 0:
          answer->set_flag(Int(0, 1) == 1);
          break;
        case 1:
          answer->set_level(Int(0, 4));
          break;
        case 2:
          answer->set_level(Int(-1000000, 1000000));
          break;
        default:
          break;  // neither: no value
      }
    }
    return sheet;
  }

  double Points() {
    static const std::vector<double> fixed = {
        0.0,
        -0.0,
        1.0,
        0.1,
        0.2,
        0.3,
        2.5,
        1.0 / 3,
        2.0 / 3,
        0.7 * (2.0 / 3),
        3.0 * (1.0 / 3),
        0.1 + 0.2,
        10.0,
        100.0,
        123456789.0,
        1e15,
        1e16,
        1e17,
        1e21,
        1e22,
        1e-4,
        1e-5,
        0.00012345,
        5e-324,
        std::numeric_limits<double>::max(),
        std::numeric_limits<double>::min(),
        std::numeric_limits<double>::quiet_NaN(),
        std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(),
        -2.5};
    switch (Int(0, 3)) {
      case 0:
        return fixed[Int(0, static_cast<int>(fixed.size()) - 1)];
      case 1: {  // a weight times value / max_level, as ComputeScore makes
        const double weight = Int(1, 1000) / 10.0;
        const int max_level = Int(1, 5);
        return weight * (static_cast<double>(Int(1, max_level)) / max_level);
      }
      case 2:
        return std::uniform_real_distribution<double>(0, 100)(random_);
      default: {  // any bit pattern
        const uint64_t bits = random_() | (uint64_t{random_()} << 32);
        double value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return value;
      }
    }
  }

  Score MakeScore(bool invalid = false) {
    Score score;
    const int triggered = Int(0, 3) == 0 ? Int(0, 30) : Int(0, 4);
    for (int i = 0; i < triggered; ++i) {
      score.triggered.push_back(
          Trigger{Item(invalid), Points(), Int(0, 1) == 1});
    }
    return score;
  }

 private:
  std::mt19937 random_;
};

TEST(SheetJson, MatchesNlohmannForGeneratedSheets) {
  Generator generate(20240601);
  for (int i = 0; i < 20000; ++i) {
    const v1::Sheet sheet = generate.Sheet();
    ASSERT_EQ(AnswersJson(sheet), ReferenceAnswersJson(sheet))
        << sheet.DebugString();
    const std::string text = ReferenceFingerprintText(sheet);
    ASSERT_EQ(SheetFingerprint(sheet), Sha256Hex(text))
        << "expected the hash of " << text;
    const Score score = generate.MakeScore();
    ASSERT_EQ(TriggeredJson(score), ReferenceTriggeredJson(score));
  }
}

TEST(SheetJson, MatchesNlohmannForEveryControlCharacter) {
  for (int c = 0; c < 0x80; ++c) {
    v1::Sheet sheet = Pupil();
    const std::string text =
        absl::StrCat("a", std::string(1, static_cast<char>(c)), "b");
    sheet.set_note(text);
    sheet.set_class_name(std::string(1, static_cast<char>(c)));
    sheet.add_answers()->set_item(text);
    sheet.mutable_answers(0)->set_level(1);
    EXPECT_EQ(SheetFingerprint(sheet),
              Sha256Hex(ReferenceFingerprintText(sheet)))
        << c;
    EXPECT_EQ(AnswersJson(sheet), ReferenceAnswersJson(sheet)) << c;
    Score score;
    score.triggered.push_back(Trigger{text, 1, false});
    EXPECT_EQ(TriggeredJson(score), ReferenceTriggeredJson(score)) << c;
  }
}

// Malformed UTF-8 cannot come through the service, but a caller in C++ can
// pass it: the fingerprint replaces it as before, the stored texts throw.
TEST(SheetJson, MatchesNlohmannForMalformedUtf8) {
  Generator generate(7);
  int thrown = 0;
  for (int i = 0; i < 5000; ++i) {
    const v1::Sheet sheet = generate.Sheet(/*invalid=*/true);
    const std::string text = ReferenceFingerprintText(sheet);
    ASSERT_EQ(SheetFingerprint(sheet), Sha256Hex(text))
        << "expected the hash of " << text;
    const std::string answers_error =
        TypeErrorOf([&] { ReferenceAnswersJson(sheet); });
    ASSERT_EQ(TypeErrorOf([&] { AnswersJson(sheet); }), answers_error);
    if (answers_error.empty()) {
      ASSERT_EQ(AnswersJson(sheet), ReferenceAnswersJson(sheet));
    } else {
      ++thrown;
    }
    const Score score = generate.MakeScore(/*invalid=*/true);
    const std::string triggered_error =
        TypeErrorOf([&] { ReferenceTriggeredJson(score); });
    ASSERT_EQ(TypeErrorOf([&] { TriggeredJson(score); }), triggered_error);
    if (triggered_error.empty()) {
      ASSERT_EQ(TriggeredJson(score), ReferenceTriggeredJson(score));
    } else {
      ++thrown;
    }
  }
  EXPECT_GT(thrown, 1000);  // the throwing path was taken
}

// Every lead byte with continuation bytes at the edges of table 3-7's
// ranges (only a second byte's depend on the lead byte), cut after each
// byte: the well-formed sequences are copied, the others replaced, as
// nlohmann decides.
TEST(SheetJson, MatchesNlohmannAtEveryUtf8Boundary) {
  const std::vector<unsigned char> seconds = {0x41, 0x7f, 0x80, 0x8f, 0x90,
                                              0x9f, 0xa0, 0xbf, 0xc0};
  const std::vector<unsigned char> others = {0x7f, 0x80, 0xbf, 0xc0};
  v1::Sheet sheet = Pupil();
  for (int lead = 0x80; lead <= 0xff; ++lead) {
    for (unsigned char second : seconds) {
      for (unsigned char third : others) {
        for (unsigned char fourth : others) {
          const char bytes[] = {
              static_cast<char>(lead), static_cast<char>(second),
              static_cast<char>(third), static_cast<char>(fourth), 'x'};
          for (size_t length = 1; length <= sizeof bytes; ++length) {
            sheet.set_note(std::string(bytes, length));
            ASSERT_EQ(SheetFingerprint(sheet),
                      Sha256Hex(ReferenceFingerprintText(sheet)))
                << "lead " << lead << " length " << length;
          }
        }
      }
    }
  }
}

// The texts pinned by hand, so that the format stays put even if the
// reference above were changed along with the serializer.
TEST(SheetJson, GoldenTexts) {
  v1::Sheet sheet = Pupil();
  sheet.set_note("\"先生\"\\ 1/2\n\t\x01\x1f\x7f 😀");
  AddLevel(sheet, "school_absence", 2);
  AddFlag(sheet, "economic_unpaid_fees", true);
  AddLevel(sheet, "meals_hunger", 0);
  AddLevel(sheet, "school_absence", 3);
  AddFlag(sheet, "school_absence", false);

  const std::string answers =
      R"([{"item":"economic_unpaid_fees","kind":"flag","value":1},)"
      R"({"item":"school_absence","kind":"level","value":3}])";
  EXPECT_EQ(AnswersJson(sheet), answers);
  EXPECT_EQ(SheetFingerprint(sheet),
            Sha256Hex(absl::StrCat(
                R"({"answers":)", answers,
                R"(,"birth":[2015,5,20],"class":"2組","grade":3,)",
                R"("kana":"ヤマダ タロウ","name":"山田 太郎",)",
                R"("note":"\"先生\"\\ 1/2\n\t\u0001\u001f)", "\x7f",
                R"( 😀","pupil":"P-0001","school":"E1","sex":"male"})")));

  v1::Sheet bare;
  EXPECT_EQ(AnswersJson(bare), "[]");
  EXPECT_EQ(SheetFingerprint(bare),
            Sha256Hex(R"({"answers":[],"birth":[0,0,0],"class":"",)"
                      R"("grade":0,"kana":"","name":"","note":"",)"
                      R"("pupil":"","school":"","sex":""})"));

  Score score;
  EXPECT_EQ(TriggeredJson(score), "[]");
  score.triggered = {Trigger{"school_absence", 2.0 / 3, true},
                     Trigger{"home_injury", 1, false},
                     Trigger{"meals_hunger", 0.1, false},
                     Trigger{"a\"b", 2.5, true}};
  EXPECT_EQ(TriggeredJson(score),
            R"([{"always_review":true,"item":"school_absence",)"
            R"("points":0.6666666666666666},)"
            R"({"always_review":false,"item":"home_injury","points":1.0},)"
            R"({"always_review":false,"item":"meals_hunger","points":0.1},)"
            R"({"always_review":true,"item":"a\"b","points":2.5}])");
}

TEST(SheetFingerprint, KeepsTheStoredFormula) {
  v1::Sheet sheet = Pupil();
  EXPECT_EQ(SheetFingerprint(sheet),
            Sha256Hex(ReferenceFingerprintText(sheet)));
  AddLevel(sheet, "school_absence", 2);
  AddFlag(sheet, "economic_unpaid_fees", true);
  AddLevel(sheet, "meals_hunger", 0);
  EXPECT_EQ(SheetFingerprint(sheet),
            Sha256Hex(ReferenceFingerprintText(sheet)));
}

TEST(SheetFingerprint, IgnoresAnswerOrderAndZeroAnswers) {
  v1::Sheet a = Pupil();
  v1::Sheet b = Pupil();
  AddLevel(a, "school_absence", 1);
  AddFlag(a, "home_injury", true);
  AddFlag(b, "home_injury", true);
  AddLevel(b, "meals_hunger", 0);
  AddLevel(b, "school_absence", 1);
  EXPECT_EQ(SheetFingerprint(a), SheetFingerprint(b));
  b.mutable_answers(2)->set_level(2);
  EXPECT_NE(SheetFingerprint(a), SheetFingerprint(b));
}

}  // namespace
}  // namespace kosapo::screening
