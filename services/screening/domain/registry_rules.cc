#include "services/screening/domain/registry_rules.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/csv/csv.h"

namespace kosapo::screening {
namespace {

bool IsCode(absl::string_view code) {
  if (code.empty() || code.size() > 20) {
    return false;
  }
  for (char c : code) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                    (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

absl::Status RequireText(absl::string_view text, absl::string_view field) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (text.size() > 200) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than 200 bytes"));
  }
  return absl::OkStatus();
}

absl::Status RequireCode(absl::string_view code, absl::string_view field) {
  if (!IsCode(code)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be 1-20 characters of 0-9, A-Z, a-z, _ or -"));
  }
  return absl::OkStatus();
}

v1::RowError MakeError(int64_t line, absl::string_view field,
                       absl::string_view message) {
  v1::RowError error;
  error.set_line(line);
  error.set_field(std::string(field));
  error.set_message(std::string(message));
  return error;
}

}  // namespace

absl::Status NormalizeMunicipality(v1::Municipality& municipality) {
  const std::string& code = municipality.code();
  if (code.size() != 5 || !std::all_of(code.begin(), code.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return absl::InvalidArgumentError(
        "municipality.code: must be the 5-digit JIS code, e.g. 27100");
  }
  if (absl::Status status =
          RequireText(municipality.display_name(), "municipality.display_name");
      !status.ok()) {
    return status;
  }
  if (municipality.time_zone().empty()) {
    municipality.set_time_zone("Asia/Tokyo");
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(municipality.time_zone(), &zone)) {
    return absl::InvalidArgumentError(
        "municipality.time_zone: not a known IANA time zone");
  }
  return absl::OkStatus();
}

absl::Status ValidateArea(const v1::Area& area) {
  if (absl::Status s = RequireCode(area.code(), "area.code"); !s.ok()) {
    return s;
  }
  if (absl::Status s = RequireText(area.display_name(), "area.display_name");
      !s.ok()) {
    return s;
  }
  if (area.display_order() <= 0) {
    return absl::InvalidArgumentError("area.display_order: must be 1 or more");
  }
  if (area.display_name_en().size() > 200) {
    return absl::InvalidArgumentError(
        "area.display_name_en: longer than 200 bytes");
  }
  return absl::OkStatus();
}

absl::Status ValidateSchool(const v1::School& school) {
  if (absl::Status s = RequireCode(school.code(), "school.code"); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          RequireText(school.display_name(), "school.display_name");
      !s.ok()) {
    return s;
  }
  if (school.kind() == v1::SCHOOL_KIND_UNSPECIFIED ||
      !v1::SchoolKind_IsValid(school.kind())) {
    return absl::InvalidArgumentError("school.kind: required");
  }
  return RequireCode(school.area_code(), "school.area_code");
}

absl::Status ValidateFiscalYear(int fiscal_year, absl::string_view field) {
  if (fiscal_year < 1989 || fiscal_year > 2200) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a year between 1989 and 2200"));
  }
  return absl::OkStatus();
}

std::pair<int, int> GradeRange(v1::SchoolKind kind) {
  switch (kind) {
    case v1::SCHOOL_KIND_ELEMENTARY:
      return {1, 6};
    case v1::SCHOOL_KIND_JUNIOR_HIGH:
      return {1, 3};
    case v1::SCHOOL_KIND_COMPULSORY:
      return {1, 9};
    default:
      return {3, 5};  // preschool facilities: age in years
  }
}

EnrollmentInput ParseEnrollmentCsv(absl::string_view utf8) {
  EnrollmentInput input;
  csv::Reader reader(utf8);
  auto first = reader.Next();
  if (!first.has_value()) {
    input.errors.push_back(
        MakeError(1, "", "empty file: expected a header line"));
    return input;
  }
  if (!first->ok()) {
    input.errors.push_back(
        MakeError(1, "", std::string(first->status().message())));
    return input;
  }
  auto table = csv::Table::FromHeader(**first, {"school_code", "pupils"});
  if (!table.ok()) {
    input.errors.push_back(
        MakeError(1, "", std::string(table.status().message())));
    return input;
  }
  while (auto next = reader.Next()) {
    if (!next->ok()) {
      // The reader's message already starts with "line N:".
      input.errors.push_back(
          MakeError(0, "", std::string(next->status().message())));
      continue;
    }
    const csv::Record& record = **next;
    if (absl::Status width = table->CheckWidth(record); !width.ok()) {
      input.errors.push_back(
          MakeError(record.line, "", std::string(width.message())));
      continue;
    }
    NumberedRow numbered;
    numbered.line = record.line;
    numbered.row.set_school_code(std::string(
        absl::StripAsciiWhitespace(table->Get(record, "school_code"))));
    int pupils = 0;
    if (!absl::SimpleAtoi(table->Get(record, "pupils"), &pupils)) {
      input.errors.push_back(
          MakeError(record.line, "pupils", "not a whole number"));
      continue;
    }
    numbered.row.set_pupils(pupils);
    if (table->Has("grade")) {
      const absl::string_view grade_text =
          absl::StripAsciiWhitespace(table->Get(record, "grade"));
      int grade = 0;
      if (!grade_text.empty() && !absl::SimpleAtoi(grade_text, &grade)) {
        input.errors.push_back(
            MakeError(record.line, "grade", "not a whole number"));
        continue;
      }
      numbered.row.set_grade(grade);
    }
    input.rows.push_back(std::move(numbered));
  }
  return input;
}

void ValidateEnrollment(const std::vector<NumberedRow>& rows,
                        const std::map<std::string, v1::SchoolKind>& schools,
                        std::vector<v1::RowError>& errors) {
  std::map<std::pair<std::string, int>, int64_t> seen;
  std::map<std::string, std::pair<bool, bool>> shape;  // total, per grade
  for (const NumberedRow& numbered : rows) {
    const v1::EnrollmentRow& row = numbered.row;
    auto school = schools.find(row.school_code());
    if (school == schools.end()) {
      errors.push_back(MakeError(
          numbered.line, "school_code",
          absl::StrCat("school '", row.school_code(), "' is not registered")));
      continue;
    }
    const auto [low, high] = GradeRange(school->second);
    if (row.grade() != 0 && (row.grade() < low || row.grade() > high)) {
      errors.push_back(MakeError(
          numbered.line, "grade",
          absl::StrCat("grade ", row.grade(), " is outside ", low, "..", high,
                       " for this school (0 = whole school)")));
      continue;
    }
    if (row.pupils() < 0 || row.pupils() > 100000) {
      errors.push_back(
          MakeError(numbered.line, "pupils", "must be between 0 and 100000"));
      continue;
    }
    const auto key = std::make_pair(row.school_code(), row.grade());
    if (auto it = seen.find(key); it != seen.end()) {
      errors.push_back(MakeError(
          numbered.line, "grade",
          absl::StrCat("school '", row.school_code(), "' grade ", row.grade(),
                       " already given at line ", it->second)));
      continue;
    }
    seen[key] = numbered.line;
    auto& [has_total, has_grades] = shape[row.school_code()];
    (row.grade() == 0 ? has_total : has_grades) = true;
    if (has_total && has_grades) {
      errors.push_back(MakeError(
          numbered.line, "grade",
          absl::StrCat("school '", row.school_code(),
                       "' mixes a total (grade 0) with per-grade rows")));
    }
  }
}

}  // namespace kosapo::screening
