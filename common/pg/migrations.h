// Versioned schema migrations, applied by each service at start inside its
// own schema.
//
// A migration is an SQL file `NNNN_name.sql` embedded in the binary (see
// cmake/KosapoMigrations.cmake). Migrations come in sets per component (the
// shared platform tables, then the service's own), each applied once in
// version order, each in its own transaction, recorded with its SHA-256 in
// `schema_migrations`. A replica that starts while another migrates waits on
// an advisory lock. A migration edited after it was applied stops the service
// with FAILED_PRECONDITION: fix forward with a new migration instead.
#ifndef KOSAPO_COMMON_PG_MIGRATIONS_H_
#define KOSAPO_COMMON_PG_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::pg {

struct Migration {
  int version;
  absl::string_view file;
  absl::string_view sql;
};

struct MigrationSet {
  // Names the set in the record, e.g. "platform" or "screening".
  std::string component;
  std::vector<Migration> migrations;
};

struct MigrationReport {
  // "component/file" of each migration applied by this run, in order.
  std::vector<std::string> applied;
  // Recorded migrations this binary does not know (applied by a newer one).
  std::vector<std::string> unknown;
};

// Hex SHA-256 of a migration's text, as recorded.
std::string Checksum(absl::string_view sql);

// Connects to `url` (a role that owns `schema`) and applies what is pending.
// The schema must already exist (created when the database is provisioned).
absl::StatusOr<MigrationReport> Migrate(const std::string& url,
                                        const std::string& schema,
                                        const std::vector<MigrationSet>& sets);

}  // namespace kosapo::pg

#endif  // KOSAPO_COMMON_PG_MIGRATIONS_H_
