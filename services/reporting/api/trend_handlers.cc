// GetWardTrends: the ward comparison's city (and one area's) rows over a
// range of fiscal years, counted and assembled by the same code as
// GetWardComparison (api/comparison.h).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/server/caller.h"
#include "services/reporting/api/access.h"
#include "services/reporting/api/comparison.h"
#include "services/reporting/api/reporting_service.h"

namespace kosapo::reporting {
namespace {

constexpr int kMaxYears = 20;

absl::Status ValidateYears(int from, int to) {
  if (from < 2000 || from > 9998) {
    return absl::InvalidArgumentError(
        "from_fiscal_year: required, e.g. 2020 for April 2020 to March 2021");
  }
  if (to < from || to > 9998) {
    return absl::InvalidArgumentError(
        "to_fiscal_year: required, on or after from_fiscal_year");
  }
  if (to - from + 1 > kMaxYears) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_fiscal_year: at most ", kMaxYears,
                     " fiscal years from from_fiscal_year"));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status ReportingServiceImpl::GetWardTrends(
    grpc::ServerContext* context, const v1::GetWardTrendsRequest* request,
    v1::WardTrends* response) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(
        const std::string municipality,
        server::CallerMunicipality(call, request->parent()));
    KOSAPO_RETURN_IF_ERROR(
        RequireAggregateReader(*call.principal, "read the ward trends"));
    KOSAPO_RETURN_IF_ERROR(
        ValidateYears(request->from_fiscal_year(), request->to_fiscal_year()));
    TrendsInput input;
    KOSAPO_ASSIGN_OR_RETURN(
        input.suppress_below,
        SuppressionThreshold(*call.principal, request->suppress_below(),
                             analyst_suppress_below_, "suppress_below"));
    input.municipality = municipality;
    input.from_fiscal_year = request->from_fiscal_year();
    input.to_fiscal_year = request->to_fiscal_year();
    input.rules = flag_rules_;
    if (!request->area_code().empty()) {
      KOSAPO_ASSIGN_OR_RETURN(const std::vector<AreaInfo> areas,
                              projections_.Areas(municipality));
      const auto area = std::find_if(
          areas.begin(), areas.end(),
          [&](const AreaInfo& a) { return a.code == request->area_code(); });
      if (area == areas.end()) {
        return absl::NotFoundError(
            absl::StrCat("area_code: no area ", request->area_code(),
                         " in municipality ", municipality));
      }
      input.area = *area;
    }
    for (int year = input.from_fiscal_year; year <= input.to_fiscal_year;
         ++year) {
      TrendYear trend;
      trend.fiscal_year = year;
      // As the comparison of that year answers by default.
      trend.as_of = absl::CivilDay(year + 1, 3, 31);
      KOSAPO_ASSIGN_OR_RETURN(
          trend.counts, projections_.Counts(municipality, year, trend.as_of));
      input.years.push_back(std::move(trend));
    }
    *response = BuildTrends(input);
    return absl::OkStatus();
  });
}

}  // namespace kosapo::reporting
