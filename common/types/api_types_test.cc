#include "common/types/api_types.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DateTest, RejectsImpossibleDatesNamingTheField) {
  kosapo::type::Date date;
  date.set_year(2023);
  date.set_month(2);
  date.set_day(29);
  EXPECT_THAT(DateFromProto(date, "case.opened_date"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("case.opened_date")));
  date.set_year(2024);
  ASSERT_TRUE(DateFromProto(date, "x").ok());
  EXPECT_EQ(*DateFromProto(date, "x"), absl::CivilDay(2024, 2, 29));
  EXPECT_THAT(DateFromProto(kosapo::type::Date(), "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DateTest, SqlFormRoundTrips) {
  EXPECT_EQ(DayToSql(absl::CivilDay(2024, 3, 31)), "2024-03-31");
  EXPECT_EQ(DayFromSql("2019-05-01"), absl::CivilDay(2019, 5, 1));
  EXPECT_EQ(DateFromSql("2019-05-01").day(), 1);
}

TEST(FiscalYearTest, RunsFromAprilToMarch) {
  EXPECT_EQ(FiscalYearOf(absl::CivilDay(2023, 4, 1)), 2023);
  EXPECT_EQ(FiscalYearOf(absl::CivilDay(2024, 3, 31)), 2023);
  EXPECT_EQ(FiscalYearOf(absl::CivilDay(2024, 1, 15)), 2023);
  EXPECT_EQ(FiscalYearOf(absl::CivilDay(2023, 3, 31)), 2022);
}

TEST(DayInTest, TokyoIsNineHoursAheadOfUtc) {
  // 2024-03-31 15:30 UTC is already 1 April in Tokyo.
  const absl::Time t = absl::FromCivil(
      absl::CivilSecond(2024, 3, 31, 15, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(*DayIn(t, "Asia/Tokyo"), absl::CivilDay(2024, 4, 1));
  EXPECT_EQ(*DayIn(t, "UTC"), absl::CivilDay(2024, 3, 31));
  EXPECT_FALSE(DayIn(t, "Not/AZone").ok());
}

TEST(RequestIdTest, RequiredAndBounded) {
  EXPECT_THAT(
      ValidateRequestId(""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request_id")));
  EXPECT_FALSE(ValidateRequestId(std::string(101, 'x')).ok());
  EXPECT_TRUE(ValidateRequestId("r-1").ok());
}

TEST(MunicipalityNameTest, FiveDigitJisCode) {
  EXPECT_EQ(*ParseMunicipalityName("municipalities/27100", "parent"), "27100");
  EXPECT_THAT(
      ParseMunicipalityName("municipalities/2710", "parent"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parent")));
  EXPECT_FALSE(ParseMunicipalityName("cities/27100", "parent").ok());
}

}  // namespace
}  // namespace kosapo
