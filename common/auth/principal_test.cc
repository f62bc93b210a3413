#include "common/auth/principal.h"

#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::auth {
namespace {

// The wire names are a contract with every token issuer: spelled out here
// rather than derived from the code under test.
const std::vector<std::pair<Role, std::string_view>>& WireNames() {
  static const auto* const names =
      new std::vector<std::pair<Role, std::string_view>>{
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
      };
  return *names;
}

TEST(RoleName, UsesWireNames) {
  for (const auto& [role, name] : WireNames()) {
    EXPECT_EQ(RoleName(role), name);
  }
}

TEST(ParseRole, RoundTripsEveryRole) {
  std::set<std::string_view> seen;
  for (const auto& [role, name] : WireNames()) {
    EXPECT_EQ(ParseRole(RoleName(role)), role) << name;
    EXPECT_TRUE(seen.insert(RoleName(role)).second) << "duplicate " << name;
  }
  EXPECT_EQ(seen.size(), 12u);
}

TEST(Role, AllRolesListsEveryRoleOnce) {
  std::vector<Role> expected;
  for (const auto& [role, name] : WireNames()) {
    expected.push_back(role);
  }
  EXPECT_THAT(kAllRoles, ::testing::ElementsAreArray(expected));
}

TEST(ParseRole, RejectsUnknownOrMisspelledNames) {
  for (std::string_view name : std::initializer_list<std::string_view>{
           "", "admin", "root", "SSW", "Case_Worker", "case-worker",
           " case_worker", "case_worker ", std::string_view("ssw\0", 4)}) {
    EXPECT_EQ(ParseRole(name), std::nullopt) << name;
  }
}

TEST(RoleName, IsEmptyForValueOutsideEnum) {
  EXPECT_EQ(RoleName(static_cast<Role>(-1)), "");
  EXPECT_EQ(RoleName(static_cast<Role>(12)), "");
}

}  // namespace
}  // namespace kosapo::auth
