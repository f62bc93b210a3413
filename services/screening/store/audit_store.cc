#include "services/screening/store/audit_store.h"

#include <pqxx/result>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/pg/arrays.h"
#include "common/pg/transaction.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

absl::string_view RecordToDb(RecordKind record) {
  switch (record) {
    case RecordKind::kSheet:
      return "sheet";
    case RecordKind::kDecision:
      return "decision";
    case RecordKind::kExtraction:
      return "extraction";
    case RecordKind::kAudit:
      return "audit";
  }
  return "";
}

// The resource an audit row names for one of its pupils: the sheet or the
// decision (an extraction is named by its decision), or for a read of the
// trail, what was asked for (a sheet's trail, or the pupil's).
std::string ResourceOf(absl::string_view record,
                       const std::string& municipality,
                       const std::optional<int64_t>& round_id,
                       const PupilKey& pupil) {
  if (!round_id.has_value()) {
    return absl::StrCat("municipalities/", municipality, "/schools/",
                        pupil.school_code, "/pupils/", pupil.pupil_id);
  }
  const absl::string_view kind =
      record == "decision" || record == "extraction" ? "decisions" : "sheets";
  return absl::StrCat(RoundName(municipality, *round_id), "/schools/",
                      pupil.school_code, "/", kind, "/", pupil.pupil_id);
}

// Appends one row per school of `schools`, naming the pupils of the
// text[] literal at the same place of `pupil_lists`, in that order.
void Append(pqxx::work& tx, const AuditScope& scope, RecordKind record,
            const std::vector<std::string>& schools,
            const std::vector<std::string>& pupil_lists, const Accessor& who,
            absl::string_view access) {
  if (schools.empty()) {
    return;
  }
  const server::Caller& caller = who;
  tx.exec_params0(
      "INSERT INTO screening_audit (subject, role, method, access,"
      " request_id, purpose, municipality, round_id, school_code, record,"
      " pupil_ids)"
      " SELECT $1, $2, $3, $4, $5, $6, $7, $8, t.s, $9, t.p::text[]"
      "   FROM unnest($10::text[], $11::text[]) WITH ORDINALITY AS t(s, p, n)"
      "  ORDER BY t.n",
      caller.subject, caller.role, caller.method, std::string(access),
      caller.request_id, caller.purpose, scope.municipality, scope.round_id,
      std::string(RecordToDb(record)), pg::TextArray(schools),
      pg::TextArray(pupil_lists));
}

}  // namespace

void AuditEach(pqxx::work& tx, const AuditScope& scope, RecordKind record,
               const std::vector<PupilKey>& pupils, const Accessor& who,
               absl::string_view access) {
  std::vector<std::string> schools;
  std::vector<std::string> lists;
  schools.reserve(pupils.size());
  lists.reserve(pupils.size());
  for (const PupilKey& pupil : pupils) {
    schools.push_back(pupil.school_code);
    lists.push_back(pg::TextArray({pupil.pupil_id}));
  }
  Append(tx, scope, record, schools, lists, who, access);
}

void AuditBatch(pqxx::work& tx, const AuditScope& scope, RecordKind record,
                const std::vector<PupilKey>& pupils, const Accessor& who,
                absl::string_view access) {
  // Grouped here rather than in SQL: an intake's audit names every pupil it
  // wrote, and unnesting and regrouping them all cost the intake 0.5 s in
  // 165,000 (bench/screening_intake_bench).
  std::vector<std::string> schools;  // in order of their first pupil
  std::vector<std::vector<std::string>> ids;
  absl::flat_hash_map<std::string, size_t> index;
  for (const PupilKey& pupil : pupils) {
    auto [it, added] = index.try_emplace(pupil.school_code, schools.size());
    if (added) {
      schools.push_back(pupil.school_code);
      ids.emplace_back();
    }
    ids[it->second].push_back(pupil.pupil_id);
  }
  std::vector<std::string> lists;
  lists.reserve(ids.size());
  for (const std::vector<std::string>& school_ids : ids) {
    lists.push_back(pg::TextArray(school_ids));
  }
  Append(tx, scope, record, schools, lists, who, access);
}

absl::StatusOr<std::vector<TrailEntry>> AuditStore::Trail(
    const TrailQuery& query, const Accessor& who) {
  return pg::InTransaction(
      pool_, "list audit records",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<TrailEntry>> {
        std::vector<TrailEntry> page;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT id, (extract(epoch FROM access_time) * 1000000)"
                 "::bigint, subject, role, method, access, request_id,"
                 " purpose, round_id, record, cardinality(pupil_ids)"
                 " FROM screening_audit"
                 " WHERE pupil_ids @> ARRAY[$3::text]"
                 "   AND municipality = $1 AND school_code = $2"
                 "   AND ($4::bigint IS NULL OR round_id = $4)"
                 "   AND ($5::bigint = 0 OR (access_time, id) < ("
                 "'epoch'::timestamptz + $7::bigint * interval '1 microsecond',"
                 " $5::bigint))"
                 " ORDER BY access_time DESC, id DESC LIMIT $6",
                 query.scope.municipality, query.pupil.school_code,
                 query.pupil.pupil_id, query.scope.round_id, query.before_id,
                 query.limit, query.before_us)) {
          v1::AuditRecord entry;
          SetTimestampMicros(row[1].as<int64_t>(), entry.mutable_time());
          entry.set_subject(row[2].as<std::string>());
          entry.set_role(row[3].as<std::string>());
          entry.set_method(row[4].as<std::string>());
          entry.set_access(row[5].as<std::string>());
          entry.set_request_id(row[6].as<std::string>());
          entry.set_purpose(row[7].as<std::string>());
          entry.set_resource(ResourceOf(
              row[9].as<std::string>(), query.scope.municipality,
              row[8].is_null() ? std::nullopt
                               : std::optional<int64_t>(row[8].as<int64_t>()),
              query.pupil));
          entry.set_pupils(row[10].as<int>());
          page.emplace_back(row[0].as<int64_t>(), std::move(entry));
        }
        if (!page.empty()) {
          AuditEach(tx, query.scope, RecordKind::kAudit, {query.pupil}, who,
                    "read");
        }
        return page;
      });
}

}  // namespace kosapo::screening
