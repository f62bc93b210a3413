// Referrals: ward staff, case workers and the consultation desk refer the
// cases the case service lets them act on; ward officers of the case's area
// revoke. The referral's rules are in domain/referral_rules.h.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/referral/api/call_checks.h"
#include "services/referral/api/referral_service.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/referral_rules.h"

namespace kosapo::referral {

using server::CallContext;

namespace {

absl::Status RequireReferrer(const auth::Principal& principal) {
  if (!MayRefer(principal.role)) {
    return absl::PermissionDeniedError(
        "referrals are for ward staff, case workers and the consultation "
        "desk");
  }
  return absl::OkStatus();
}

// Adds what depends on today.
v1::Referral AsOf(v1::Referral referral, absl::CivilDay today) {
  if (referral.has_answer_due_date()) {
    const kosapo::type::Date& due = referral.answer_due_date();
    referral.set_overdue(
        IsOverdue(referral.state(),
                  absl::CivilDay(due.year(), due.month(), due.day()), today));
  }
  return referral;
}

// The overdue list's page token: "{due date}_{id}" of the last row shown.
absl::Status ParseOverdueToken(absl::string_view token, OverdueFilter* filter) {
  if (token.empty()) {
    return absl::OkStatus();
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '_');
  if (parts.size() != 2 ||
      !absl::ParseCivilTime(parts[0], &filter->after_due) ||
      !absl::SimpleAtoi(parts[1], &filter->after_id) || filter->after_id <= 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token from a previous response");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status ReferralServiceImpl::CreateReferral(
    grpc::ServerContext* context, const v1::CreateReferralRequest* request,
    v1::Referral* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireReferrer(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            CallerMunicipality(call, request->parent()));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    const v1::Referral& referral = request->referral();
    KOSAPO_RETURN_IF_ERROR(ValidateNewReferral(referral, today));
    KOSAPO_ASSIGN_OR_RETURN(const cases::v1::CaseAccess access,
                            ActOnCase(*context, call, referral.case_()));
    // The store refuses a closed case unless this is a retry of a
    // referral made while it was open.
    KOSAPO_ASSIGN_OR_RETURN(
        const v1::Referral created,
        referrals_.Create(municipality, referral, access.area_code(),
                          access.state() == cases::v1::CASE_STATE_OPEN,
                          CallerOf(call, request->request_id())));
    // A request id already used in the municipality answers with the
    // referral it made, which may be of another case: hand it back only to
    // someone who may act on that case.
    if (created.case_() != referral.case_()) {
      KOSAPO_RETURN_IF_ERROR(
          ActOnCase(*context, call, created.case_()).status());
    }
    *response = AsOf(created, today);
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::GetReferral(
    grpc::ServerContext* context, const v1::GetReferralRequest* request,
    v1::Referral* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kReferrals, "name"));
    KOSAPO_RETURN_IF_ERROR(ActOnReferral(*context, call, id));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(const v1::Referral referral,
                            referrals_.Get(id, CallerOf(call)));
    *response = AsOf(referral, today);
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ListReferrals(
    grpc::ServerContext* context, const v1::ListReferralsRequest* request,
    v1::ListReferralsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireReferrer(*call.principal));
    ReferralFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            CallerMunicipality(call, request->parent()));
    if (request->case_().empty()) {
      filter.referred_by = call.principal->subject;
    } else {
      KOSAPO_RETURN_IF_ERROR(
          ParseResourceName(request->case_(), kCases, "case").status());
      KOSAPO_RETURN_IF_ERROR(
          ActOnCase(*context, call, request->case_()).status());
      filter.case_name = request->case_();
    }
    if (!v1::ReferralState_IsValid(request->state())) {
      return Invalid("state", "unknown value");
    }
    filter.state = request->state();
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(filter.after,
                            ParseCreatedPageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::Referral> referrals,
                            referrals_.List(filter, CallerOf(call)));
    if (static_cast<int>(referrals.size()) > filter.limit) {
      referrals.pop_back();
      response->set_next_page_token(CreatedPageToken(
          referrals.back().create_time(),
          *ParseResourceName(referrals.back().name(), kReferrals, "")));
    }
    for (v1::Referral& referral : referrals) {
      *response->add_referrals() = AsOf(std::move(referral), today);
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::RecordReferralConsent(
    grpc::ServerContext* context,
    const v1::RecordReferralConsentRequest* request, v1::Referral* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireReferrer(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kReferrals, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ActOnReferral(*context, call, id));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        const v1::Referral referral,
        referrals_.RecordConsent(id, *request, today, CallerOf(call)));
    *response = AsOf(referral, today);
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ChangeReferralState(
    grpc::ServerContext* context, const v1::ChangeReferralStateRequest* request,
    v1::Referral* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireReferrer(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kReferrals, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ActOnReferral(*context, call, id));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        const v1::Referral referral,
        referrals_.ChangeState(id, *request, today, settings_.answer_due_days,
                               CallerOf(call)));
    *response = AsOf(referral, today);
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ListOverdueReferrals(
    grpc::ServerContext* context,
    const v1::ListOverdueReferralsRequest* request,
    v1::ListOverdueReferralsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(RequireReferrer(principal));
    OverdueFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            CallerMunicipality(call, request->parent()));
    filter.referred_by = principal.subject;
    if (principal.role == auth::Role::kWardOfficer) {
      filter.areas = principal.areas;
    }
    KOSAPO_ASSIGN_OR_RETURN(filter.today, Today());
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_RETURN_IF_ERROR(ParseOverdueToken(request->page_token(), &filter));
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::OverdueReferral> overdue,
                            referrals_.ListOverdue(filter));
    if (static_cast<int>(overdue.size()) > filter.limit) {
      overdue.pop_back();
      const v1::OverdueReferral& last = overdue.back();
      response->set_next_page_token(
          absl::StrCat(DateToSql(last.answer_due_date()), "_",
                       *ParseResourceName(last.referral(), kReferrals, "")));
    }
    for (v1::OverdueReferral& entry : overdue) {
      *response->add_referrals() = std::move(entry);
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::RevokeReferral(
    grpc::ServerContext* context, const v1::RevokeReferralRequest* request,
    v1::Referral* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        *call.principal, {auth::Role::kWardOfficer}, "revoke a referral"));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kReferrals, "name"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ActOnReferral(*context, call, id));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today, Today());
    KOSAPO_ASSIGN_OR_RETURN(
        const v1::Referral referral,
        referrals_.Revoke(id, *request, today, CallerOf(call)));
    *response = AsOf(referral, today);
    return absl::OkStatus();
  });
}

}  // namespace kosapo::referral
