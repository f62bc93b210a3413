// A deterministic sample city: areas, schools with enrollment, and cases
// with their outreach, connection and outcome dates, made so that the
// city's ward comparison computed from them equals a given published table
// (every count, hence every rate). The same seed gives the same city on
// every machine (no std:: distributions, whose output differs between
// standard libraries). Loading it into the services is separate (loader.h).
#ifndef KOSAPO_TOOLS_SAMPLE_GENERATOR_H_
#define KOSAPO_TOOLS_SAMPLE_GENERATOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/reporting/domain/ward_table.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::sample {

struct SampleArea {
  std::string code;
  std::string name;
  int display_order = 0;
};

struct SampleSchool {
  std::string code;
  std::string area_code;
  std::string name;
  bool junior_high = false;
};

struct SampleEnrollment {
  int fiscal_year = 0;
  std::string school_code;
  int64_t pupils = 0;
};

struct SampleChild {
  std::string name;
  std::string kana;
  absl::CivilDay birth_date;
  bool male = false;
  std::string school_code;
  int grade = 0;
};

enum class Approach { kInPreparation, kOutreachDone, kNotPossible };

struct SampleCase {
  std::string area_code;
  int fiscal_year = 0;
  absl::CivilDay opened;
  SampleChild child;
  Approach approach = Approach::kInPreparation;
  // When the approach reached its final state (not for kInPreparation).
  absl::CivilDay approach_date;
  // 1 refused, 2 unreachable, 3 moved (for kNotPossible).
  int not_possible_reason = 0;
  // The day a support actually started.
  std::optional<absl::CivilDay> connected;
  // The day the case closed as improved/resolved.
  std::optional<absl::CivilDay> resolved;
};

struct SampleCity {
  std::string municipality;
  std::vector<SampleArea> areas;
  std::vector<SampleSchool> schools;
  std::vector<SampleEnrollment> enrollment;
  std::vector<SampleCase> cases;
};

// A city whose ward comparison for every row of `spec` (as of the row's
// date) has the row's counts. Areas are named by the area rows' labels;
// years with only a city total spread their cases and pupils over the same
// areas.
absl::StatusOr<SampleCity> CityFromSpec(const WardSpec& spec, uint64_t seed);

// The counts the ward comparison takes from `city` for `fiscal_year` as of
// `as_of`, for one area (or the whole city when `area_code` is empty):
// the rules the reporting service applies, restated to check the generator.
reporting::WardCounts CountAsOf(const SampleCity& city, int fiscal_year,
                                absl::CivilDay as_of,
                                const std::string& area_code);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_GENERATOR_H_
