#include "common/server/service_config.h"

#include <cstdlib>
#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::server {
namespace {

using ::testing::HasSubstr;

ServiceDescriptor Referral() {
  ServiceDescriptor descriptor;
  descriptor.name = "referral";
  descriptor.grpc_service_name = "kosapo.referral.v1.ReferralService";
  descriptor.default_schema = "referral";
  descriptor.default_port = 50053;
  descriptor.peers = {{"case", ""}};
  return descriptor;
}

absl::StatusOr<ServiceConfig> Load(std::map<std::string, std::string> env,
                                   std::vector<std::string> args = {},
                                   bool field_keys = false) {
  ServiceDescriptor descriptor = Referral();
  descriptor.field_keys = field_keys;
  auto config =
      ServiceConfigSpec(descriptor)
          .Parse(args,
                 [env](const std::string& name) -> std::optional<std::string> {
                   auto it = env.find(name);
                   if (it == env.end()) {
                     return std::nullopt;
                   }
                   return it->second;
                 });
  if (!config.ok()) {
    return config.status();
  }
  return LoadServiceConfig(descriptor, *config);
}

const std::map<std::string, std::string> kMinimal = {
    {"KOSAPO_DB_URL", "postgresql://kosapo_referral@db/kosapo"},
    {"KOSAPO_JWT_PUBLIC_KEY_FILE", "/keys/jwt.pub"},
    {"KOSAPO_CASE_ADDRESS", "case:50052"},
    {"KOSAPO_INSECURE_PLAINTEXT", "true"}};

TEST(ServiceConfig, MinimalEnvironmentGivesDefaults) {
  auto config = Load(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->port, 50053);
  EXPECT_EQ(config->db.schema, "referral");
  EXPECT_EQ(config->db.application_name, "kosapo-referral");
  EXPECT_EQ(config->max_threads, 32 * 8);
  EXPECT_EQ(config->peers.at("case"), "case:50052");
  EXPECT_EQ(config->jwt_algorithm, auth::Algorithm::kEs256);
}

TEST(ServiceConfig, MissingPeerAddressIsNamed) {
  auto env = kMinimal;
  env.erase("KOSAPO_CASE_ADDRESS");
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("--case_address (env KOSAPO_CASE_ADDRESS)"));
}

TEST(ServiceConfig, PeerAddressMustBeHostAndPort) {
  auto env = kMinimal;
  env["KOSAPO_CASE_ADDRESS"] = "case";
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("is not host:port"));
}

TEST(ServiceConfig, MissingDatabaseUrlIsNamed) {
  auto env = kMinimal;
  env.erase("KOSAPO_DB_URL");
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("KOSAPO_DB_URL"));
}

TEST(ServiceConfig, MigrationUrlNamesTheRoleToGrant) {
  auto env = kMinimal;
  EXPECT_EQ(Load(env)->migrations, MigrationMode::kApply);
  EXPECT_EQ(Load(env)->db_runtime_role, "");
  env["KOSAPO_DB_MIGRATION_URL"] =
      "postgresql://kosapo_referral_owner:pw@db/kosapo";
  auto config = Load(env);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->db_migration_url,
            "postgresql://kosapo_referral_owner:pw@db/kosapo");
  EXPECT_EQ(config->db_runtime_role, "kosapo_referral");

  env["KOSAPO_DB_URL"] = "postgresql://db/kosapo";
  config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("--db_url (KOSAPO_DB_URL) names no user"));

  env["KOSAPO_DB_URL"] = "postgresql://kosapo_referral:hunter2@db/k?bogus=1";
  config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("--db_url"));
  EXPECT_THAT(config.status().message(), ::testing::Not(HasSubstr("hunter2")));
}

TEST(ServiceConfig, CheckModeRefusesTheOwnersUrl) {
  auto env = kMinimal;
  env["KOSAPO_MIGRATIONS"] = "check";
  ASSERT_EQ(Load(env)->migrations, MigrationMode::kCheck);
  env["KOSAPO_DB_MIGRATION_URL"] = "postgresql://kosapo_referral_owner@db/k";
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("--migrations=check never migrates"));
  env["KOSAPO_MIGRATIONS"] = "later";
  EXPECT_THAT(Load(env).status().message(), HasSubstr("--migrations"));
}

TEST(ServiceConfig, MigrateOnlyNeedsNoTls) {
  auto env = kMinimal;
  env.erase("KOSAPO_INSECURE_PLAINTEXT");
  EXPECT_FALSE(Load(env).ok());
  auto config = Load(env, {"--migrate_only"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->migrate_only);
}

TEST(ServiceConfig, MigrateOnlyNeedsNoFieldKeys) {
  // The init container migrates as the owner role; it is given neither
  // the keys nor a certificate.
  auto env = kMinimal;
  env.erase("KOSAPO_INSECURE_PLAINTEXT");
  auto config = Load(env, {"--migrate_only"}, true);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->field_cipher, nullptr);
  EXPECT_FALSE(Load(env, {}, true).ok());
}

TEST(ServiceConfig, RejectsUnknownTokenAlgorithm) {
  auto env = kMinimal;
  env["KOSAPO_JWT_ALGORITHM"] = "HS256";
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("--jwt_algorithm"));
}

TEST(ServiceConfig, FlagsWinOverEnvironment) {
  auto env = kMinimal;
  env["PORT"] = "6000";
  auto config = Load(env, {"--port=7000", "--db_pool_size=3"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->port, 7000);
  EXPECT_EQ(config->db.size, 3);
  EXPECT_EQ(config->max_threads, 32 * 3);
}

TEST(ServiceConfig, TlsIsRequiredAndMissingFilesAreNamed) {
  auto env = kMinimal;
  env.erase("KOSAPO_INSECURE_PLAINTEXT");
  env["KOSAPO_TLS_KEY_FILE"] = "/tls/tls.key";
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(),
              HasSubstr("missing required setting --tls_cert_file, "
                        "--tls_ca_file"));
  EXPECT_THAT(config.status().message(), HasSubstr("--insecure_plaintext"));
}

TEST(ServiceConfig, FieldKeysAreRequiredAndCheckedAtStart) {
  auto missing = Load(kMinimal, {}, true);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("missing required setting --field_keys_dir (env "
                        "KOSAPO_FIELD_KEYS_DIR)"));
  EXPECT_THAT(missing.status().message(),
              HasSubstr("--insecure_plaintext_fields"));

  const std::string dir = ::testing::TempDir() + "/cfg-field-keys";
  ASSERT_TRUE(crypto::WriteRandomKeyFile(dir, "k1").ok());
  auto env = kMinimal;
  env["KOSAPO_FIELD_KEYS_DIR"] = dir;
  auto no_id = Load(env, {}, true);
  EXPECT_THAT(no_id.status().message(),
              HasSubstr("--field_key_id (env KOSAPO_FIELD_KEY_ID)"));
  env["KOSAPO_FIELD_KEY_ID"] = "k2";
  auto unknown = Load(env, {}, true);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("'k2' has no file k2.key"));
  env["KOSAPO_FIELD_KEY_ID"] = "k1";
  auto keyed = Load(env, {}, true);
  ASSERT_TRUE(keyed.ok()) << keyed.status();
  EXPECT_TRUE(keyed->field_cipher->encrypts());
  EXPECT_FALSE(keyed->insecure_plaintext_fields);

  env["KOSAPO_INSECURE_PLAINTEXT_FIELDS"] = "true";
  EXPECT_THAT(Load(env, {}, true).status().message(), HasSubstr("contradicts"));
  auto plaintext = kMinimal;
  plaintext["KOSAPO_INSECURE_PLAINTEXT_FIELDS"] = "true";
  auto development = Load(plaintext, {}, true);
  ASSERT_TRUE(development.ok()) << development.status();
  EXPECT_FALSE(development->field_cipher->encrypts());
  EXPECT_TRUE(development->insecure_plaintext_fields);
  // Services that hold no free text take none of these settings.
  EXPECT_TRUE(Load(kMinimal).ok());
  EXPECT_EQ(Load(kMinimal)->field_cipher, nullptr);
}

TEST(ServiceConfig, UnreadableOrNonPemTlsFileIsNamed) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/cfg-cert.pem")
      << "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
  std::ofstream(dir + "/cfg-key.pem") << "not a key\n";
  auto env = kMinimal;
  env.erase("KOSAPO_INSECURE_PLAINTEXT");
  env["KOSAPO_TLS_CERT_FILE"] = dir + "/cfg-cert.pem";
  env["KOSAPO_TLS_KEY_FILE"] = dir + "/cfg-key.pem";
  env["KOSAPO_TLS_CA_FILE"] = dir + "/cfg-cert.pem";
  auto config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("--tls_key_file: '" + dir +
                        "/cfg-key.pem' holds no PEM PRIVATE KEY"));
  env["KOSAPO_TLS_KEY_FILE"] = dir + "/no-such-key.pem";
  config = Load(env);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("cannot read --tls_key_file"));
}

TEST(ServiceConfig, TlsFilesAndRefreshIntervalAreRead) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/cfg2-cert.pem")
      << "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
  std::ofstream(dir + "/cfg2-key.pem")
      << "-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----\n";
  auto env = kMinimal;
  env.erase("KOSAPO_INSECURE_PLAINTEXT");
  env["KOSAPO_TLS_CERT_FILE"] = dir + "/cfg2-cert.pem";
  env["KOSAPO_TLS_KEY_FILE"] = dir + "/cfg2-key.pem";
  env["KOSAPO_TLS_CA_FILE"] = dir + "/cfg2-cert.pem";
  env["KOSAPO_TLS_REFRESH_INTERVAL"] = "5s";
  env["KOSAPO_HEALTH_PORT"] = "8453";
  auto config = Load(env);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->insecure_plaintext);
  EXPECT_EQ(config->tls.key_file, dir + "/cfg2-key.pem");
  EXPECT_EQ(config->tls.refresh_interval, absl::Seconds(5));
  EXPECT_EQ(config->health_port, 8453);
}

}  // namespace
}  // namespace kosapo::server
