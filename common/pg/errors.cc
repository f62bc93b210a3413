#include "common/pg/errors.h"

#include <pqxx/except>

#include "absl/strings/str_cat.h"

namespace kosapo::pg {
namespace {

// libpq puts the violated constraint's name in the error detail; the name is
// schema vocabulary, not data, so it is safe and useful to surface.
std::string ConstraintSuffix(const pqxx::sql_error& error) {
  const absl::string_view text = error.what();
  const absl::string_view marker = "constraint \"";
  const size_t start = text.find(marker);
  if (start == absl::string_view::npos) {
    return "";
  }
  const size_t name_start = start + marker.size();
  const size_t end = text.find('"', name_start);
  if (end == absl::string_view::npos) {
    return "";
  }
  return absl::StrCat(" (", text.substr(name_start, end - name_start), ")");
}

}  // namespace

bool IsRetryable(const std::exception& error) {
  return dynamic_cast<const pqxx::serialization_failure*>(&error) != nullptr ||
         dynamic_cast<const pqxx::deadlock_detected*>(&error) != nullptr;
}

absl::Status StatusFromException(const std::exception& error,
                                 absl::string_view operation) {
  if (const auto* raised = dynamic_cast<const StatusError*>(&error)) {
    return raised->status();
  }
  const std::string prefix = absl::StrCat("database ", operation, ": ");
  if (dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr) {
    return absl::UnavailableError(absl::StrCat(
        prefix,
        "connection lost during commit; outcome unknown, retry with "
        "the same request id"));
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr) {
    return absl::UnavailableError(absl::StrCat(prefix, "database unreachable"));
  }
  // libpqxx 6 derives these from pqxx::failure, not sql_error.
  if (IsRetryable(error)) {
    return absl::AbortedError(
        absl::StrCat(prefix, "conflict with a concurrent change"));
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (sql == nullptr) {
    return absl::InternalError(absl::StrCat(prefix, "unexpected failure"));
  }
  const std::string state = sql->sqlstate();
  const std::string where = absl::StrCat(" [sqlstate ", state, "]");
  if (dynamic_cast<const pqxx::unique_violation*>(&error) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat(prefix, "already exists", ConstraintSuffix(*sql), where));
  }
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&error) != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        prefix, "refers to a missing record", ConstraintSuffix(*sql), where));
  }
  if (dynamic_cast<const pqxx::check_violation*>(&error) != nullptr ||
      dynamic_cast<const pqxx::not_null_violation*>(&error) != nullptr ||
      dynamic_cast<const pqxx::restrict_violation*>(&error) != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(prefix, "violates a rule", ConstraintSuffix(*sql), where));
  }
  if (state == "57014") {
    return absl::DeadlineExceededError(
        absl::StrCat(prefix, "statement timed out", where));
  }
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
      state == "57P03") {
    return absl::UnavailableError(
        absl::StrCat(prefix, "database unavailable", where));
  }
  if (state.rfind("22", 0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "value out of range or malformed", where));
  }
  if (state == "42501") {
    return absl::InternalError(
        absl::StrCat(prefix, "permission denied to the service role", where));
  }
  return absl::InternalError(absl::StrCat(prefix, "query failed", where));
}

}  // namespace kosapo::pg
