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

}  // namespace
}  // namespace kosapo::server
