// The caller, municipality, directory-writer and page checks.
#include "services/referral/api/call_checks.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/types/api_types.h"

namespace kosapo::referral {

Caller CallerOf(const server::CallContext& call, absl::string_view request_id) {
  Caller caller;
  caller.subject = call.principal->subject;
  caller.role = std::string(auth::RoleName(call.principal->role));
  const size_t slash = call.method.rfind('/');
  caller.method =
      slash == std::string::npos ? call.method : call.method.substr(slash + 1);
  caller.request_id =
      request_id.empty() ? call.request_id : std::string(request_id);
  caller.trace_id = call.trace.trace_id;
  return caller;
}

absl::StatusOr<std::string> CallerMunicipality(const server::CallContext& call,
                                               absl::string_view parent) {
  KOSAPO_ASSIGN_OR_RETURN(std::string code,
                          ParseMunicipalityName(parent, "parent"));
  KOSAPO_RETURN_IF_ERROR(auth::RequireMunicipality(*call.principal, code));
  return code;
}

absl::Status RequireDirectoryWriter(const auth::Principal& principal) {
  return auth::RequireRole(principal, {auth::Role::kCityOperations},
                           "change the directory of supports");
}

MayWrite DirectoryWriter(const auth::Principal& principal) {
  return [&principal](absl::string_view municipality) {
    return auth::RequireMunicipality(principal, municipality);
  };
}

absl::StatusOr<int> PageSize(int32_t requested, int fallback, int max) {
  if (requested < 0 || requested > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: 0 (default ", fallback, ") to ", max));
  }
  return requested == 0 ? fallback : requested;
}

absl::StatusOr<int64_t> ParsePageToken(absl::string_view token) {
  if (token.empty()) {
    return 0;
  }
  int64_t after = 0;
  if (!absl::SimpleAtoi(token, &after) || after <= 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token from a previous response");
  }
  return after;
}

}  // namespace kosapo::referral
