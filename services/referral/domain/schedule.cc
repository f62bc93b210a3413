// Opening hours: parsing, validation, and which periods apply on a day.
#include "services/referral/domain/schedule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/types/api_types.h"
#include "services/referral/domain/enum_text.h"
#include "services/referral/domain/fields.h"

namespace kosapo::referral {
namespace {

constexpr int kEndOfDay = 24 * 60;
constexpr int kMaxHolidayDays = 70;

std::vector<OpenPeriod> PeriodsOf(
    const google::protobuf::RepeatedPtrField<v1::OpeningHours>& hours,
    v1::Weekday weekday) {
  std::vector<OpenPeriod> periods;
  for (const v1::OpeningHours& entry : hours) {
    if (entry.weekday() != weekday) {
      continue;
    }
    auto opens = ParseClock(entry.opens(), false, "opens");
    auto closes = ParseClock(entry.closes(), true, "closes");
    if (opens.ok() && closes.ok()) {
      periods.push_back({*opens, *closes});
    }
  }
  std::sort(periods.begin(), periods.end(),
            [](const OpenPeriod& a, const OpenPeriod& b) {
              return a.opens < b.opens;
            });
  return periods;
}

std::string Describe(const std::vector<OpenPeriod>& periods) {
  std::vector<std::string> parts;
  for (const OpenPeriod& period : periods) {
    parts.push_back(absl::StrCat(FormatClock(period.opens), "-",
                                 FormatClock(period.closes)));
  }
  return absl::StrJoin(parts, ", ");
}

std::string DayText(const v1::Support& support, absl::CivilDay day) {
  return absl::StrCat(ToText(WeekdayOf(day)), " ", absl::FormatCivilTime(day),
                      InSchoolHoliday(support, day) ? " (school holiday)" : "");
}

}  // namespace

absl::StatusOr<int> ParseClock(absl::string_view text, bool allow_end_of_day,
                               absl::string_view field) {
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) ||
      !digit(3) || !digit(4)) {
    return Invalid(field, "expected HH:MM");
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  const int total = hours * 60 + minutes;
  if (minutes > 59 || total > kEndOfDay ||
      (total == kEndOfDay && !allow_end_of_day)) {
    return Invalid(field,
                   allow_end_of_day ? "00:00 to 24:00" : "00:00 to 23:59");
  }
  return total;
}

std::string FormatClock(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

v1::Weekday WeekdayOf(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return v1::WEEKDAY_MONDAY;
    case absl::Weekday::tuesday:
      return v1::WEEKDAY_TUESDAY;
    case absl::Weekday::wednesday:
      return v1::WEEKDAY_WEDNESDAY;
    case absl::Weekday::thursday:
      return v1::WEEKDAY_THURSDAY;
    case absl::Weekday::friday:
      return v1::WEEKDAY_FRIDAY;
    case absl::Weekday::saturday:
      return v1::WEEKDAY_SATURDAY;
    case absl::Weekday::sunday:
      return v1::WEEKDAY_SUNDAY;
  }
  return v1::WEEKDAY_UNSPECIFIED;
}

absl::Status ValidateOpeningHours(
    const google::protobuf::RepeatedPtrField<v1::OpeningHours>& hours,
    absl::string_view field) {
  if (hours.size() > 50) {
    return Invalid(field, "at most 50 entries");
  }
  for (int i = 0; i < hours.size(); ++i) {
    const v1::OpeningHours& entry = hours.Get(i);
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (entry.weekday() == v1::WEEKDAY_UNSPECIFIED ||
        !v1::Weekday_IsValid(entry.weekday())) {
      return Invalid(f + ".weekday", "required: monday to sunday");
    }
    auto opens = ParseClock(entry.opens(), false, f + ".opens");
    if (!opens.ok()) {
      return opens.status();
    }
    auto closes = ParseClock(entry.closes(), true, f + ".closes");
    if (!closes.ok()) {
      return closes.status();
    }
    if (*closes <= *opens) {
      return Invalid(f + ".closes", "must be after opens (no overnight hours)");
    }
    for (int j = 0; j < i; ++j) {
      const v1::OpeningHours& other = hours.Get(j);
      if (other.weekday() != entry.weekday()) {
        continue;
      }
      // Validated on an earlier round of the outer loop.
      const int other_opens = *ParseClock(other.opens(), false, "");
      const int other_closes = *ParseClock(other.closes(), true, "");
      if (*opens < other_closes && other_opens < *closes) {
        return Invalid(f, absl::StrCat("overlaps ", field, "[", j, "]"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHolidayPeriods(
    const google::protobuf::RepeatedPtrField<v1::HolidayPeriod>& periods,
    absl::string_view field) {
  if (periods.size() > 30) {
    return Invalid(field, "at most 30 periods");
  }
  for (int i = 0; i < periods.size(); ++i) {
    const v1::HolidayPeriod& period = periods.Get(i);
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (period.holiday() == v1::SCHOOL_HOLIDAY_UNSPECIFIED ||
        !v1::SchoolHoliday_IsValid(period.holiday())) {
      return Invalid(f + ".holiday", "required: summer, winter or spring");
    }
    auto start = DateFromProto(period.start_date(), f + ".start_date");
    if (!start.ok()) {
      return start.status();
    }
    auto end = DateFromProto(period.end_date(), f + ".end_date");
    if (!end.ok()) {
      return end.status();
    }
    if (*end < *start) {
      return Invalid(f + ".end_date", "must not be before start_date");
    }
    if (*end - *start >= kMaxHolidayDays) {
      return Invalid(f + ".end_date", absl::StrCat("a period is at most ",
                                                   kMaxHolidayDays, " days"));
    }
  }
  return absl::OkStatus();
}

bool InSchoolHoliday(const v1::Support& support, absl::CivilDay day) {
  for (const v1::HolidayPeriod& period : support.hub().school_holidays()) {
    auto start = DateFromProto(period.start_date(), "");
    auto end = DateFromProto(period.end_date(), "");
    if (start.ok() && end.ok() && *start <= day && day <= *end) {
      return true;
    }
  }
  return false;
}

std::vector<OpenPeriod> OpeningPeriods(const v1::Support& support,
                                       absl::CivilDay day) {
  if (InSchoolHoliday(support, day)) {
    return PeriodsOf(support.hub().school_holiday_schedule(), WeekdayOf(day));
  }
  return PeriodsOf(support.weekly_schedule(), WeekdayOf(day));
}

bool IsOpenAt(const v1::Support& support, absl::CivilSecond when) {
  const int minute = when.hour() * 60 + when.minute();
  for (const OpenPeriod& period :
       OpeningPeriods(support, absl::CivilDay(when))) {
    if (period.opens <= minute && minute < period.closes) {
      return true;
    }
  }
  return false;
}

absl::Status CheckWithinOpeningHours(const v1::Support& support,
                                     absl::CivilDay day, int arrival,
                                     int departure,
                                     absl::string_view field_prefix) {
  const std::string prefix(field_prefix);
  const std::vector<OpenPeriod> periods = OpeningPeriods(support, day);
  if (periods.empty()) {
    return Invalid(prefix + "visit_date", absl::StrCat("the hub is closed on ",
                                                       DayText(support, day)));
  }
  if (departure <= arrival) {
    return Invalid(prefix + "departure_time", "must be after arrival_time");
  }
  for (const OpenPeriod& period : periods) {
    if (period.opens <= arrival && arrival < period.closes) {
      if (departure > period.closes) {
        return Invalid(
            prefix + "departure_time",
            absl::StrCat(FormatClock(departure), " is after closing time on ",
                         DayText(support, day), " (open ", Describe(periods),
                         ")"));
      }
      return absl::OkStatus();
    }
  }
  return Invalid(
      prefix + "arrival_time",
      absl::StrCat(FormatClock(arrival), " is outside the opening hours of ",
                   DayText(support, day), " (open ", Describe(periods), ")"));
}

}  // namespace kosapo::referral
