// Enum values to and from their stored text, through the proto descriptors.
#include "services/referral/domain/enum_text.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/ascii.h"

namespace kosapo::referral {
namespace {

// The names are the API's compatibility promise, so they never change.
std::string TextOf(const google::protobuf::EnumDescriptor* descriptor,
                   int number, absl::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* value =
      descriptor->FindValueByNumber(number);
  if (value == nullptr || number == 0) {
    return "";
  }
  absl::string_view name = value->name();
  name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(name);
}

int NumberOf(const google::protobuf::EnumDescriptor* descriptor,
             absl::string_view text, absl::string_view prefix) {
  if (text.empty()) {
    return 0;
  }
  const std::string name =
      absl::AsciiStrToUpper(std::string(prefix) + std::string(text));
  const google::protobuf::EnumValueDescriptor* value =
      descriptor->FindValueByName(name);
  return value == nullptr ? 0 : value->number();
}

}  // namespace

#define KOSAPO_REFERRAL_ENUM_TEXT(Enum, prefix)            \
  std::string ToText(v1::Enum value) {                     \
    return TextOf(v1::Enum##_descriptor(), value, prefix); \
  }                                                        \
  void FromText(absl::string_view text, v1::Enum* value) { \
    *value = static_cast<v1::Enum>(                        \
        NumberOf(v1::Enum##_descriptor(), text, prefix));  \
  }

KOSAPO_REFERRAL_ENUM_TEXT(SupportCategory, "SUPPORT_CATEGORY_")
KOSAPO_REFERRAL_ENUM_TEXT(Weekday, "WEEKDAY_")
KOSAPO_REFERRAL_ENUM_TEXT(ReferralState, "REFERRAL_STATE_")
KOSAPO_REFERRAL_ENUM_TEXT(SharingBasis, "SHARING_BASIS_")
KOSAPO_REFERRAL_ENUM_TEXT(HubUsageState, "HUB_USAGE_STATE_")

#undef KOSAPO_REFERRAL_ENUM_TEXT

}  // namespace kosapo::referral
