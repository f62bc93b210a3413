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

// Each test migrates a schema of its own, owned by the screening role.
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
             " AUTHORIZATION kosapo_screening");
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

  absl::StatusOr<MigrationReport> Run(const std::vector<MigrationSet>& sets) {
    return Migrate(SharedPgCluster().ServiceUrl("screening"), schema_, sets);
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

TEST(Migrate, MissingSchemaIsFailedPrecondition) {
  EXPECT_THAT(Migrate(SharedPgCluster().ServiceUrl("screening"), "nope", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema 'nope' does not exist")));
}

TEST(Migrate, ChecksumIsSha256Hex) {
  EXPECT_EQ(Checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace kosapo::pg
