// The page size of a List call, and the page token of a list ordered by a
// time and an id. Other tokens are each service's own: what a token
// continues after depends on the list's order.
#ifndef KOSAPO_COMMON_SERVER_PAGING_H_
#define KOSAPO_COMMON_SERVER_PAGING_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"

namespace kosapo::server {

// A requested page size: 0 gives `fallback`; 1 to `max` is taken as it is;
// anything else is INVALID_ARGUMENT "page_size: 0 (default F) to M" (a
// page larger than the list serves is a caller's mistake, not a wish to
// cap silently). `field` names the field in the error.
absl::StatusOr<int> PageSize(int32_t requested, int fallback, int max,
                             absl::string_view field = "page_size");

// The token of a list ordered by a time and then an id (creation order, or
// an audit trail's newest first; ids are a keyed permutation, so they do
// not follow either): "{time in microseconds}:{id}" of the last entry
// shown. ParseTimePageToken gives {0, 0} for "" and {microseconds, id}
// otherwise; anything else (such as a bare id, as tokens once were) is
// INVALID_ARGUMENT "page_token: not a token from a previous response".
std::string TimePageToken(const google::protobuf::Timestamp& time, int64_t id);
absl::StatusOr<std::pair<int64_t, int64_t>> ParseTimePageToken(
    absl::string_view token);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_PAGING_H_
