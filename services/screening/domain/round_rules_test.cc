#include "services/screening/domain/round_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::screening {
namespace {

using ::testing::HasSubstr;

v1::Round RoundOf(int fiscal_year, v1::RoundKind kind) {
  v1::Round round;
  round.set_fiscal_year(fiscal_year);
  round.set_title("令和2年度 記録");
  round.set_template_("templates/default/versions/1");
  round.mutable_open_date()->set_year(fiscal_year);
  round.mutable_open_date()->set_month(4);
  round.mutable_open_date()->set_day(1);
  round.mutable_close_date()->set_year(fiscal_year + 1);
  round.mutable_close_date()->set_month(3);
  round.mutable_close_date()->set_day(31);
  round.set_kind(kind);
  return round;
}

TEST(ValidateNewRound, PastRecordRoundNeedsAFiscalYearThatHasEnded) {
  const v1::Round fy2020 = RoundOf(2020, v1::ROUND_KIND_PAST_RECORD);
  // FY2020 ends on 2021-03-31: a past record from the day after.
  EXPECT_TRUE(ValidateNewRound(fy2020, absl::CivilDay(2021, 4, 1)).ok());
  EXPECT_TRUE(ValidateNewRound(fy2020, absl::CivilDay(2026, 12, 6)).ok());
  for (const absl::CivilDay today :
       {absl::CivilDay(2021, 3, 31), absl::CivilDay(2020, 6, 1),
        absl::CivilDay(2019, 12, 1)}) {
    const absl::Status status = ValidateNewRound(fy2020, today);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << today;
    EXPECT_THAT(status.message(), HasSubstr("round.kind")) << today;
    EXPECT_THAT(status.message(), HasSubstr("2021-03-31")) << today;
  }
}

TEST(ValidateNewRound, RegularRoundsAndUnsetKindDoNotDependOnToday) {
  for (v1::RoundKind kind :
       {v1::ROUND_KIND_UNSPECIFIED, v1::ROUND_KIND_REGULAR}) {
    EXPECT_TRUE(
        ValidateNewRound(RoundOf(2026, kind), absl::CivilDay(2026, 5, 1)).ok());
    EXPECT_TRUE(
        ValidateNewRound(RoundOf(2020, kind), absl::CivilDay(2026, 5, 1)).ok());
  }
  v1::Round unknown = RoundOf(2020, v1::ROUND_KIND_REGULAR);
  unknown.set_kind(static_cast<v1::RoundKind>(7));
  EXPECT_THAT(ValidateNewRound(unknown, absl::CivilDay(2026, 5, 1)).message(),
              HasSubstr("round.kind"));
}

TEST(ValidateNewRound, PastRecordDatesStillLieWithinTheirFiscalYear) {
  v1::Round round = RoundOf(2020, v1::ROUND_KIND_PAST_RECORD);
  round.mutable_close_date()->set_month(4);  // 2021-04-30: the next year
  round.mutable_close_date()->set_day(30);
  const absl::Status status =
      ValidateNewRound(round, absl::CivilDay(2026, 5, 1));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("within fiscal year 2020"));
}

RoundWindow WindowOf(v1::RoundKind kind, bool closed = false) {
  RoundWindow window;
  window.kind = kind;
  window.open_date = absl::CivilDay(2023, 5, 1);
  window.close_date = absl::CivilDay(2023, 7, 31);
  window.closed = closed;
  return window;
}

TEST(CheckAcceptsSheets, RegularRoundTakesSheetsOnlyBetweenItsDates) {
  const RoundWindow regular = WindowOf(v1::ROUND_KIND_REGULAR);
  for (const absl::CivilDay day :
       {absl::CivilDay(2023, 5, 1), absl::CivilDay(2023, 6, 15),
        absl::CivilDay(2023, 7, 31)}) {
    EXPECT_TRUE(CheckAcceptsSheets(regular, day, "r").ok()) << day;
  }
  for (const absl::CivilDay day :
       {absl::CivilDay(2023, 4, 30), absl::CivilDay(2023, 8, 1),
        absl::CivilDay(2026, 12, 6)}) {
    const absl::Status status = CheckAcceptsSheets(regular, day, "rounds/1");
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << day;
    EXPECT_THAT(status.message(), HasSubstr("rounds/1 does not accept"));
  }
}

TEST(CheckAcceptsSheets, PastRecordRoundTakesSheetsAfterItsDatesOnly) {
  const RoundWindow past = WindowOf(v1::ROUND_KIND_PAST_RECORD);
  EXPECT_TRUE(CheckAcceptsSheets(past, absl::CivilDay(2023, 8, 1), "r").ok());
  EXPECT_TRUE(CheckAcceptsSheets(past, absl::CivilDay(2026, 12, 6), "r").ok());
  const absl::Status during =
      CheckAcceptsSheets(past, absl::CivilDay(2023, 7, 31), "rounds/2");
  EXPECT_EQ(during.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(during.message(), HasSubstr("after 2023-07-31"));
}

TEST(CheckAcceptsSheets, ClosedRoundsOfEitherKindTakeNothing) {
  for (v1::RoundKind kind :
       {v1::ROUND_KIND_REGULAR, v1::ROUND_KIND_PAST_RECORD}) {
    for (const absl::CivilDay day :
         {absl::CivilDay(2023, 6, 1), absl::CivilDay(2026, 12, 6)}) {
      const absl::Status status =
          CheckAcceptsSheets(WindowOf(kind, true), day, "rounds/3");
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(status.message(), HasSubstr("rounds/3 is closed"));
    }
  }
}

TEST(RoundKindDb, RoundTrips) {
  for (v1::RoundKind kind :
       {v1::ROUND_KIND_REGULAR, v1::ROUND_KIND_PAST_RECORD}) {
    EXPECT_EQ(RoundKindFromDb(RoundKindToDb(kind)), kind);
  }
  EXPECT_EQ(RoundKindToDb(v1::ROUND_KIND_UNSPECIFIED), "regular");
}

}  // namespace
}  // namespace kosapo::screening
