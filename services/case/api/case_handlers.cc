#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/case/api/call_checks.h"
#include "services/case/api/case_service.h"

namespace kosapo::cases {

using server::CallContext;

absl::StatusOr<absl::CivilDay> CaseServiceImpl::Today() const {
  return DayIn(settings_.clock->Now(), settings_.time_zone);
}

grpc::Status CaseServiceImpl::CreateCase(grpc::ServerContext* context,
                                         const v1::CreateCaseRequest* request,
                                         v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            CallerMunicipality(call, request->parent()));
    if (!MayOpenCases(principal.role)) {
      return absl::PermissionDeniedError(
          "opening a case is for ward staff, case workers and the "
          "consultation desk");
    }
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_RETURN_IF_ERROR(ValidateNewCase(request->case_(), today));
    if (!InAreas(principal, request->case_().area_code())) {
      return absl::PermissionDeniedError(
          absl::StrCat("case.area_code: area ", request->case_().area_code(),
                       " is outside your scope"));
    }
    KOSAPO_RETURN_IF_ERROR(ValidateText(request->duplicate_override(), 500,
                                        false, "duplicate_override"));
    Caller caller = CallerOf(call);
    caller.request_id = request->request_id();
    // Case workers and the desk open the cases they take on themselves.
    const bool assign_caller = !IsAreaStaff(principal.role);
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        cases_.Create(municipality, request->case_(),
                      request->duplicate_override(), caller, assign_caller));
    // A request id already used in the municipality answers with the case
    // it opened, which may be another user's: hand it back only to someone
    // who may work on it.
    CaseScope scope;
    scope.municipality = response->municipality_code();
    scope.area_code = response->area_code();
    scope.school_code = response->child().school_code();
    for (const v1::Assignee& assignee : response->assignees()) {
      scope.assignees.push_back(assignee.subject());
    }
    scope.hubs.assign(response->hub_codes().begin(),
                      response->hub_codes().end());
    if (AccessTo(principal, scope) != Access::kFull) {
      response->Clear();
      return absl::PermissionDeniedError(
          "request_id: already used for a case outside your scope; send a "
          "new request id");
    }
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::GetCase(grpc::ServerContext* context,
                                      const v1::GetCaseRequest* request,
                                      v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        cases_.Get(id, CallerOf(call), AllowChildAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::UpdateCase(grpc::ServerContext* context,
                                         const v1::UpdateCaseRequest* request,
                                         v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id, ParseCaseName(request->case_().name(), "case.name"));
    const std::vector<std::string> mask(request->update_mask().begin(),
                                        request->update_mask().end());
    KOSAPO_RETURN_IF_ERROR(ValidateUpdateMask(mask));
    if (std::find(mask.begin(), mask.end(), "area_code") != mask.end() &&
        !InAreas(*call.principal, request->case_().area_code())) {
      return absl::PermissionDeniedError(
          absl::StrCat("case.area_code: area ", request->case_().area_code(),
                       " is outside your scope; its ward takes the case over"));
    }
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        cases_.Update(id, request->case_(), mask, today, CallerOf(call),
                      RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::WithdrawCase(
    grpc::ServerContext* context, const v1::WithdrawCaseRequest* request,
    v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(
        ValidateText(request->reason(), 500, true, "reason"));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        cases_.Withdraw(id, request->etag(), request->reason(), CallerOf(call),
                        RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::SearchCases(grpc::ServerContext* context,
                                          const v1::SearchCasesRequest* request,
                                          v1::SearchCasesResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            CallerMunicipality(call, request->parent()));
    if (!MayOpenCases(principal.role)) {
      return absl::PermissionDeniedError(
          "searching for a child's case is for ward staff, case workers and "
          "the consultation desk");
    }
    KOSAPO_ASSIGN_OR_RETURN(const std::string kana_key,
                            KanaKey(request->kana(), "kana"));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay birth,
                            DateFromProto(request->birth_date(), "birth_date"));
    KOSAPO_ASSIGN_OR_RETURN(const std::vector<CaseRecord> records,
                            cases_.Search(municipality, kana_key, birth));
    for (const CaseRecord& record : records) {
      v1::CaseMatch* match = response->add_matches();
      match->set_case_(record.proto.name());
      match->set_area_code(record.scope.area_code);
      match->set_state(record.state);
      match->set_fiscal_year(record.proto.fiscal_year());
      match->set_in_scope(AccessTo(principal, record.scope) == Access::kFull);
    }
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListCases(grpc::ServerContext* context,
                                        const v1::ListCasesRequest* request,
                                        v1::ListCasesResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    CaseFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            CallerMunicipality(call, request->parent()));
    if (!MayOpenCases(principal.role)) {
      return absl::PermissionDeniedError(
          "case lists are for ward staff, case workers and the consultation "
          "desk");
    }
    if (request->assigned_to_me()) {
      filter.assigned_to = principal.subject;
    } else if (!IsAreaStaff(principal.role)) {
      return absl::PermissionDeniedError(
          "you see the cases assigned to you: set assigned_to_me");
    } else if (!request->area_code().empty()) {
      if (!InAreas(principal, request->area_code())) {
        return absl::PermissionDeniedError(
            absl::StrCat("area_code: area ", request->area_code(),
                         " is outside your scope"));
      }
      filter.areas = {request->area_code()};
    } else {
      filter.areas = principal.areas;
    }
    if (!v1::CaseState_IsValid(request->state()) ||
        !v1::ApproachStatus_IsValid(request->approach_status())) {
      return absl::InvalidArgumentError(
          "state, approach_status: unknown value");
    }
    filter.state = request->state();
    filter.approach_status = request->approach_status();
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(const auto token,
                            ParseTimePageToken(request->page_token()));
    filter.after_us = token.first;
    filter.after_id = token.second;
    KOSAPO_ASSIGN_OR_RETURN(std::vector<CaseRecord> records,
                            cases_.List(filter, CallerOf(call)));
    if (static_cast<int>(records.size()) > filter.limit) {
      records.pop_back();
      response->set_next_page_token(
          TimePageToken(records.back().proto.create_time(), records.back().id));
    }
    for (const CaseRecord& record : records) {
      v1::Case* c = response->add_cases();
      *c = record.proto;
      c->clear_household();
    }
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ChangeApproachStatus(
    grpc::ServerContext* context,
    const v1::ChangeApproachStatusRequest* request, v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, cases_.ChangeApproach(id, *request, today, CallerOf(call),
                                         RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::GetApproachHistory(
    grpc::ServerContext* context, const v1::GetApproachHistoryRequest* request,
    v1::ApproachHistory* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_ASSIGN_OR_RETURN(absl::CivilDay as_of, Today());
    if (request->has_as_of()) {
      KOSAPO_ASSIGN_OR_RETURN(as_of, DateFromProto(request->as_of(), "as_of"));
    }
    absl::Time known_at = absl::InfiniteFuture();
    if (request->has_as_known_at()) {
      known_at = absl::FromUnixSeconds(request->as_known_at().seconds()) +
                 absl::Nanoseconds(request->as_known_at().nanos());
    }
    KOSAPO_ASSIGN_OR_RETURN(
        *response, cases_.ApproachHistory(id, as_of, known_at, CallerOf(call),
                                          RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::RecordOutcome(
    grpc::ServerContext* context, const v1::RecordOutcomeRequest* request,
    v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, cases_.RecordOutcome(id, *request, today, CallerOf(call),
                                        RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ReopenCase(grpc::ServerContext* context,
                                         const v1::ReopenCaseRequest* request,
                                         v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(*response,
                            cases_.Reopen(id, *request, today, CallerOf(call),
                                          RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::SetHubEnrollment(
    grpc::ServerContext* context, const v1::SetHubEnrollmentRequest* request,
    v1::Case* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        principal, {auth::Role::kService, auth::Role::kCentreDirector},
        "record hub enrollment"));
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(
        ValidateText(request->hub_code(), 40, true, "hub_code"));
    Authorize same_municipality =
        [&principal](const CaseScope& scope) -> absl::StatusOr<Access> {
      KOSAPO_RETURN_IF_ERROR(RequireOwnMunicipality(principal, scope));
      return Access::kChild;
    };
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        cases_.SetHubEnrollment(id, request->hub_code(), request->enrolled(),
                                CallerOf(call), same_municipality));
    Redact(*response, Access::kNone);
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListCaseAudit(
    grpc::ServerContext* context, const v1::ListCaseAuditRequest* request,
    v1::ListCaseAuditResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        principal, {auth::Role::kWardOfficer}, "read a case's audit trail"));
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_ASSIGN_OR_RETURN(int limit,
                            PageSize(request->page_size(), 100, 1000));
    KOSAPO_ASSIGN_OR_RETURN(const auto token,
                            ParseTimePageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(
        auto page,
        cases_.AuditTrail(id, token.first, token.second, limit + 1,
                          CallerOf(call), RequireFullAccess(principal)));
    if (static_cast<int>(page.size()) > limit) {
      page.pop_back();
      response->set_next_page_token(
          TimePageToken(page.back().second.time(), page.back().first));
    }
    for (auto& [row_id, entry] : page) {
      *response->add_entries() = std::move(entry);
    }
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::CheckCaseAccess(
    grpc::ServerContext* context, const v1::CheckCaseAccessRequest* request,
    v1::CaseAccess* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->name(), "name"));
    KOSAPO_ASSIGN_OR_RETURN(const CaseRecord record, cases_.Scope(id));
    KOSAPO_ASSIGN_OR_RETURN(const Access access,
                            AllowChildAccess (*call.principal)(record.scope));
    response->set_case_(record.proto.name());
    response->set_municipality_code(record.scope.municipality);
    response->set_area_code(record.scope.area_code);
    response->set_state(record.state);
    response->set_lead(record.proto.lead());
    response->set_may_act(access == Access::kFull);
    *response->mutable_hub_codes() = record.proto.hub_codes();
    *response->mutable_opened_date() = record.proto.opened_date();
    return absl::OkStatus();
  });
}

}  // namespace kosapo::cases
