// The text each referral API enum value is stored as (or named by in
// messages): the value's proto name without the enum's prefix, in lower
// case (REFERRAL_STATE_SENT -> "sent"). Storage never depends on the proto
// numbers; an unknown text reads back as UNSPECIFIED. Enums kept only
// inside JSON bodies need no text here.
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_ENUM_TEXT_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_ENUM_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/types/enum_text.h"
#include "kosapo/referral/v1/referral.pb.h"

namespace kosapo::referral {

// Each enum's stored text ("" for UNSPECIFIED) and back.
KOSAPO_DECLARE_ENUM_TEXT(v1::SupportCategory)
KOSAPO_DECLARE_ENUM_TEXT(v1::Weekday)
KOSAPO_DECLARE_ENUM_TEXT(v1::ReferralState)
KOSAPO_DECLARE_ENUM_TEXT(v1::SharingBasis)
KOSAPO_DECLARE_ENUM_TEXT(v1::HubUsageState)

// Convenience: FromText returning the value.
template <typename Enum>
Enum EnumFromText(absl::string_view text) {
  Enum value{};
  FromText(text, &value);
  return value;
}

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_ENUM_TEXT_H_
