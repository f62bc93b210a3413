// The text each API enum value is stored as. Storage never depends on the
// proto numbers, and an unknown text reads back as UNSPECIFIED.
#ifndef KOSAPO_SERVICES_CASE_DOMAIN_ENUM_TEXT_H_
#define KOSAPO_SERVICES_CASE_DOMAIN_ENUM_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/types/enum_text.h"
#include "kosapo/cases/v1/cases.pb.h"

namespace kosapo::cases {

// Each enum's stored text ("" for UNSPECIFIED) and back.
KOSAPO_DECLARE_ENUM_TEXT(v1::Sex)
KOSAPO_DECLARE_ENUM_TEXT(v1::CaseSource)
KOSAPO_DECLARE_ENUM_TEXT(v1::CaseState)
KOSAPO_DECLARE_ENUM_TEXT(v1::Lead)
KOSAPO_DECLARE_ENUM_TEXT(v1::ApproachStatus)
KOSAPO_DECLARE_ENUM_TEXT(v1::NotPossibleReason)
KOSAPO_DECLARE_ENUM_TEXT(v1::Outcome)
KOSAPO_DECLARE_ENUM_TEXT(v1::ConferenceKind)
KOSAPO_DECLARE_ENUM_TEXT(v1::NeedDomain)
KOSAPO_DECLARE_ENUM_TEXT(v1::NeedLevel)
KOSAPO_DECLARE_ENUM_TEXT(v1::ContactKind)
KOSAPO_DECLARE_ENUM_TEXT(v1::UrgentCategory)

// Convenience: FromText returning the value.
template <typename Enum>
Enum EnumFromText(absl::string_view text) {
  Enum value{};
  FromText(text, &value);
  return value;
}

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_DOMAIN_ENUM_TEXT_H_
