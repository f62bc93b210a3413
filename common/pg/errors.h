// Maps libpqxx exceptions to canonical status codes. Only the store layer
// catches database exceptions; everything above it sees absl::Status.
// Messages name the operation and the kind of failure, never the SQL text or
// the values involved (they may be personal data).
#ifndef KOSAPO_COMMON_PG_ERRORS_H_
#define KOSAPO_COMMON_PG_ERRORS_H_

#include <exception>
#include <stdexcept>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::pg {

// A status raised inside a transaction by code that cannot return one: a
// row decoder whose encrypted field does not open. StatusFromException
// returns it as it is (InTransaction rolls back and does not retry).
class StatusError : public std::runtime_error {
 public:
  explicit StatusError(absl::Status status)
      : std::runtime_error(std::string(status.message())),
        status_(std::move(status)) {}
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

// The value of `value`, or throws StatusError.
template <typename T>
T ValueOrThrow(absl::StatusOr<T> value) {
  if (!value.ok()) {
    throw StatusError(value.status());
  }
  return *std::move(value);
}

// StatusError -> its own status; unique violation -> ALREADY_EXISTS;
// foreign key, check, not-null -> FAILED_PRECONDITION; serialization
// failure, deadlock -> ABORTED; broken connection -> UNAVAILABLE; statement
// timeout -> DEADLINE_EXCEEDED; bad data -> INVALID_ARGUMENT; anything else
// -> INTERNAL. The SQLSTATE and, where the server names it, the constraint
// are kept in the message for operators.
absl::Status StatusFromException(const std::exception& error,
                                 absl::string_view operation);

// True for failures a fresh transaction may not hit again (serialization
// failure, deadlock).
bool IsRetryable(const std::exception& error);

}  // namespace kosapo::pg

#endif  // KOSAPO_COMMON_PG_ERRORS_H_
