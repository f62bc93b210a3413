// A fixed-size pool of PostgreSQL connections (libpqxx has none).
//
// Connections open lazily, run with the service's schema as search_path, a
// statement timeout shorter than any call's deadline, and UTC; every
// statement registered with Prepare() is prepared on each of them. A caller
// holds a connection for one short transaction; calls beyond the pool wait
// here (up to acquire_timeout), each on its gRPC server thread.
#ifndef KOSAPO_COMMON_PG_POOL_H_
#define KOSAPO_COMMON_PG_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kosapo::pg {

struct PoolOptions {
  // libpq connection string or URL; include connect_timeout for fast failure.
  std::string url;
  // The service's own schema: set as search_path on every connection.
  std::string schema;
  int size = 8;
  // How long Acquire() waits for a free connection.
  absl::Duration acquire_timeout = absl::Seconds(5);
  absl::Duration statement_timeout = absl::Seconds(5);
  std::string application_name = "kosapo";
};

class Pool {
 public:
  // A connection borrowed from the pool; returned on destruction.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) = delete;
    ~Lease();

    pqxx::connection& operator*() { return *connection_; }
    pqxx::connection* operator->() { return connection_.get(); }
    // Closes the connection instead of returning it (it is broken).
    void Discard() { discard_ = true; }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> connection,
          size_t prepared)
        : pool_(pool),
          connection_(std::move(connection)),
          prepared_(prepared) {}

    Pool* pool_;
    std::unique_ptr<pqxx::connection> connection_;
    size_t prepared_;
    bool discard_ = false;
  };

  struct Stats {
    int size = 0;
    int in_use = 0;
    int open = 0;
    int64_t acquired_total = 0;
    int64_t timeouts_total = 0;
    int64_t connect_failures_total = 0;
  };

  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Registers a statement prepared on every connection. Thread-safe; a
  // connection already open prepares it when next acquired.
  void Prepare(std::string name, std::string sql);

  // RESOURCE_EXHAUSTED when no connection frees up within acquire_timeout,
  // UNAVAILABLE when the database cannot be reached.
  absl::StatusOr<Lease> Acquire();

  // Runs `SELECT 1` on a pooled connection.
  absl::Status Ping();

  Stats GetStats() const;
  const PoolOptions& options() const { return options_; }

 private:
  struct Idle {
    std::unique_ptr<pqxx::connection> connection;
    size_t prepared;
  };

  absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect() const;
  void PrepareMissing(pqxx::connection& connection, size_t* prepared) const;
  void Return(std::unique_ptr<pqxx::connection> connection, size_t prepared,
              bool discard);

  const PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Idle> idle_;  // guarded by mutex_
  int in_use_ = 0;          // guarded by mutex_
  int open_ = 0;            // guarded by mutex_
  int64_t acquired_total_ = 0;
  int64_t timeouts_total_ = 0;
  int64_t connect_failures_total_ = 0;
  std::vector<std::pair<std::string, std::string>> statements_;  // guarded
};

}  // namespace kosapo::pg

#endif  // KOSAPO_COMMON_PG_POOL_H_
