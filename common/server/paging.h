// The page size of a List call. Page tokens are each service's own: what a
// token continues after depends on the list's order.
#ifndef KOSAPO_COMMON_SERVER_PAGING_H_
#define KOSAPO_COMMON_SERVER_PAGING_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::server {

// A requested page size: 0 gives `fallback`; 1 to `max` is taken as it is;
// anything else is INVALID_ARGUMENT "page_size: 0 (default F) to M" (a
// page larger than the list serves is a caller's mistake, not a wish to
// cap silently). `field` names the field in the error.
absl::StatusOr<int> PageSize(int32_t requested, int fallback, int max,
                             absl::string_view field = "page_size");

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_PAGING_H_
