// Rules for screening rounds and the dates they carry.
#ifndef KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_
#define KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/types/api_types.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "kosapo/type/date.pb.h"

namespace kosapo::screening {

// "templates/{key}/versions/{version}" -> (key, version).
absl::StatusOr<std::pair<std::string, int>> ParseTemplateName(
    absl::string_view name, absl::string_view field);
std::string TemplateName(absl::string_view key, int version);

// "municipalities/{code}/rounds/{id}" -> (code, id).
absl::StatusOr<std::pair<std::string, int64_t>> ParseRoundName(
    absl::string_view name, absl::string_view field);
std::string RoundName(absl::string_view municipality, int64_t id);

// A round to create: title, template name, fiscal year, and dates in order
// and within the fiscal year (April 1 to March 31).
absl::Status ValidateNewRound(const v1::Round& round);

// A meeting I record: school code, attendees (role and count), and a date
// within the round's fiscal year and not after `today`.
absl::Status ValidateMeeting(const v1::Meeting& meeting, int fiscal_year,
                             absl::CivilDay today);
// A decision: an outcome and a reason of at most 2000 characters.
absl::Status ValidateDecision(v1::DecisionOutcome outcome,
                              absl::string_view reason);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_
