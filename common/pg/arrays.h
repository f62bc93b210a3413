// PostgreSQL array literals, for passing a list as one parameter:
// "... WHERE area_code = ANY($1::text[])" with TextArray(areas).
#ifndef KOSAPO_COMMON_PG_ARRAYS_H_
#define KOSAPO_COMMON_PG_ARRAYS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kosapo::pg {

// {"a","b"} for $n::text[]: every element quoted, with '"' and '\' escaped
// by a backslash, so any text (commas, braces, spaces, NULL) comes through
// as itself.
std::string TextArray(const std::vector<std::string>& values);

// {1,2,3} for $n::bigint[].
std::string IdArray(const std::vector<int64_t>& ids);

}  // namespace kosapo::pg

#endif  // KOSAPO_COMMON_PG_ARRAYS_H_
