#include "services/reporting/export/testing/sample_comparison.h"

#include "gtest/gtest.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::reporting::exports_testing {
namespace {

WardCounts CountsOf(const sample::SpecRow& row) {
  WardCounts counts;
  counts.pupils = row.pupils;
  counts.target = row.target;
  counts.outreach_done = row.outreach_done;
  counts.connected = row.connected;
  counts.preparing = row.preparing;
  counts.unable = row.unable;
  counts.resolved = row.resolved;
  return counts;
}

template <typename Predicate>
int CountCells(const v1::WardComparison& comparison, Predicate predicate) {
  int n = 0;
  for (const v1::WardRow& row : comparison.rows()) {
    for (const v1::Cell& cell : row.cells()) {
      n += predicate(cell) ? 1 : 0;
    }
  }
  return n;
}

}  // namespace

ComparisonInput PublishedInput() {
  ComparisonInput input;
  const absl::StatusOr<sample::WardSpec> spec =
      sample::ReadWardSpec(KOSAPO_WARD_TABLE_TSV);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (!spec.ok()) {
    return input;
  }
  input.municipality = spec->municipality;
  input.fiscal_year = spec->area_year;
  for (const sample::SpecRow& row : spec->rows) {
    if (row.city_total) {
      if (row.fiscal_year == spec->area_year) {
        input.as_of = row.as_of;
      } else {
        input.earlier.push_back({row.fiscal_year, row.as_of, CountsOf(row)});
      }
      continue;
    }
    input.areas.push_back({row.area_code, row.label, row.display_order, ""});
    input.counts[row.area_code] = CountsOf(row);
  }
  return input;
}

v1::WardComparison PublishedComparison() {
  return BuildComparison(PublishedInput());
}

int CountFlagged(const v1::WardComparison& comparison) {
  return CountCells(comparison,
                    [](const v1::Cell& cell) { return cell.flagged(); });
}

int CountSuppressed(const v1::WardComparison& comparison) {
  return CountCells(comparison,
                    [](const v1::Cell& cell) { return cell.suppressed(); });
}

int CountDashes(const v1::WardComparison& comparison) {
  return CountCells(
      comparison, [](const v1::Cell& cell) { return cell.published() == "-"; });
}

}  // namespace kosapo::reporting::exports_testing
