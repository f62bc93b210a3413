// How the referral service turns the caller of a gRPC call into the Caller
// its stores record, and the checks every handler shares: the municipality
// of a parent, pages.
#ifndef KOSAPO_SERVICES_REFERRAL_API_CALL_CHECKS_H_
#define KOSAPO_SERVICES_REFERRAL_API_CALL_CHECKS_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/call_context.h"
#include "common/server/caller.h"
#include "common/server/paging.h"
#include "services/referral/store/directory_store.h"
#include "services/referral/store/records.h"

namespace kosapo::referral {

// The caller, with the method's short name ("CreateReferral") for the
// audit, and `request_id` (the request's idempotency key) when given
// (common/server/caller.h).
using server::CallerOf;

// The municipality of `parent` ("municipalities/{code}"), after checking
// the caller acts for it.
using server::CallerMunicipality;

// City operations write the directory of their municipality.
absl::Status RequireDirectoryWriter(const auth::Principal& principal);
MayWrite DirectoryWriter(const auth::Principal& principal);

// A page size (0 -> `fallback`, at most `max`), or INVALID_ARGUMENT
// (common/server/paging.h).
using server::PageSize;
// The id a page token continues after (0 for the first page).
absl::StatusOr<int64_t> ParsePageToken(absl::string_view token);
// The token of a list in creation order: "{creation time in
// microseconds}_{id}" of the last entry shown, and back ({} for "").
std::string CreatedPageToken(const google::protobuf::Timestamp& create_time,
                             int64_t id);
absl::StatusOr<CreatedAfter> ParseCreatedPageToken(absl::string_view token);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_API_CALL_CHECKS_H_
