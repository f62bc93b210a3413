// Who may read which report. Every check here is on the caller's role and
// scope only; the municipality of the request is checked apart
// (server::CallerMunicipality).
#ifndef KOSAPO_SERVICES_REPORTING_API_ACCESS_H_
#define KOSAPO_SERVICES_REPORTING_API_ACCESS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"

namespace kosapo::reporting {

// The ward comparison and its trends are aggregates: staff of the
// municipality who work with cases, analysts, the centre director, city
// operations and other services. PERMISSION_DENIED saying `action`
// otherwise.
absl::Status RequireAggregateReader(const auth::Principal& principal,
                                    absl::string_view action);

// The highest small-cell threshold a request or the configuration may set.
inline constexpr int kMaxSuppressBelow = 1000;

// The small-cell threshold a report is built with: `requested` (0 to 1000,
// INVALID_ARGUMENT naming `field` otherwise), raised to `analyst_minimum`
// for analysts, whose exports may leave the city's offices: the city sets
// the minimum, an analyst cannot ask for less.
absl::StatusOr<int> SuppressionThreshold(const auth::Principal& principal,
                                         int requested, int analyst_minimum,
                                         absl::string_view field);

// A hub's monthly report: the hub's own operators, the centre director,
// city operations, analysts and other services. Whether the caller may see
// the lists that name usages and cases (not analysts and services, who see
// aggregates only), or PERMISSION_DENIED.
absl::StatusOr<bool> HubReportAccess(const auth::Principal& principal,
                                     absl::string_view hub_code);

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_API_ACCESS_H_
