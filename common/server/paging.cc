#include "common/server/paging.h"

#include "absl/strings/str_cat.h"

namespace kosapo::server {

absl::StatusOr<int> PageSize(int32_t requested, int fallback, int max,
                             absl::string_view field) {
  if (requested < 0 || requested > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": 0 (default ", fallback, ") to ", max));
  }
  return requested == 0 ? fallback : requested;
}

}  // namespace kosapo::server
