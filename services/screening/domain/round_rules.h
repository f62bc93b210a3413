// Rules for screening rounds and the dates they carry.
#ifndef KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_
#define KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "kosapo/type/date.pb.h"

namespace kosapo::screening {

// A valid calendar date, or INVALID_ARGUMENT naming `field`.
absl::StatusOr<absl::CivilDay> DateFromProto(const kosapo::type::Date& date,
                                             absl::string_view field);
kosapo::type::Date DateToProto(absl::CivilDay day);
// The SQL text form "2024-03-31" of a date (validated earlier), and back.
std::string DateToSql(const kosapo::type::Date& date);
kosapo::type::Date DateFromSql(absl::string_view text);

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
absl::Status ValidateRequestId(absl::string_view request_id);

// A meeting I record: school code, attendees (role and count), and a date
// within the round's fiscal year and not after `today`.
absl::Status ValidateMeeting(const v1::Meeting& meeting, int fiscal_year,
                             absl::CivilDay today);
// A decision: an outcome and a reason of at most 2000 characters.
absl::Status ValidateDecision(v1::DecisionOutcome outcome,
                              absl::string_view reason);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_
