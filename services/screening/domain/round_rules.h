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
// and within the fiscal year (April 1 to March 31). A past-record round
// needs a fiscal year that ended before `today`; an unset kind is regular.
absl::Status ValidateNewRound(const v1::Round& round, absl::CivilDay today);

// A stored round as far as accepting sheets goes.
struct RoundWindow {
  v1::RoundKind kind = v1::ROUND_KIND_REGULAR;
  absl::CivilDay open_date;
  absl::CivilDay close_date;
  bool closed = false;
};

// Whether the round takes sheets `today` (FAILED_PRECONDITION saying why
// not, naming the round by `round_name`): never once closed; a regular
// round between its dates; a past-record round after them.
absl::Status CheckAcceptsSheets(const RoundWindow& round, absl::CivilDay today,
                                absl::string_view round_name);

// "regular", "past_record" and back (an unknown text is regular).
absl::string_view RoundKindToDb(v1::RoundKind kind);
v1::RoundKind RoundKindFromDb(absl::string_view text);

// A meeting I record: school code, attendees (role and count), and a date
// within the round's fiscal year and not after `today`.
absl::Status ValidateMeeting(const v1::Meeting& meeting, int fiscal_year,
                             absl::CivilDay today);
// A decision: an outcome and a reason of at most 2000 characters.
absl::Status ValidateDecision(v1::DecisionOutcome outcome,
                              absl::string_view reason);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_ROUND_RULES_H_
