#include "common/auth/principal.h"

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace kosapo::auth {
namespace {

// The single table both directions read, so they cannot drift apart.
constexpr std::array<std::pair<Role, std::string_view>, 12> kRoleNames = {{
    {Role::kSchoolStaff, "school_staff"},
    {Role::kSchoolManager, "school_manager"},
    {Role::kSsw, "ssw"},
    {Role::kSupportPromoter, "support_promoter"},
    {Role::kWardOfficer, "ward_officer"},
    {Role::kCaseWorker, "case_worker"},
    {Role::kConsultationDesk, "consultation_desk"},
    {Role::kHubOperator, "hub_operator"},
    {Role::kCentreDirector, "centre_director"},
    {Role::kCityOperations, "city_operations"},
    {Role::kAnalyst, "analyst"},
    {Role::kService, "service"},
}};

}  // namespace

std::string_view RoleName(Role role) {
  for (const auto& [value, name] : kRoleNames) {
    if (value == role) {
      return name;
    }
  }
  return {};
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [value, wire_name] : kRoleNames) {
    if (wire_name == name) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace kosapo::auth
