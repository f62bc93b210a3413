// Least privilege in the database: once the four services have started
// (migrated by their owner roles, serving as their runtime roles), each
// runtime role can use its own tables, only append to audit and history
// tables, create nothing and reach no other service's schema; a later start
// grants again, covering tables a migration added; --migrations=check
// starts only when every migration is applied.
#include <map>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/pg/migrations.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/case/case_server.h"
#include "tests/security/four_services.h"

namespace kosapo::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::vector<std::string> kServices = {"screening", "case", "referral",
                                            "reporting"};

// The message of the privilege error `sql` raises as `url`'s role; "" if it
// succeeds. Other errors fail the test.
std::string DeniedAs(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection connection(url);
    pqxx::nontransaction tx(connection);
    tx.exec(sql);
    return "";
  } catch (const pqxx::insufficient_privilege& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << sql << ": " << error.what();
    return error.what();
  }
}

bool Privilege(pqxx::nontransaction& tx, const std::string& sql) {
  return tx.exec1(sql)[0].as<bool>();
}

class LeastPrivilegeTest : public FourServicesTest {};

TEST_F(LeastPrivilegeTest, EachRuntimeRoleHasItsOwnTablesAndNoMore) {
  pqxx::connection admin(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(admin);
  int append_only = 0;
  int secrets = 0;
  for (const std::string& service : kServices) {
    SCOPED_TRACE(service);
    const std::string role = tx.quote("kosapo_" + service);
    const std::string schema = ServiceSchema(service);
    EXPECT_EQ(tx.exec1("SELECT nspowner::regrole::text FROM pg_namespace"
                       " WHERE nspname = " +
                       tx.quote(schema))[0]
                  .as<std::string>(),
              "kosapo_" + service + "_owner");
    EXPECT_TRUE(
        Privilege(tx, absl::StrCat("SELECT has_schema_privilege(", role, ", ",
                                   tx.quote(schema), ", 'USAGE')")));
    EXPECT_FALSE(
        Privilege(tx, absl::StrCat("SELECT has_schema_privilege(", role, ", ",
                                   tx.quote(schema), ", 'CREATE')")));
    for (const std::string& other : kServices) {
      if (other != service) {
        EXPECT_FALSE(Privilege(
            tx, absl::StrCat("SELECT has_schema_privilege(", role, ", ",
                             tx.quote(ServiceSchema(other)), ", 'USAGE')")))
            << other;
      }
    }
    const pqxx::result tables = tx.exec(
        "SELECT tablename, tableowner FROM pg_tables"
        " WHERE schemaname = " +
        tx.quote(schema));
    ASSERT_GT(tables.size(), 3u);
    for (const auto& row : tables) {
      const std::string table = row[0].as<std::string>();
      SCOPED_TRACE(table);
      EXPECT_EQ(row[1].as<std::string>(), "kosapo_" + service + "_owner");
      auto has = [&](const char* privilege) {
        return Privilege(
            tx, absl::StrCat("SELECT has_table_privilege(", role, ", ",
                             tx.quote(absl::StrCat(schema, ".", table)), ", ",
                             tx.quote(privilege), ")"));
      };
      const bool secret = pg::IsOwnerOnlyTable(table);
      const bool rewritable = table != "schema_migrations" &&
                              !pg::IsAppendOnlyTable(table) && !secret;
      append_only += pg::IsAppendOnlyTable(table) ? 1 : 0;
      secrets += secret ? 1 : 0;
      EXPECT_EQ(has("SELECT"), !secret);
      EXPECT_EQ(has("INSERT"), table != "schema_migrations" && !secret);
      EXPECT_EQ(has("UPDATE"), rewritable);
      EXPECT_EQ(has("DELETE"), rewritable);
      EXPECT_FALSE(has("TRUNCATE"));
      EXPECT_FALSE(has("REFERENCES"));
      EXPECT_FALSE(has("TRIGGER"));
    }
  }
  // case_audit, access_audit, sheet_history, decision_history at least.
  EXPECT_GE(append_only, 4);
  // The keys of the id permutations (platform migration 0002, in every
  // service's schema; reporting has one and uses none).
  EXPECT_EQ(secrets, 4);
}

// Ids are a keyed permutation of each sequence (kosapo_conceal_id, platform
// migration 0002, used by case, referral and screening): the runtime role gets
// ids through the column defaults, which call the owner's SECURITY DEFINER
// function, but it never reads the key, and nobody else calls the function.
TEST_F(LeastPrivilegeTest, OnlyTheOwnerReadsTheKeyOfTheIdPermutation) {
  pqxx::connection admin(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(admin);
  for (const char* service : {"case", "referral", "screening"}) {
    SCOPED_TRACE(service);
    const std::string schema = ServiceSchema(service);
    const std::string url = SharedPgCluster().ServiceUrl(service);
    EXPECT_THAT(DeniedAs(url, "SELECT secret FROM id_permutation_secret"),
                HasSubstr("permission denied for table id_permutation_secret"));
    EXPECT_THAT(DeniedAs(url, "UPDATE id_permutation_secret SET secret = ''"),
                HasSubstr("permission denied for table id_permutation_secret"));
    EXPECT_EQ(DeniedAs(url, "SELECT kosapo_conceal_id(1)"), "");
    const pqxx::row function = tx.exec1(
        "SELECT p.prosecdef, p.provolatile, p.proowner::regrole::text,"
        "       array_to_string(p.proconfig, ','),"
        "       has_function_privilege('public', p.oid, 'EXECUTE'),"
        "       has_function_privilege(" +
        tx.quote(absl::StrCat("kosapo_", service)) +
        ", p.oid, 'EXECUTE')"
        "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = " +
        tx.quote(schema) + " AND p.proname = 'kosapo_conceal_id'");
    EXPECT_TRUE(function[0].as<bool>());
    EXPECT_EQ(function[2].as<std::string>(),
              absl::StrCat("kosapo_", service, "_owner"));
    EXPECT_EQ(function[3].as<std::string>(),
              absl::StrCat("search_path=", schema, ", pg_temp"));
    EXPECT_FALSE(function[4].as<bool>());
    EXPECT_TRUE(function[5].as<bool>());
    // The secret: 32 bytes drawn at migration time, one row.
    EXPECT_EQ(tx.exec1("SELECT count(*), min(length(secret)) FROM " + schema +
                       ".id_permutation_secret")[0]
                  .as<int>(),
              1);
  }
  // A key per service: the same sequence value gives other ids.
  auto conceal_one = [&tx](const std::string& service) {
    return tx
        .exec1(absl::StrCat("SELECT ", ServiceSchema(service),
                            ".kosapo_conceal_id(1)"))[0]
        .as<int64_t>();
  };
  EXPECT_NE(conceal_one("case"), conceal_one("referral"));
}

TEST_F(LeastPrivilegeTest, RuntimeRoleAppendsToAuditTablesButCannotRewrite) {
  const std::string cases = SharedPgCluster().ServiceUrl("case");
  EXPECT_EQ(DeniedAs(cases,
                     "INSERT INTO case_audit (case_id, subject, role, method,"
                     " access) VALUES (0, 'probe', 'probe', 'probe', 'read')"),
            "");
  EXPECT_EQ(DeniedAs(cases, "SELECT count(*) FROM case_audit"), "");
  for (const char* sql : {"UPDATE case_audit SET subject = 'x'",
                          "DELETE FROM case_audit", "TRUNCATE case_audit"}) {
    EXPECT_THAT(DeniedAs(cases, sql),
                HasSubstr("permission denied for table case_audit"))
        << sql;
  }
  const std::string referral = SharedPgCluster().ServiceUrl("referral");
  EXPECT_EQ(
      DeniedAs(referral,
               "INSERT INTO access_audit (resource, subject, role,"
               " method, access, request_id)"
               " VALUES ('probe', 'probe', 'probe', 'probe', 'read', '')"),
      "");
  for (const char* sql :
       {"UPDATE access_audit SET subject = 'x'", "DELETE FROM access_audit",
        "TRUNCATE access_audit"}) {
    EXPECT_THAT(DeniedAs(referral, sql),
                HasSubstr("permission denied for table access_audit"))
        << sql;
  }
}

TEST_F(LeastPrivilegeTest, RuntimeRoleUsesItsTablesButCreatesNothing) {
  const std::string url = SharedPgCluster().ServiceUrl("case");
  EXPECT_EQ(DeniedAs(url,
                     "INSERT INTO consumer_checkpoints (source, last_sequence)"
                     " VALUES ('least_privilege_probe', 0);"
                     "UPDATE consumer_checkpoints SET last_sequence = 1"
                     " WHERE source = 'least_privilege_probe';"
                     "SELECT * FROM consumer_checkpoints;"
                     "DELETE FROM consumer_checkpoints"
                     " WHERE source = 'least_privilege_probe'"),
            "");
  EXPECT_THAT(DeniedAs(url, "CREATE TABLE cases.intruder (id int)"),
              HasSubstr("permission denied for schema cases"));
  EXPECT_THAT(DeniedAs(url, "ALTER TABLE cases.cases ADD COLUMN x int"),
              HasSubstr("must be owner"));
  EXPECT_THAT(DeniedAs(url, "DELETE FROM schema_migrations"),
              HasSubstr("permission denied for table schema_migrations"));
  EXPECT_THAT(DeniedAs(url, "SELECT * FROM referral.access_audit"),
              HasSubstr("permission denied for schema referral"));
  EXPECT_THAT(DeniedAs(url, "SELECT * FROM screening.sheets"),
              HasSubstr("permission denied for schema screening"));
}

TEST_F(LeastPrivilegeTest, OwnerMigratesAndTheNextStartGrantsTheNewTables) {
  // A migration of a later version, run by the owner alone.
  ASSERT_THAT(pg::Migrate(SharedPgCluster().OwnerUrl("case"), "cases",
                          {{"least_privilege",
                            {{1, "0001_probe.sql",
                              "CREATE TABLE lp_probe (id int);"
                              "CREATE TABLE lp_probe_audit (id int);"}}}}),
              IsOk());
  const std::string url = SharedPgCluster().ServiceUrl("case");
  EXPECT_THAT(DeniedAs(url, "INSERT INTO lp_probe VALUES (1)"),
              HasSubstr("permission denied for table lp_probe"));

  // A second replica starts beside the running one and grants again.
  auto replica =
      InProcessService::Start(cases::Definition(), SharedPgCluster(), *tokens_,
                              SharedPgCluster().data_dir());
  ASSERT_THAT(replica.status(), IsOk());
  EXPECT_EQ(DeniedAs(url, "INSERT INTO lp_probe VALUES (1)"), "");
  EXPECT_EQ(DeniedAs(url, "INSERT INTO lp_probe_audit VALUES (1)"), "");
  EXPECT_THAT(DeniedAs(url, "DELETE FROM lp_probe_audit"),
              HasSubstr("permission denied for table lp_probe_audit"));
  // The owner is held back by the trigger instead.
  pqxx::connection owner(SharedPgCluster().OwnerUrl("case"));
  pqxx::nontransaction tx(owner);
  try {
    tx.exec("DELETE FROM lp_probe_audit");
    ADD_FAILURE() << "the owner deleted from an audit table";
  } catch (const pqxx::sql_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("lp_probe_audit is append-only"));
  }
}

TEST_F(LeastPrivilegeTest, CheckModeStartsOnlyWhenEveryMigrationIsApplied) {
  server::ServiceDefinition newer = cases::Definition();
  newer.migrations.push_back(
      {"least_privilege_check",
       {{1, "0001_check.sql", "CREATE TABLE lp_check (id int);"}}});
  const std::map<std::string, std::string> check = {
      {"KOSAPO_MIGRATIONS", "check"}, {"KOSAPO_DB_MIGRATION_URL", ""}};

  auto refused = InProcessService::Start(newer, SharedPgCluster(), *tokens_,
                                         SharedPgCluster().data_dir(), check);
  EXPECT_THAT(
      refused.status(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("--migrations=check"),
                     HasSubstr("least_privilege_check/0001_check.sql is not "
                               "applied"))));
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    EXPECT_TRUE(
        tx.exec1("SELECT to_regclass('cases.lp_check') IS NULL")[0].as<bool>());
  }

  auto applied = InProcessService::Start(newer, SharedPgCluster(), *tokens_,
                                         SharedPgCluster().data_dir());
  ASSERT_THAT(applied.status(), IsOk());
  auto checked = InProcessService::Start(newer, SharedPgCluster(), *tokens_,
                                         SharedPgCluster().data_dir(), check);
  EXPECT_THAT(checked.status(), IsOk());
}

}  // namespace
}  // namespace kosapo::testing
