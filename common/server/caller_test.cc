#include "common/server/caller.h"

#include "common/server/call_context.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::server {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;

// Matches an OK absl::StatusOr holding `expected`.
MATCHER_P(HoldsValue, expected, "is OK and holds the value") {
  return arg.ok() && *arg == expected;
}

CallContext CallAs(auth::Role role, const std::string& municipality) {
  CallContext call;
  call.method = "/kosapo.cases.v1.CaseService/GetCase";
  call.request_id = "req-1";
  call.trace.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auth::Principal principal;
  principal.subject = "u-17";
  principal.role = role;
  principal.municipality = municipality;
  call.principal = principal;
  return call;
}

TEST(CallerOf, TakesTheShortMethodNameAndTheCallsIds) {
  const Caller caller = CallerOf(CallAs(auth::Role::kWardOfficer, "27100"));
  EXPECT_EQ(caller.subject, "u-17");
  EXPECT_EQ(caller.role, "ward_officer");
  EXPECT_EQ(caller.method, "GetCase");
  EXPECT_EQ(caller.request_id, "req-1");
  EXPECT_EQ(caller.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(CallerOf, CarriesTheStatedPurposeOrNone) {
  CallContext call = CallAs(auth::Role::kWardOfficer, "27100");
  EXPECT_EQ(CallerOf(call).purpose, "");
  call.purpose = std::string("家庭訪問の準備");
  EXPECT_EQ(CallerOf(call).purpose, "家庭訪問の準備");
}

TEST(CallerOf, AGivenRequestIdWins) {
  EXPECT_EQ(
      CallerOf(CallAs(auth::Role::kHubOperator, "27100"), "key-9").request_id,
      "key-9");
}

TEST(CallerOf, AMethodWithoutSlashIsKeptWhole) {
  CallContext call = CallAs(auth::Role::kAnalyst, "27100");
  call.method = "GetCase";
  EXPECT_EQ(CallerOf(call).method, "GetCase");
}

TEST(CallerMunicipality, IsTheParentsCodeForItsOwnStaffAndServices) {
  EXPECT_THAT(CallerMunicipality(CallAs(auth::Role::kWardOfficer, "27100"),
                                 "municipalities/27100"),
              HoldsValue(std::string("27100")));
  EXPECT_THAT(CallerMunicipality(CallAs(auth::Role::kService, ""),
                                 "municipalities/27100"),
              HoldsValue(std::string("27100")));
}

TEST(CallerMunicipality, RefusesAMalformedParentAndAnotherMunicipality) {
  EXPECT_THAT(CallerMunicipality(CallAs(auth::Role::kWardOfficer, "27100"),
                                 "municipalities/271"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("parent: expected municipalities/")));
  EXPECT_THAT(
      CallerMunicipality(CallAs(auth::Role::kWardOfficer, "27100"),
                         "municipalities/13100"),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("13100")));
}

}  // namespace
}  // namespace kosapo::server
