// How the case service turns the caller of a gRPC call into the Caller the
// stores record, and into the Authorize checks they run on a case's scope.
#ifndef KOSAPO_SERVICES_CASE_API_CALL_CHECKS_H_
#define KOSAPO_SERVICES_CASE_API_CALL_CHECKS_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/call_context.h"
#include "common/server/caller.h"
#include "common/server/paging.h"
#include "services/case/store/case_tx.h"

namespace kosapo::cases {

// The caller, with the method's short name ("GetCase") for the audit
// (common/server/caller.h).
using server::CallerOf;

// NOT_FOUND, word for word as for a case that does not exist, when the
// case belongs to another municipality than the caller's. Case ids are
// unique across every city: a PERMISSION_DENIED there would tell a caller
// which ids exist elsewhere.
absl::Status RequireOwnMunicipality(const auth::Principal& principal,
                                    const CaseScope& scope);

// Full access (area staff of the case's area, its assignees) or
// PERMISSION_DENIED naming the case's area; NOT_FOUND for another
// municipality's case.
Authorize RequireFullAccess(const auth::Principal& principal);
// Full access, or the child only (hub operators of the child's hub).
Authorize AllowChildAccess(const auth::Principal& principal);

// The municipality of `parent`, after checking the caller acts for it.
using server::CallerMunicipality;

// A page size (0 -> `fallback`, at most `max`), or INVALID_ARGUMENT
// (common/server/paging.h).
using server::PageSize;
// A page token made of one or two integers ("12" or "1700000000:12").
absl::StatusOr<std::pair<int64_t, int64_t>> ParsePageToken(
    absl::string_view token);
// The token of a list in creation order or of the audit trail
// (common/server/paging.h).
using server::ParseTimePageToken;
using server::TimePageToken;

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_API_CALL_CHECKS_H_
