// The caller of a call and the municipality it acts for.
#include "common/server/caller.h"

#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/server/call_context.h"
#include "common/types/api_types.h"

namespace kosapo::server {

Caller CallerOf(const CallContext& call, absl::string_view request_id) {
  Caller caller;
  caller.subject = call.principal->subject;
  caller.role = std::string(auth::RoleName(call.principal->role));
  const size_t slash = call.method.rfind('/');
  caller.method =
      slash == std::string::npos ? call.method : call.method.substr(slash + 1);
  caller.request_id =
      request_id.empty() ? call.request_id : std::string(request_id);
  caller.trace_id = call.trace.trace_id;
  // Serve() runs no handler when the purpose is malformed.
  caller.purpose = call.purpose.value_or("");
  return caller;
}

absl::StatusOr<std::string> CallerMunicipality(const CallContext& call,
                                               absl::string_view parent) {
  KOSAPO_ASSIGN_OR_RETURN(std::string code,
                          ParseMunicipalityName(parent, "parent"));
  KOSAPO_RETURN_IF_ERROR(auth::RequireMunicipality(*call.principal, code));
  return code;
}

}  // namespace kosapo::server
