// Versioned schema migrations, applied by each service at start inside its
// own schema, and the privileges of the role the service runs as.
//
// A migration is an SQL file `NNNN_name.sql` embedded in the binary (see
// cmake/KosapoMigrations.cmake). Migrations come in sets per component (the
// shared platform tables, then the service's own), each applied once in
// version order, each in its own transaction, recorded with its SHA-256 in
// `schema_migrations`. A replica that starts while another migrates waits on
// an advisory lock. A migration edited after it was applied stops the service
// with FAILED_PRECONDITION: fix forward with a new migration instead.
//
// Two roles per service: an owner that owns the schema and migrates it, and
// a runtime role that serves calls. After migrating, under the same lock, the
// owner grants the runtime role what it needs in the schema and no more (see
// Migrate), so every table a migration adds is covered on the next start.
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
  // Whether the runtime role's privileges were (re)applied.
  bool granted = false;
};

struct MigrateOptions {
  // The login role the service runs as. When set and not the role that
  // migrates, it gets exactly: USAGE on the schema (no CREATE); SELECT,
  // INSERT, UPDATE, DELETE on its tables, but SELECT and INSERT only on
  // append-only ones (IsAppendOnlyTable), SELECT only on
  // schema_migrations and nothing on owner-only ones (IsOwnerOnlyTable);
  // USAGE and SELECT on its sequences; EXECUTE on the
  // schema's SECURITY DEFINER functions, which PUBLIC loses (each must pin
  // its search_path, else FAILED_PRECONDITION). Other functions run with
  // the caller's rights and keep PostgreSQL's default (PUBLIC may call).
  // Privileges granted to it in the schema by hand are taken away. Empty: no
  // grants.
  std::string runtime_role;
};

// Tables whose rows, once written, are never changed or deleted: audit
// trails (`*_audit`) and the versions a correction replaced (`*_history`).
// The runtime role may only append to them, and a trigger refuses UPDATE,
// DELETE and TRUNCATE on them from any role (a migration that must rewrite
// one disables trigger kosapo_append_only around it), except an UPDATE by the
// table's owner with kosapo.append_only_erasure set to 'on': a SECURITY
// DEFINER function that erases personal data after its retention period
// turns it on around its own statements
// (services/screening/migrations/0009).
bool IsAppendOnlyTable(absl::string_view table);

// Tables only the owner role reads: secrets a migration draws and only
// SECURITY DEFINER functions use (`*_secret`, such as the key of the id
// permutation, services/case/migrations/0005). The runtime role gets no
// privilege on them.
bool IsOwnerOnlyTable(absl::string_view table);

// Hex SHA-256 of a migration's text, as recorded.
std::string Checksum(absl::string_view sql);

// Connects to `url` (a role that owns `schema`) and applies what is pending,
// installs the append-only trigger on append-only tables that lack it, then
// grants `options.runtime_role` its privileges. The schema must already exist
// (created when the database is provisioned).
absl::StatusOr<MigrationReport> Migrate(const std::string& url,
                                        const std::string& schema,
                                        const std::vector<MigrationSet>& sets,
                                        const MigrateOptions& options = {});

// Changes nothing: connects to `url` (any role that may read
// schema_migrations) and checks that every migration of `sets` is recorded
// in `schema` with the same checksum. FAILED_PRECONDITION naming the first
// missing or changed migration otherwise.
absl::StatusOr<MigrationReport> CheckMigrated(
    const std::string& url, const std::string& schema,
    const std::vector<MigrationSet>& sets);

// The user a libpq URL or key=value string logs in as, or "" if it names
// none. INVALID_ARGUMENT (without the text, which may hold a password) if it
// does not parse.
absl::StatusOr<std::string> ConnectionUser(const std::string& url);

}  // namespace kosapo::pg

#endif  // KOSAPO_COMMON_PG_MIGRATIONS_H_
