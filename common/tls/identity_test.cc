#include "common/tls/identity.h"

#include "gtest/gtest.h"

namespace kosapo::tls {
namespace {

TEST(IdentityFromUris, NamesAServiceOrAClient) {
  const Identity service = IdentityFromUris({"spiffe://kosapo/service/case"});
  EXPECT_TRUE(service.is_service());
  EXPECT_EQ(service.name, "case");
  EXPECT_EQ(service.Uri(), "spiffe://kosapo/service/case");
  const Identity client = IdentityFromUris({"spiffe://kosapo/client/cli"});
  EXPECT_TRUE(client.is_client());
  EXPECT_EQ(client.name, "cli");
  EXPECT_EQ(client.Describe(), "client/cli");
}

TEST(IdentityFromUris, IgnoresOtherUris) {
  const Identity identity = IdentityFromUris(
      {"https://example.org/x", "spiffe://kosapo/service/referral"});
  EXPECT_TRUE(identity.is_service());
  EXPECT_EQ(identity.name, "referral");
}

TEST(IdentityFromUris, IsNoneWhenAbsentAmbiguousOrMalformed) {
  EXPECT_EQ(IdentityFromUris({}).kind, Identity::Kind::kNone);
  EXPECT_EQ(IdentityFromUris({"spiffe://other/service/case"}).kind,
            Identity::Kind::kNone);
  EXPECT_EQ(IdentityFromUris(
                {"spiffe://kosapo/service/case", "spiffe://kosapo/client/cli"})
                .kind,
            Identity::Kind::kNone);
  EXPECT_EQ(IdentityFromUris({"spiffe://kosapo/service/"}).kind,
            Identity::Kind::kNone);
  EXPECT_EQ(IdentityFromUris({"spiffe://kosapo/service/Case"}).kind,
            Identity::Kind::kNone);
  EXPECT_EQ(IdentityFromUris({"spiffe://kosapo/service/case/x"}).kind,
            Identity::Kind::kNone);
  EXPECT_EQ(IdentityFromUris({"spiffe://kosapo/admin/root"}).kind,
            Identity::Kind::kNone);
  EXPECT_EQ(Identity().Uri(), "");
}

}  // namespace
}  // namespace kosapo::tls
