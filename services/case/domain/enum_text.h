// The text each API enum value is stored as. Storage never depends on the
// proto numbers, and an unknown text reads back as UNSPECIFIED.
#ifndef KOSAPO_SERVICES_CASE_DOMAIN_ENUM_TEXT_H_
#define KOSAPO_SERVICES_CASE_DOMAIN_ENUM_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "kosapo/cases/v1/cases.pb.h"

namespace kosapo::cases {

// Each enum's stored text ("" for UNSPECIFIED) and back.
#define KOSAPO_CASE_ENUM_TEXT(Enum)   \
  std::string ToText(v1::Enum value); \
  void FromText(absl::string_view text, v1::Enum* value);

KOSAPO_CASE_ENUM_TEXT(Sex)
KOSAPO_CASE_ENUM_TEXT(CaseSource)
KOSAPO_CASE_ENUM_TEXT(CaseState)
KOSAPO_CASE_ENUM_TEXT(Lead)
KOSAPO_CASE_ENUM_TEXT(ApproachStatus)
KOSAPO_CASE_ENUM_TEXT(NotPossibleReason)
KOSAPO_CASE_ENUM_TEXT(Outcome)
KOSAPO_CASE_ENUM_TEXT(ConferenceKind)
KOSAPO_CASE_ENUM_TEXT(NeedDomain)
KOSAPO_CASE_ENUM_TEXT(NeedLevel)
KOSAPO_CASE_ENUM_TEXT(ContactKind)
KOSAPO_CASE_ENUM_TEXT(UrgentCategory)

#undef KOSAPO_CASE_ENUM_TEXT

// Convenience: FromText returning the value.
template <typename Enum>
Enum EnumFromText(absl::string_view text) {
  Enum value{};
  FromText(text, &value);
  return value;
}

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_DOMAIN_ENUM_TEXT_H_
