#include "services/screening/domain/sheet_rules.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/base/digest.h"
#include "common/csv/csv.h"
#include "nlohmann/json.hpp"
#include "services/screening/domain/registry_rules.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxNoteChars = 2000;

// Calls `visit` with each code point of `text` while it returns true; false
// if `text` is malformed UTF-8 or `visit` returned false. No allocation: it
// runs for several fields of every sheet of a bulk intake.
template <typename Visit>
bool ForEachCodePoint(absl::string_view text, Visit visit) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int length = c < 0x80         ? 1
                 : (c >> 5) == 6  ? 2
                 : (c >> 4) == 14 ? 3
                 : (c >> 3) == 30 ? 4
                                  : 0;
    if (length == 0 || i + length > text.size()) {
      return false;
    }
    char32_t cp = length == 1 ? c : c & (0xff >> (length + 1));
    for (int k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (next & 0x3f);
    }
    if (!visit(cp)) {
      return false;
    }
    i += length;
  }
  return true;
}

bool IsKana(absl::string_view text) {
  bool any = false;
  return ForEachCodePoint(text,
                          [&](char32_t cp) {
                            const bool kana =
                                (cp >= 0x3041 && cp <= 0x309F) ||  // hiragana
                                (cp >= 0x30A0 && cp <= 0x30FF) ||  // katakana
                                (cp >= 0xFF65 && cp <= 0xFF9F);    // half-width
                            const bool space = cp == 0x20 || cp == 0x3000;
                            any = any || kana;
                            return kana || space;
                          }) &&
         any;
}

bool IsPupilId(absl::string_view id) {
  return !id.empty() && id.size() <= 40 &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                  c == '_' || c == '-';
         });
}

bool IsOneLineText(absl::string_view text) {
  return ForEachCodePoint(text,
                          [](char32_t cp) { return cp >= 0x20 && cp != 0x7f; });
}

// Code points in `text`, or nullopt for malformed UTF-8.
std::optional<size_t> CodePointCount(absl::string_view text) {
  size_t count = 0;
  if (!ForEachCodePoint(text, [&](char32_t) {
        ++count;
        return true;
      })) {
    return std::nullopt;
  }
  return count;
}

// The answers as stored, before serialization (see AnswersJson).
nlohmann::json AnswersValue(const v1::Sheet& sheet) {
  nlohmann::json out = nlohmann::json::array();
  if (sheet.answers_size() == 0) {
    return out;
  }
  std::map<std::string, nlohmann::json> by_item;
  for (const v1::Answer& answer : sheet.answers()) {
    const bool flag = answer.value_case() == v1::Answer::kFlag;
    if (flag ? !answer.flag() : answer.level() == 0) {
      continue;  // a 0 answer and no answer mean the same
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

// The reader's messages start "line N: ..."; recover N for the result.
int64_t LineOf(absl::string_view message) {
  int64_t line = 0;
  if (absl::ConsumePrefix(&message, "line ")) {
    const size_t end = message.find_first_not_of("0123456789");
    absl::SimpleAtoi(message.substr(0, end), &line);
  }
  return line;
}

v1::SheetRowResult Rejected(int64_t line, absl::string_view field,
                            absl::string_view message) {
  v1::SheetRowResult result;
  result.set_line(line == 0 ? LineOf(message) : line);
  result.set_outcome(v1::ROW_OUTCOME_REJECTED);
  result.set_field(std::string(field));
  result.set_message(std::string(message));
  return result;
}

}  // namespace

absl::string_view SexToDb(v1::Sex sex) {
  switch (sex) {
    case v1::SEX_MALE:
      return "male";
    case v1::SEX_FEMALE:
      return "female";
    case v1::SEX_NOT_STATED:
      return "not_stated";
    default:
      return "";
  }
}

v1::Sex SexFromDb(absl::string_view text) {
  if (text == "male") {
    return v1::SEX_MALE;
  }
  if (text == "female") {
    return v1::SEX_FEMALE;
  }
  if (text == "not_stated") {
    return v1::SEX_NOT_STATED;
  }
  return v1::SEX_UNSPECIFIED;
}

std::optional<FieldError> CheckSheet(const v1::Sheet& sheet,
                                     const Template& tmpl, v1::SchoolKind kind,
                                     int fiscal_year) {
  if (!IsPupilId(sheet.pupil_id())) {
    return FieldError{"sheet.pupil_id",
                      "required: 1-40 characters of 0-9, A-Z, a-z, _ or -"};
  }
  const auto [low, high] = GradeRange(kind);
  if (sheet.grade() < low || sheet.grade() > high) {
    return FieldError{"sheet.grade", absl::StrCat("must be ", low, "..", high,
                                                  " for this school")};
  }
  if (sheet.class_name().size() > 40 || !IsOneLineText(sheet.class_name())) {
    return FieldError{"sheet.class_name", "at most 40 bytes on one line"};
  }
  if (absl::StripAsciiWhitespace(sheet.pupil_name()).empty() ||
      sheet.pupil_name().size() > kMaxNameBytes ||
      !IsOneLineText(sheet.pupil_name())) {
    return FieldError{"sheet.pupil_name",
                      "required, one line, at most 200 bytes of UTF-8"};
  }
  if (sheet.pupil_kana().size() > kMaxNameBytes ||
      !IsKana(sheet.pupil_kana())) {
    return FieldError{"sheet.pupil_kana",
                      "required, hiragana or katakana (spaces allowed)"};
  }
  auto birth = DateFromProto(sheet.birth_date(), "sheet.birth_date");
  if (!birth.ok()) {
    return FieldError{"sheet.birth_date", "not a valid calendar date"};
  }
  // Pupils of this fiscal year are 2 to 20 years old: anything else is a
  // typo (a year entered as the current one, say).
  if (birth->year() < fiscal_year - 20 || birth->year() > fiscal_year - 2) {
    return FieldError{
        "sheet.birth_date",
        absl::StrCat("implausible for fiscal year ", fiscal_year)};
  }
  if (SexToDb(sheet.sex()).empty()) {
    return FieldError{"sheet.sex", "required: male, female or not_stated"};
  }
  const std::optional<size_t> note = CodePointCount(sheet.note());
  if (!note.has_value() || *note > kMaxNoteChars) {
    return FieldError{"sheet.note", "at most 2000 characters of UTF-8"};
  }
  for (int i = 0; i < sheet.answers_size(); ++i) {
    if (sheet.answers(i).value_case() == v1::Answer::VALUE_NOT_SET) {
      return FieldError{absl::StrCat("answers[", i, "]"),
                        "needs a flag or a level"};
    }
  }
  if (absl::Status valid = ValidateAnswers(tmpl, AnswersOf(sheet, tmpl));
      !valid.ok()) {
    const std::string message(valid.message());
    const size_t space = message.find(' ');
    const size_t colon = message.find(':');
    return FieldError{message.substr(0, std::min(space, colon)), message};
  }
  return std::nullopt;
}

std::vector<Answer> AnswersOf(const v1::Sheet& sheet, const Template&) {
  std::vector<Answer> answers;
  for (const v1::Answer& answer : sheet.answers()) {
    Answer out;
    out.item = answer.item();
    if (answer.value_case() == v1::Answer::kFlag) {
      out.kind = AnswerKind::kFlag;
      out.value = answer.flag() ? 1 : 0;
    } else {
      out.kind = AnswerKind::kLevel;
      out.value = answer.level();
    }
    answers.push_back(std::move(out));
  }
  return answers;
}

std::string AnswersJson(const v1::Sheet& sheet) {
  return AnswersValue(sheet).dump();
}

std::string TriggeredJson(const Score& score) {
  nlohmann::json out = nlohmann::json::array();
  for (const Trigger& trigger : score.triggered) {
    out.push_back({{"item", trigger.item},
                   {"points", trigger.points},
                   {"always_review", trigger.always_review}});
  }
  return out.dump();
}

std::string SheetFingerprint(const v1::Sheet& sheet) {
  // The stored hashes were computed from exactly this text: changing it
  // would turn every re-sent sheet into a new revision.
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
      {"answers", AnswersValue(sheet)},
      {"note", sheet.note()}};
  return Sha256Hex(
      content.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

SheetCsv ParseSheetsCsv(absl::string_view utf8, const Template& tmpl) {
  static const std::set<std::string> kFixed = {
      "school_code", "pupil_id",   "grade", "class_name", "pupil_name",
      "pupil_kana",  "birth_date", "sex",   "note"};
  SheetCsv out;
  csv::Reader reader(utf8);
  auto first = reader.Next();
  if (!first.has_value() || !first->ok()) {
    out.rejected.push_back(
        Rejected(1, "",
                 first.has_value() ? first->status().message()
                                   : "empty file: expected a header line"));
    return out;
  }
  auto table = csv::Table::FromHeader(
      **first, {"school_code", "pupil_id", "grade", "pupil_name", "pupil_kana",
                "birth_date", "sex"});
  if (!table.ok()) {
    out.rejected.push_back(Rejected(1, "", table.status().message()));
    return out;
  }
  for (const std::string& column : (*first)->fields) {
    const std::string name(absl::StripAsciiWhitespace(column));
    if (kFixed.count(name) == 0 && FindItem(tmpl, name) == nullptr) {
      out.rejected.push_back(
          Rejected(1, "",
                   absl::StrCat("unknown column '", name.substr(0, 64),
                                "': not a sheet field nor an item of ",
                                TemplateName(tmpl.key, tmpl.version))));
      return out;
    }
  }
  while (auto next = reader.Next()) {
    if (!next->ok()) {
      out.rejected.push_back(Rejected(0, "", next->status().message()));
      continue;
    }
    const csv::Record& record = **next;
    if (absl::Status width = table->CheckWidth(record); !width.ok()) {
      out.rejected.push_back(Rejected(record.line, "", width.message()));
      continue;
    }
    auto get = [&](absl::string_view column) {
      return std::string(
          absl::StripAsciiWhitespace(table->Get(record, column)));
    };
    NumberedSheet numbered;
    numbered.line = record.line;
    v1::Sheet& sheet = numbered.sheet;
    sheet.set_school_code(get("school_code"));
    sheet.set_pupil_id(get("pupil_id"));
    int grade = 0;
    if (!absl::SimpleAtoi(get("grade"), &grade)) {
      out.rejected.push_back(
          Rejected(record.line, "grade", "not a whole number"));
      continue;
    }
    sheet.set_grade(grade);
    sheet.set_class_name(get("class_name"));
    sheet.set_pupil_name(get("pupil_name"));
    sheet.set_pupil_kana(get("pupil_kana"));
    absl::CivilDay birth;
    if (!absl::ParseCivilTime(get("birth_date"), &birth)) {
      out.rejected.push_back(
          Rejected(record.line, "birth_date", "not a date like 2012-04-05"));
      continue;
    }
    *sheet.mutable_birth_date() = DateToProto(birth);
    const std::string sex = get("sex");
    sheet.set_sex(SexFromDb(sex));
    if (sheet.sex() == v1::SEX_UNSPECIFIED) {
      out.rejected.push_back(
          Rejected(record.line, "sex", "must be male, female or not_stated"));
      continue;
    }
    sheet.set_note(std::string(table->Get(record, "note")));
    bool ok = true;
    for (const Item& item : tmpl.items) {
      if (!table->Has(item.code)) {
        continue;
      }
      const std::string text = get(item.code);
      int value = 0;
      if (!text.empty() && !absl::SimpleAtoi(text, &value)) {
        out.rejected.push_back(
            Rejected(record.line, item.code, "not a whole number"));
        ok = false;
        break;
      }
      if (value == 0) {
        continue;  // unanswered and 0 mean the same
      }
      v1::Answer* answer = sheet.add_answers();
      answer->set_item(item.code);
      if (item.kind == AnswerKind::kFlag) {
        if (value != 1) {
          out.rejected.push_back(
              Rejected(record.line, item.code, "a flag is 0 or 1"));
          ok = false;
          break;
        }
        answer->set_flag(true);
      } else {
        answer->set_level(value);
      }
    }
    if (ok) {
      out.sheets.push_back(std::move(numbered));
    }
  }
  return out;
}

}  // namespace kosapo::screening
