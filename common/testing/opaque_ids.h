// A check for tests of resource ids that must tell nothing of other records
// (ids are a keyed permutation of a sequence shared by every municipality:
// common/events/migrations/0002_conceal_id.sql).
#ifndef KOSAPO_COMMON_TESTING_OPAQUE_IDS_H_
#define KOSAPO_COMMON_TESTING_OPAQUE_IDS_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

namespace kosapo::testing {

// `names` ("cases/123", ".../rounds/45"), of records created one after the
// other, end in positive ids that do not increase in that order and of which
// no two are one apart: a plain sequence gives ids that increase, most of
// them one apart.
inline void ExpectOpaqueIds(const std::vector<std::string>& names) {
  std::vector<int64_t> ids;
  for (const std::string& name : names) {
    int64_t id = 0;
    ASSERT_TRUE(absl::SimpleAtoi(name.substr(name.rfind('/') + 1), &id))
        << name;
    EXPECT_GT(id, 0) << name;
    ids.push_back(id);
  }
  EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
  std::sort(ids.begin(), ids.end());
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_GT(ids[i] - ids[i - 1], 1) << ids[i];
  }
}

// A page token "{microseconds}:{id}" whose id is not a value of the
// table's plain sequence, which the test set to `sequence_value` before
// making the rows the token pages over.
inline void ExpectTokenIdConcealed(const std::string& token,
                                   int64_t sequence_value) {
  int64_t id = 0;
  ASSERT_TRUE(absl::SimpleAtoi(token.substr(token.rfind(':') + 1), &id))
      << token;
  EXPECT_TRUE(id < sequence_value || id > sequence_value + 1000000) << token;
}

}  // namespace kosapo::testing

#endif  // KOSAPO_COMMON_TESTING_OPAQUE_IDS_H_
