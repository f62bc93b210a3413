// Rules for pupils' sheets: what a valid sheet is for a round's template and
// the pupil's school, its content fingerprint (for idempotent re-sends), and
// reading sheets from a school system's CSV export.
#ifndef KOSAPO_SERVICES_SCREENING_DOMAIN_SHEET_RULES_H_
#define KOSAPO_SERVICES_SCREENING_DOMAIN_SHEET_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/domain/scoring.h"
#include "services/screening/domain/template.h"

namespace kosapo::screening {

struct FieldError {
  std::string field;    // "sheet.pupil_kana", "answers[3]"
  std::string message;  // never echoes personal data
};

// Checks everything but the school's existence and scope. `kind` is the
// pupil's school's kind; `fiscal_year` the round's.
std::optional<FieldError> CheckSheet(const v1::Sheet& sheet,
                                     const Template& tmpl, v1::SchoolKind kind,
                                     int fiscal_year);

// The sheet's answers in the domain's form.
std::vector<Answer> AnswersOf(const v1::Sheet& sheet, const Template& tmpl);

// A fingerprint of what the school sent (not of output fields); equal for
// the same content whatever the order of the answers.
std::string SheetFingerprint(const v1::Sheet& sheet);

// The answers as stored: [{"item","kind","value"}] sorted by item, answers
// of 0 / no left out (they mean the same as no answer).
std::string AnswersJson(const v1::Sheet& sheet);

// The score's triggered items as stored: [{"item","points",
// "always_review"}], highest points first.
std::string TriggeredJson(const Score& score);

// "male", "female", "not_stated" and back.
absl::string_view SexToDb(v1::Sex sex);
v1::Sex SexFromDb(absl::string_view text);

struct NumberedSheet {
  int64_t line = 0;
  v1::Sheet sheet;
};

struct SheetCsv {
  std::vector<NumberedSheet> sheets;
  // Lines that could not be read into a sheet (outcome REJECTED).
  std::vector<v1::SheetRowResult> rejected;
};

// Reads the CSV described in ImportSheetsCsvRequest (UTF-8 text). Unknown
// columns are an error on the header; per-line problems reject that line.
SheetCsv ParseSheetsCsv(absl::string_view utf8, const Template& tmpl);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_SHEET_RULES_H_
