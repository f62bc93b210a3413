// Rules for registry input: what a valid municipality, area, school and
// enrollment load look like. Pure functions: the adapter calls them before
// the store, so bad input is refused with a message naming the field or line
// and nothing is written.
#ifndef KOSAPO_SERVICES_SCREENING_DOMAIN_REGISTRY_RULES_H_
#define KOSAPO_SERVICES_SCREENING_DOMAIN_REGISTRY_RULES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/types/api_types.h"
#include "kosapo/screening/v1/screening.pb.h"

namespace kosapo::screening {

// Fills defaults (time zone) and checks every field.
absl::Status NormalizeMunicipality(v1::Municipality& municipality);
absl::Status ValidateArea(const v1::Area& area);
absl::Status ValidateSchool(const v1::School& school);
absl::Status ValidateFiscalYear(int fiscal_year, absl::string_view field);

// One enrollment row and where it came from (CSV line or row position).
struct NumberedRow {
  int64_t line = 0;
  v1::EnrollmentRow row;
};

struct EnrollmentInput {
  std::vector<NumberedRow> rows;
  std::vector<v1::RowError> errors;
};

// Reads enrollment CSV text (UTF-8) with columns school_code, pupils and
// optionally grade. Line-level problems are collected, not fatal.
EnrollmentInput ParseEnrollmentCsv(absl::string_view utf8);

// Checks rows against the municipality's schools: known school, grade valid
// for the school's kind, a count of 0 or more, no duplicates, and per school
// either one total (grade 0) or per-grade rows. Appends to `errors`.
void ValidateEnrollment(const std::vector<NumberedRow>& rows,
                        const std::map<std::string, v1::SchoolKind>& schools,
                        std::vector<v1::RowError>& errors);

// The grades a school of `kind` may have, besides 0 (total).
std::pair<int, int> GradeRange(v1::SchoolKind kind);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_REGISTRY_RULES_H_
