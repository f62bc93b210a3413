// Single fields: codes, resource names, and business dates bounded by
// today and an earlier step. Free text: common/types/text_test.cc.
#include "services/referral/domain/fields.h"

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
constexpr absl::CivilDay kToday(2024, 6, 10);

TEST(ValidateCode, LettersDigitsDashAndUnderscore) {
  EXPECT_OK(ValidateCode("H-BB_1", 40, "hub_code"));
  EXPECT_THAT(ValidateCode("", 40, "hub_code"),
              StatusIs(kInvalid, "hub_code: required"));
  EXPECT_THAT(ValidateCode("H BB", 40, "hub_code"),
              StatusIs(kInvalid, StartsWith("hub_code: ")));
  EXPECT_THAT(ValidateCode(std::string(41, 'a'), 40, "hub_code"),
              StatusIs(kInvalid, StartsWith("hub_code: ")));
}

TEST(ResourceName, RoundTripsAndRefusesOtherShapes) {
  EXPECT_EQ(ResourceName(kReferrals, 12), "referrals/12");
  EXPECT_EQ(VisitName(3, 4), "hubUsages/3/visits/4");
  EXPECT_THAT(ParseResourceName("referrals/12", kReferrals, "name"),
              HoldsValue(12));
  for (const char* bad :
       {"referrals/012", "referrals/-1", "referrals/0", "referrals/",
        "cases/12", "referrals/1/x", "referrals/1a"}) {
    EXPECT_THAT(ParseResourceName(bad, kReferrals, "name"),
                StatusIs(kInvalid, "name: expected referrals/{id}"))
        << bad;
  }
}

TEST(EffectiveDate, NotAfterTodayNorBeforeTheEarlierStep) {
  EXPECT_THAT(EffectiveDate(DateToProto(kToday), "effective_date", kToday),
              HoldsValue(kToday));
  EXPECT_THAT(EffectiveDate(DateToProto(kToday + 1), "effective_date", kToday),
              StatusIs(kInvalid, HasSubstr("must not be after today")));
  EXPECT_THAT(EffectiveDate(DateToProto(kToday - 5), "effective_date", kToday,
                            kToday - 4, "the previous step"),
              StatusIs(kInvalid,
                       "effective_date: must not be before the "
                       "previous step (2024-06-06)"));
  kosapo::type::Date invalid;
  invalid.set_year(2024);
  invalid.set_month(2);
  invalid.set_day(30);
  EXPECT_THAT(EffectiveDate(invalid, "effective_date", kToday),
              StatusIs(kInvalid, "effective_date: not a valid calendar date"));
}

}  // namespace
}  // namespace kosapo::referral
