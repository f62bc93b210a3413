#include "common/auth/authorize.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace kosapo::auth {

absl::Status RequireRole(const Principal& principal,
                         std::initializer_list<Role> roles,
                         absl::string_view action) {
  for (Role role : roles) {
    if (principal.role == role) {
      return absl::OkStatus();
    }
  }
  const std::string_view name = RoleName(principal.role);
  return absl::PermissionDeniedError(
      absl::StrCat("role '", absl::string_view(name.data(), name.size()),
                   "' may not ", action));
}

absl::Status RequireMunicipality(const Principal& principal,
                                 absl::string_view municipality_code) {
  if (principal.role == Role::kService ||
      absl::string_view(principal.municipality) == municipality_code) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("caller does not act for municipality ", municipality_code));
}

absl::Status RequireRecordOfMunicipality(const Principal& principal,
                                         absl::string_view municipality_code,
                                         absl::string_view record_name) {
  if (RequireMunicipality(principal, municipality_code).ok()) {
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(record_name, " not found"));
}

}  // namespace kosapo::auth
