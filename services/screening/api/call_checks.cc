#include "services/screening/api/call_checks.h"

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "services/screening/domain/registry_rules.h"

namespace kosapo::screening {

using server::CallContext;

Actor ActorOf(const CallContext& call) {
  return Actor{call.principal->subject, call.trace.trace_id};
}

Accessor AccessorOf(const CallContext& call) { return server::CallerOf(call); }

// Registry writes are city operations' work.
absl::Status RequireOperations(const CallContext& call,
                               absl::string_view municipality,
                               absl::string_view action) {
  KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
      *call.principal, {auth::Role::kCityOperations}, action));
  return auth::RequireMunicipality(*call.principal, municipality);
}

absl::Status RequireSchoolStaff(const CallContext& call,
                                absl::string_view school_code) {
  const auth::Principal& principal = *call.principal;
  KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
      principal, {auth::Role::kSchoolStaff, auth::Role::kSchoolManager},
      "see or write screening sheets"));
  for (const std::string& school : principal.schools) {
    if (school == school_code) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("school ", school_code, " is not the caller's school"));
}

}  // namespace kosapo::screening
