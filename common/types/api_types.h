// Small vocabulary every service's API shares: calendar dates on the wire
// and in SQL, fiscal years, request ids and municipality names.
#ifndef KOSAPO_COMMON_TYPES_API_TYPES_H_
#define KOSAPO_COMMON_TYPES_API_TYPES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kosapo/type/date.pb.h"

namespace kosapo {

// A valid calendar date, or INVALID_ARGUMENT naming `field`.
absl::StatusOr<absl::CivilDay> DateFromProto(const kosapo::type::Date& date,
                                             absl::string_view field);
kosapo::type::Date DateToProto(absl::CivilDay day);
// The SQL text form "2024-03-31" of a date (validated earlier), and back.
std::string DateToSql(const kosapo::type::Date& date);
std::string DayToSql(absl::CivilDay day);
kosapo::type::Date DateFromSql(absl::string_view text);
absl::CivilDay DayFromSql(absl::string_view text);

// The Japanese fiscal year (1 April – 31 March) containing `day`: FY2023
// runs from 2023-04-01 to 2024-03-31.
int FiscalYearOf(absl::CivilDay day);

// The calendar day of `now` in `zone_name` ("Asia/Tokyo").
absl::StatusOr<absl::CivilDay> DayIn(absl::Time now,
                                     absl::string_view zone_name);

// A client's idempotency key: 1–100 characters.
absl::Status ValidateRequestId(absl::string_view request_id);

// "municipalities/{5-digit JIS code}" -> the code.
absl::StatusOr<std::string> ParseMunicipalityName(absl::string_view name,
                                                  absl::string_view field);

}  // namespace kosapo

#endif  // KOSAPO_COMMON_TYPES_API_TYPES_H_
