// Assembles the ward comparison the API answers from counted rows: the
// published arithmetic (domain/ward_table.h), labels, flags against the
// city total, and small-cell suppression. No I/O.
#ifndef KOSAPO_SERVICES_REPORTING_API_COMPARISON_H_
#define KOSAPO_SERVICES_REPORTING_API_COMPARISON_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "kosapo/reporting/v1/reporting.pb.h"
#include "services/reporting/domain/ward_table.h"

namespace kosapo::reporting {

struct AreaInfo {
  std::string code;
  std::string display_name;
  int display_order = 0;
  // "" when the city gave none: the row's English label is then the code.
  std::string display_name_en;
};

struct YearTotal {
  int fiscal_year = 0;
  absl::CivilDay as_of;
  WardCounts counts;
};

struct ComparisonInput {
  std::string municipality;
  int fiscal_year = 0;
  absl::CivilDay as_of;
  // In display order.
  std::vector<AreaInfo> areas;
  // By area code; an area without cases or pupils counts zero.
  std::map<std::string, WardCounts> counts;
  // Earlier fiscal years, oldest first.
  std::vector<YearTotal> earlier;
  int suppress_below = 0;
  FlagRules rules = FlagRules::Defaults();
};

v1::WardComparison BuildComparison(const ComparisonInput& input);

// One fiscal year of the trends: counts per area as of `as_of`.
struct TrendYear {
  int fiscal_year = 0;
  absl::CivilDay as_of;
  std::map<std::string, WardCounts> counts;
};

struct TrendsInput {
  std::string municipality;
  int from_fiscal_year = 0;
  int to_fiscal_year = 0;
  // The area whose rows to add; nullopt for the city only.
  std::optional<AreaInfo> area;
  // Oldest first.
  std::vector<TrendYear> years;
  int suppress_below = 0;
  FlagRules rules = FlagRules::Defaults();
};

// Per year the city total and the area's row, each exactly as
// BuildComparison makes it for that year and date.
v1::WardTrends BuildTrends(const TrendsInput& input);

// The city total of `counts`.
WardCounts Sum(const std::map<std::string, WardCounts>& counts);

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_API_COMPARISON_H_
