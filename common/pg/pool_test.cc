#include "common/pg/pool.h"

#include <atomic>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <thread>

#include "common/pg/transaction.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::pg {
namespace {

using ::kosapo::testing::IsOk;
using ::kosapo::testing::SharedPgCluster;
using ::kosapo::testing::StatusIs;

// As the schema's owner: the tests make scratch tables of their own.
PoolOptions OptionsFor(int size) {
  PoolOptions options;
  options.url = SharedPgCluster().OwnerUrl("screening");
  options.schema = SharedPgCluster().Schema("screening");
  options.size = size;
  options.acquire_timeout = absl::Milliseconds(200);
  return options;
}

TEST(Pool, ConnectionsUseTheServiceSchemaAndUtc) {
  Pool pool(OptionsFor(2));
  ASSERT_OK_AND_ASSIGN(auto lease, pool.Acquire());
  pqxx::nontransaction tx(*lease);
  EXPECT_EQ(tx.exec1("SHOW search_path")[0].as<std::string>(), "screening");
  EXPECT_EQ(tx.exec1("SHOW TimeZone")[0].as<std::string>(), "UTC");
}

TEST(Pool, AcquireTimesOutWhenEveryConnectionIsLent) {
  Pool pool(OptionsFor(2));
  ASSERT_OK_AND_ASSIGN(auto first, pool.Acquire());
  ASSERT_OK_AND_ASSIGN(auto second, pool.Acquire());
  EXPECT_THAT(pool.Acquire(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(pool.GetStats().in_use, 2);
  EXPECT_EQ(pool.GetStats().timeouts_total, 1);
}

TEST(Pool, ReturnedConnectionIsReused) {
  Pool pool(OptionsFor(1));
  { ASSERT_OK_AND_ASSIGN(auto lease, pool.Acquire()); }
  { ASSERT_OK_AND_ASSIGN(auto lease, pool.Acquire()); }
  EXPECT_EQ(pool.GetStats().open, 1);
  EXPECT_EQ(pool.GetStats().in_use, 0);
}

TEST(Pool, StatementPreparedAfterConnectionOpenedIsAvailable) {
  Pool pool(OptionsFor(1));
  ASSERT_THAT(pool.Ping(), IsOk());  // opens the only connection
  pool.Prepare("add", "SELECT $1::int + $2::int");
  ASSERT_OK_AND_ASSIGN(auto lease, pool.Acquire());
  pqxx::nontransaction tx(*lease);
  EXPECT_EQ(tx.exec_prepared1("add", 2, 3)[0].as<int>(), 5);
}

TEST(InTransaction, CommitsOnOkAndRollsBackOnError) {
  Pool pool(OptionsFor(2));
  ASSERT_THAT(
      InTransaction(pool, "setup",
                    [](pqxx::work& tx) {
                      tx.exec0("CREATE TABLE tx_test (id int PRIMARY KEY)");
                      return absl::OkStatus();
                    }),
      IsOk());
  EXPECT_THAT(InTransaction(pool, "insert",
                            [](pqxx::work& tx) {
                              tx.exec0("INSERT INTO tx_test VALUES (1)");
                              return absl::InvalidArgumentError("no");
                            }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto count =
      InTransaction(pool, "count", [](pqxx::work& tx) -> absl::StatusOr<int> {
        return tx.exec1("SELECT count(*) FROM tx_test")[0].as<int>();
      });
  ASSERT_THAT(count, IsOk());
  EXPECT_EQ(*count, 0);

  EXPECT_THAT(InTransaction(pool, "insert twice",
                            [](pqxx::work& tx) {
                              tx.exec0("INSERT INTO tx_test VALUES (2)");
                              tx.exec0("INSERT INTO tx_test VALUES (2)");
                              return absl::OkStatus();
                            }),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(InTransaction, RetriesSerializationFailuresThenGivesUp) {
  Pool pool(OptionsFor(1));
  int attempts = 0;
  auto result =
      InTransaction(pool, "flaky", [&](pqxx::work&) -> absl::StatusOr<int> {
        if (++attempts < 2) {
          throw pqxx::serialization_failure("conflict");
        }
        return attempts;
      });
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(*result, 2);

  attempts = 0;
  EXPECT_THAT(InTransaction(pool, "always conflicting",
                            [&](pqxx::work&) -> absl::Status {
                              ++attempts;
                              throw pqxx::deadlock_detected("d");
                            }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(attempts, 3);
}

TEST(InTransaction, RealSerializationConflictIsRetriedToSuccess) {
  Pool pool(OptionsFor(4));
  ASSERT_THAT(InTransaction(pool, "setup",
                            [](pqxx::work& tx) {
                              tx.exec0("CREATE TABLE counter (n int NOT NULL)");
                              tx.exec0("INSERT INTO counter VALUES (0)");
                              return absl::OkStatus();
                            }),
              IsOk());
  TxOptions serializable;
  serializable.serializable = true;
  serializable.max_attempts = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto status = InTransaction(
            pool, "increment",
            [](pqxx::work& tx) {
              const int n = tx.exec1("SELECT n FROM counter")[0].as<int>();
              tx.exec_params0("UPDATE counter SET n = $1", n + 1);
              return absl::OkStatus();
            },
            serializable);
        failures += status.ok() ? 0 : 1;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  auto n =
      InTransaction(pool, "read", [](pqxx::work& tx) -> absl::StatusOr<int> {
        return tx.exec1("SELECT n FROM counter")[0].as<int>();
      });
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 40);  // no lost update
}

TEST(Pool, ReportsUnavailableWhileDatabaseIsDownAndRecovers) {
  Pool pool(OptionsFor(2));
  ASSERT_THAT(pool.Ping(), IsOk());
  ASSERT_THAT(SharedPgCluster().Stop(), IsOk());
  EXPECT_THAT(pool.Ping(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(pool.Ping(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(SharedPgCluster().Restart(), IsOk());
  EXPECT_THAT(pool.Ping(), IsOk());
  EXPECT_EQ(pool.GetStats().in_use, 0);
}

}  // namespace
}  // namespace kosapo::pg
