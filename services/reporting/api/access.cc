#include "services/reporting/api/access.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"

namespace kosapo::reporting {

using auth::Role;

absl::Status RequireAggregateReader(const auth::Principal& principal,
                                    absl::string_view action) {
  return auth::RequireRole(
      principal,
      {Role::kAnalyst, Role::kCityOperations, Role::kWardOfficer, Role::kSsw,
       Role::kSupportPromoter, Role::kCaseWorker, Role::kConsultationDesk,
       Role::kCentreDirector, Role::kService},
      action);
}

absl::StatusOr<int> SuppressionThreshold(const auth::Principal& principal,
                                         int requested, int analyst_minimum,
                                         absl::string_view field) {
  if (requested < 0 || requested > kMaxSuppressBelow) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": 0 (off) to ", kMaxSuppressBelow));
  }
  if (principal.role == Role::kAnalyst) {
    return std::max(requested, analyst_minimum);
  }
  return requested;
}

absl::StatusOr<bool> HubReportAccess(const auth::Principal& principal,
                                     absl::string_view hub_code) {
  switch (principal.role) {
    case Role::kCentreDirector:
    case Role::kCityOperations:
      return true;
    // Aggregates only: analysts, and other services and dashboards with
    // their own service identity.
    case Role::kAnalyst:
    case Role::kService:
      return false;
    case Role::kHubOperator:
      if (std::find(principal.hubs.begin(), principal.hubs.end(), hub_code) !=
          principal.hubs.end()) {
        return true;
      }
      return absl::PermissionDeniedError(
          absl::StrCat("hub_code: you do not operate hub ", hub_code,
                       "; operators read their own hub's report only"));
    default:
      return absl::PermissionDeniedError(
          "a hub's monthly report is for its operators, the centre director, "
          "city operations, analysts and other services");
  }
}

}  // namespace kosapo::reporting
