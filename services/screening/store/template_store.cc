#include "services/screening/store/template_store.h"

#include <pqxx/result>
#include <pqxx/transaction>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/proto_time.h"
#include "common/pg/transaction.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

constexpr char kTemplateColumns[] =
    "body::text, (extract(epoch FROM create_time) * 1000000)::bigint,"
    " COALESCE(municipality, '')";

// Rows come from our own validated writes; a row that no longer parses
// means the stored data was changed behind the service's back.
absl::StatusOr<StoredTemplate> TemplateFromRow(const pqxx::row& row) {
  auto model = ParseTemplateJson(row[0].as<std::string>());
  if (!model.ok()) {
    return absl::DataLossError(absl::StrCat("stored template does not parse: ",
                                            model.status().message()));
  }
  return StoredTemplate{*std::move(model),
                        absl::FromUnixMicros(row[1].as<int64_t>()),
                        row[2].as<std::string>()};
}

constexpr char kRoundColumns[] =
    "id, fiscal_year, title, template_key, template_version,"
    " open_date::text, close_date::text, closed,"
    " (extract(epoch FROM create_time) * 1000000)::bigint, kind,"
    " (extract(epoch FROM erase_time) * 1000000)::bigint";

v1::Round RoundFromRow(absl::string_view municipality, const pqxx::row& row) {
  v1::Round round;
  round.set_name(RoundName(municipality, row[0].as<int64_t>()));
  round.set_fiscal_year(row[1].as<int>());
  round.set_title(row[2].as<std::string>());
  round.set_template_(TemplateName(row[3].as<std::string>(), row[4].as<int>()));
  *round.mutable_open_date() = DateFromSql(row[5].as<std::string>());
  *round.mutable_close_date() = DateFromSql(row[6].as<std::string>());
  round.set_state(row[7].as<bool>() ? v1::ROUND_STATE_CLOSED
                                    : v1::ROUND_STATE_OPEN);
  SetTimestampMicros(row[8].as<int64_t>(), round.mutable_create_time());
  round.set_kind(RoundKindFromDb(row[9].as<std::string>()));
  if (!row[10].is_null()) {
    SetTimestampMicros(row[10].as<int64_t>(), round.mutable_erase_time());
  }
  return round;
}

}  // namespace

absl::StatusOr<StoredTemplate> TemplateStore::CreateVersion(
    Template model, absl::string_view municipality, const Actor& actor) {
  const std::string owner(municipality);
  return pg::InTransaction(
      pool_, "create template version",
      [&](pqxx::work& tx) -> absl::StatusOr<StoredTemplate> {
        // One writer per key at a time, so versions are assigned in order
        // and a new key gets one owner.
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       "kosapo.template." + model.key);
        const pqxx::result latest = tx.exec_params(
            "SELECT version, (extract(epoch FROM create_time) * "
            "1000000)::bigint,"
            " municipality FROM templates WHERE key = $1"
            " ORDER BY version DESC LIMIT 1",
            model.key);
        if (!latest.empty()) {
          if (latest[0][2].is_null()) {
            return absl::PermissionDeniedError(absl::StrCat(
                "template.key: ", model.key,
                " is a shared template and read-only; publish the "
                "municipality's own template under a key of its own (a copy "
                "of it, if you like)"));
          }
          if (const std::string stored_owner = latest[0][2].as<std::string>();
              stored_owner != owner) {
            return absl::PermissionDeniedError(
                absl::StrCat("template.key: ", model.key,
                             " belongs to municipality ", stored_owner));
          }
          model.version = latest[0][0].as<int>();
          const pqxx::result same = tx.exec_params(
              "SELECT 1 FROM templates WHERE key = $1 AND version = $2"
              " AND body = $3::jsonb",
              model.key, model.version, TemplateToJson(model));
          if (!same.empty()) {
            return StoredTemplate{
                model, absl::FromUnixMicros(latest[0][1].as<int64_t>()), owner};
          }
          model.version += 1;
        } else {
          if (tx.exec_params("SELECT 1 FROM municipalities WHERE code = $1",
                             owner)
                  .empty()) {
            return absl::FailedPreconditionError(
                absl::StrCat("municipality ", owner, " is not registered"));
          }
          model.version = 1;
        }
        const pqxx::row row = tx.exec_params1(
            "INSERT INTO templates (key, version, body, created_by,"
            " municipality) VALUES ($1, $2, $3::jsonb, $4, $5)"
            " RETURNING (extract(epoch FROM create_time) * 1000000)::bigint",
            model.key, model.version, TemplateToJson(model), actor.subject,
            owner);
        return StoredTemplate{model, absl::FromUnixMicros(row[0].as<int64_t>()),
                              owner};
      });
}

absl::Status TemplateStore::EnsureShipped(const Template& model) {
  return pg::InTransaction(
      pool_, "ensure shipped template", [&](pqxx::work& tx) {
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                       "kosapo.template." + model.key);
        const std::string body = TemplateToJson(model);
        const pqxx::result stored = tx.exec_params(
            "SELECT body = $3::jsonb FROM templates WHERE key = $1 AND version "
            "= $2",
            model.key, model.version, body);
        if (stored.empty()) {
          tx.exec_params0(
              "INSERT INTO templates (key, version, body, created_by)"
              " VALUES ($1, $2, $3::jsonb, 'kosapo')",
              model.key, model.version, body);
          return absl::OkStatus();
        }
        if (!stored[0][0].as<bool>()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the shipped template ", TemplateName(model.key, model.version),
              " differs from the stored one; a changed sheet needs a new "
              "version"));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<StoredTemplate> TemplateStore::Get(absl::string_view key,
                                                  int version) {
  return pg::InTransaction(
      pool_, "get template",
      [&](pqxx::work& tx) -> absl::StatusOr<StoredTemplate> {
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kTemplateColumns,
                         " FROM templates WHERE key = $1 AND version = $2"),
            std::string(key), version);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(TemplateName(key, version), " not found"));
        }
        return TemplateFromRow(rows[0]);
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::vector<StoredTemplate>> TemplateStore::ListLatest() {
  return pg::InTransaction(
      pool_, "list templates",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<StoredTemplate>> {
        std::vector<StoredTemplate> out;
        for (const pqxx::row& row : tx.exec(
                 absl::StrCat("SELECT DISTINCT ON (key) ", kTemplateColumns,
                              " FROM templates ORDER BY key, version DESC"))) {
          auto stored = TemplateFromRow(row);
          if (!stored.ok()) {
            return stored.status();
          }
          out.push_back(*std::move(stored));
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Round> RoundStore::Create(absl::string_view municipality,
                                             const v1::Round& round,
                                             absl::string_view request_id,
                                             const Actor& actor) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "create round", [&](pqxx::work& tx) -> absl::StatusOr<v1::Round> {
        const std::string select = absl::StrCat(
            "SELECT ", kRoundColumns,
            " FROM rounds WHERE municipality = $1 AND request_id = $2");
        const pqxx::result earlier =
            tx.exec_params(select, m, std::string(request_id));
        if (!earlier.empty()) {
          return RoundFromRow(m, earlier[0]);
        }
        if (tx.exec_params("SELECT 1 FROM municipalities WHERE code = $1", m)
                .empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("municipality ", m, " is not registered"));
        }
        auto template_name =
            ParseTemplateName(round.template_(), "round.template");
        if (!template_name.ok()) {
          return template_name.status();
        }
        const auto& [key, version] = *template_name;
        const pqxx::result owner = tx.exec_params(
            "SELECT municipality FROM templates"
            " WHERE key = $1 AND version = $2",
            key, version);
        if (owner.empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "round.template: ", round.template_(), " not found"));
        }
        if (!owner[0][0].is_null() && owner[0][0].as<std::string>() != m) {
          return absl::PermissionDeniedError(absl::StrCat(
              "round.template: ", round.template_(),
              " belongs to municipality ", owner[0][0].as<std::string>(),
              "; a round uses its own municipality's templates or a shared "
              "one"));
        }
        // A concurrent retry with the same request id inserts nothing here
        // and reads the winner's round below.
        tx.exec_params0(
            "INSERT INTO rounds (municipality, fiscal_year, title, "
            "template_key,"
            " template_version, open_date, close_date, request_id, created_by,"
            " kind)"
            " VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8, $9, $10)"
            " ON CONFLICT (municipality, request_id) DO NOTHING",
            m, round.fiscal_year(), round.title(), key, version,
            DateToSql(round.open_date()), DateToSql(round.close_date()),
            std::string(request_id), actor.subject,
            std::string(RoundKindToDb(round.kind())));
        return RoundFromRow(
            m, tx.exec_params1(select, m, std::string(request_id)));
      });
}

absl::StatusOr<v1::Round> RoundStore::Get(absl::string_view municipality,
                                          int64_t id) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "get round",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Round> {
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kRoundColumns,
                         " FROM rounds WHERE municipality = $1 AND id = $2"),
            m, id);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(RoundName(m, id), " not found"));
        }
        return RoundFromRow(m, rows[0]);
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::vector<v1::Round>> RoundStore::List(
    absl::string_view municipality, int fiscal_year) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "list rounds",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Round>> {
        std::vector<v1::Round> out;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kRoundColumns,
                              " FROM rounds WHERE municipality = $1"
                              " AND ($2 = 0 OR fiscal_year = $2)"
                              " ORDER BY open_date, create_time, id"),
                 m, fiscal_year)) {
          out.push_back(RoundFromRow(m, row));
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Round> RoundStore::Close(absl::string_view municipality,
                                            int64_t id) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "close round", [&](pqxx::work& tx) -> absl::StatusOr<v1::Round> {
        // A sheet intake holds the round's share lock until it commits
        // (sheet_store.h): wait a little for it, then say so.
        tx.exec0("SET LOCAL lock_timeout = '2s'");
        pqxx::result rows;
        try {
          rows = tx.exec_params(
              absl::StrCat("UPDATE rounds SET closed = true"
                           " WHERE municipality = $1 AND id = $2 RETURNING ",
                           kRoundColumns),
              m, id);
        } catch (const pqxx::sql_error& error) {
          if (error.sqlstate() != "55P03") {  // lock_not_available
            throw;
          }
          return absl::AbortedError(absl::StrCat(
              RoundName(m, id),
              ": a sheet intake into the round is still running; close it "
              "again when the intake has ended"));
        }
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(RoundName(m, id), " not found"));
        }
        return RoundFromRow(m, rows[0]);
      });
}

}  // namespace kosapo::screening
