// The permission matrix's first wall, walked against the four running
// services: every RPC of every service with every role, over real gRPC.
// The request is empty on purpose: a refused role must get
// PERMISSION_DENIED from the wall before any handler looks at the request,
// and an allowed role must get past it (to whatever the handler says about
// an empty request). So every RPC must go through server::Serve, and a
// handler that forgot to would show here.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/testing/pg_cluster.h"
#include "gtest/gtest.h"
#include "tests/security/four_services.h"

namespace kosapo {
namespace {

using ::kosapo::testing::FourServices;

constexpr char kCity[] = "27800";

using PermissionWallTest = testing::FourServicesTest;

TEST_F(PermissionWallTest, EveryRpcRefusesExactlyTheRolesTheMatrixRefuses) {
  const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
  int refused = 0;
  int allowed = 0;
  // Services call over a connection holding their own certificate (a
  // service token is refused from anywhere else); users over a client's.
  std::map<std::string, std::shared_ptr<grpc::Channel>> as_service;
  for (const char* name : {"screening", "case", "referral", "reporting"}) {
    as_service[name] = services_->at(name).service_channel("wall-service");
  }
  for (const std::string& method : matrix.methods()) {
    const std::string owner = FourServices::ServiceOf(method);
    // The feed is the same code in every service: walk it on each.
    std::vector<std::string> targets;
    if (owner.empty()) {
      targets = {"screening", "case", "referral", "reporting"};
    } else {
      targets = {owner};
    }
    for (const std::string& target : targets) {
      for (auth::Role role : auth::kAllRoles) {
        auth::Principal principal;
        principal.subject = absl::StrCat(
            role == auth::Role::kService ? "service:" : "user:", "wall-",
            std::string(auth::RoleName(role)));
        principal.role = role;
        principal.municipality = kCity;
        principal.areas = {"A1"};
        principal.schools = {"E1"};
        principal.hubs = {"H1"};
        const bool service = role == auth::Role::kService;
        const auto& channel =
            service ? as_service.at(target) : services_->at(target).channel();
        // A service is walled alike with its token and with its
        // certificate alone.
        std::vector<std::string> credentials = {tokens_->Sign(principal)};
        if (service) {
          credentials.push_back("");
        }
        for (const std::string& token : credentials) {
          // The empty request is a valid encoding of every request.
          const grpc::Status status =
              testing::CallWithBytes(channel, method, token, "");
          const std::string wall =
              absl::StrCat("role ", std::string(auth::RoleName(role)),
                           " may not call /", method);
          const bool walled =
              status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
              status.error_message() == wall;
          const std::string where = absl::StrCat(
              method, " on ", target, " as ", std::string(auth::RoleName(role)),
              token.empty() ? " (cert)" : "", ": ", status.error_code(), " ",
              status.error_message());
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
              << where;
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
              << where;
          if (matrix.Allowed(method, role).has_value()) {
            EXPECT_FALSE(walled) << where;
            ++allowed;
          } else {
            EXPECT_TRUE(walled) << where;
            ++refused;
          }
        }
      }
    }
  }
  // The matrix is neither all open nor all closed.
  EXPECT_GT(refused, 0);
  EXPECT_GT(allowed, 0);
}

// A production port does not describe itself: gRPC reflection is served
// only with KOSAPO_REFLECTION=true, which these services do not set (the
// end-to-end test sets it and lists the services through it).
TEST_F(PermissionWallTest, ReflectionIsOffUnlessConfigured) {
  const std::string list_services("\x3a\x00", 2);  // list_services: ""
  for (const char* name : {"screening", "case", "referral", "reporting"}) {
    const grpc::Status status = testing::CallWithBytes(
        services_->at(name).channel(),
        "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "",
        list_services);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << name << ": " << status.error_message();
  }
}

}  // namespace
}  // namespace kosapo
