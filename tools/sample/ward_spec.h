// A ward table of the city's published shape, read from its machine form
// (the TSV in ../shared/data, columns row_kind, fiscal_year, as_of,
// area_code, label, display_order, c01_pupils ... c18_...): what the sample
// generator must reproduce.
#ifndef KOSAPO_TOOLS_SAMPLE_WARD_SPEC_H_
#define KOSAPO_TOOLS_SAMPLE_WARD_SPEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace kosapo::sample {

struct SpecRow {
  bool city_total = false;
  int fiscal_year = 0;
  absl::CivilDay as_of;
  std::string area_code;
  std::string label;
  int display_order = 0;
  // The counted columns: c01, c02, c04, c06, c11, c13, c15.
  int64_t pupils = 0;
  int64_t target = 0;
  int64_t outreach_done = 0;
  int64_t connected = 0;
  int64_t preparing = 0;
  int64_t unable = 0;
  int64_t resolved = 0;
  // Every column as published, by name ("c03_extraction_rate" -> "2.2").
  std::map<std::string, std::string> published;
};

struct WardSpec {
  // The municipality (the city-total rows' area code).
  std::string municipality;
  std::vector<SpecRow> rows;
  // The year with area rows (the latest).
  int area_year = 0;
};

// Parses the TSV text. INVALID_ARGUMENT names the line and column; checks
// each row's invariants (② = ④ + ⑪ + ⑬, ⑥ <= ④, ⑮ <= ④) and that the areas
// of the area year add up to its city total.
absl::StatusOr<WardSpec> ParseWardSpec(absl::string_view tsv);
absl::StatusOr<WardSpec> ReadWardSpec(const std::string& path);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_WARD_SPEC_H_
