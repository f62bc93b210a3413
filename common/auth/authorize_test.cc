#include "common/auth/authorize.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::auth {
namespace {

using ::testing::HasSubstr;

Principal Caller(Role role, std::string municipality) {
  Principal principal;
  principal.subject = "user:1";
  principal.role = role;
  principal.municipality = std::move(municipality);
  return principal;
}

TEST(RequireRole, AllowsListedRolesOnly) {
  const Principal operations = Caller(Role::kCityOperations, "27100");
  EXPECT_TRUE(
      RequireRole(operations, {Role::kAnalyst, Role::kCityOperations}, "x")
          .ok());
  const absl::Status denied =
      RequireRole(Caller(Role::kSchoolStaff, "27100"), {Role::kCityOperations},
                  "load enrollment");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(),
              HasSubstr("role 'school_staff' may not load enrollment"));
}

TEST(RequireMunicipality, AllowsOwnMunicipalityAndServices) {
  EXPECT_TRUE(
      RequireMunicipality(Caller(Role::kCityOperations, "27100"), "27100")
          .ok());
  EXPECT_EQ(RequireMunicipality(Caller(Role::kCityOperations, "27203"), "27100")
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      RequireMunicipality(Caller(Role::kCityOperations, ""), "27100").code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(RequireMunicipality(Caller(Role::kService, ""), "27100").ok());
}

}  // namespace
}  // namespace kosapo::auth
