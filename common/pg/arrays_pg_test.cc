// The array literals as PostgreSQL reads them back.
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "common/pg/arrays.h"
#include "common/testing/pg_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::pg {
namespace {

using ::kosapo::testing::SharedPgCluster;

TEST(ArraysInPostgres, TextComesBackAsItWent) {
  const std::vector<std::string> values = {
      "a",   "",    R"(say "hi")", R"(a\b)", R"(\")",
      "a,b", "{c}", " d ",         "NULL",   "北区"};
  pqxx::connection connection(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(connection);
  std::vector<std::string> back;
  for (const pqxx::row& row :
       tx.exec_params("SELECT unnest($1::text[])", TextArray(values))) {
    back.push_back(row[0].as<std::string>());
  }
  EXPECT_EQ(back, values);
}

TEST(ArraysInPostgres, IdsComeBackAsTheyWent) {
  const std::vector<int64_t> ids = {1, 22, 9007199254740993};
  pqxx::connection connection(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(connection);
  std::vector<int64_t> back;
  for (const pqxx::row& row :
       tx.exec_params("SELECT unnest($1::bigint[])", IdArray(ids))) {
    back.push_back(row[0].as<int64_t>());
  }
  EXPECT_EQ(back, ids);
  EXPECT_EQ(tx.exec_params1("SELECT cardinality($1::bigint[])", IdArray({}))[0]
                .as<int>(),
            0);
}

}  // namespace
}  // namespace kosapo::pg
