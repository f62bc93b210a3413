#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/case/api/call_checks.h"
#include "services/case/api/case_service.h"

namespace kosapo::cases {

using server::CallContext;

grpc::Status CaseServiceImpl::RecordConference(
    grpc::ServerContext* context, const v1::RecordConferenceRequest* request,
    v1::Conference* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateConference(request->conference()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, work_.RecordConference(id, *request, today, CallerOf(call),
                                          RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListConferences(
    grpc::ServerContext* context, const v1::ListConferencesRequest* request,
    v1::ListConferencesResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_ASSIGN_OR_RETURN(
        const auto list,
        work_.ListConferences(id, CallerOf(call),
                              RequireFullAccess(*call.principal)));
    response->mutable_conferences()->Add(list.begin(), list.end());
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::RecordAssessment(
    grpc::ServerContext* context, const v1::RecordAssessmentRequest* request,
    v1::Assessment* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateAssessment(request->assessment()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, work_.RecordAssessment(id, *request, today, CallerOf(call),
                                          RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListAssessments(
    grpc::ServerContext* context, const v1::ListAssessmentsRequest* request,
    v1::ListAssessmentsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_ASSIGN_OR_RETURN(
        const auto list,
        work_.ListAssessments(id, CallerOf(call),
                              RequireFullAccess(*call.principal)));
    response->mutable_assessments()->Add(list.begin(), list.end());
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::RecordSupportPlan(
    grpc::ServerContext* context, const v1::RecordSupportPlanRequest* request,
    v1::SupportPlan* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateSupportPlan(request->plan()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, work_.RecordSupportPlan(id, *request, today, CallerOf(call),
                                           RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListSupportPlans(
    grpc::ServerContext* context, const v1::ListSupportPlansRequest* request,
    v1::ListSupportPlansResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_ASSIGN_OR_RETURN(
        const auto list,
        work_.ListSupportPlans(id, CallerOf(call),
                               RequireFullAccess(*call.principal)));
    response->mutable_plans()->Add(list.begin(), list.end());
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListOverdueReviews(
    grpc::ServerContext* context, const v1::ListOverdueReviewsRequest* request,
    v1::ListOverdueReviewsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    OverdueFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            CallerMunicipality(call, request->parent()));
    if (IsAreaStaff(principal.role)) {
      filter.areas = principal.areas;
    } else if (MayOpenCases(principal.role)) {
      filter.assigned_to = principal.subject;
    } else {
      return absl::PermissionDeniedError(
          "overdue reviews are for ward staff, case workers and the "
          "consultation desk");
    }
    KOSAPO_ASSIGN_OR_RETURN(filter.today, Today());
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(const auto token,
                            ParsePageToken(request->page_token()));
    if (token.second != 0) {
      filter.after_review = DayToSql(absl::CivilDay(1970, 1, 1) + token.first);
      filter.after_id = token.second;
    }
    filter.limit += 1;
    KOSAPO_ASSIGN_OR_RETURN(auto reviews, work_.ListOverdueReviews(filter));
    if (static_cast<int>(reviews.size()) == filter.limit) {
      reviews.pop_back();
      const v1::OverdueReview& last = reviews.back();
      KOSAPO_ASSIGN_OR_RETURN(const int64_t last_id,
                              ParseCaseName(last.case_(), "case"));
      const absl::CivilDay review(last.review_date().year(),
                                  last.review_date().month(),
                                  last.review_date().day());
      response->set_next_page_token(
          absl::StrCat(review - absl::CivilDay(1970, 1, 1), ":", last_id));
    }
    response->mutable_reviews()->Add(reviews.begin(), reviews.end());
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::RecordContact(
    grpc::ServerContext* context, const v1::RecordContactRequest* request,
    v1::Contact* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateContact(request->contact()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        *response, work_.RecordContact(id, *request, today, CallerOf(call),
                                       RequireFullAccess(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListContacts(
    grpc::ServerContext* context, const v1::ListContactsRequest* request,
    v1::ListContactsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseCaseName(request->parent(), "parent"));
    KOSAPO_ASSIGN_OR_RETURN(const int limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(const auto token,
                            ParseTimePageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(
        auto contacts,
        work_.ListContacts(id, token.first, token.second, limit + 1,
                           CallerOf(call), RequireFullAccess(*call.principal)));
    if (static_cast<int>(contacts.size()) > limit) {
      contacts.pop_back();
      KOSAPO_ASSIGN_OR_RETURN(
          const auto last,
          ParseChildName(contacts.back().name(), "contacts", "name"));
      response->set_next_page_token(
          TimePageToken(contacts.back().create_time(), last.second));
    }
    response->mutable_contacts()->Add(contacts.begin(), contacts.end());
    return absl::OkStatus();
  });
}

}  // namespace kosapo::cases
