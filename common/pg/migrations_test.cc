#include "common/pg/migrations.h"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <thread>

#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::pg {
namespace {

using ::kosapo::testing::IsOk;
using ::kosapo::testing::SharedPgCluster;
using ::kosapo::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Each test migrates a schema of its own, owned by the screening owner role.
class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = std::string("mig_") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : schema_) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE SCHEMA " + tx.quote_name(schema_) +
             " AUTHORIZATION kosapo_screening_owner");
  }

  int CountRows(const std::string& table) {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    return tx
        .exec1("SELECT count(*) FROM " + tx.quote_name(schema_) + "." +
               tx.quote_name(table))[0]
        .as<int>();
  }

  bool TableExists(const std::string& table) {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    return !tx.exec_params(
                  "SELECT 1 FROM pg_tables WHERE schemaname = $1 "
                  "AND tablename = $2",
                  schema_, table)
                .empty();
  }

  absl::StatusOr<MigrationReport> Run(const std::vector<MigrationSet>& sets,
                                      const MigrateOptions& options = {}) {
    return Migrate(SharedPgCluster().OwnerUrl("screening"), schema_, sets,
                   options);
  }

  // Runs `sql` as the screening runtime role, with this test's schema first
  // on the search path; returns the error's message, or "" if it succeeded.
  std::string AsRuntime(const std::string& sql) {
    return ExecAs(SharedPgCluster().ServiceUrl("screening"), sql);
  }
  std::string AsOwner(const std::string& sql) {
    return ExecAs(SharedPgCluster().OwnerUrl("screening"), sql);
  }
  std::string ExecAs(const std::string& url, const std::string& sql) {
    try {
      pqxx::connection connection(url);
      pqxx::nontransaction tx(connection);
      tx.exec0("SET search_path TO " + tx.quote_name(schema_));
      tx.exec(sql);
      return "";
    } catch (const pqxx::insufficient_privilege& error) {
      return std::string("42501 ") + error.what();
    } catch (const pqxx::sql_error& error) {
      return error.what();
    }
  }

  std::string schema_;
};

const MigrationSet kPlatform{
    "platform", {{1, "0001_events.sql", "CREATE TABLE events (id int);"}}};

TEST_F(MigrateTest, AppliesPendingMigrationsInOrderOnce) {
  const MigrationSet service{
      "screening",
      {{1, "0001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);"},
       {2, "0002_b.sql", "CREATE TABLE b (a_id int REFERENCES a (id));"}}};
  ASSERT_OK_AND_ASSIGN(auto first, Run({kPlatform, service}));
  EXPECT_THAT(first.applied,
              ElementsAre("platform/0001_events.sql", "screening/0001_a.sql",
                          "screening/0002_b.sql"));
  EXPECT_TRUE(TableExists("a"));
  EXPECT_TRUE(TableExists("b"));
  EXPECT_TRUE(TableExists("events"));
  EXPECT_EQ(CountRows("schema_migrations"), 3);

  ASSERT_OK_AND_ASSIGN(auto second, Run({kPlatform, service}));
  EXPECT_THAT(second.applied, IsEmpty());
  EXPECT_EQ(CountRows("schema_migrations"), 3);
}

TEST_F(MigrateTest, NewMigrationIsAppliedOnTopOfExistingOnes) {
  MigrationSet service{"screening",
                       {{1, "0001_a.sql", "CREATE TABLE a (id int);"}}};
  ASSERT_THAT(Run({service}), IsOk());
  service.migrations.push_back({2, "0002_c.sql", "CREATE TABLE c (id int);"});
  ASSERT_OK_AND_ASSIGN(auto report, Run({service}));
  EXPECT_THAT(report.applied, ElementsAre("screening/0002_c.sql"));
}

TEST_F(MigrateTest, EditedAppliedMigrationStopsWithClearError) {
  ASSERT_THAT(
      Run({{"screening", {{1, "0001_a.sql", "CREATE TABLE a (id int);"}}}}),
      IsOk());
  auto edited =
      Run({{"screening", {{1, "0001_a.sql", "CREATE TABLE a (id bigint);"}}}});
  EXPECT_THAT(edited, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("screening/0001_a.sql was changed")));
}

TEST_F(MigrateTest, FailingMigrationLeavesNothingHalfWritten) {
  auto result =
      Run({{"screening",
            {{1, "0001_ok.sql", "CREATE TABLE ok (id int);"},
             {2, "0002_bad.sql",
              "CREATE TABLE half (id int); SELECT * FROM missing;"}}}});
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("screening/0002_bad.sql failed")));
  EXPECT_TRUE(TableExists("ok"));
  EXPECT_FALSE(TableExists("half"));
  EXPECT_EQ(CountRows("schema_migrations"), 1);
}

TEST_F(MigrateTest, ConcurrentStartsApplyEachMigrationOnce) {
  const MigrationSet service{
      "screening",
      {{1, "0001_a.sql", "CREATE TABLE a (id int); SELECT pg_sleep(0.2);"}}};
  absl::StatusOr<MigrationReport> one, two;
  std::thread first([&] { one = Run({service}); });
  std::thread second([&] { two = Run({service}); });
  first.join();
  second.join();
  ASSERT_THAT(one, IsOk());
  ASSERT_THAT(two, IsOk());
  EXPECT_EQ(one->applied.size() + two->applied.size(), 1u);
  EXPECT_EQ(CountRows("schema_migrations"), 1);
}

TEST_F(MigrateTest, RecordedMigrationUnknownToBinaryIsReported) {
  ASSERT_THAT(Run({{"screening",
                    {{1, "0001_a.sql", "CREATE TABLE a (id int);"},
                     {2, "0002_b.sql", "CREATE TABLE b (id int);"}}}}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(
      auto report,
      Run({{"screening", {{1, "0001_a.sql", "CREATE TABLE a (id int);"}}}}));
  EXPECT_THAT(report.unknown, ElementsAre("screening/0002_b.sql"));
}

const MigrationSet kLedger{
    "screening",
    {{1, "0001_ledger.sql",
      "CREATE TABLE entries (id bigserial PRIMARY KEY, note text);"
      "CREATE TABLE ledger_audit (id bigserial PRIMARY KEY, note text);"
      "CREATE TABLE entry_history (id int, note text);"}}};

constexpr char kPermissionDenied[] = "42501 ERROR:  permission denied";

TEST_F(MigrateTest, RuntimeRoleGetsItsTablesAndNoMore) {
  ASSERT_OK_AND_ASSIGN(auto report, Run({kLedger}, {"kosapo_screening"}));
  EXPECT_TRUE(report.granted);

  EXPECT_EQ(AsRuntime("INSERT INTO entries (note) VALUES ('a')"), "");
  EXPECT_EQ(AsRuntime("UPDATE entries SET note = 'b'"), "");
  EXPECT_EQ(AsRuntime("SELECT * FROM entries"), "");
  EXPECT_EQ(AsRuntime("DELETE FROM entries"), "");
  EXPECT_THAT(AsRuntime("TRUNCATE entries"), HasSubstr(kPermissionDenied));
  EXPECT_THAT(AsRuntime("CREATE TABLE intruder (id int)"),
              HasSubstr(kPermissionDenied));
  EXPECT_THAT(AsRuntime("ALTER TABLE entries ADD COLUMN x int"),
              HasSubstr("42501 ERROR:  must be owner"));
  EXPECT_EQ(AsRuntime("SELECT * FROM schema_migrations"), "");
  EXPECT_THAT(AsRuntime("DELETE FROM schema_migrations"),
              HasSubstr(kPermissionDenied));
}

TEST_F(MigrateTest, AppendOnlyTablesTakeInsertsOnly) {
  ASSERT_THAT(Run({kLedger}, {"kosapo_screening"}), IsOk());
  for (const std::string table : {"ledger_audit", "entry_history"}) {
    SCOPED_TRACE(table);
    EXPECT_EQ(AsRuntime("INSERT INTO " + table + " (note) VALUES ('a')"), "");
    EXPECT_EQ(AsRuntime("SELECT * FROM " + table), "");
    // The runtime role is stopped by its privileges...
    EXPECT_THAT(AsRuntime("UPDATE " + table + " SET note = 'b'"),
                HasSubstr(kPermissionDenied));
    EXPECT_THAT(AsRuntime("DELETE FROM " + table),
                HasSubstr(kPermissionDenied));
    EXPECT_THAT(AsRuntime("TRUNCATE " + table), HasSubstr(kPermissionDenied));
    // ...and the owner, which has them all, by the trigger.
    EXPECT_THAT(AsOwner("UPDATE " + table + " SET note = 'b'"),
                HasSubstr("is append-only"));
    EXPECT_THAT(AsOwner("DELETE FROM " + table), HasSubstr("is append-only"));
    EXPECT_THAT(AsOwner("TRUNCATE " + table), HasSubstr("is append-only"));
  }
  EXPECT_EQ(CountRows("ledger_audit"), 1);
  EXPECT_EQ(CountRows("entry_history"), 1);
}

// The erasure function of a service's retention: defined by its owner,
// SECURITY DEFINER, search_path pinned, the erasure setting on around its
// statement.
const Migration kEraseFunction{
    2, "0002_erase.sql",
    "CREATE FUNCTION blank_history() RETURNS void LANGUAGE plpgsql"
    " SECURITY DEFINER SET search_path FROM CURRENT AS $$ BEGIN"
    "  PERFORM set_config('kosapo.append_only_erasure', 'on', true);"
    "  UPDATE entry_history SET note = '';"
    "  PERFORM set_config('kosapo.append_only_erasure', 'off', true);"
    " END $$;"};

TEST_F(MigrateTest, AppendOnlyTablesTakeTheOwnersErasureFunctionOnly) {
  MigrationSet service = kLedger;
  service.migrations.push_back(kEraseFunction);
  ASSERT_THAT(Run({service}, {"kosapo_screening"}), IsOk());
  EXPECT_EQ(AsRuntime("INSERT INTO entry_history (note) VALUES ('a')"), "");

  // The runtime role may call the function, which blanks the rows.
  EXPECT_EQ(AsRuntime("SELECT blank_history()"), "");
  EXPECT_EQ(CountRows("entry_history"), 1);
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    EXPECT_EQ(tx.exec1("SELECT note FROM " + tx.quote_name(schema_) +
                       ".entry_history")[0]
                  .as<std::string>(),
              "");
  }
  // Setting the variable does not make the runtime role the owner; the
  // owner without it is stopped; with it, only UPDATE goes through.
  EXPECT_THAT(AsRuntime("SET kosapo.append_only_erasure = 'on';"
                        "UPDATE entry_history SET note = 'b'"),
              HasSubstr(kPermissionDenied));
  EXPECT_THAT(AsOwner("UPDATE entry_history SET note = 'b'"),
              HasSubstr("is append-only"));
  EXPECT_THAT(AsOwner("SET kosapo.append_only_erasure = 'on';"
                      "DELETE FROM entry_history"),
              HasSubstr("is append-only"));
  EXPECT_THAT(AsOwner("SET kosapo.append_only_erasure = 'on';"
                      "TRUNCATE entry_history"),
              HasSubstr("is append-only"));
  // Were the runtime role granted UPDATE by hand, the trigger would still
  // stop it: the setting lets only the owner through.
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("GRANT UPDATE ON " + tx.quote_name(schema_) +
             ".entry_history TO kosapo_screening");
  }
  EXPECT_THAT(AsRuntime("SET kosapo.append_only_erasure = 'on';"
                        "UPDATE entry_history SET note = 'b'"),
              HasSubstr("is append-only"));
  EXPECT_EQ(CountRows("entry_history"), 1);
  // The function's setting ends with its call.
  EXPECT_THAT(AsOwner("SELECT blank_history();"
                      "UPDATE entry_history SET note = 'c'"),
              HasSubstr("is append-only"));
}

// A secret a migration draws (such as the key of the id permutation,
// services/case/migrations/0005) is read by the owner's SECURITY DEFINER
// function only: the runtime role gets nothing on a `*_secret` table, not
// even when it was granted by hand, yet uses the secret through the
// function.
TEST_F(MigrateTest, SecretTablesAreTheOwnersAlone) {
  MigrationSet service = kLedger;
  service.migrations.push_back(
      {2, "0002_secret.sql",
       "CREATE TABLE pepper_secret (value text NOT NULL);"
       "INSERT INTO pepper_secret VALUES ('salt');"
       "CREATE FUNCTION peppered(t text) RETURNS text LANGUAGE sql"
       " STABLE SECURITY DEFINER SET search_path FROM CURRENT"
       " AS $$ SELECT t || value FROM pepper_secret $$;"});
  const MigrateOptions options{"kosapo_screening"};
  ASSERT_THAT(Run({service}, options), IsOk());
  EXPECT_TRUE(IsOwnerOnlyTable("pepper_secret"));
  EXPECT_FALSE(IsOwnerOnlyTable("secrets"));
  for (const char* sql :
       {"SELECT * FROM pepper_secret", "INSERT INTO pepper_secret VALUES ('x')",
        "UPDATE pepper_secret SET value = ''", "DELETE FROM pepper_secret"}) {
    EXPECT_THAT(AsRuntime(sql), HasSubstr(kPermissionDenied)) << sql;
  }
  EXPECT_EQ(AsRuntime("SELECT peppered('a')"), "");
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("GRANT SELECT ON " + tx.quote_name(schema_) +
             ".pepper_secret TO kosapo_screening");
  }
  EXPECT_EQ(AsRuntime("SELECT * FROM pepper_secret"), "");
  ASSERT_THAT(Run({service}, options), IsOk());
  EXPECT_THAT(AsRuntime("SELECT * FROM pepper_secret"),
              HasSubstr(kPermissionDenied));
}

TEST_F(MigrateTest, DefinerFunctionWithoutPinnedSearchPathIsNotGranted) {
  MigrationSet service = kLedger;
  service.migrations.push_back(
      {2, "0002_loose.sql",
       "CREATE FUNCTION loose() RETURNS void LANGUAGE sql"
       " SECURITY DEFINER AS $$ SELECT 1 $$;"});
  EXPECT_THAT(Run({service}, {"kosapo_screening"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(".loose has no SET search_path")));
  // The grant step granted nothing: the runtime role cannot reach it.
  EXPECT_THAT(AsRuntime("SELECT " + schema_ + ".loose()"),
              HasSubstr("permission denied for schema"));
}

TEST_F(MigrateTest, EveryRunGrantsAgainAndCoversNewTables) {
  MigrationSet service = kLedger;
  const MigrateOptions options{"kosapo_screening"};
  ASSERT_THAT(Run({service}, options), IsOk());
  {
    // Privileges given by hand beyond the promised ones are taken back.
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("GRANT TRUNCATE, UPDATE ON " + tx.quote_name(schema_) +
             ".ledger_audit TO kosapo_screening");
    tx.exec0("GRANT CREATE ON SCHEMA " + tx.quote_name(schema_) +
             " TO kosapo_screening");
  }
  service.migrations.push_back(
      {2, "0002_more.sql",
       "CREATE TABLE more (id int); CREATE TABLE more_audit (id int);"});
  ASSERT_OK_AND_ASSIGN(auto second, Run({service}, options));
  EXPECT_THAT(second.applied, ElementsAre("screening/0002_more.sql"));
  EXPECT_TRUE(second.granted);
  EXPECT_EQ(AsRuntime("INSERT INTO more VALUES (1)"), "");
  EXPECT_EQ(AsRuntime("INSERT INTO more_audit VALUES (1)"), "");
  EXPECT_THAT(AsRuntime("DELETE FROM more_audit"),
              HasSubstr(kPermissionDenied));
  EXPECT_THAT(AsRuntime("TRUNCATE ledger_audit"), HasSubstr(kPermissionDenied));
  EXPECT_THAT(AsRuntime("CREATE TABLE intruder (id int)"),
              HasSubstr(kPermissionDenied));

  // A start with nothing to apply grants the same again.
  ASSERT_OK_AND_ASSIGN(auto third, Run({service}, options));
  EXPECT_THAT(third.applied, IsEmpty());
  EXPECT_TRUE(third.granted);
  EXPECT_EQ(AsRuntime("INSERT INTO entries (note) VALUES ('c')"), "");
  EXPECT_THAT(AsRuntime("UPDATE ledger_audit SET note = 'x'"),
              HasSubstr(kPermissionDenied));
}

TEST_F(MigrateTest, NoGrantsWhenTheMigratingRoleIsTheRuntimeRole) {
  ASSERT_OK_AND_ASSIGN(auto report, Run({kLedger}, {"kosapo_screening_owner"}));
  EXPECT_FALSE(report.granted);
  // The trigger still guards the append-only tables.
  EXPECT_THAT(AsOwner("DELETE FROM ledger_audit"), HasSubstr("append-only"));
  EXPECT_THAT(AsRuntime("SELECT * FROM " + schema_ + ".entries"),
              HasSubstr(kPermissionDenied));
}

TEST_F(MigrateTest, RuntimeRoleThatIsAMemberOfTheOwnerIsRefused) {
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("DROP ROLE IF EXISTS mig_member_probe");
    tx.exec0("CREATE ROLE mig_member_probe IN ROLE kosapo_screening_owner");
  }
  EXPECT_THAT(Run({kLedger}, {"mig_member_probe"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'mig_member_probe' is a member of "
                                 "'kosapo_screening_owner'")));
  EXPECT_THAT(Run({kLedger}, {"no_such_role"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("granting to runtime role 'no_such_role'")));
}

TEST_F(MigrateTest, CheckChangesNothingAndNamesWhatIsMissing) {
  const std::string runtime = SharedPgCluster().ServiceUrl("screening");
  EXPECT_THAT(CheckMigrated(SharedPgCluster().OwnerUrl("screening"), schema_,
                            {kLedger}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("never migrated")));
  EXPECT_FALSE(TableExists("schema_migrations"));
  // Not yet granted anything, the runtime role cannot even look.
  EXPECT_THAT(CheckMigrated(runtime, schema_, {kLedger}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("permission denied for schema")));

  ASSERT_THAT(Run({kLedger}, {"kosapo_screening"}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto report, CheckMigrated(runtime, schema_, {kLedger}));
  EXPECT_THAT(report.applied, IsEmpty());

  MigrationSet newer = kLedger;
  newer.migrations.push_back({2, "0002_new.sql", "CREATE TABLE n (id int);"});
  EXPECT_THAT(CheckMigrated(runtime, schema_, {newer}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("screening/0002_new.sql is not applied")));
  EXPECT_FALSE(TableExists("n"));

  MigrationSet edited = kLedger;
  edited.migrations[0].sql = "CREATE TABLE entries (id int);";
  EXPECT_THAT(CheckMigrated(runtime, schema_, {edited}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("screening/0001_ledger.sql was changed")));

  // An older binary (rolled back) passes, and is told what it does not know.
  ASSERT_THAT(Run({newer}, {"kosapo_screening"}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto older, CheckMigrated(runtime, schema_, {kLedger}));
  EXPECT_THAT(older.unknown, ElementsAre("screening/0002_new.sql"));
}

TEST_F(MigrateTest, SchemaOwnedByAnotherRoleIsNamed) {
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("ALTER SCHEMA " + tx.quote_name(schema_) +
             " OWNER TO kosapo_screening");
  }
  EXPECT_THAT(Run({kLedger}, {"kosapo_screening"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is owned by 'kosapo_screening', not by the "
                                 "migrating role 'kosapo_screening_owner'")));
  EXPECT_FALSE(TableExists("schema_migrations"));
}

TEST(ConnectionUser, ReadsTheUserOfAUrlOrKeywordString) {
  EXPECT_EQ(ConnectionUser("postgresql://kosapo_case:pw@db:5432/kosapo")
                .value_or("?"),
            "kosapo_case");
  EXPECT_EQ(
      ConnectionUser("host=db user=kosapo_case password=pw").value_or("?"),
      "kosapo_case");
  EXPECT_EQ(ConnectionUser("postgresql://db/kosapo").value_or("?"), "");
  auto bad = ConnectionUser("postgresql://u:hunter2@db/kosapo?nonsense=1");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.status().message(), ::testing::Not(HasSubstr("hunter2")));
}

TEST(Migrate, MissingSchemaIsFailedPrecondition) {
  EXPECT_THAT(Migrate(SharedPgCluster().OwnerUrl("screening"), "nope", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema 'nope' does not exist")));
}

TEST(Migrate, ChecksumIsSha256Hex) {
  EXPECT_EQ(Checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace kosapo::pg
