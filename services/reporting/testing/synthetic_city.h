// A synthetic city's reporting projections, bulk-loaded for the
// benchmarks: `cases` cases spread over `years` fiscal years and `areas`
// wards, each with approach changes, some outcomes, reopenings, withdrawals
// and connections (some dated after the year end, some revoked), and each
// year's enrollment. The case rows are generated inside PostgreSQL (INSERT
// ... SELECT over generate_series) into the migrated tables with the
// projections' triggers off, then the year-end and day counts rebuilt
// (rebuild_year_end()) and the tables analyzed.
#ifndef KOSAPO_SERVICES_REPORTING_TESTING_SYNTHETIC_CITY_H_
#define KOSAPO_SERVICES_REPORTING_TESTING_SYNTHETIC_CITY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace kosapo::reporting::testing {

struct SyntheticCity {
  std::string municipality = "27100";
  int64_t cases = 1000000;
  int first_year = 2014;
  int years = 10;
  int areas = 24;
  uint32_t seed = 1;
};

// Loads `city` into the reporting schema `schema` through `admin_url` (a
// superuser: the triggers are skipped with session_replication_role).
absl::Status LoadSyntheticCity(const std::string& admin_url,
                               const std::string& schema,
                               const SyntheticCity& city);

// The code of area `index` (0-based) of a synthetic city.
std::string SyntheticAreaCode(int index);

}  // namespace kosapo::reporting::testing

#endif  // KOSAPO_SERVICES_REPORTING_TESTING_SYNTHETIC_CITY_H_
