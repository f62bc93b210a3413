#include "services/reporting/testing/synthetic_city.h"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/stream_to>
#include <pqxx/transaction>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kosapo::reporting::testing {
namespace {

// Every case's draws, made by PostgreSQL from the case's index `i` and the
// seed (hashint8extended: a well-mixed 64-bit hash, one per draw), so the
// rows never leave the server. Shares like a city's: most outreach done,
// most of those connected, about a third improved or resolved; some
// changes dated after the year end.
std::string CasesSql(const SyntheticCity& city) {
  auto draw = [&](int k, int n) {
    return absl::StrFormat(
        "((hashint8extended(i, %d) & 9223372036854775807) %% %d)::int",
        static_cast<int64_t>(city.seed) * 64 + k, n);
  };
  const std::string drawn = absl::StrFormat(
      "SELECT i, %d + (i %% %d)::int AS year, %s AS area, %s AS opened_offset,"
      "       %s = 0 AS withdrawn, %s = 0 AS prepared, %s AS status_draw,"
      "       %s AS status_offset, %s AS connect_draw, %s AS connect_offset,"
      "       %s = 0 AS revoked, %s AS outcome_draw, %s = 0 AS other_closure,"
      "       %s AS outcome_offset, %s = 0 AS reopened"
      "  FROM generate_series(0::bigint, %d) AS i",
      city.first_year, city.years, draw(1, city.areas), draw(2, 365),
      draw(3, 100), draw(4, 2), draw(5, 100), draw(6, 200), draw(7, 100),
      draw(8, 60), draw(9, 50), draw(10, 100), draw(11, 5), draw(12, 150),
      draw(13, 20), city.cases - 1);
  return absl::StrCat(
      "WITH drawn AS (", drawn,
      "), dated AS ("
      "  SELECT *, make_date(year, 4, 1) + opened_offset AS opened,"
      "         CASE WHEN status_draw < 60 THEN 'outreach_done'"
      "              WHEN status_draw < 80 THEN 'not_possible'"
      "              WHEN status_draw < 90 THEN 'in_preparation' END"
      "           AS status"
      "    FROM drawn)"
      " SELECT i, 'cases/' || (i + 1) AS name, year,"
      "        to_char(27102 + area, 'FM00000') AS area_code, opened,"
      "        withdrawn, prepared, status,"
      "        opened + status_offset AS status_day,"
      "        status = 'outreach_done' AND connect_draw < 70 AS connected,"
      "        opened + status_offset + connect_offset AS connected_day,"
      "        revoked,"
      "        CASE WHEN status = 'outreach_done' AND outcome_draw < 45 THEN"
      "          CASE WHEN other_closure THEN 'other_closure'"
      "               ELSE 'improved_resolved' END END AS outcome,"
      "        opened + status_offset + outcome_offset AS outcome_day,"
      "        reopened"
      "   FROM dated");
}

}  // namespace

std::string SyntheticAreaCode(int index) {
  return absl::StrFormat("%05d", 27102 + index);
}

absl::Status LoadSyntheticCity(const std::string& admin_url,
                               const std::string& schema,
                               const SyntheticCity& city) {
  try {
    pqxx::connection connection(admin_url);
    {
      pqxx::nontransaction setup(connection);
      setup.exec0(
          absl::StrCat("SET search_path TO ", setup.quote_name(schema)));
      // Bulk load: no per-row triggers; the year-end counts are rebuilt.
      setup.exec0("SET session_replication_role = replica");
      // The rebuild sorts every case's facts: in memory, not on disk.
      setup.exec0("SET work_mem = '512MB'");
    }
    std::mt19937 rng(city.seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    pqxx::work tx(connection);
    {
      pqxx::stream_to areas(
          tx, "areas",
          std::vector<std::string>{"municipality", "code", "display_name",
                                   "display_order"});
      for (int a = 0; a < city.areas; ++a) {
        areas << std::make_tuple(city.municipality, SyntheticAreaCode(a),
                                 absl::StrCat("第", a + 1, "区"), a + 1);
      }
      areas.complete();
    }
    {
      // About 11 pupils per case, as in the published table.
      const int64_t pupils =
          std::max<int64_t>(1, city.cases * 11 / city.years / city.areas / 4);
      pqxx::stream_to enrollment(
          tx, "enrollment",
          std::vector<std::string>{"municipality", "fiscal_year", "school_code",
                                   "area_code", "pupils"});
      for (int y = 0; y < city.years; ++y) {
        for (int a = 0; a < city.areas; ++a) {
          for (int s = 0; s < 4; ++s) {
            enrollment << std::make_tuple(
                city.municipality, city.first_year + y,
                absl::StrCat("S", a, "-", s), SyntheticAreaCode(a),
                pupils + pick(100));
          }
        }
      }
      enrollment.complete();
    }
    // The same rows the consumers write (ProjectionStore::ApplyCase and
    // ApplyReferral), into the tables the migrations made, with their
    // constraints and indexes; only the triggers are off.
    tx.exec0(
        absl::StrCat("CREATE TEMP VIEW synthetic_cases AS ", CasesSql(city)));
    // Each in the order of its case-name index, so the indexes grow at
    // their ends instead of at random pages.
    tx.exec_params0(
        "INSERT INTO cases (name, municipality, area_code, fiscal_year,"
        " opened_date, withdrawn)"
        " SELECT name, $1, area_code, year, opened, withdrawn"
        "   FROM synthetic_cases ORDER BY name",
        city.municipality);
    tx.exec0(
        "INSERT INTO approach_changes (seq, case_name, status, effective_date)"
        " SELECT 2 * i + 1, name, 'in_preparation', opened"
        "   FROM synthetic_cases WHERE prepared"
        " UNION ALL"
        " SELECT 2 * i + 2, name, status, status_day"
        "   FROM synthetic_cases WHERE status IS NOT NULL"
        " ORDER BY 2, 4, 1");
    tx.exec0(
        "INSERT INTO outcome_changes (seq, case_name, kind, effective_date)"
        " SELECT 2 * i + 1, name, outcome, outcome_day"
        "   FROM synthetic_cases WHERE outcome IS NOT NULL"
        " UNION ALL"
        " SELECT 2 * i + 2, name, 'reopened', outcome_day + 30"
        "   FROM synthetic_cases WHERE outcome IS NOT NULL AND reopened"
        " ORDER BY 2, 4, 1");
    tx.exec0(
        "INSERT INTO connections (source, case_name, effective_date, revoked)"
        " SELECT 'referrals/' || (i + 1), name, connected_day, revoked"
        "   FROM synthetic_cases WHERE connected ORDER BY name");
    tx.exec0("DROP VIEW synthetic_cases");
    tx.exec("SELECT rebuild_year_end()");
    tx.commit();
    pqxx::nontransaction analyze(connection);
    analyze.exec0("ANALYZE");
    return absl::OkStatus();
  } catch (const std::exception& error) {
    return absl::InternalError(
        absl::StrCat("loading the synthetic city: ", error.what()));
  }
}

}  // namespace kosapo::reporting::testing
