// The audit trail of a case's referrals and hub usages: for the ward
// officers who may work on the case, as the case service's own trail is.
#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "services/referral/api/call_checks.h"
#include "services/referral/api/referral_service.h"
#include "services/referral/domain/fields.h"

namespace kosapo::referral {

using server::CallContext;

grpc::Status ReferralServiceImpl::ListReferralAudit(
    grpc::ServerContext* context, const v1::ListReferralAuditRequest* request,
    v1::ListReferralAuditResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        *call.principal, {auth::Role::kWardOfficer},
        "read the audit trail of a case's referrals and hub usages"));
    KOSAPO_RETURN_IF_ERROR(
        ParseResourceName(request->case_(), kCases, "case").status());
    TrailQuery query;
    KOSAPO_ASSIGN_OR_RETURN(query.limit,
                            PageSize(request->page_size(), 100, 1000));
    KOSAPO_ASSIGN_OR_RETURN(query.before_id,
                            ParsePageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(const cases::v1::CaseAccess access,
                            ActOnCase(*context, call, request->case_()));
    query.municipality = access.municipality_code();
    query.case_name = access.case_();
    KOSAPO_ASSIGN_OR_RETURN(std::vector<TrailEntry> page,
                            audit_.Trail(query, CallerOf(call)));
    if (static_cast<int>(page.size()) > query.limit) {
      page.pop_back();
      response->set_next_page_token(absl::StrCat(page.back().first));
    }
    for (TrailEntry& entry : page) {
      *response->add_entries() = std::move(entry.second);
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::referral
