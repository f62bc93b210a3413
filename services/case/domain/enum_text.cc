#include "services/case/domain/enum_text.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace kosapo::cases {
namespace {

// The stored text of an enum value is its proto name without the enum's
// prefix, in lower case: APPROACH_STATUS_OUTREACH_DONE -> "outreach_done".
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

#define KOSAPO_CASE_ENUM_TEXT(Enum, prefix)                \
  std::string ToText(v1::Enum value) {                     \
    return TextOf(v1::Enum##_descriptor(), value, prefix); \
  }                                                        \
  void FromText(absl::string_view text, v1::Enum* value) { \
    *value = static_cast<v1::Enum>(                        \
        NumberOf(v1::Enum##_descriptor(), text, prefix));  \
  }

KOSAPO_CASE_ENUM_TEXT(Sex, "SEX_")
KOSAPO_CASE_ENUM_TEXT(CaseSource, "CASE_SOURCE_")
KOSAPO_CASE_ENUM_TEXT(CaseState, "CASE_STATE_")
KOSAPO_CASE_ENUM_TEXT(Lead, "LEAD_")
KOSAPO_CASE_ENUM_TEXT(ApproachStatus, "APPROACH_STATUS_")
KOSAPO_CASE_ENUM_TEXT(NotPossibleReason, "NOT_POSSIBLE_REASON_")
KOSAPO_CASE_ENUM_TEXT(Outcome, "OUTCOME_")
KOSAPO_CASE_ENUM_TEXT(ConferenceKind, "CONFERENCE_KIND_")
KOSAPO_CASE_ENUM_TEXT(NeedDomain, "NEED_DOMAIN_")
KOSAPO_CASE_ENUM_TEXT(NeedLevel, "NEED_LEVEL_")
KOSAPO_CASE_ENUM_TEXT(ContactKind, "CONTACT_KIND_")
KOSAPO_CASE_ENUM_TEXT(UrgentCategory, "URGENT_CATEGORY_")

#undef KOSAPO_CASE_ENUM_TEXT

}  // namespace kosapo::cases
