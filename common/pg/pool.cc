#include "common/pg/pool.h"

#include <chrono>
#include <pqxx/nontransaction>

#include "absl/strings/str_cat.h"
#include "common/pg/errors.h"

namespace kosapo::pg {

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      connection_(std::move(other.connection_)),
      prepared_(other.prepared_),
      discard_(other.discard_) {}

Pool::Lease::~Lease() {
  if (pool_ != nullptr) {
    pool_->Return(std::move(connection_), prepared_, discard_);
  }
}

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

Pool::~Pool() = default;

void Pool::Prepare(std::string name, std::string sql) {
  std::lock_guard<std::mutex> lock(mutex_);
  statements_.emplace_back(std::move(name), std::move(sql));
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> Pool::Connect() const {
  try {
    auto connection = std::make_unique<pqxx::connection>(options_.url);
    pqxx::nontransaction setup(*connection);
    setup.exec0(absl::StrCat("SET search_path TO ",
                             connection->quote_name(options_.schema)));
    setup.exec0(
        absl::StrCat("SET statement_timeout = ",
                     absl::ToInt64Milliseconds(options_.statement_timeout)));
    setup.exec0(absl::StrCat("SET application_name = ",
                             connection->quote(options_.application_name)));
    setup.exec0("SET TIME ZONE 'UTC'");
    setup.commit();
    return connection;
  } catch (const std::exception& error) {
    return StatusFromException(error, "connect");
  }
}

void Pool::PrepareMissing(pqxx::connection& connection,
                          size_t* prepared) const {
  std::vector<std::pair<std::string, std::string>> missing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    missing.assign(statements_.begin() + *prepared, statements_.end());
    *prepared = statements_.size();
  }
  for (const auto& [name, sql] : missing) {
    connection.prepare(name, sql);  // libpqxx prepares lazily on first use
  }
}

absl::StatusOr<Pool::Lease> Pool::Acquire() {
  Idle slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() +
                          absl::ToChronoMilliseconds(options_.acquire_timeout);
    if (!available_.wait_until(lock, deadline,
                               [this] { return in_use_ < options_.size; })) {
      ++timeouts_total_;
      return absl::ResourceExhaustedError(
          "database pool busy: no connection freed up in time");
    }
    ++in_use_;
    ++acquired_total_;
    if (!idle_.empty()) {
      slot = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (slot.connection == nullptr || !slot.connection->is_open()) {
    auto connection = Connect();
    if (!connection.ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (slot.connection != nullptr) {
        --open_;
      }
      --in_use_;
      ++connect_failures_total_;
      available_.notify_one();
      return connection.status();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (slot.connection == nullptr) {
      ++open_;
    }
    slot.connection = *std::move(connection);
    slot.prepared = 0;
  }
  PrepareMissing(*slot.connection, &slot.prepared);
  return Lease(this, std::move(slot.connection), slot.prepared);
}

void Pool::Return(std::unique_ptr<pqxx::connection> connection, size_t prepared,
                  bool discard) {
  std::lock_guard<std::mutex> lock(mutex_);
  --in_use_;
  if (discard || connection == nullptr || !connection->is_open()) {
    --open_;
  } else {
    idle_.push_back(Idle{std::move(connection), prepared});
  }
  available_.notify_one();
}

absl::Status Pool::Ping() {
  auto lease = Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  try {
    pqxx::nontransaction tx(**lease);
    tx.exec1("SELECT 1");
    return absl::OkStatus();
  } catch (const std::exception& error) {
    lease->Discard();
    return StatusFromException(error, "ping");
  }
}

Pool::Stats Pool::GetStats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return Stats{options_.size,   in_use_,         open_,
               acquired_total_, timeouts_total_, connect_failures_total_};
}

}  // namespace kosapo::pg
