// GetHubMonthlyReport: checks the caller and the request, reads the hub's
// month from the projections, assembles the report (api/hub_report.h).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/server/caller.h"
#include "services/reporting/api/access.h"
#include "services/reporting/api/hub_report.h"
#include "services/reporting/api/reporting_service.h"

namespace kosapo::reporting {
namespace {

// A hub code as the referral directory allows it: 1-40 ASCII letters,
// digits, "-" and "_".
absl::Status ValidateHubCode(absl::string_view code) {
  const bool valid = !code.empty() && code.size() <= 40 &&
                     std::all_of(code.begin(), code.end(), [](char c) {
                       return absl::ascii_isalnum(c) || c == '-' || c == '_';
                     });
  if (!valid) {
    return absl::InvalidArgumentError(
        "hub_code: required, 1-40 letters, digits, \"-\" and \"_\" (the "
        "hub's code in the referral directory)");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status ReportingServiceImpl::GetHubMonthlyReport(
    grpc::ServerContext* context, const v1::GetHubMonthlyReportRequest* request,
    v1::HubMonthlyReport* response) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(
        const std::string municipality,
        server::CallerMunicipality(call, request->parent()));
    KOSAPO_RETURN_IF_ERROR(ValidateHubCode(request->hub_code()));
    KOSAPO_ASSIGN_OR_RETURN(
        const bool list_children,
        HubReportAccess(*call.principal, request->hub_code()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilMonth month,
                            ParseMonth(request->month(), "month"));
    const auto [raised_from, raised_to] = MonthInstants(month, time_zone_);
    HubReportInput input;
    input.municipality = municipality;
    input.hub_code = request->hub_code();
    input.month = month;
    input.time_zone = time_zone_;
    input.list_children = list_children;
    KOSAPO_ASSIGN_OR_RETURN(
        input.facts, projections_.HubMonth(municipality, request->hub_code(),
                                           absl::CivilDay(month),
                                           absl::CivilDay(month + 1) - 1,
                                           raised_from, raised_to));
    if (input.facts.versions.empty()) {
      return absl::NotFoundError(
          absl::StrCat("hub_code: no hub ", request->hub_code(),
                       " in the directory of municipality ", municipality));
    }
    *response = BuildHubReport(input);
    return absl::OkStatus();
  });
}

}  // namespace kosapo::reporting
