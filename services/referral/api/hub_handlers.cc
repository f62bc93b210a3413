// Hub usage as Toyonaka runs it: staff who may act on the child's case
// apply; the case's lead holds the hearing; the centre director alone
// decides; the hub's operators interview, plan, record visits and see only
// their own hub's children; city operations review the plans. The steps'
// rules are in domain/hub_rules.h.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/digest.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/referral/api/call_checks.h"
#include "services/referral/api/referral_service.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/hub_rules.h"
#include "services/referral/domain/referral_rules.h"

namespace kosapo::referral {

using auth::Role;
using server::CallContext;

namespace {

constexpr int kMaxVisitDays = 92;

bool HasHub(const auth::Principal& principal, absl::string_view hub_code) {
  return std::find(principal.hubs.begin(), principal.hubs.end(), hub_code) !=
         principal.hubs.end();
}

// The usage is of the caller's municipality.
UsageCheck InMunicipality(const auth::Principal& principal) {
  return [&principal](const v1::HubUsage& usage) {
    return auth::RequireRecordOfMunicipality(
        principal, usage.municipality_code(), usage.name());
  };
}

// The caller operates the usage's hub.
UsageCheck AtOwnHub(const auth::Principal& principal) {
  return [&principal](const v1::HubUsage& usage) -> absl::Status {
    KOSAPO_RETURN_IF_ERROR(InMunicipality(principal)(usage));
    if (principal.role != Role::kHubOperator ||
        !HasHub(principal, usage.hub_code())) {
      return absl::PermissionDeniedError(
          absl::StrCat(usage.name(), " is at hub ", usage.hub_code(),
                       ", which you do not operate"));
    }
    return absl::OkStatus();
  };
}

// The operator of the usage's hub, or the centre director.
UsageCheck AtOwnHubOrDirector(const auth::Principal& principal) {
  return [&principal](const v1::HubUsage& usage) -> absl::Status {
    if (principal.role == Role::kCentreDirector) {
      return InMunicipality(principal)(usage);
    }
    return AtOwnHub(principal)(usage);
  };
}

absl::Status RequireOperator(const auth::Principal& principal,
                             absl::string_view action) {
  return auth::RequireRole(principal, {Role::kHubOperator}, action);
}

// The role names of the case service's leads.
std::string LeadRoleOf(cases::v1::Lead lead) {
  return lead == cases::v1::LEAD_CASE_WORKER ? kCaseWorkerRole
                                             : kConsultationDeskRole;
}

}  // namespace

grpc::Status ReferralServiceImpl::CreateHubApplication(
    grpc::ServerContext* context,
    const v1::CreateHubApplicationRequest* request, v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    if (!MayRefer(call.principal->role)) {
      return absl::PermissionDeniedError(
          "hub applications are recorded by ward staff, case workers and the "
          "consultation desk");
    }
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            CallerMunicipality(call, request->parent()));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    v1::HubUsage usage = request->usage();
    if (request->has_new_case()) {
      // A child without a case: open one first, as the caller. The request
      // id derived from this call's (a digest: any caller's id fits the case
      // service's limit) makes a retry find the same case.
      if (!usage.case_().empty()) {
        return Invalid("new_case", "give either usage.case or new_case");
      }
      absl::StatusOr<cases::v1::Case> opened = cases_.CreateCase(
          *context, call, request->parent(), request->new_case(),
          request->duplicate_override(),
          absl::StrCat("hub-application:",
                       Sha256Hex(request->request_id()).substr(0, 32)));
      if (!opened.ok()) {
        return absl::Status(
            opened.status().code(),
            absl::StrCat("new_case: ", opened.status().message()));
      }
      usage.set_case_(opened->name());
    }
    KOSAPO_RETURN_IF_ERROR(ValidateNewApplication(usage, today));
    KOSAPO_ASSIGN_OR_RETURN(const cases::v1::CaseAccess access,
                            ActOnCase(*context, call, usage.case_()));
    if (access.state() != cases::v1::CASE_STATE_OPEN) {
      return absl::FailedPreconditionError(absl::StrCat(
          usage.case_(), " is not open: reopen it before applying"));
    }
    KOSAPO_ASSIGN_OR_RETURN(
        v1::HubUsage created,
        hubs_.CreateApplication(municipality, usage, access.area_code(),
                                CallerOf(call, request->request_id())));
    // A request id already used in the municipality answers with the usage
    // it made, which may be of another case: hand it back only to someone
    // who may act on that case.
    if (created.case_() != usage.case_()) {
      KOSAPO_RETURN_IF_ERROR(
          ActOnCase(*context, call, created.case_()).status());
    }
    *response = std::move(created);
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::RecordHubAssessment(
    grpc::ServerContext* context, const v1::RecordHubAssessmentRequest* request,
    v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        principal, {Role::kCaseWorker, Role::kConsultationDesk},
        "hold the hearing and assessment for a hub"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const UsageScope scope, hubs_.ScopeOf(id));
    // The case service says who leads the case now, and whether the caller
    // works on it.
    KOSAPO_ASSIGN_OR_RETURN(
        const cases::v1::CaseAccess access,
        ActOnCaseOf(*context, call, scope.municipality, scope.case_name,
                    ResourceName(kHubUsages, id)));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        hubs_.RecordAssessment(id, *request, LeadRoleOf(access.lead()), today,
                               CallerOf(call), InMunicipality(principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::DecideHubUsage(
    grpc::ServerContext* context, const v1::DecideHubUsageRequest* request,
    v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(principal, {Role::kCentreDirector},
                                             "decide a hub usage"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(*response,
                            hubs_.Decide(id, *request, today, CallerOf(call),
                                         InMunicipality(principal)));
    if (!response->enrollment_synced()) {
      response->set_enrollment_synced(
          enrollment_.SyncNow(response->case_(), response->hub_code(), &call));
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::RecordPreUseInterview(
    grpc::ServerContext* context,
    const v1::RecordPreUseInterviewRequest* request, v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(
        RequireOperator(principal, "record the pre-use interview"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, hubs_.RecordInterview(id, *request, today, CallerOf(call),
                                         AtOwnHub(principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::RecordHubSupportPlan(
    grpc::ServerContext* context,
    const v1::RecordHubSupportPlanRequest* request, v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(
        RequireOperator(principal, "record a hub support plan"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, hubs_.RecordPlan(id, *request, today, CallerOf(call),
                                    AtOwnHub(principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ReviewHubSupportPlan(
    grpc::ServerContext* context,
    const v1::ReviewHubSupportPlanRequest* request, v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(principal, {Role::kCityOperations},
                                             "review a hub support plan"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, hubs_.ReviewPlan(id, *request, today, CallerOf(call),
                                    InMunicipality(principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::RecordHubVisit(
    grpc::ServerContext* context, const v1::RecordHubVisitRequest* request,
    v1::HubVisit* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(RequireOperator(principal, "record a hub visit"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->parent(), kHubUsages, "parent"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, hubs_.RecordVisit(id, *request, today, CallerOf(call),
                                     AtOwnHub(principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ListHubVisits(
    grpc::ServerContext* context, const v1::ListHubVisitsRequest* request,
    v1::ListHubVisitsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(ValidateCode(request->hub_code(), 40, "hub_code"));
    if (principal.role == Role::kHubOperator) {
      if (!HasHub(principal, request->hub_code())) {
        return absl::PermissionDeniedError(absl::StrCat(
            "hub_code: you do not operate hub ", request->hub_code()));
      }
    } else {
      KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
          principal, {Role::kCentreDirector, Role::kCityOperations},
          "list a hub's visits"));
    }
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            hubs_.HubMunicipality(request->hub_code()));
    if (!auth::RequireMunicipality(principal, municipality).ok()) {
      return NoSuchHub("hub_code", request->hub_code());
    }
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay from,
                            DateFromProto(request->from_date(), "from_date"));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay to,
                            DateFromProto(request->to_date(), "to_date"));
    if (to < from || to - from >= kMaxVisitDays) {
      return Invalid("to_date", absl::StrCat("on or after from_date, at most ",
                                             kMaxVisitDays, " days in all"));
    }
    KOSAPO_ASSIGN_OR_RETURN(
        std::vector<v1::HubVisit> visits,
        hubs_.ListVisits(request->hub_code(), from, to, CallerOf(call)));
    for (v1::HubVisit& visit : visits) {
      *response->add_visits() = std::move(visit);
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::EndHubUsage(
    grpc::ServerContext* context, const v1::EndHubUsageRequest* request,
    v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        principal, {Role::kHubOperator, Role::kCentreDirector},
        "end a hub usage"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(*response,
                            hubs_.End(id, *request, today, CallerOf(call),
                                      AtOwnHubOrDirector(principal)));
    if (!response->enrollment_synced()) {
      response->set_enrollment_synced(
          enrollment_.SyncNow(response->case_(), response->hub_code(), &call));
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::GetHubUsage(
    grpc::ServerContext* context, const v1::GetHubUsageRequest* request,
    v1::HubUsage* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kHubUsages, "name"));
    UsageCheck may_read;
    if (principal.role == Role::kHubOperator) {
      may_read = AtOwnHub(principal);
    } else if (principal.role == Role::kCentreDirector ||
               principal.role == Role::kCityOperations) {
      may_read = InMunicipality(principal);
    } else if (MayRefer(principal.role)) {
      KOSAPO_ASSIGN_OR_RETURN(const UsageScope scope, hubs_.ScopeOf(id));
      KOSAPO_RETURN_IF_ERROR(ActOnCaseOf(*context, call, scope.municipality,
                                         scope.case_name,
                                         ResourceName(kHubUsages, id))
                                 .status());
      may_read = InMunicipality(principal);
    } else {
      return absl::PermissionDeniedError(
          "hub usages are for the hub's operators, the centre director, city "
          "operations and the staff of the child's case");
    }
    KOSAPO_ASSIGN_OR_RETURN(*response, hubs_.Get(id, CallerOf(call), may_read));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ListHubUsages(
    grpc::ServerContext* context, const v1::ListHubUsagesRequest* request,
    v1::ListHubUsagesResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    UsageFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            CallerMunicipality(call, request->parent()));
    if (request->hub_code().empty() && request->case_().empty()) {
      return Invalid("hub_code", "name a hub (hub_code) or a case (case)");
    }
    if (!request->case_().empty()) {
      KOSAPO_RETURN_IF_ERROR(
          ParseResourceName(request->case_(), kCases, "case").status());
    }
    if (principal.role == Role::kHubOperator) {
      if (!HasHub(principal, request->hub_code())) {
        return absl::PermissionDeniedError(
            "hub_code: name a hub you operate; you see only its children");
      }
    } else if (principal.role != Role::kCentreDirector &&
               principal.role != Role::kCityOperations) {
      if (!MayRefer(principal.role) || request->case_().empty()) {
        return absl::PermissionDeniedError(
            "case: staff of a case list the hub usages of that case");
      }
      KOSAPO_RETURN_IF_ERROR(
          ActOnCase(*context, call, request->case_()).status());
    }
    filter.hub_code = request->hub_code();
    filter.case_name = request->case_();
    if (!v1::HubUsageState_IsValid(request->state())) {
      return Invalid("state", "unknown value");
    }
    filter.state = request->state();
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(filter.after,
                            ParseCreatedPageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::HubUsage> usages,
                            hubs_.List(filter, CallerOf(call)));
    if (static_cast<int>(usages.size()) > filter.limit) {
      usages.pop_back();
      response->set_next_page_token(CreatedPageToken(
          usages.back().create_time(),
          *ParseResourceName(usages.back().name(), kHubUsages, "")));
    }
    for (v1::HubUsage& usage : usages) {
      *response->add_usages() = std::move(usage);
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::referral
