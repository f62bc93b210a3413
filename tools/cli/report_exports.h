// The ward comparison as a file (ReportingService.ExportWardComparison,
// server streaming: the service writes CSV, XLSX and HTML, so every client
// gets the same file) and the hub monthly report (GetHubMonthlyReport).
#ifndef KOSAPO_TOOLS_CLI_REPORT_EXPORTS_H_
#define KOSAPO_TOOLS_CLI_REPORT_EXPORTS_H_

#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "tools/cli/client.h"
#include "tools/cli/terminal.h"

namespace kosapo::cli {

// What the ward comparison is asked for (GetWardComparisonRequest).
struct WardComparisonQuery {
  // "municipalities/{code}".
  std::string parent;
  int fiscal_year = 0;
  std::optional<absl::CivilDay> as_of;
  int suppress_below = 0;
};

// "csv", "xlsx" or "html".
struct ExportFormat {
  std::string name;
};

// Writes the ward comparison as a `format` file to `out`, chunk by chunk as
// the reporting service streams it. Errors of the call go through
// session.Explain.
absl::Status ExportWardComparison(const Session& session,
                                  const WardComparisonQuery& query,
                                  const ExportFormat& format,
                                  std::ostream& out);

struct HubMonthlyQuery {
  std::string parent;
  // The hub's code.
  std::string hub;
  int year = 0;
  int month = 0;
  // "table" or "json".
  std::string format;
};

// Prints one hub's monthly report (the seven contract services, visits,
// children with problems) to `out`.
absl::Status PrintHubMonthlyReport(const Session& session,
                                   const HubMonthlyQuery& query,
                                   Highlight highlight, std::ostream& out);

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_REPORT_EXPORTS_H_
