#include "tools/cli/report_exports.h"

#include "absl/strings/str_cat.h"

namespace kosapo::cli {

absl::Status ExportWardComparison(const Session& session,
                                  const WardComparisonQuery& query,
                                  const ExportFormat& format,
                                  std::ostream& out) {
  // To wire: call ReportingService.ExportWardComparison on
  // session.Channel(Service::kReporting) with session.Prepare(&context),
  // write each streamed chunk to `out`, and return session.Explain(...) on
  // an error status.
  return absl::UnimplementedError(absl::StrCat(
      "--format=", format.name,
      " is not available yet: it needs the reporting service's "
      "ExportWardComparison call, which this version does not have. Use "
      "--format=table or --format=json"));
}

absl::Status PrintHubMonthlyReport(const Session& session,
                                   const HubMonthlyQuery& query,
                                   Highlight highlight, std::ostream& out) {
  // To wire: call ReportingService.GetHubMonthlyReport and print it as
  // query.format (a TextTable, or JSON like the ward comparison).
  return absl::UnimplementedError(
      "the hub monthly report is not available yet: it needs the reporting "
      "service's GetHubMonthlyReport call, which this version does not have");
}

}  // namespace kosapo::cli
