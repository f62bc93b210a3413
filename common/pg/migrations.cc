#include "common/pg/migrations.h"

#include <map>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/digest.h"
#include "common/pg/errors.h"

namespace kosapo::pg {
namespace {

constexpr char kCreateTable[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  component  text        NOT NULL,
  version    integer     NOT NULL,
  file       text        NOT NULL,
  checksum   text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
))sql";

struct Applied {
  std::string file;
  std::string checksum;
};

std::string FirstLine(absl::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

absl::Status ValidateSets(const std::vector<MigrationSet>& sets) {
  std::set<std::string> components;
  for (const MigrationSet& set : sets) {
    if (!components.insert(set.component).second) {
      return absl::InternalError(
          absl::StrCat("migration component listed twice: ", set.component));
    }
    int previous = 0;
    for (const Migration& migration : set.migrations) {
      if (migration.version <= previous) {
        return absl::InternalError(absl::StrCat(
            "migrations of ", set.component,
            " must have strictly increasing versions; see ", migration.file));
      }
      previous = migration.version;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string Checksum(absl::string_view sql) { return Sha256Hex(sql); }

absl::StatusOr<MigrationReport> Migrate(const std::string& url,
                                        const std::string& schema,
                                        const std::vector<MigrationSet>& sets) {
  if (absl::Status valid = ValidateSets(sets); !valid.ok()) {
    return valid;
  }
  MigrationReport report;
  std::string current = "connect";
  try {
    pqxx::connection connection(url);
    {
      pqxx::nontransaction tx(connection);
      if (tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                         schema)
              .empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("schema '", schema,
                         "' does not exist: provision the database first "
                         "(scripts/pg-local.sh provision, or see README)"));
      }
      tx.exec0(absl::StrCat("SET search_path TO ", tx.quote_name(schema)));
      // Session-level: held across the per-migration transactions below and
      // released when the connection closes, even if this process dies.
      tx.exec_params("SELECT pg_advisory_lock(hashtextextended($1, 0))",
                     absl::StrCat("kosapo.migrate.", schema));
      tx.exec0(kCreateTable);
    }
    std::map<std::pair<std::string, int>, Applied> applied;
    {
      pqxx::nontransaction tx(connection);
      for (const auto& row :
           tx.exec("SELECT component, version, file, checksum "
                   "FROM schema_migrations")) {
        applied[{row[0].as<std::string>(), row[1].as<int>()}] =
            Applied{row[2].as<std::string>(), row[3].as<std::string>()};
      }
    }
    std::set<std::pair<std::string, int>> known;
    for (const MigrationSet& set : sets) {
      for (const Migration& migration : set.migrations) {
        const auto key = std::make_pair(set.component, migration.version);
        known.insert(key);
        const std::string name =
            absl::StrCat(set.component, "/", migration.file);
        const std::string checksum = Checksum(migration.sql);
        if (auto it = applied.find(key); it != applied.end()) {
          if (it->second.checksum != checksum) {
            return absl::FailedPreconditionError(absl::StrCat(
                "migration ", name, " was changed after it was applied (",
                "recorded sha256 ", it->second.checksum.substr(0, 12), ", now ",
                checksum.substr(0, 12),
                "); restore the applied text and add a new migration"));
          }
          continue;
        }
        current = absl::StrCat("migration ", name);
        pqxx::work tx(connection);
        tx.exec(std::string(migration.sql));  // may end in a SELECT
        tx.exec_params0(
            "INSERT INTO schema_migrations (component, version, file, "
            "checksum) "
            "VALUES ($1, $2, $3, $4)",
            set.component, migration.version, std::string(migration.file),
            checksum);
        tx.commit();
        report.applied.push_back(name);
      }
    }
    for (const auto& [key, record] : applied) {
      if (known.count(key) == 0) {
        report.unknown.push_back(absl::StrCat(key.first, "/", record.file));
      }
    }
    pqxx::nontransaction tx(connection);
    tx.exec_params("SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                   absl::StrCat("kosapo.migrate.", schema));
  } catch (const pqxx::sql_error& error) {
    // Migrations are schema text, not personal data: the server's own
    // message is what a developer needs to fix one.
    return absl::FailedPreconditionError(
        absl::StrCat(current, " failed: ", FirstLine(error.what()),
                     " [sqlstate ", error.sqlstate(), "]"));
  } catch (const std::exception& error) {
    return StatusFromException(error, current);
  }
  return report;
}

}  // namespace kosapo::pg
