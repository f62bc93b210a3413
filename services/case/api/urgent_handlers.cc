#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/case/api/call_checks.h"
#include "services/case/api/case_service.h"

namespace kosapo::cases {

using server::CallContext;

grpc::Status CaseServiceImpl::RaiseUrgentReport(
    grpc::ServerContext* context, const v1::RaiseUrgentReportRequest* request,
    v1::UrgentReport* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateUrgentReport(request->report()));
    Authorize may_raise =
        [&principal](const CaseScope& scope) -> absl::StatusOr<Access> {
      KOSAPO_RETURN_IF_ERROR(RequireOwnMunicipality(principal, scope));
      if (!MayRaiseUrgentReport(principal, scope)) {
        return absl::PermissionDeniedError(
            "urgent reports about this child are for its hub, its school and "
            "the staff of its case");
      }
      return AccessTo(principal, scope);
    };
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        urgent_.Raise(id, *request, settings_.clock->Now(),
                      settings_.urgent_ack_within, CallerOf(call), may_raise));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::AcknowledgeUrgentReport(
    grpc::ServerContext* context,
    const v1::AcknowledgeUrgentReportRequest* request,
    v1::UrgentReport* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_ASSIGN_OR_RETURN(
        const auto name,
        ParseChildName(request->name(), "urgentReports", "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateText(request->note(), 1000, false, "note"));
    // Whoever the report is routed to, and the staff of the case.
    auto may_acknowledge = [&principal](
                               const CaseScope& scope,
                               const v1::UrgentReport& report) -> absl::Status {
      KOSAPO_RETURN_IF_ERROR(RequireOwnMunicipality(principal, scope));
      if (AccessTo(principal, scope) == Access::kFull ||
          (principal.municipality == scope.municipality &&
           report.routed_to() == principal.subject)) {
        return absl::OkStatus();
      }
      if (report.routed_to().empty() &&
          principal.role != auth::Role::kAnalyst &&
          principal.municipality == scope.municipality &&
          InAreas(principal, scope.area_code) &&
          std::string(auth::RoleName(principal.role)) ==
              LeadRole(report.routed_to_lead())) {
        return absl::OkStatus();  // the lead's desk of the area
      }
      return absl::PermissionDeniedError(
          "this report is routed to the case's lead; you may not acknowledge "
          "it");
    };
    KOSAPO_ASSIGN_OR_RETURN(
        *response, urgent_.Acknowledge(name.first, name.second, request->note(),
                                       settings_.clock->Now(), CallerOf(call),
                                       may_acknowledge));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListUrgentReports(
    grpc::ServerContext* context, const v1::ListUrgentReportsRequest* request,
    v1::ListUrgentReportsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    UrgentFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            CallerMunicipality(call, request->parent()));
    filter.areas = principal.areas;
    if (IsAreaStaff(principal.role)) {
      // every report of the areas
    } else if (principal.role == auth::Role::kCaseWorker ||
               principal.role == auth::Role::kConsultationDesk) {
      filter.routed_to = principal.subject;
      filter.lead = std::string(auth::RoleName(principal.role));
    } else {
      return absl::PermissionDeniedError(
          "urgent report lists are for ward staff, case workers and the "
          "consultation desk");
    }
    filter.overdue_only = request->overdue_only();
    filter.now = settings_.clock->Now();
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(const auto token,
                            ParsePageToken(request->page_token()));
    filter.after_due_us = token.first;
    filter.after_id = token.second;
    const int shown = filter.limit;
    filter.limit += 1;  // one more tells whether another page follows
    KOSAPO_ASSIGN_OR_RETURN(auto page,
                            urgent_.ListOpen(filter, shown, CallerOf(call)));
    if (static_cast<int>(page.size()) == filter.limit) {
      page.pop_back();
      KOSAPO_ASSIGN_OR_RETURN(
          const auto last,
          ParseChildName(page.back().second.name(), "urgentReports", "name"));
      response->set_next_page_token(
          absl::StrCat(page.back().first, ":", last.second));
    }
    for (auto& [due_us, report] : page) {
      *response->add_reports() = std::move(report);
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::cases
