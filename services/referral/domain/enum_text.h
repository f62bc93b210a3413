// The text each referral API enum value is stored as (or named by in
// messages): the value's proto name without the enum's prefix, in lower
// case (REFERRAL_STATE_SENT -> "sent"). Storage never depends on the proto
// numbers; an unknown text reads back as UNSPECIFIED. Enums kept only
// inside JSON bodies need no text here.
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_ENUM_TEXT_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_ENUM_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "kosapo/referral/v1/referral.pb.h"

namespace kosapo::referral {

// Each enum's stored text ("" for UNSPECIFIED) and back.
#define KOSAPO_REFERRAL_ENUM_TEXT(Enum) \
  std::string ToText(v1::Enum value);   \
  void FromText(absl::string_view text, v1::Enum* value);

KOSAPO_REFERRAL_ENUM_TEXT(SupportCategory)
KOSAPO_REFERRAL_ENUM_TEXT(Weekday)
KOSAPO_REFERRAL_ENUM_TEXT(ReferralState)
KOSAPO_REFERRAL_ENUM_TEXT(SharingBasis)
KOSAPO_REFERRAL_ENUM_TEXT(HubUsageState)

#undef KOSAPO_REFERRAL_ENUM_TEXT

// Convenience: FromText returning the value.
template <typename Enum>
Enum EnumFromText(absl::string_view text) {
  Enum value{};
  FromText(text, &value);
  return value;
}

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_ENUM_TEXT_H_
