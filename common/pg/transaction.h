// One short transaction per call, with bounded retry.
//
//   absl::StatusOr<int64_t> id = pg::InTransaction(
//       pool, "create case", [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
//         return tx.exec_prepared1("insert_case", ...)[0].as<int64_t>();
//       });
//
// `fn` returns absl::Status or absl::StatusOr<T>. A non-OK result rolls the
// transaction back and is returned as it is. Serialization failures and
// deadlocks are retried with a fresh transaction (so `fn` must be safe to run
// again: no side effects outside the transaction); a connection lost before
// commit is retried on a new connection; a connection lost during commit is
// UNAVAILABLE (outcome unknown). Other database errors map through
// StatusFromException.
#ifndef KOSAPO_COMMON_PG_TRANSACTION_H_
#define KOSAPO_COMMON_PG_TRANSACTION_H_

#include <pqxx/except>
#include <pqxx/transaction>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pg/errors.h"
#include "common/pg/pool.h"

namespace kosapo::pg {

struct TxOptions {
  bool serializable = false;
  bool read_only = false;
  int max_attempts = 3;

  static TxOptions ReadOnly() {
    TxOptions options;
    options.read_only = true;
    return options;
  }
};

namespace internal {
inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
// Sleeps a short, jittered, growing time before attempt `attempt` + 1.
void SleepBeforeRetry(int attempt);
}  // namespace internal

template <typename Fn>
std::invoke_result_t<Fn&, pqxx::work&> InTransaction(
    Pool& pool, absl::string_view operation, Fn&& fn,
    const TxOptions& options = {}) {
  using Result = std::invoke_result_t<Fn&, pqxx::work&>;
  absl::Status last_error;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    auto lease = pool.Acquire();
    if (!lease.ok()) {
      return Result(lease.status());
    }
    try {
      pqxx::work tx(**lease);
      if (options.serializable) {
        tx.exec0("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
      }
      if (options.read_only) {
        tx.exec0("SET TRANSACTION READ ONLY");
      }
      Result result = fn(tx);
      if (!internal::StatusOf(result).ok()) {
        return result;  // ~work rolls back
      }
      tx.commit();
      return result;
    } catch (const pqxx::in_doubt_error& error) {
      lease->Discard();
      return Result(StatusFromException(error, operation));
    } catch (const pqxx::broken_connection& error) {
      lease->Discard();
      last_error = StatusFromException(error, operation);
    } catch (const std::exception& error) {
      if (!IsRetryable(error)) {
        return Result(StatusFromException(error, operation));
      }
      last_error = StatusFromException(error, operation);
    }
    if (attempt < options.max_attempts) {
      internal::SleepBeforeRetry(attempt);
    }
  }
  return Result(last_error);
}

}  // namespace kosapo::pg

#endif  // KOSAPO_COMMON_PG_TRANSACTION_H_
