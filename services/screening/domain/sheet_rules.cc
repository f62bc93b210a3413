#include "services/screening/domain/sheet_rules.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/base/digest.h"
#include "common/csv/csv.h"
#include "common/types/text.h"
#include "nlohmann/json.hpp"
#include "services/screening/domain/registry_rules.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxNoteChars = 2000;

// Calls `visit` with each code point of `text` while it returns true; false
// if `text` is malformed UTF-8 (NextCodePoint: overlong forms and
// surrogates too) or `visit` returned false. No allocation: it runs for
// several fields of every sheet of a bulk intake.
template <typename Visit>
bool ForEachCodePoint(absl::string_view text, Visit visit) {
  for (size_t i = 0; i < text.size();) {
    const int32_t cp = NextCodePoint(text, &i);
    if (cp < 0 || !visit(static_cast<char32_t>(cp))) {
      return false;
    }
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

// The three stored JSON texts (answers, triggered items, the fingerprint's
// content) are written directly rather than built as nlohmann::json trees and
// dumped: that took a third of the bulk intake's CPU per sheet. The text must
// stay byte for byte what dump() wrote, since the stored content hashes were
// computed from it: no whitespace, object keys in byte order (nlohmann's
// objects are std::maps), integers in decimal, and strings as below.

// Appends `text` as a JSON string the way nlohmann's dump() escapes it with
// ensure_ascii false: '"' and '\\' behind a backslash, \b \f \n \r \t, other
// bytes below 0x20 as \u00xx in lower-case hex, everything else (0x7F, '/',
// multi-byte UTF-8) as it is.
//
// Malformed UTF-8 cannot come from the service: proto3 string fields are
// checked when a request is parsed, and a CSV upload is checked (or
// converted from CP932) as a whole before it is split at ASCII commas, quotes
// and line ends. It can still come from a caller in C++, so such a string is
// left to nlohmann with `on_invalid`: the fingerprint's text gets U+FFFD
// replacements exactly as before, and the stored JSON texts throw
// nlohmann::json::type_error as before.
void AppendJsonString(std::string& out, absl::string_view text,
                      nlohmann::json::error_handler_t on_invalid) {
  const size_t start = out.size();
  out.push_back('"');
  size_t copied = 0;  // text before this is in `out`
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // NextCodePoint's rule is nlohmann's (table 3-7 of Unicode): no
      // overlong forms, surrogates or code points past U+10FFFF.
      if (NextCodePoint(text, &i) < 0) {
        out.resize(start);
        out +=
            nlohmann::json(std::string(text)).dump(-1, ' ', false, on_invalid);
        return;
      }
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(text.data() + copied, i - copied);
    out.push_back('\\');
    switch (c) {
      case '"':
      case '\\':
        out.push_back(static_cast<char>(c));
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default:
        out.append("u00");
        out.push_back("0123456789abcdef"[c >> 4]);
        out.push_back("0123456789abcdef"[c & 0xF]);
    }
    copied = ++i;
  }
  out.append(text.data() + copied, text.size() - copied);
  out.push_back('"');
}

// Appends the answers as stored (see AnswersJson): the last non-zero answer
// to each item, in item order, as the std::map keyed by item that the text
// used to be built from kept them.
void AppendAnswers(std::string& out, const v1::Sheet& sheet,
                   nlohmann::json::error_handler_t on_invalid) {
  std::vector<const v1::Answer*> answers;
  answers.reserve(sheet.answers_size());
  for (const v1::Answer& answer : sheet.answers()) {
    const bool flag = answer.value_case() == v1::Answer::kFlag;
    if (flag ? !answer.flag() : answer.level() == 0) {
      continue;  // a 0 answer and no answer mean the same
    }
    answers.push_back(&answer);
  }
  // Stable, so that of answers to one item the last sent comes last.
  std::stable_sort(answers.begin(), answers.end(),
                   [](const v1::Answer* a, const v1::Answer* b) {
                     return a->item() < b->item();
                   });
  out.push_back('[');
  bool first = true;
  for (size_t i = 0; i < answers.size(); ++i) {
    const v1::Answer& answer = *answers[i];
    if (i + 1 < answers.size() && answers[i + 1]->item() == answer.item()) {
      continue;  // a later answer to the same item replaces it
    }
    if (!first) {
      out.push_back(',');
    }
    first = false;
    out.append("{\"item\":");
    AppendJsonString(out, answer.item(), on_invalid);
    if (answer.value_case() == v1::Answer::kFlag) {
      out.append(",\"kind\":\"flag\",\"value\":1}");  // only true is left
    } else {
      absl::StrAppend(&out, ",\"kind\":\"level\",\"value\":", answer.level(),
                      "}");
    }
  }
  out.push_back(']');
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
  const int64_t note = CodePoints(sheet.note());
  if (note < 0 || note > static_cast<int64_t>(kMaxNoteChars)) {
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
  std::string out;
  AppendAnswers(out, sheet, nlohmann::json::error_handler_t::strict);
  return out;
}

std::string TriggeredJson(const Score& score) {
  std::string out = "[";
  for (const Trigger& trigger : score.triggered) {
    if (&trigger != &score.triggered.front()) {
      out.push_back(',');
    }
    out.append(trigger.always_review ? "{\"always_review\":true,\"item\":"
                                     : "{\"always_review\":false,\"item\":");
    AppendJsonString(out, trigger.item,
                     nlohmann::json::error_handler_t::strict);
    // Points (a template's weight times value / max_level) can be any
    // double, and nlohmann writes doubles its own way: Grisu2 digits (they
    // round-trip but are not always the shortest, which std::to_chars
    // gives), ".0" after whole numbers, exponents from 1e15 up and below
    // 1e-4, "null" for NaN. So each number is still dumped by nlohmann:
    // cheap next to building and dumping a tree.
    absl::StrAppend(&out, ",\"points\":", nlohmann::json(trigger.points).dump(),
                    "}");
  }
  out.push_back(']');
  return out;
}

std::string SheetFingerprint(const v1::Sheet& sheet) {
  // The stored hashes were computed from exactly this text, once dumped from
  // a json object with error_handler_t::replace: changing it would turn every
  // re-sent sheet into a new revision. Keys in byte order.
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  std::string content = "{\"answers\":";
  AppendAnswers(content, sheet, kReplace);
  absl::StrAppend(&content, ",\"birth\":[", sheet.birth_date().year(), ",",
                  sheet.birth_date().month(), ",", sheet.birth_date().day(),
                  "],\"class\":");
  AppendJsonString(content, sheet.class_name(), kReplace);
  absl::StrAppend(&content, ",\"grade\":", sheet.grade(), ",\"kana\":");
  AppendJsonString(content, sheet.pupil_kana(), kReplace);
  content.append(",\"name\":");
  AppendJsonString(content, sheet.pupil_name(), kReplace);
  content.append(",\"note\":");
  AppendJsonString(content, sheet.note(), kReplace);
  content.append(",\"pupil\":");
  AppendJsonString(content, sheet.pupil_id(), kReplace);
  content.append(",\"school\":");
  AppendJsonString(content, sheet.school_code(), kReplace);
  content.append(",\"sex\":");
  AppendJsonString(content, SexToDb(sheet.sex()), kReplace);
  content.push_back('}');
  return Sha256Hex(content);
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
