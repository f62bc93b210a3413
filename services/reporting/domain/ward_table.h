// The city's per-ward comparison (こどもサポートネットの区別実施状況) as the
// city computes and publishes it (../shared/DESIGN.md, section 3): from seven
// counts per row, the eleven rates with the published rounding (percent,
// one decimal, half up; columns 10 and 14 as complements of already rounded
// rates), "-" for a zero denominator, and the yellow flags of ward cells
// worse than the city total of the same year. Pure arithmetic on integers:
// no floating point decides a published digit.
#ifndef KOSAPO_SERVICES_REPORTING_DOMAIN_WARD_TABLE_H_
#define KOSAPO_SERVICES_REPORTING_DOMAIN_WARD_TABLE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace kosapo::reporting {

// The counted columns of one row.
struct WardCounts {
  int64_t pupils = 0;         // ① enrollment of the area's schools
  int64_t target = 0;         // ② the fiscal year's cohort
  int64_t outreach_done = 0;  // ④
  int64_t connected = 0;      // ⑥ of ④, connected to a support
  int64_t preparing = 0;      // ⑪ approach in preparation
  int64_t unable = 0;         // ⑬ approach not possible
  int64_t resolved = 0;       // ⑮ improved or resolved
};

// ② = ④ + ⑪ + ⑬, ⑥ <= ④, and no negative count; INVALID_ARGUMENT names the
// broken invariant.
absl::Status CheckInvariants(const WardCounts& counts);

// A published rate: what it was computed from, and its value in tenths of
// a percent (e.g. 224 for "22.4"); no value when a denominator is zero.
struct Rate {
  int64_t numerator = 0;
  int64_t denominator = 0;
  std::optional<int64_t> tenths;
  // "22.4", or "-".
  std::string Published() const;
};

// The 18 columns, 1-based as the city numbers them: counts in `count`
// (columns 1, 2, 4, 6, 9, 11, 13, 15), rates in `rate` (3, 5, 7, 8, 10, 12,
// 14, 16, 17, 18).
struct WardRow {
  std::array<int64_t, 19> count{};
  std::array<Rate, 19> rate{};
  static bool IsRate(int column);
};

WardRow ComputeRow(const WardCounts& counts);

// Percent with one decimal, rounded half up, in tenths: 1000 * n / d.
int64_t RoundedTenths(int64_t numerator, int64_t denominator);

// Which way is worse, per rate column; the defaults are DESIGN.md's.
enum class Worse { kLower, kHigher };
struct FlagRules {
  std::array<std::optional<Worse>, 19> direction{};
  static FlagRules Defaults();
};

// The defaults changed by `spec`, a comma-separated list of
// `column=lower|higher|none` (which way is worse; none: never flagged), e.g.
// "12=none,17=higher"; an empty spec keeps the defaults. INVALID_ARGUMENT
// names the item that is not a rate column or a direction, or a column
// given twice.
absl::StatusOr<FlagRules> ParseFlagRules(absl::string_view spec);
// The rules in the same form, every rate column listed: "3=lower,...".
std::string FormatFlagRules(const FlagRules& rules);

// True when the ward's published rate in `column` is worse than the city's
// (both published values; a "-" on either side is never flagged).
bool Flagged(const WardRow& ward, const WardRow& city, int column,
             const FlagRules& rules);

// Japanese era labels as the city prints them: FY2023 -> "令和5年度",
// FY2019 -> "令和元年度", FY2018 -> "平成30年度"; the as-of date 2024-03-31 ->
// "令和6年3月末" (the last day of a month), 2023-12-15 -> "令和5年12月15日".
std::string FiscalYearLabel(int fiscal_year);
std::string AsOfLabel(absl::CivilDay as_of);
// "令和5年度 (令和6年3月末)".
std::string CityTotalLabel(int fiscal_year, absl::CivilDay as_of);

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_DOMAIN_WARD_TABLE_H_
