#include "common/pg/errors.h"

#include <pqxx/except>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::pg {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusFromException, UniqueViolationIsAlreadyExistsWithConstraintName) {
  const pqxx::unique_violation error(
      "ERROR:  duplicate key value violates unique constraint \"cases_pkey\"\n"
      "DETAIL:  Key (kana)=(ヤマダ タロウ) already exists.",
      "INSERT INTO cases ...", "23505");
  const absl::Status status = StatusFromException(error, "create case");
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("create case"));
  EXPECT_THAT(status.message(), HasSubstr("(cases_pkey)"));
  // Neither the values (personal data) nor the SQL may leak.
  EXPECT_THAT(status.message(), Not(HasSubstr("ヤマダ")));
  EXPECT_THAT(status.message(), Not(HasSubstr("INSERT")));
}

TEST(StatusFromException, ConstraintViolationsAreFailedPrecondition) {
  EXPECT_EQ(
      StatusFromException(pqxx::foreign_key_violation("x", "", "23503"), "op")
          .code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      StatusFromException(pqxx::check_violation("x", "", "23514"), "op").code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      StatusFromException(pqxx::not_null_violation("x", "", "23502"), "op")
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(StatusFromException, ConcurrencyFailuresAreAbortedAndRetryable) {
  const pqxx::serialization_failure serialization("x");
  const pqxx::deadlock_detected deadlock("x");
  EXPECT_EQ(StatusFromException(serialization, "op").code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromException(deadlock, "op").code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE(IsRetryable(serialization));
  EXPECT_TRUE(IsRetryable(deadlock));
  EXPECT_FALSE(IsRetryable(pqxx::unique_violation("x", "", "23505")));
}

TEST(StatusFromException, ConnectionFailuresAreUnavailable) {
  EXPECT_EQ(StatusFromException(pqxx::broken_connection("gone"), "op").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromException(pqxx::in_doubt_error("?"), "op").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromException(pqxx::sql_error("x", "", "57P01"), "op").code(),
            absl::StatusCode::kUnavailable);
}

TEST(StatusFromException, TimeoutAndBadDataAndOthers) {
  EXPECT_EQ(StatusFromException(pqxx::sql_error("x", "", "57014"), "op").code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(
      StatusFromException(pqxx::data_exception("x", "", "22007"), "op").code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromException(pqxx::sql_error("x", "", "42P01"), "op").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(StatusFromException(std::runtime_error("boom"), "op").code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace kosapo::pg
