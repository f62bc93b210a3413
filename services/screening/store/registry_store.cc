#include "services/screening/store/registry_store.h"

#include <algorithm>
#include <pqxx/result>
#include <pqxx/transaction>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/events/outbox.h"
#include "common/pg/arrays.h"
#include "common/pg/transaction.h"
#include "kosapo/screening/v1/events.pb.h"

namespace kosapo::screening {
namespace {

v1::Municipality MunicipalityFromRow(const pqxx::row& row) {
  v1::Municipality out;
  out.set_code(row["code"].as<std::string>());
  out.set_name(MunicipalityName(out.code()));
  out.set_display_name(row["display_name"].as<std::string>());
  out.set_time_zone(row["time_zone"].as<std::string>());
  SetTimestampMicros(row["create_us"].as<int64_t>(), out.mutable_create_time());
  SetTimestampMicros(row["update_us"].as<int64_t>(), out.mutable_update_time());
  return out;
}

v1::Area AreaFromRow(absl::string_view municipality, const pqxx::row& row) {
  v1::Area out;
  out.set_code(row["code"].as<std::string>());
  out.set_name(AreaName(municipality, out.code()));
  out.set_display_name(row["display_name"].as<std::string>());
  out.set_display_order(row["display_order"].as<int>());
  out.set_display_name_en(row["display_name_en"].as<std::string>());
  return out;
}

v1::School SchoolFromRow(absl::string_view municipality, const pqxx::row& row) {
  v1::School out;
  out.set_code(row["code"].as<std::string>());
  out.set_name(SchoolName(municipality, out.code()));
  out.set_display_name(row["display_name"].as<std::string>());
  out.set_kind(SchoolKindFromDb(row["kind"].as<std::string>())
                   .value_or(v1::SCHOOL_KIND_UNSPECIFIED));
  out.set_area_code(row["area_code"].as<std::string>());
  return out;
}

constexpr char kMunicipalityColumns[] =
    "code, display_name, time_zone,"
    " (extract(epoch FROM create_time) * 1000000)::bigint AS create_us,"
    " (extract(epoch FROM update_time) * 1000000)::bigint AS update_us";

absl::Status RequireMunicipalityRow(pqxx::work& tx,
                                    absl::string_view municipality, bool lock) {
  const std::string sql =
      absl::StrCat("SELECT 1 FROM municipalities WHERE code = $1",
                   lock ? " FOR UPDATE" : "");
  if (tx.exec_params(sql, std::string(municipality)).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("municipality ", municipality, " is not registered"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string MunicipalityName(absl::string_view code) {
  return absl::StrCat("municipalities/", code);
}

std::string AreaName(absl::string_view municipality, absl::string_view code) {
  return absl::StrCat("municipalities/", municipality, "/areas/", code);
}

std::string SchoolName(absl::string_view municipality, absl::string_view code) {
  return absl::StrCat("municipalities/", municipality, "/schools/", code);
}

absl::string_view SchoolKindToDb(v1::SchoolKind kind) {
  switch (kind) {
    case v1::SCHOOL_KIND_ELEMENTARY:
      return "elementary";
    case v1::SCHOOL_KIND_JUNIOR_HIGH:
      return "junior_high";
    case v1::SCHOOL_KIND_COMPULSORY:
      return "compulsory";
    case v1::SCHOOL_KIND_KINDERGARTEN:
      return "kindergarten";
    case v1::SCHOOL_KIND_NURSERY:
      return "nursery";
    case v1::SCHOOL_KIND_CERTIFIED_CHILDCARE:
      return "certified_childcare";
    default:
      return "";
  }
}

std::optional<v1::SchoolKind> SchoolKindFromDb(absl::string_view text) {
  for (int value = v1::SchoolKind_MIN; value <= v1::SchoolKind_MAX; ++value) {
    const auto kind = static_cast<v1::SchoolKind>(value);
    if (v1::SchoolKind_IsValid(value) && !SchoolKindToDb(kind).empty() &&
        SchoolKindToDb(kind) == text) {
      return kind;
    }
  }
  return std::nullopt;
}

RegistryStore::RegistryStore(pg::Pool& pool) : pool_(pool) {}

absl::StatusOr<v1::Municipality> RegistryStore::UpsertMunicipality(
    const v1::Municipality& municipality) {
  return pg::InTransaction(
      pool_, "upsert municipality",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Municipality> {
        tx.exec_params0(
            "INSERT INTO municipalities (code, display_name, time_zone)"
            " VALUES ($1, $2, $3)"
            " ON CONFLICT (code) DO UPDATE SET"
            "   display_name = EXCLUDED.display_name,"
            "   time_zone = EXCLUDED.time_zone, update_time = now()"
            " WHERE (municipalities.display_name, municipalities.time_zone)"
            "   IS DISTINCT FROM (EXCLUDED.display_name, EXCLUDED.time_zone)",
            municipality.code(), municipality.display_name(),
            municipality.time_zone());
        return MunicipalityFromRow(tx.exec_params1(
            absl::StrCat("SELECT ", kMunicipalityColumns,
                         " FROM municipalities WHERE code = $1"),
            municipality.code()));
      });
}

absl::StatusOr<v1::Municipality> RegistryStore::GetMunicipality(
    absl::string_view code) {
  return pg::InTransaction(
      pool_, "get municipality",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Municipality> {
        const pqxx::result rows =
            tx.exec_params(absl::StrCat("SELECT ", kMunicipalityColumns,
                                        " FROM municipalities WHERE code = $1"),
                           std::string(code));
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(MunicipalityName(code), " not found"));
        }
        return MunicipalityFromRow(rows[0]);
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Area> RegistryStore::UpsertArea(
    absl::string_view municipality, const v1::Area& area, const Actor& actor) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "upsert area", [&](pqxx::work& tx) -> absl::StatusOr<v1::Area> {
        if (absl::Status status = RequireMunicipalityRow(tx, m, true);
            !status.ok()) {
          return status;
        }
        const pqxx::result holder = tx.exec_params(
            "SELECT code FROM areas WHERE municipality = $1"
            " AND display_order = $2 AND code <> $3",
            m, area.display_order(), area.code());
        if (!holder.empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "area.display_order: ", area.display_order(),
              " is already taken by area ", holder[0][0].as<std::string>()));
        }
        const pqxx::result changed = tx.exec_params(
            "INSERT INTO areas (municipality, code, display_name, "
            "display_order, display_name_en)"
            " VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (municipality, code) DO UPDATE SET"
            "   display_name = EXCLUDED.display_name,"
            "   display_order = EXCLUDED.display_order,"
            "   display_name_en = EXCLUDED.display_name_en"
            " WHERE (areas.display_name, areas.display_order,"
            "        areas.display_name_en)"
            "   IS DISTINCT FROM (EXCLUDED.display_name, "
            "EXCLUDED.display_order, EXCLUDED.display_name_en)"
            " RETURNING code, display_name, display_order, display_name_en",
            m, area.code(), area.display_name(), area.display_order(),
            area.display_name_en());
        if (changed.empty()) {
          return AreaFromRow(
              m, tx.exec_params1(
                     "SELECT code, display_name, display_order,"
                     " display_name_en"
                     " FROM areas WHERE municipality = $1 AND code = $2",
                     m, area.code()));
        }
        v1::Area stored = AreaFromRow(m, changed[0]);
        v1::AreaChanged event;
        event.set_municipality_code(m);
        *event.mutable_area() = stored;
        events::AppendEvent(tx, stored.name(), event, actor.trace_id);
        return stored;
      });
}

absl::StatusOr<std::vector<v1::Area>> RegistryStore::ListAreas(
    absl::string_view municipality) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "list areas",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Area>> {
        std::vector<v1::Area> areas;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT code, display_name, display_order, display_name_en"
                 "  FROM areas"
                 " WHERE municipality = $1 ORDER BY display_order",
                 m)) {
          areas.push_back(AreaFromRow(m, row));
        }
        return areas;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::School> RegistryStore::UpsertSchool(
    absl::string_view municipality, const v1::School& school,
    const Actor& actor) {
  const std::string m(municipality);
  const std::string kind(SchoolKindToDb(school.kind()));
  return pg::InTransaction(
      pool_, "upsert school",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::School> {
        if (tx.exec_params("SELECT 1 FROM areas WHERE municipality = $1"
                           " AND code = $2",
                           m, school.area_code())
                .empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("school.area_code: area ", school.area_code(),
                           " is not registered in municipality ", m));
        }
        const pqxx::result changed = tx.exec_params(
            "INSERT INTO schools (municipality, code, display_name, kind, "
            "area_code)"
            " VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (municipality, code) DO UPDATE SET"
            "   display_name = EXCLUDED.display_name, kind = EXCLUDED.kind,"
            "   area_code = EXCLUDED.area_code"
            " WHERE (schools.display_name, schools.kind, schools.area_code)"
            "   IS DISTINCT FROM"
            "   (EXCLUDED.display_name, EXCLUDED.kind, EXCLUDED.area_code)"
            " RETURNING code, display_name, kind, area_code",
            m, school.code(), school.display_name(), kind, school.area_code());
        if (changed.empty()) {
          return SchoolFromRow(
              m, tx.exec_params1("SELECT code, display_name, kind, area_code"
                                 " FROM schools WHERE municipality = $1"
                                 " AND code = $2",
                                 m, school.code()));
        }
        v1::School stored = SchoolFromRow(m, changed[0]);
        v1::SchoolChanged event;
        event.set_municipality_code(m);
        *event.mutable_school() = stored;
        events::AppendEvent(tx, stored.name(), event, actor.trace_id);
        return stored;
      });
}

absl::StatusOr<RegistryStore::SchoolPage> RegistryStore::ListSchools(
    absl::string_view municipality, absl::string_view area_code,
    absl::string_view after_code, int limit) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "list schools",
      [&](pqxx::work& tx) -> absl::StatusOr<SchoolPage> {
        // Keyset pagination on (area display order, school code).
        const pqxx::result rows = tx.exec_params(
            "SELECT s.code, s.display_name, s.kind, s.area_code"
            "  FROM schools s JOIN areas a"
            "    ON a.municipality = s.municipality AND a.code = s.area_code"
            " WHERE s.municipality = $1"
            "   AND ($2 = '' OR s.area_code = $2)"
            "   AND ($3 = '' OR (a.display_order, s.code) > ("
            "        SELECT a2.display_order, s2.code FROM schools s2"
            "          JOIN areas a2 ON a2.municipality = s2.municipality"
            "           AND a2.code = s2.area_code"
            "         WHERE s2.municipality = $1 AND s2.code = $3))"
            " ORDER BY a.display_order, s.code LIMIT $4",
            m, std::string(area_code), std::string(after_code), limit + 1);
        SchoolPage page;
        for (const pqxx::row& row : rows) {
          if (static_cast<int>(page.schools.size()) == limit) {
            page.more = true;
            break;
          }
          page.schools.push_back(SchoolFromRow(m, row));
        }
        return page;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::map<std::string, v1::SchoolKind>>
RegistryStore::SchoolKinds(absl::string_view municipality) {
  return pg::InTransaction(
      pool_, "school kinds",
      [&](pqxx::work& tx)
          -> absl::StatusOr<std::map<std::string, v1::SchoolKind>> {
        std::map<std::string, v1::SchoolKind> kinds;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT code, kind FROM schools WHERE municipality = $1",
                 std::string(municipality))) {
          kinds[row[0].as<std::string>()] =
              SchoolKindFromDb(row[1].as<std::string>())
                  .value_or(v1::SCHOOL_KIND_UNSPECIFIED);
        }
        return kinds;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<EnrollmentResult> RegistryStore::ReplaceEnrollment(
    absl::string_view municipality, int fiscal_year,
    const std::vector<v1::EnrollmentRow>& rows, const Actor& actor) {
  const std::string m(municipality);
  using Key = std::tuple<std::string, int, int>;
  std::vector<Key> wanted;
  for (const v1::EnrollmentRow& row : rows) {
    wanted.emplace_back(row.school_code(), row.grade(), row.pupils());
  }
  std::sort(wanted.begin(), wanted.end());
  return pg::InTransaction(
      pool_, "replace enrollment",
      [&](pqxx::work& tx) -> absl::StatusOr<EnrollmentResult> {
        // Serializes loads of one municipality.
        if (absl::Status status = RequireMunicipalityRow(tx, m, true);
            !status.ok()) {
          return status;
        }
        std::vector<Key> stored;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT school_code, grade, pupils FROM enrollment_counts"
                 " WHERE municipality = $1 AND fiscal_year = $2"
                 " ORDER BY school_code, grade",
                 m, fiscal_year)) {
          stored.emplace_back(row[0].as<std::string>(), row[1].as<int>(),
                              row[2].as<int>());
        }
        EnrollmentResult result;
        std::map<std::string, v1::SchoolEnrollment> per_school;
        for (const auto& [school, grade, pupils] : wanted) {
          v1::SchoolEnrollment& entry = per_school[school];
          entry.set_school_code(school);
          entry.set_pupils(entry.pupils() + pupils);
          v1::EnrollmentRow* row = entry.add_rows();
          row->set_school_code(school);
          row->set_grade(grade);
          row->set_pupils(pupils);
          result.pupils += pupils;
        }
        result.schools = static_cast<int32_t>(per_school.size());
        if (stored == wanted) {
          result.unchanged = true;
          return result;
        }
        tx.exec_params0(
            "DELETE FROM enrollment_counts"
            " WHERE municipality = $1 AND fiscal_year = $2",
            m, fiscal_year);
        std::vector<std::string> schools;
        std::vector<int64_t> grades;
        std::vector<int64_t> pupils;
        for (const auto& [school, grade, count] : wanted) {
          schools.push_back(school);
          grades.push_back(grade);
          pupils.push_back(count);
        }
        tx.exec_params0(
            "INSERT INTO enrollment_counts"
            " (municipality, fiscal_year, school_code, grade, pupils)"
            " SELECT $1, $2, s, g, p"
            "   FROM unnest($3::text[], $4::int[], $5::int[]) AS t(s, g, p)",
            m, fiscal_year, pg::TextArray(schools), pg::IdArray(grades),
            pg::IdArray(pupils));
        tx.exec_params0(
            "INSERT INTO enrollment_loads"
            " (municipality, fiscal_year, rows_loaded, loaded_by)"
            " VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (municipality, fiscal_year) DO UPDATE SET"
            "   rows_loaded = EXCLUDED.rows_loaded,"
            "   loaded_by = EXCLUDED.loaded_by, load_time = now()",
            m, fiscal_year, static_cast<int>(wanted.size()), actor.subject);
        // Each school's area as of the load, so consumers can total by area
        // without the registry.
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT code, area_code FROM schools WHERE municipality = $1",
                 m)) {
          auto found = per_school.find(row[0].as<std::string>());
          if (found != per_school.end()) {
            found->second.set_area_code(row[1].as<std::string>());
          }
        }
        v1::EnrollmentLoaded event;
        event.set_municipality_code(m);
        event.set_fiscal_year(fiscal_year);
        for (auto& [code, entry] : per_school) {
          *event.add_schools() = std::move(entry);
        }
        events::AppendEvent(
            tx, absl::StrCat(MunicipalityName(m), "/enrollment/", fiscal_year),
            event, actor.trace_id);
        return result;
      });
}

absl::StatusOr<v1::Enrollment> RegistryStore::GetEnrollment(
    absl::string_view municipality, int fiscal_year) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "get enrollment",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Enrollment> {
        v1::Enrollment out;
        out.set_fiscal_year(fiscal_year);
        std::map<std::string, v1::AreaEnrollment*> areas;
        for (const pqxx::row& row :
             tx.exec_params("SELECT code FROM areas WHERE municipality = $1"
                            " ORDER BY display_order",
                            m)) {
          v1::AreaEnrollment* area = out.add_areas();
          area->set_area_code(row[0].as<std::string>());
          areas[area->area_code()] = area;
        }
        v1::SchoolEnrollment* current = nullptr;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT e.school_code, s.area_code, e.grade, e.pupils"
                 "  FROM enrollment_counts e"
                 "  JOIN schools s ON s.municipality = e.municipality"
                 "   AND s.code = e.school_code"
                 "  JOIN areas a ON a.municipality = s.municipality"
                 "   AND a.code = s.area_code"
                 " WHERE e.municipality = $1 AND e.fiscal_year = $2"
                 " ORDER BY a.display_order, e.school_code, e.grade",
                 m, fiscal_year)) {
          const std::string school = row[0].as<std::string>();
          if (current == nullptr || current->school_code() != school) {
            current = out.add_schools();
            current->set_school_code(school);
            current->set_area_code(row[1].as<std::string>());
          }
          const int pupils = row[3].as<int>();
          v1::EnrollmentRow* entry = current->add_rows();
          entry->set_school_code(school);
          entry->set_grade(row[2].as<int>());
          entry->set_pupils(pupils);
          current->set_pupils(current->pupils() + pupils);
          areas[current->area_code()]->set_pupils(
              areas[current->area_code()]->pupils() + pupils);
          out.set_pupils(out.pupils() + pupils);
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

}  // namespace kosapo::screening
