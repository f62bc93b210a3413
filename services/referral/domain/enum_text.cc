// Enum values to and from their stored text (common/types/enum_text.h).
#include "services/referral/domain/enum_text.h"

namespace kosapo::referral {

KOSAPO_DEFINE_ENUM_TEXT(v1::SupportCategory, "SUPPORT_CATEGORY_")
KOSAPO_DEFINE_ENUM_TEXT(v1::Weekday, "WEEKDAY_")
KOSAPO_DEFINE_ENUM_TEXT(v1::ReferralState, "REFERRAL_STATE_")
KOSAPO_DEFINE_ENUM_TEXT(v1::SharingBasis, "SHARING_BASIS_")
KOSAPO_DEFINE_ENUM_TEXT(v1::HubUsageState, "HUB_USAGE_STATE_")

}  // namespace kosapo::referral
