// Who is acting on a call, as a service's stores record it with each write,
// audit row and event, and the municipality a caller may act for.
#ifndef KOSAPO_COMMON_SERVER_CALLER_H_
#define KOSAPO_COMMON_SERVER_CALLER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::server {

struct CallContext;

// Who acts, for records, audit rows and events.
struct Caller {
  std::string subject;
  std::string role;    // the role's wire name ("ward_officer")
  std::string method;  // the method's short name ("GetCase")
  std::string request_id;
  std::string trace_id;
  // Why, as the caller stated it in the call's metadata; else empty.
  std::string purpose;
};

// The caller of an authenticated `call`, with the method's short name for
// the audit and `request_id` (a request's idempotency key) when given, else
// the call's request id, and the call's stated purpose.
Caller CallerOf(const CallContext& call, absl::string_view request_id = "");

// The municipality code of `parent` ("municipalities/{code}"), after
// checking the caller acts for it: INVALID_ARGUMENT naming "parent", or
// PERMISSION_DENIED.
absl::StatusOr<std::string> CallerMunicipality(const CallContext& call,
                                               absl::string_view parent);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_CALLER_H_
