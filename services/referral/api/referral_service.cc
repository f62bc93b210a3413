// What the handlers of ReferralServiceImpl share: the service's calendar
// and the case service's word on what the caller may do with a case.
#include "services/referral/api/referral_service.h"

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/referral/domain/fields.h"

namespace kosapo::referral {

absl::StatusOr<absl::CivilDay> ReferralServiceImpl::Today() const {
  return DayIn(settings_.clock->Now(), settings_.time_zone);
}

absl::StatusOr<absl::CivilSecond> ReferralServiceImpl::LocalTime(
    absl::Time time) const {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(settings_.time_zone, &zone)) {
    return absl::InternalError(
        absl::StrCat("time zone ", settings_.time_zone, " does not load"));
  }
  return absl::ToCivilSecond(time, zone);
}

absl::StatusOr<cases::v1::CaseAccess> ReferralServiceImpl::ActOnCase(
    const grpc::ServerContext& context, const server::CallContext& call,
    const std::string& case_name) const {
  KOSAPO_ASSIGN_OR_RETURN(cases::v1::CaseAccess access,
                          cases_.CheckAccess(context, call, case_name));
  if (!access.may_act()) {
    return absl::PermissionDeniedError(
        absl::StrCat("you may see the child of ", case_name,
                     " but not work on the case; ask its ward or its lead"));
  }
  return access;
}

absl::StatusOr<cases::v1::CaseAccess> ReferralServiceImpl::ActOnCaseOf(
    const grpc::ServerContext& context, const server::CallContext& call,
    const std::string& municipality, const std::string& case_name,
    const std::string& record_name) const {
  KOSAPO_RETURN_IF_ERROR(auth::RequireRecordOfMunicipality(
      *call.principal, municipality, record_name));
  return ActOnCase(context, call, case_name);
}

absl::Status ReferralServiceImpl::ActOnReferral(
    const grpc::ServerContext& context, const server::CallContext& call,
    int64_t id) const {
  KOSAPO_ASSIGN_OR_RETURN(const ReferralScope scope, referrals_.ScopeOf(id));
  return ActOnCaseOf(context, call, scope.municipality, scope.case_name,
                     ResourceName(kReferrals, id))
      .status();
}

}  // namespace kosapo::referral
