#include "common/server/authenticate.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::server {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;

auth::Principal User() {
  auth::Principal user;
  user.subject = "user:ward-officer-1";
  user.role = auth::Role::kWardOfficer;
  user.municipality = "27100";
  return user;
}

auth::Principal ServiceToken(const std::string& subject) {
  auth::Principal service;
  service.subject = subject;
  service.role = auth::Role::kService;
  return service;
}

TEST(Authenticate, UserTokenFromAClientIsTheUser) {
  auto principal =
      Authenticate(Transport::kTls, tls::Identity::Client("cli"), User());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "user:ward-officer-1");
  EXPECT_EQ(principal->role, auth::Role::kWardOfficer);
}

TEST(Authenticate, UserTokenForwardedByAServiceKeepsTheUser) {
  auto principal =
      Authenticate(Transport::kTls, tls::Identity::Service("referral"), User());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "user:ward-officer-1");
  EXPECT_EQ(principal->role, auth::Role::kWardOfficer);
  EXPECT_EQ(principal->municipality, "27100");
}

TEST(Authenticate, ServiceCertificateWithoutTokenIsThatService) {
  auto principal = Authenticate(
      Transport::kTls, tls::Identity::Service("reporting"), std::nullopt);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "service:reporting");
  EXPECT_EQ(principal->role, auth::Role::kService);
}

TEST(Authenticate, ClientCertificateWithoutTokenIsRefused) {
  EXPECT_THAT(
      Authenticate(Transport::kTls, tls::Identity::Client("cli"), std::nullopt),
      StatusIs(absl::StatusCode::kUnauthenticated,
               HasSubstr("missing bearer token")));
}

TEST(Authenticate, ServiceTokenNeedsTheSameServicesCertificate) {
  EXPECT_TRUE(Authenticate(Transport::kTls, tls::Identity::Service("case"),
                           ServiceToken("service:case"))
                  .ok());
  EXPECT_THAT(Authenticate(Transport::kTls, tls::Identity::Client("cli"),
                           ServiceToken("service:case")),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("certified as client/cli")));
  EXPECT_THAT(Authenticate(Transport::kTls, tls::Identity::Service("referral"),
                           ServiceToken("service:case")),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("certified as service/referral")));
}

TEST(Authenticate, CertificateWithoutKosapoIdentityIsRefused) {
  EXPECT_THAT(Authenticate(Transport::kTls, tls::Identity(), User()),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("names no kosapo identity")));
}

TEST(Authenticate, InvalidTokenIsRefusedWhateverTheCertificate) {
  EXPECT_THAT(
      Authenticate(Transport::kTls, tls::Identity::Service("case"),
                   absl::StatusOr<auth::Principal>(
                       absl::UnauthenticatedError("token expired"))),
      StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("expired")));
}

TEST(Authenticate, PlaintextTakesTheTokenAlone) {
  auto service = Authenticate(Transport::kPlaintext, tls::Identity(),
                              ServiceToken("service:e2e"));
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->subject, "service:e2e");
  EXPECT_THAT(
      Authenticate(Transport::kPlaintext, tls::Identity(), std::nullopt),
      StatusIs(absl::StatusCode::kUnauthenticated));
}

}  // namespace
}  // namespace kosapo::server
