#include "common/server/paging.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::server {
namespace {

using ::kosapo::testing::StatusIs;

// Matches an OK absl::StatusOr holding `expected`.
MATCHER_P(HoldsValue, expected, "is OK and holds the value") {
  return arg.ok() && *arg == expected;
}

TEST(PageSize, ZeroIsTheFallbackAndUpToMaxAsAsked) {
  EXPECT_THAT(PageSize(0, 100, 500), HoldsValue(100));
  EXPECT_THAT(PageSize(1, 100, 500), HoldsValue(1));
  EXPECT_THAT(PageSize(500, 100, 500), HoldsValue(500));
}

TEST(PageSize, NegativeOrAboveMaxIsRefusedWithTheRange) {
  for (int32_t requested : {-1, 501}) {
    EXPECT_THAT(PageSize(requested, 100, 500),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "page_size: 0 (default 100) to 500"))
        << requested;
  }
}

TEST(TimePageToken, CarriesTheTimeInMicrosecondsAndTheId) {
  google::protobuf::Timestamp time;
  time.set_seconds(1700000000);
  time.set_nanos(123456000);
  const std::string token = TimePageToken(time, 4611686018427387905);
  EXPECT_EQ(token, "1700000000123456:4611686018427387905");
  EXPECT_THAT(ParseTimePageToken(token),
              HoldsValue(std::make_pair(int64_t{1700000000123456},
                                        int64_t{4611686018427387905})));
  EXPECT_THAT(ParseTimePageToken(""),
              HoldsValue(std::make_pair(int64_t{0}, int64_t{0})));
}

TEST(TimePageToken, ABareIdOrAnythingElseIsRefused) {
  for (const char* token : {"12", "12:0", "12:-3", "x:12", "1:2:3", ":12"}) {
    EXPECT_THAT(ParseTimePageToken(token),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "page_token: not a token from a previous response"))
        << token;
  }
}

}  // namespace
}  // namespace kosapo::server
