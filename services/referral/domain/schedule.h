// Opening hours: the weekly schedule of a support and, for a drop-in hub,
// the separate schedule of its school holidays. Answers "is it open at this
// local time" (directory search) and "was this visit within the hours of
// its day" (attendance). Times are minutes since local midnight.
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_SCHEDULE_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_SCHEDULE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/repeated_field.h"
#include "kosapo/referral/v1/referral.pb.h"

namespace kosapo::referral {

// "HH:MM" (00:00-23:59, or "24:00" when `allow_end_of_day`) as minutes
// since midnight, or INVALID_ARGUMENT naming `field`.
absl::StatusOr<int> ParseClock(absl::string_view text, bool allow_end_of_day,
                               absl::string_view field);
std::string FormatClock(int minutes);

v1::Weekday WeekdayOf(absl::CivilDay day);

// Each entry a weekday with opens < closes, and no two periods of one
// weekday overlapping.
absl::Status ValidateOpeningHours(
    const google::protobuf::RepeatedPtrField<v1::OpeningHours>& hours,
    absl::string_view field);

// Each period with a kind and start <= end, at most 70 days long.
absl::Status ValidateHolidayPeriods(
    const google::protobuf::RepeatedPtrField<v1::HolidayPeriod>& periods,
    absl::string_view field);

// True when `day` falls in one of the hub's school-holiday periods.
bool InSchoolHoliday(const v1::Support& support, absl::CivilDay day);

// An opening period of one day, [opens, closes) in minutes.
struct OpenPeriod {
  int opens = 0;
  int closes = 0;
};

// The support's periods on `day`, by opening time: the hub's school-holiday
// schedule on school-holiday days, the weekly schedule otherwise. Entries
// were validated when the support was stored.
std::vector<OpenPeriod> OpeningPeriods(const v1::Support& support,
                                       absl::CivilDay day);

// Open at the local time `when`.
bool IsOpenAt(const v1::Support& support, absl::CivilSecond when);

// INVALID_ARGUMENT unless [arrival, departure] lies within one opening
// period of `day`; the message names the field at fault (`field_prefix` +
// "visit_date", "arrival_time" or "departure_time") and the day's hours.
absl::Status CheckWithinOpeningHours(const v1::Support& support,
                                     absl::CivilDay day, int arrival,
                                     int departure,
                                     absl::string_view field_prefix);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_SCHEDULE_H_
