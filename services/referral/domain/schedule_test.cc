// Opening hours of "BB House" as the Toyonaka brief describes it: Tue-Fri
// 16:00-21:00 and Sat 11:00-21:00; in school holidays Tue-Sat 11:00-21:00.
#include "services/referral/domain/schedule.h"

#include <string>

#include "absl/time/civil_time.h"
#include "common/testing/status_matchers.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::referral {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Matches an OK absl::StatusOr holding `expected`.
MATCHER_P(HoldsValue, expected, "is OK and holds the value") {
  return arg.ok() && *arg == expected;
}

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

void AddHours(google::protobuf::RepeatedPtrField<v1::OpeningHours>* hours,
              v1::Weekday day, const std::string& opens,
              const std::string& closes) {
  v1::OpeningHours* entry = hours->Add();
  entry->set_weekday(day);
  entry->set_opens(opens);
  entry->set_closes(closes);
}

// Summer holiday 2024-07-20 to 2024-08-31.
v1::Support BbHouse() {
  v1::Support hub;
  hub.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  for (v1::Weekday day : {v1::WEEKDAY_TUESDAY, v1::WEEKDAY_WEDNESDAY,
                          v1::WEEKDAY_THURSDAY, v1::WEEKDAY_FRIDAY}) {
    AddHours(hub.mutable_weekly_schedule(), day, "16:00", "21:00");
    AddHours(hub.mutable_hub()->mutable_school_holiday_schedule(), day, "11:00",
             "21:00");
  }
  AddHours(hub.mutable_weekly_schedule(), v1::WEEKDAY_SATURDAY, "11:00",
           "21:00");
  AddHours(hub.mutable_hub()->mutable_school_holiday_schedule(),
           v1::WEEKDAY_SATURDAY, "11:00", "21:00");
  v1::HolidayPeriod* summer = hub.mutable_hub()->add_school_holidays();
  summer->set_holiday(v1::SCHOOL_HOLIDAY_SUMMER);
  *summer->mutable_start_date() = DateToProto(absl::CivilDay(2024, 7, 20));
  *summer->mutable_end_date() = DateToProto(absl::CivilDay(2024, 8, 31));
  return hub;
}

// 2024-06-11 is a Tuesday in term time, 2024-07-23 a Tuesday in summer.
constexpr absl::CivilDay kTermTuesday(2024, 6, 11);
constexpr absl::CivilDay kSummerTuesday(2024, 7, 23);
constexpr absl::CivilDay kMonday(2024, 6, 10);

TEST(ParseClock, HoursAndMinutesWithEndOfDayForClosing) {
  EXPECT_THAT(ParseClock("16:30", false, "opens"), HoldsValue(990));
  EXPECT_THAT(ParseClock("24:00", true, "closes"), HoldsValue(1440));
  EXPECT_THAT(ParseClock("24:00", false, "opens"),
              StatusIs(kInvalid, "opens: 00:00 to 23:59"));
  for (const char* bad : {"9:00", "09:60", "0900", "ab:cd", "25:00"}) {
    EXPECT_THAT(ParseClock(bad, true, "closes"),
                StatusIs(kInvalid, StartsWith("closes: ")))
        << bad;
  }
  EXPECT_EQ(FormatClock(990), "16:30");
}

TEST(WeekdayOf, KnowsTheCalendar) {
  EXPECT_EQ(WeekdayOf(kMonday), v1::WEEKDAY_MONDAY);
  EXPECT_EQ(WeekdayOf(kTermTuesday), v1::WEEKDAY_TUESDAY);
  EXPECT_EQ(WeekdayOf(absl::CivilDay(2024, 6, 16)), v1::WEEKDAY_SUNDAY);
}

TEST(ValidateOpeningHours, NamesTheBadEntry) {
  google::protobuf::RepeatedPtrField<v1::OpeningHours> hours;
  AddHours(&hours, v1::WEEKDAY_TUESDAY, "16:00", "21:00");
  EXPECT_OK(ValidateOpeningHours(hours, "weekly_schedule"));
  AddHours(&hours, v1::WEEKDAY_TUESDAY, "20:00", "22:00");
  EXPECT_THAT(
      ValidateOpeningHours(hours, "weekly_schedule"),
      StatusIs(kInvalid, "weekly_schedule[1]: overlaps weekly_schedule[0]"));
  hours.Mutable(1)->set_opens("21:00");  // back to back is fine
  EXPECT_OK(ValidateOpeningHours(hours, "weekly_schedule"));
  hours.Mutable(1)->set_closes("20:00");
  EXPECT_THAT(ValidateOpeningHours(hours, "weekly_schedule"),
              StatusIs(kInvalid, HasSubstr("weekly_schedule[1].closes")));
  hours.Mutable(1)->set_weekday(v1::WEEKDAY_UNSPECIFIED);
  EXPECT_THAT(ValidateOpeningHours(hours, "weekly_schedule"),
              StatusIs(kInvalid, HasSubstr("weekly_schedule[1].weekday")));
}

TEST(ValidateHolidayPeriods, KindAndOrderedBoundedDates) {
  v1::Support hub = BbHouse();
  EXPECT_OK(ValidateHolidayPeriods(hub.hub().school_holidays(), "holidays"));
  v1::HolidayPeriod* period = hub.mutable_hub()->mutable_school_holidays(0);
  *period->mutable_end_date() = DateToProto(absl::CivilDay(2024, 7, 19));
  EXPECT_THAT(ValidateHolidayPeriods(hub.hub().school_holidays(), "holidays"),
              StatusIs(kInvalid, HasSubstr("holidays[0].end_date")));
  *period->mutable_end_date() = DateToProto(absl::CivilDay(2024, 12, 31));
  EXPECT_THAT(ValidateHolidayPeriods(hub.hub().school_holidays(), "holidays"),
              StatusIs(kInvalid, HasSubstr("at most 70 days")));
  period->set_holiday(v1::SCHOOL_HOLIDAY_UNSPECIFIED);
  EXPECT_THAT(ValidateHolidayPeriods(hub.hub().school_holidays(), "holidays"),
              StatusIs(kInvalid, HasSubstr("holidays[0].holiday")));
}

TEST(IsOpenAt, UsesTheHolidayScheduleInSchoolHolidays) {
  const v1::Support hub = BbHouse();
  // Term time: opens at 16:00, closed at 21:00 sharp.
  EXPECT_FALSE(IsOpenAt(hub, absl::CivilSecond(2024, 6, 11, 12, 0, 0)));
  EXPECT_TRUE(IsOpenAt(hub, absl::CivilSecond(2024, 6, 11, 16, 0, 0)));
  EXPECT_FALSE(IsOpenAt(hub, absl::CivilSecond(2024, 6, 11, 21, 0, 0)));
  EXPECT_FALSE(IsOpenAt(hub, absl::CivilSecond(2024, 6, 10, 17, 0, 0)));
  EXPECT_TRUE(IsOpenAt(hub, absl::CivilSecond(2024, 6, 15, 11, 30, 0)));
  // Summer: Tuesday midday is open.
  EXPECT_TRUE(InSchoolHoliday(hub, kSummerTuesday));
  EXPECT_FALSE(InSchoolHoliday(hub, kTermTuesday));
  EXPECT_TRUE(IsOpenAt(hub, absl::CivilSecond(2024, 7, 23, 12, 0, 0)));
  // Both ends of the period are holidays.
  EXPECT_TRUE(IsOpenAt(hub, absl::CivilSecond(2024, 8, 30, 12, 0, 0)));
  EXPECT_FALSE(IsOpenAt(hub, absl::CivilSecond(2024, 9, 3, 12, 0, 0)));
}

TEST(CheckWithinOpeningHours, NamesTheTimeAtFaultAndTheDaysHours) {
  const v1::Support hub = BbHouse();
  EXPECT_OK(
      CheckWithinOpeningHours(hub, kTermTuesday, 16 * 60, 21 * 60, "visit."));
  EXPECT_THAT(
      CheckWithinOpeningHours(hub, kTermTuesday, 15 * 60, 18 * 60, "visit."),
      StatusIs(kInvalid,
               "visit.arrival_time: 15:00 is outside the opening "
               "hours of tuesday 2024-06-11 (open 16:00-21:00)"));
  EXPECT_THAT(
      CheckWithinOpeningHours(hub, kTermTuesday, 17 * 60, 21 * 60 + 30,
                              "visit."),
      StatusIs(kInvalid, StartsWith("visit.departure_time: 21:30 is after")));
  EXPECT_THAT(
      CheckWithinOpeningHours(hub, kMonday, 17 * 60, 18 * 60, "visit."),
      StatusIs(kInvalid,
               "visit.visit_date: the hub is closed on monday 2024-06-10"));
  EXPECT_THAT(
      CheckWithinOpeningHours(hub, kTermTuesday, 18 * 60, 17 * 60, "visit."),
      StatusIs(kInvalid, StartsWith("visit.departure_time: must be after")));
  // The same midday visit is fine in the summer holiday.
  EXPECT_OK(
      CheckWithinOpeningHours(hub, kSummerTuesday, 11 * 60, 15 * 60, "visit."));
}

}  // namespace
}  // namespace kosapo::referral
