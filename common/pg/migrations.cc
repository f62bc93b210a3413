#include "common/pg/migrations.h"

#include <libpq-fe.h>

#include <map>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/digest.h"
#include "common/base/status.h"
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

using AppliedMap = std::map<std::pair<std::string, int>, Applied>;

AppliedMap ReadApplied(pqxx::transaction_base& tx, const std::string& schema) {
  AppliedMap applied;
  for (const auto& row :
       tx.exec(absl::StrCat("SELECT component, version, file, checksum FROM ",
                            tx.quote_name(schema), ".schema_migrations"))) {
    applied[{row[0].as<std::string>(), row[1].as<int>()}] =
        Applied{row[2].as<std::string>(), row[3].as<std::string>()};
  }
  return applied;
}

// FAILED_PRECONDITION if `migration` was recorded with another checksum.
absl::Status CheckChecksum(const std::string& name, const Applied& recorded,
                           const std::string& checksum) {
  if (recorded.checksum == checksum) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("migration ", name, " was changed after it was applied (",
                   "recorded sha256 ", recorded.checksum.substr(0, 12),
                   ", now ", checksum.substr(0, 12),
                   "); restore the applied text and add a new migration"));
}

std::vector<std::string> UnknownToBinary(
    const AppliedMap& applied, const std::vector<MigrationSet>& sets) {
  std::set<std::pair<std::string, int>> known;
  for (const MigrationSet& set : sets) {
    for (const Migration& migration : set.migrations) {
      known.insert({set.component, migration.version});
    }
  }
  std::vector<std::string> unknown;
  for (const auto& [key, record] : applied) {
    if (known.count(key) == 0) {
      unknown.push_back(absl::StrCat(key.first, "/", record.file));
    }
  }
  return unknown;
}

bool SchemaExists(pqxx::transaction_base& tx, const std::string& schema) {
  return !tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                         schema)
              .empty();
}

absl::Status MissingSchema(const std::string& schema) {
  return absl::FailedPreconditionError(
      absl::StrCat("schema '", schema,
                   "' does not exist: provision the database first "
                   "(scripts/pg-local.sh provision, or see README)"));
}

constexpr char kAppendOnlyTrigger[] = "kosapo_append_only";

// Refuses every UPDATE, DELETE and TRUNCATE, whoever runs it: a second wall
// behind the runtime role's privileges, and the only one where a single role
// both migrates and serves. Its message differs from "permission denied" so
// that one can tell which wall held.
//
// One way through, for erasure after a retention period: an UPDATE by the
// table's owner while kosapo.append_only_erasure is 'on'. A migration turns
// that on only inside a SECURITY DEFINER function that blanks personal
// columns (on at its start, off before it returns), so the runtime role gets
// through only by calling that function: setting the variable itself does
// not make it the owner. The owner role could set it by hand, but the owner
// can drop this trigger anyway; what the variable stops is an UPDATE by
// mistake in a migration or, with a single role, in the service.
constexpr char kAppendOnlySource[] = R"sql(
BEGIN
  IF TG_OP = 'UPDATE'
     AND current_setting('kosapo.append_only_erasure', true) = 'on'
     AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class
                          WHERE oid = TG_RELID) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'table % is append-only: its rows are never changed or deleted',
    TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
)sql";

// The append-only tables of `schema`, installing the trigger on those that
// lack it (only then, so that a start changes no catalog when nothing is new).
std::vector<std::string> GuardAppendOnlyTables(pqxx::work& tx,
                                               const std::string& schema) {
  std::vector<std::string> tables;
  std::vector<std::string> unguarded;
  for (const auto& row : tx.exec_params(
           "SELECT c.relname, EXISTS (SELECT 1 FROM pg_trigger t"
           "  WHERE t.tgrelid = c.oid AND t.tgname = $2)"
           " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
           " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')"
           " ORDER BY c.relname",
           schema, kAppendOnlyTrigger)) {
    const std::string table = row[0].as<std::string>();
    if (!IsAppendOnlyTable(table)) {
      continue;
    }
    tables.push_back(table);
    if (!row[1].as<bool>()) {
      unguarded.push_back(table);
    }
  }
  const std::string quoted_schema = tx.quote_name(schema);
  // Replaced when its text changed too, so schemas guarded by an older
  // binary get the current rule.
  const pqxx::result installed = tx.exec_params(
      "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n"
      "  ON n.oid = p.pronamespace"
      " WHERE n.nspname = $1 AND p.proname = $2",
      schema, kAppendOnlyTrigger);
  if (unguarded.empty() && !installed.empty() &&
      installed[0][0].as<std::string>() == kAppendOnlySource) {
    return tables;
  }
  tx.exec0(absl::StrCat("CREATE OR REPLACE FUNCTION ", quoted_schema,
                        ".kosapo_append_only() RETURNS trigger"
                        " LANGUAGE plpgsql AS $kosapo$",
                        kAppendOnlySource, "$kosapo$"));
  for (const std::string& table : unguarded) {
    tx.exec0(absl::StrCat("CREATE TRIGGER ", kAppendOnlyTrigger,
                          " BEFORE UPDATE OR DELETE OR TRUNCATE ON ",
                          quoted_schema, ".", tx.quote_name(table),
                          " FOR EACH STATEMENT EXECUTE FUNCTION ",
                          quoted_schema, ".kosapo_append_only()"));
  }
  return tables;
}

// Sets `role`'s privileges in `schema` to exactly those MigrateOptions
// promises. One transaction: sessions of the role see the old privileges or
// the new ones, never none.
absl::Status GrantRuntime(pqxx::work& tx, const std::string& schema,
                          const std::string& role,
                          const std::vector<std::string>& append_only) {
  // A member of the owner could SET ROLE to it and undo every wall.
  const pqxx::row member = tx.exec_params1(
      "SELECT pg_has_role($1, n.nspowner, 'MEMBER'), "
      "       pg_get_userbyid(n.nspowner)"
      " FROM pg_namespace n WHERE n.nspname = $2",
      role, schema);
  if (member[0].as<bool>()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "runtime role '", role, "' is a member of '",
        member[1].as<std::string>(), "', which owns schema '", schema,
        "': it could act as the owner; revoke that membership"));
  }
  const std::string s = tx.quote_name(schema);
  const std::string r = tx.quote_name(role);
  for (const std::string& statement : {
           absl::StrCat("REVOKE ALL ON SCHEMA ", s, " FROM ", r),
           absl::StrCat("GRANT USAGE ON SCHEMA ", s, " TO ", r),
           absl::StrCat("REVOKE ALL ON ALL TABLES IN SCHEMA ", s, " FROM ", r),
           absl::StrCat("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES "
                        "IN SCHEMA ",
                        s, " TO ", r),
           absl::StrCat("REVOKE ALL ON ALL SEQUENCES IN SCHEMA ", s, " FROM ",
                        r),
           absl::StrCat("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ", s,
                        " TO ", r),
           // What ran is the owner's record, read by --migrations=check.
           absl::StrCat("REVOKE INSERT, UPDATE, DELETE ON ", s,
                        ".schema_migrations FROM ", r),
       }) {
    tx.exec0(statement);
  }
  for (const std::string& table : append_only) {
    tx.exec0(absl::StrCat("REVOKE UPDATE, DELETE ON ", s, ".",
                          tx.quote_name(table), " FROM ", r));
  }
  // Secrets: the runtime role uses them only through the owner's SECURITY
  // DEFINER functions.
  for (const pqxx::row& table :
       tx.exec_params("SELECT c.relname FROM pg_class c"
                      "  JOIN pg_namespace n ON n.oid = c.relnamespace"
                      " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')"
                      " ORDER BY c.relname",
                      schema)) {
    const std::string name = table[0].as<std::string>();
    if (IsOwnerOnlyTable(name)) {
      tx.exec0(absl::StrCat("REVOKE ALL ON ", s, ".", tx.quote_name(name),
                            " FROM ", r));
    }
  }
  // Functions: EXECUTE on the SECURITY DEFINER ones only (each the one way
  // to an operation its privileges refuse, such as erasure of history).
  // A definer function resolving names through the caller's search_path
  // would run the caller's objects with the owner's rights, so one without
  // a pinned search_path is not granted.
  tx.exec0(
      absl::StrCat("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ", s, " FROM ", r));
  for (const pqxx::row& function : tx.exec_params(
           "SELECT p.proname, pg_get_function_identity_arguments(p.oid),"
           "       EXISTS (SELECT 1 FROM unnest(p.proconfig) c"
           "                WHERE c LIKE 'search\\_path=%')"
           "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
           " WHERE n.nspname = $1 AND p.prosecdef"
           " ORDER BY p.proname",
           schema)) {
    const std::string name = function[0].as<std::string>();
    if (!function[2].as<bool>()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "SECURITY DEFINER function ", schema, ".", name,
          " has no SET search_path: pin it (schema, pg_temp) before the "
          "runtime role may call it"));
    }
    const std::string signature = absl::StrCat(
        s, ".", tx.quote_name(name), "(", function[1].as<std::string>(), ")");
    // PostgreSQL lets PUBLIC execute every new function.
    tx.exec0(
        absl::StrCat("REVOKE ALL ON FUNCTION ", signature, " FROM PUBLIC"));
    tx.exec0(absl::StrCat("GRANT EXECUTE ON FUNCTION ", signature, " TO ", r));
  }
  return absl::OkStatus();
}

absl::Status FromSqlError(const pqxx::sql_error& error,
                          const std::string& current) {
  // Migrations are schema text, not personal data: the server's own
  // message is what a developer needs to fix one.
  return absl::FailedPreconditionError(
      absl::StrCat(current, " failed: ", FirstLine(error.what()), " [sqlstate ",
                   error.sqlstate(), "]"));
}

}  // namespace

bool IsAppendOnlyTable(absl::string_view table) {
  return absl::EndsWith(table, "_audit") || absl::EndsWith(table, "_history");
}

bool IsOwnerOnlyTable(absl::string_view table) {
  return absl::EndsWith(table, "_secret");
}

absl::StatusOr<std::string> ConnectionUser(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    // libpq's message may quote the text, password and all.
    if (error != nullptr) {
      PQfreemem(error);
    }
    return absl::InvalidArgumentError(
        "not a PostgreSQL URL or key=value connection string");
  }
  std::string user;
  for (const PQconninfoOption* option = options; option->keyword != nullptr;
       ++option) {
    if (std::string_view(option->keyword) == "user" && option->val != nullptr) {
      user = option->val;
    }
  }
  PQconninfoFree(options);
  return user;
}

std::string Checksum(absl::string_view sql) { return Sha256Hex(sql); }

absl::StatusOr<MigrationReport> Migrate(const std::string& url,
                                        const std::string& schema,
                                        const std::vector<MigrationSet>& sets,
                                        const MigrateOptions& options) {
  if (absl::Status valid = ValidateSets(sets); !valid.ok()) {
    return valid;
  }
  MigrationReport report;
  std::string current = "connect";
  try {
    pqxx::connection connection(url);
    std::string migrating_role;
    {
      pqxx::nontransaction tx(connection);
      if (!SchemaExists(tx, schema)) {
        return MissingSchema(schema);
      }
      const pqxx::row owner = tx.exec_params1(
          "SELECT current_user, pg_get_userbyid(nspowner),"
          "       pg_has_role(current_user, nspowner, 'USAGE')"
          " FROM pg_namespace WHERE nspname = $1",
          schema);
      migrating_role = owner[0].as<std::string>();
      // Typically a database from when the runtime role owned its schema.
      if (!owner[2].as<bool>()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "schema '", schema, "' is owned by '", owner[1].as<std::string>(),
            "', not by the migrating role '", migrating_role,
            "': give it to that role (REASSIGN OWNED BY ",
            owner[1].as<std::string>(), " TO ", migrating_role,
            "; see deploy/README.md)"));
      }
      tx.exec0(absl::StrCat("SET search_path TO ", tx.quote_name(schema)));
      // Session-level: held across the per-migration transactions below and
      // released when the connection closes, even if this process dies.
      tx.exec_params("SELECT pg_advisory_lock(hashtextextended($1, 0))",
                     absl::StrCat("kosapo.migrate.", schema));
      tx.exec0(kCreateTable);
    }
    AppliedMap applied;
    {
      pqxx::nontransaction tx(connection);
      applied = ReadApplied(tx, schema);
    }
    for (const MigrationSet& set : sets) {
      for (const Migration& migration : set.migrations) {
        const std::string name =
            absl::StrCat(set.component, "/", migration.file);
        const std::string checksum = Checksum(migration.sql);
        if (auto it = applied.find({set.component, migration.version});
            it != applied.end()) {
          KOSAPO_RETURN_IF_ERROR(CheckChecksum(name, it->second, checksum));
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
    report.unknown = UnknownToBinary(applied, sets);
    {
      current =
          options.runtime_role.empty() || options.runtime_role == migrating_role
              ? std::string("guarding append-only tables")
              : absl::StrCat("granting to runtime role '", options.runtime_role,
                             "'");
      pqxx::work tx(connection);
      const std::vector<std::string> append_only =
          GuardAppendOnlyTables(tx, schema);
      if (!options.runtime_role.empty() &&
          options.runtime_role != migrating_role) {
        KOSAPO_RETURN_IF_ERROR(
            GrantRuntime(tx, schema, options.runtime_role, append_only));
        report.granted = true;
      }
      tx.commit();
    }
    pqxx::nontransaction tx(connection);
    tx.exec_params("SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                   absl::StrCat("kosapo.migrate.", schema));
  } catch (const pqxx::sql_error& error) {
    return FromSqlError(error, current);
  } catch (const std::exception& error) {
    return StatusFromException(error, current);
  }
  return report;
}

absl::StatusOr<MigrationReport> CheckMigrated(
    const std::string& url, const std::string& schema,
    const std::vector<MigrationSet>& sets) {
  if (absl::Status valid = ValidateSets(sets); !valid.ok()) {
    return valid;
  }
  MigrationReport report;
  const std::string current = "checking migrations";
  try {
    pqxx::connection connection(url);
    pqxx::read_transaction tx(connection);
    if (!SchemaExists(tx, schema)) {
      return MissingSchema(schema);
    }
    if (tx.exec_params1(
              "SELECT to_regclass($1) IS NULL",
              absl::StrCat(tx.quote_name(schema), ".schema_migrations"))[0]
            .as<bool>()) {
      return absl::FailedPreconditionError(
          absl::StrCat("schema '", schema,
                       "' has no schema_migrations table: it was never "
                       "migrated (or this role may not see it)"));
    }
    const AppliedMap applied = ReadApplied(tx, schema);
    for (const MigrationSet& set : sets) {
      for (const Migration& migration : set.migrations) {
        const std::string name =
            absl::StrCat(set.component, "/", migration.file);
        auto it = applied.find({set.component, migration.version});
        if (it == applied.end()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "migration ", name, " is not applied in schema '", schema, "'"));
        }
        KOSAPO_RETURN_IF_ERROR(
            CheckChecksum(name, it->second, Checksum(migration.sql)));
      }
    }
    report.unknown = UnknownToBinary(applied, sets);
  } catch (const pqxx::sql_error& error) {
    return FromSqlError(error, current);
  } catch (const std::exception& error) {
    return StatusFromException(error, current);
  }
  return report;
}

}  // namespace kosapo::pg
