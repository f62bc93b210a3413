// What the handlers of ReferralServiceImpl share: the service's calendar.
#include "services/referral/api/referral_service.h"

#include "absl/strings/str_cat.h"
#include "common/types/api_types.h"

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

}  // namespace kosapo::referral
