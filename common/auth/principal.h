// The authenticated caller of a kosapo service, as carried in a bearer token.
#ifndef KOSAPO_COMMON_AUTH_PRINCIPAL_H_
#define KOSAPO_COMMON_AUTH_PRINCIPAL_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace kosapo::auth {

// What the caller is allowed to do is decided by its role and its scope
// (municipality, areas, schools, hubs); services enforce both.
enum class Role {
  kSchoolStaff,
  kSchoolManager,
  kSsw,
  kSupportPromoter,
  kWardOfficer,
  kCaseWorker,
  kConsultationDesk,
  kHubOperator,
  kCentreDirector,
  kCityOperations,
  kAnalyst,
  kService,
};

// Every role, in declaration order.
inline constexpr std::array<Role, 12> kAllRoles = {
    Role::kSchoolStaff,      Role::kSchoolManager, Role::kSsw,
    Role::kSupportPromoter,  Role::kWardOfficer,   Role::kCaseWorker,
    Role::kConsultationDesk, Role::kHubOperator,   Role::kCentreDirector,
    Role::kCityOperations,   Role::kAnalyst,       Role::kService,
};

// The wire name of `role` ("school_staff", ...); empty for a value outside
// the enum.
std::string_view RoleName(Role role);

// The role whose wire name is exactly `name` (case-sensitive), if any.
std::optional<Role> ParseRole(std::string_view name);

struct Principal {
  // "sub" claim: an opaque user or service id, never a person's name.
  std::string subject;
  // No role is neutral; this is the enum's zero so `Principal{}` is defined.
  Role role = Role::kSchoolStaff;
  // JIS municipality code, e.g. "27100".
  std::string municipality;
  // Area (ward) codes in scope.
  std::vector<std::string> areas;
  std::vector<std::string> schools;
  std::vector<std::string> hubs;
  // When the token stops being valid ("exp"). Ignored by TokenSigner::Sign,
  // which derives it from the ttl.
  absl::Time expire_time = absl::InfinitePast();
};

}  // namespace kosapo::auth

#endif  // KOSAPO_COMMON_AUTH_PRINCIPAL_H_
