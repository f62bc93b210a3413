// ServiceRuntime::Create's token keys: one key for tokens without a key id,
// a directory of keys by id for rotation, and clear errors naming the flags.
#include "common/server/runtime.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/jwt.h"
#include "common/testing/test_tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::server {
namespace {

using ::testing::HasSubstr;

class RuntimeKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kosapo-runtime-keys-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }

  static ServiceConfig Config() {
    ServiceConfig config;
    config.jwt_issuer = "kosapo-dev";
    config.jwt_audience = "kosapo";
    return config;
  }
  static ServiceDescriptor Descriptor() {
    ServiceDescriptor descriptor;
    descriptor.name = "keys";
    return descriptor;
  }

  std::string dir_;
};

TEST_F(RuntimeKeysTest, KeysByIdVerifyTheTokensThatNameThem) {
  auto current = testing::TestTokens::Create("2026-10");
  auto next = testing::TestTokens::Create("2026-11");
  auto kidless = testing::TestTokens::Create();
  ASSERT_TRUE(current.ok() && next.ok() && kidless.ok());
  const std::string keys = dir_ + "/keys";
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p '", keys, "'").c_str()), 0);
  ASSERT_TRUE((*current)->WritePublicKey(keys + "/2026-10.pem").ok());
  ASSERT_TRUE((*next)->WritePublicKey(keys + "/2026-11.pem").ok());
  std::ofstream(keys + "/README") << "not a key";
  ServiceConfig config = Config();
  config.jwt_public_keys_dir = keys;
  auto runtime = ServiceRuntime::Create(Descriptor(), config);
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  const auth::TokenVerifier& verifier = (*runtime)->verifier();
  // Old and new keys side by side, each token with the key it names.
  EXPECT_TRUE(
      verifier
          .Verify((*current)->Sign(auth::Role::kAnalyst, "user:a"), absl::Now())
          .ok());
  EXPECT_TRUE(
      verifier
          .Verify((*next)->Sign(auth::Role::kAnalyst, "user:b"), absl::Now())
          .ok());
  // Tokens without a kid have no key here.
  EXPECT_FALSE(
      verifier
          .Verify((*kidless)->Sign(auth::Role::kAnalyst, "user:c"), absl::Now())
          .ok());

  // With both: the file's key serves tokens without a kid.
  config.jwt_public_key_file = dir_ + "/kidless.pem";
  ASSERT_TRUE((*kidless)->WritePublicKey(config.jwt_public_key_file).ok());
  runtime = ServiceRuntime::Create(Descriptor(), config);
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  EXPECT_TRUE(
      (*runtime)
          ->verifier()
          .Verify((*kidless)->Sign(auth::Role::kAnalyst, "user:c"), absl::Now())
          .ok());
}

TEST_F(RuntimeKeysTest, MissingKeysAreNamed) {
  auto runtime = ServiceRuntime::Create(Descriptor(), Config());
  ASSERT_FALSE(runtime.ok());
  EXPECT_THAT(std::string(runtime.status().message()),
              HasSubstr("--jwt_public_keys_dir"));
  ServiceConfig config = Config();
  config.jwt_public_keys_dir = dir_;  // exists, holds no key
  runtime = ServiceRuntime::Create(Descriptor(), config);
  ASSERT_FALSE(runtime.ok());
  EXPECT_THAT(std::string(runtime.status().message()),
              HasSubstr("has no <key id>.pem file"));
  config.jwt_public_keys_dir = dir_ + "/absent";
  runtime = ServiceRuntime::Create(Descriptor(), config);
  ASSERT_FALSE(runtime.ok());
  EXPECT_THAT(std::string(runtime.status().message()),
              HasSubstr("cannot read --jwt_public_keys_dir"));
}

}  // namespace
}  // namespace kosapo::server
