#include "services/reporting/api/reporting_service.h"

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/reporting/api/access.h"
#include "services/reporting/api/comparison.h"

namespace kosapo::reporting {

grpc::Status ReportingServiceImpl::GetWardComparison(
    grpc::ServerContext* context, const v1::GetWardComparisonRequest* request,
    v1::WardComparison* response) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            ParseMunicipalityName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(auth::RequireMunicipality(principal, municipality));
    KOSAPO_RETURN_IF_ERROR(
        RequireAggregateReader(principal, "read the ward comparison"));
    const int year = request->fiscal_year();
    if (year < 2000 || year > 9998) {
      return absl::InvalidArgumentError(
          "fiscal_year: required, e.g. 2023 for April 2023 to March 2024");
    }
    if (request->suppress_below() < 0 || request->suppress_below() > 1000) {
      return absl::InvalidArgumentError("suppress_below: 0 (off) to 1000");
    }
    ComparisonInput input;
    input.municipality = municipality;
    input.fiscal_year = year;
    input.as_of = absl::CivilDay(year + 1, 3, 31);
    if (request->has_as_of()) {
      KOSAPO_ASSIGN_OR_RETURN(input.as_of,
                              DateFromProto(request->as_of(), "as_of"));
      if (input.as_of < absl::CivilDay(year, 4, 1)) {
        return absl::InvalidArgumentError(
            absl::StrCat("as_of: must not be before the fiscal year begins (",
                         year, "-04-01)"));
      }
    }
    input.suppress_below = request->suppress_below();
    KOSAPO_ASSIGN_OR_RETURN(input.areas, projections_.Areas(municipality));
    KOSAPO_ASSIGN_OR_RETURN(
        input.counts, projections_.Counts(municipality, year, input.as_of));
    KOSAPO_ASSIGN_OR_RETURN(const std::vector<int> earlier,
                            projections_.EarlierYears(municipality, year));
    for (int earlier_year : earlier) {
      YearTotal total;
      total.fiscal_year = earlier_year;
      total.as_of = absl::CivilDay(earlier_year + 1, 3, 31);
      KOSAPO_ASSIGN_OR_RETURN(
          const auto counts,
          projections_.Counts(municipality, earlier_year, total.as_of));
      total.counts = Sum(counts);
      input.earlier.push_back(total);
    }
    *response = BuildComparison(input);
    return absl::OkStatus();
  });
}

}  // namespace kosapo::reporting
