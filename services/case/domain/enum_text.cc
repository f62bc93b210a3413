// Enum values to and from their stored text (common/types/enum_text.h).
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {

KOSAPO_DEFINE_ENUM_TEXT(v1::Sex, "SEX_")
KOSAPO_DEFINE_ENUM_TEXT(v1::CaseSource, "CASE_SOURCE_")
KOSAPO_DEFINE_ENUM_TEXT(v1::CaseState, "CASE_STATE_")
KOSAPO_DEFINE_ENUM_TEXT(v1::Lead, "LEAD_")
KOSAPO_DEFINE_ENUM_TEXT(v1::ApproachStatus, "APPROACH_STATUS_")
KOSAPO_DEFINE_ENUM_TEXT(v1::NotPossibleReason, "NOT_POSSIBLE_REASON_")
KOSAPO_DEFINE_ENUM_TEXT(v1::Outcome, "OUTCOME_")
KOSAPO_DEFINE_ENUM_TEXT(v1::ConferenceKind, "CONFERENCE_KIND_")
KOSAPO_DEFINE_ENUM_TEXT(v1::NeedDomain, "NEED_DOMAIN_")
KOSAPO_DEFINE_ENUM_TEXT(v1::NeedLevel, "NEED_LEVEL_")
KOSAPO_DEFINE_ENUM_TEXT(v1::ContactKind, "CONTACT_KIND_")
KOSAPO_DEFINE_ENUM_TEXT(v1::UrgentCategory, "URGENT_CATEGORY_")

}  // namespace kosapo::cases
