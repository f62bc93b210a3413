#include "common/server/paging.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/proto_time.h"

namespace kosapo::server {

absl::StatusOr<int> PageSize(int32_t requested, int fallback, int max,
                             absl::string_view field) {
  if (requested < 0 || requested > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": 0 (default ", fallback, ") to ", max));
  }
  return requested == 0 ? fallback : requested;
}

std::string TimePageToken(const google::protobuf::Timestamp& time, int64_t id) {
  return absl::StrCat(TimestampMicros(time), ":", id);
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParseTimePageToken(
    absl::string_view token) {
  if (token.empty()) {
    return std::make_pair(int64_t{0}, int64_t{0});
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, ':');
  int64_t micros = 0;
  int64_t id = 0;
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &micros) &&
      absl::SimpleAtoi(parts[1], &id) && id > 0) {
    return std::make_pair(micros, id);
  }
  return absl::InvalidArgumentError(
      "page_token: not a token from a previous response");
}

}  // namespace kosapo::server
