// Ward comparisons for the export tests, built by the service's own
// assembly (api/comparison.h) from the city's published table, so that the
// exports are checked on the real shape: four city totals, 24 wards and the
// flags the rule gives them.
#ifndef KOSAPO_SERVICES_REPORTING_EXPORT_TESTING_SAMPLE_COMPARISON_H_
#define KOSAPO_SERVICES_REPORTING_EXPORT_TESTING_SAMPLE_COMPARISON_H_

#include "kosapo/reporting/v1/reporting.pb.h"
#include "services/reporting/api/comparison.h"

namespace kosapo::reporting::exports_testing {

// The published table's FY2023 as a comparison input: areas in display
// order with their counts, FY2020 to FY2022 as earlier city totals. Fails
// the current test when the table cannot be read.
ComparisonInput PublishedInput();

// BuildComparison(PublishedInput()).
v1::WardComparison PublishedComparison();

// Cells flagged, suppressed, and published as "-" in `comparison`.
int CountFlagged(const v1::WardComparison& comparison);
int CountSuppressed(const v1::WardComparison& comparison);
int CountDashes(const v1::WardComparison& comparison);

}  // namespace kosapo::reporting::exports_testing

#endif  // KOSAPO_SERVICES_REPORTING_EXPORT_TESTING_SAMPLE_COMPARISON_H_
