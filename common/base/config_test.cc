#include "common/base/config.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo {
namespace {

using ::testing::HasSubstr;

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

ConfigSpec TestSpec() {
  ConfigSpec spec;
  spec.AddInt("port", "PORT", 50051, 0, 65535, "gRPC port")
      .AddString("db_url", "KOSAPO_DB_URL", "", "database URL",
                 ConfigSpec::StringOptions().Required().Secret())
      .AddString("log_level", "KOSAPO_LOG_LEVEL", "info", "log level",
                 ConfigSpec::StringOptions().OneOf(
                     {"debug", "info", "warning", "error"}))
      .AddBool("plaintext", "KOSAPO_PLAINTEXT", false, "no TLS")
      .AddDuration("drain", "KOSAPO_DRAIN", absl::Seconds(5),
                   absl::ZeroDuration(), "drain time");
  return spec;
}

TEST(ConfigSpec, UsesDefaultsWhenNothingIsSet) {
  auto config = TestSpec().Parse({"--db_url=postgresql://x"}, FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("port"), 50051);
  EXPECT_EQ(config->GetString("log_level"), "info");
  EXPECT_FALSE(config->GetBool("plaintext"));
  EXPECT_EQ(config->GetDuration("drain"), absl::Seconds(5));
}

TEST(ConfigSpec, EnvironmentOverridesDefaultAndFlagOverridesEnvironment) {
  auto from_env = TestSpec().Parse(
      {}, FakeEnv({{"PORT", "6000"}, {"KOSAPO_DB_URL", "postgresql://e"}}));
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->GetInt("port"), 6000);
  EXPECT_EQ(from_env->GetString("db_url"), "postgresql://e");

  auto from_flag = TestSpec().Parse(
      {"--port", "7000", "--db_url=postgresql://f"},
      FakeEnv({{"PORT", "6000"}, {"KOSAPO_DB_URL", "postgresql://e"}}));
  ASSERT_TRUE(from_flag.ok()) << from_flag.status();
  EXPECT_EQ(from_flag->GetInt("port"), 7000);
  EXPECT_EQ(from_flag->GetString("db_url"), "postgresql://f");
}

TEST(ConfigSpec, BadIntegerNamesFlagAndVariable) {
  auto config = TestSpec().Parse({"--db_url=x"}, FakeEnv({{"PORT", "abc"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("--port (env PORT)"));
  EXPECT_THAT(config.status().message(), HasSubstr("'abc'"));
}

TEST(ConfigSpec, OutOfRangeIntegerIsRejected) {
  auto config = TestSpec().Parse({"--db_url=x", "--port=70000"}, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("outside 0..65535"));
}

TEST(ConfigSpec, MissingRequiredSettingIsNamed) {
  auto config = TestSpec().Parse({}, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(
      config.status().message(),
      HasSubstr("missing required setting --db_url (env KOSAPO_DB_URL)"));
}

TEST(ConfigSpec, UnknownFlagIsRejected) {
  auto config = TestSpec().Parse({"--db_url=x", "--prot=1"}, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("unknown flag --prot"));
}

TEST(ConfigSpec, ValueOutsideAllowedSetIsRejected) {
  auto config =
      TestSpec().Parse({"--db_url=x"}, FakeEnv({{"KOSAPO_LOG_LEVEL", "loud"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("not one of debug, info"));
}

TEST(ConfigSpec, ParsesBooleansAndDurations) {
  auto config = TestSpec().Parse({"--db_url=x", "--plaintext", "--drain=250ms"},
                                 FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->GetBool("plaintext"));
  EXPECT_EQ(config->GetDuration("drain"), absl::Milliseconds(250));

  auto bad = TestSpec().Parse({"--db_url=x", "--drain=soon"}, FakeEnv({}));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--drain (env KOSAPO_DRAIN)"));
}

TEST(ConfigSpec, DescribeRedactsSecrets) {
  auto config =
      TestSpec().Parse({"--db_url=postgresql://u:hunter2@h/db"}, FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string described = config->Describe().dump();
  EXPECT_THAT(described, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(described, HasSubstr("<redacted>"));
  EXPECT_EQ(config->Describe()["port"]["source"], "default");
}

TEST(ConfigSpec, BadSecretValueIsNotEchoed) {
  ConfigSpec spec;
  spec.AddString("token", "TOKEN", "", "a secret",
                 ConfigSpec::StringOptions().Secret().OneOf({"a", "b"}));
  auto config = spec.Parse({"--token=s3cret"}, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), ::testing::Not(HasSubstr("s3cret")));
}

TEST(ConfigSpec, HelpIsReportedWithoutRequiringSettings) {
  auto config = TestSpec().Parse({"--help"}, FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->help_requested());
  EXPECT_THAT(TestSpec().Usage("svc"), HasSubstr("--port  [env PORT]"));
}

}  // namespace
}  // namespace kosapo
