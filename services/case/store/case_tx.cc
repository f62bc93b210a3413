#include "services/case/store/case_tx.h"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/crypto/proto_fields.h"
#include "common/pg/errors.h"
#include "common/types/api_types.h"
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {

const char kCaseColumns[] =
    "c.id, c.municipality, c.area_code, c.source, c.source_detail,"
    " coalesce(c.extraction_id, '') AS extraction_id,"
    " c.opened_date::text AS opened_date, c.fiscal_year, c.child_name,"
    " c.child_kana, c.birth_date::text AS birth_date, c.sex, c.school_code,"
    " c.grade, c.household::text AS household, c.youtaikyo,"
    " c.duplicate_override, c.state, c.approach_status, c.approach_reason,"
    " c.outcome, coalesce(c.outcome_date::text, '') AS outcome_date,"
    " c.revision,"
    " (extract(epoch FROM c.create_time) * 1000000)::bigint AS create_us,"
    " (extract(epoch FROM c.update_time) * 1000000)::bigint AS update_us,"
    " (extract(epoch FROM c.erase_time) * 1000000)::bigint AS erase_us";

CaseRecord CaseFromRow(const pqxx::row& row, const crypto::FieldCipher& cipher,
                       bool household) {
  CaseRecord record;
  record.id = row["id"].as<int64_t>();
  record.revision = row["revision"].as<int64_t>();
  record.opened = DayFromSql(row["opened_date"].as<std::string>());
  FromText(row["state"].as<std::string>(), &record.state);
  v1::Case& c = record.proto;
  c.set_name(CaseName(record.id));
  c.set_municipality_code(row["municipality"].as<std::string>());
  c.set_area_code(row["area_code"].as<std::string>());
  c.set_source(EnumFromText<v1::CaseSource>(row["source"].as<std::string>()));
  c.set_source_detail(row["source_detail"].as<std::string>());
  c.set_extraction_id(row["extraction_id"].as<std::string>());
  *c.mutable_opened_date() = DateToProto(record.opened);
  c.set_fiscal_year(row["fiscal_year"].as<int>());
  v1::Child* child = c.mutable_child();
  child->set_name(row["child_name"].as<std::string>());
  child->set_kana(row["child_kana"].as<std::string>());
  if (!row["birth_date"].is_null()) {  // null once erased
    *child->mutable_birth_date() =
        DateFromSql(row["birth_date"].as<std::string>());
  }
  child->set_sex(EnumFromText<v1::Sex>(row["sex"].as<std::string>()));
  child->set_school_code(row["school_code"].as<std::string>());
  child->set_grade(row["grade"].as<int>());
  if (household) {
    // Written by this service from a validated message: it parses.
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    (void)google::protobuf::util::JsonStringToMessage(
        row["household"].as<std::string>(), c.mutable_household(), options);
    const absl::Status opened =
        crypto::OpenFields(*c.mutable_household(), kHouseholdText,
                           kHouseholdPlace, CaseName(record.id), cipher);
    if (!opened.ok()) {
      throw pg::StatusError(opened);
    }
  }
  c.set_youtaikyo_registered(row["youtaikyo"].as<bool>());
  c.set_lead(LeadOf(c.youtaikyo_registered()));
  c.set_state(record.state);
  c.set_approach_status(EnumFromText<v1::ApproachStatus>(
      row["approach_status"].as<std::string>()));
  c.set_not_possible_reason(EnumFromText<v1::NotPossibleReason>(
      row["approach_reason"].as<std::string>()));
  c.set_outcome(EnumFromText<v1::Outcome>(row["outcome"].as<std::string>()));
  const std::string outcome_date = row["outcome_date"].as<std::string>();
  if (!outcome_date.empty()) {
    *c.mutable_outcome_date() = DateFromSql(outcome_date);
  }
  c.set_duplicate_override(row["duplicate_override"].as<std::string>());
  c.set_etag(absl::StrCat(record.revision));
  SetTimestampMicros(row["create_us"].as<int64_t>(), c.mutable_create_time());
  SetTimestampMicros(row["update_us"].as<int64_t>(), c.mutable_update_time());
  if (!row["erase_us"].is_null()) {
    record.erased = true;
    SetTimestampMicros(row["erase_us"].as<int64_t>(), c.mutable_erase_time());
  }

  record.scope.case_id = record.id;
  record.scope.municipality = c.municipality_code();
  record.scope.area_code = c.area_code();
  record.scope.school_code = child->school_code();
  return record;
}

namespace {

// The case row with its assignees and hubs (ordered as LoadScopes orders
// them) in one statement, after `prefix` (a WITH clause, or nothing).
std::string LoadCaseSql(absl::string_view prefix, absl::string_view columns,
                        bool lock) {
  return absl::StrCat(
      prefix, "SELECT ", kCaseColumns, columns,
      ", (SELECT coalesce(json_agg(json_build_array(a.subject, a.role)"
      "                   ORDER BY a.subject), '[]')"
      "     FROM case_assignees a WHERE a.case_id = c.id)::text"
      "   AS assignees_json,"
      " (SELECT coalesce(json_agg(h.hub_code ORDER BY h.hub_code), '[]')"
      "    FROM case_hubs h WHERE h.case_id = c.id)::text AS hubs_json"
      " FROM cases c WHERE c.id = $1",
      lock ? " FOR UPDATE OF c" : "");
}

absl::StatusOr<CaseRecord> CaseWithScope(const pqxx::result& rows, int64_t id,
                                         const crypto::FieldCipher& cipher) {
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(CaseName(id), " not found"));
  }
  CaseRecord record = CaseFromRow(rows[0], cipher);
  const nlohmann::json assignees =
      nlohmann::json::parse(rows[0]["assignees_json"].as<std::string>());
  for (const nlohmann::json& pair : assignees) {
    v1::Assignee* assignee = record.proto.add_assignees();
    assignee->set_subject(pair[0].get<std::string>());
    assignee->set_role(pair[1].get<std::string>());
    record.scope.assignees.push_back(assignee->subject());
  }
  const nlohmann::json hubs =
      nlohmann::json::parse(rows[0]["hubs_json"].as<std::string>());
  for (const nlohmann::json& hub : hubs) {
    record.proto.add_hub_codes(hub.get<std::string>());
    record.scope.hubs.push_back(hub.get<std::string>());
  }
  return record;
}

}  // namespace

absl::StatusOr<CaseRecord> LoadCase(pqxx::work& tx, int64_t id, bool lock,
                                    const crypto::FieldCipher& cipher) {
  return CaseWithScope(tx.exec_params(LoadCaseSql("", "", lock), id), id,
                       cipher);
}

absl::StatusOr<CaseRecord> LoadCaseAudited(pqxx::work& tx, int64_t id,
                                           bool lock, const Caller& caller,
                                           absl::string_view access,
                                           const crypto::FieldCipher& cipher) {
  // Each statement is a round trip, and every call on a case starts here:
  // the audit row goes in with the load. When the call then fails, the
  // transaction rolls back and takes the audit row with it, as if it had
  // been written last.
  const pqxx::result rows = tx.exec_params(
      LoadCaseSql("WITH audit AS (INSERT INTO case_audit (case_id,"
                  " subject, role, method, access, request_id, purpose)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id) ",
                  ", (SELECT id FROM audit) AS audit_id", lock),
      id, caller.subject, caller.role, caller.method, std::string(access),
      caller.request_id, caller.purpose);
  absl::StatusOr<CaseRecord> record = CaseWithScope(rows, id, cipher);
  if (record.ok()) {
    record->audit_id = rows[0]["audit_id"].as<int64_t>();
  }
  return record;
}

void LoadScopes(pqxx::work& tx, std::vector<CaseRecord>& records) {
  if (records.empty()) {
    return;
  }
  std::map<int64_t, CaseRecord*> by_id;
  std::vector<int64_t> ids;
  for (CaseRecord& record : records) {
    by_id[record.id] = &record;
    ids.push_back(record.id);
  }
  const std::string array = IdArray(ids);
  for (const pqxx::row& row : tx.exec_params(
           "SELECT case_id, subject, role FROM case_assignees"
           " WHERE case_id = ANY($1::bigint[]) ORDER BY case_id, subject",
           array)) {
    CaseRecord& record = *by_id.at(row[0].as<int64_t>());
    v1::Assignee* assignee = record.proto.add_assignees();
    assignee->set_subject(row[1].as<std::string>());
    assignee->set_role(row[2].as<std::string>());
    record.scope.assignees.push_back(assignee->subject());
  }
  for (const pqxx::row& row : tx.exec_params(
           "SELECT case_id, hub_code FROM case_hubs"
           " WHERE case_id = ANY($1::bigint[]) ORDER BY case_id, hub_code",
           array)) {
    CaseRecord& record = *by_id.at(row[0].as<int64_t>());
    record.proto.add_hub_codes(row[1].as<std::string>());
    record.scope.hubs.push_back(row[1].as<std::string>());
  }
}

v1::Case Redacted(const CaseRecord& record, Access access) {
  v1::Case c = record.proto;
  Redact(c, access);
  return c;
}

void Audit(pqxx::work& tx, const std::vector<int64_t>& case_ids,
           const Caller& caller, absl::string_view access) {
  if (case_ids.empty()) {
    return;
  }
  tx.exec_params0(
      "INSERT INTO case_audit (case_id, subject, role, method, access,"
      " request_id, purpose)"
      " SELECT unnest($1::bigint[]), $2, $3, $4, $5, $6, $7",
      IdArray(case_ids), caller.subject, caller.role, caller.method,
      std::string(access), caller.request_id, caller.purpose);
}

absl::Status CheckEtag(const CaseRecord& record, absl::string_view etag) {
  if (!etag.empty() && etag != absl::StrCat(record.revision)) {
    return absl::AbortedError(absl::StrCat(
        CaseName(record.id), " changed since it was read (etag ", etag,
        ", now ", record.revision, "): read it again and retry"));
  }
  return absl::OkStatus();
}

absl::Status RequireWritable(const CaseRecord& record) {
  if (record.state == v1::CASE_STATE_WITHDRAWN) {
    return absl::FailedPreconditionError(
        absl::StrCat(CaseName(record.id), " was withdrawn"));
  }
  return absl::OkStatus();
}

absl::Status ErasedError(const CaseRecord& record) {
  return absl::FailedPreconditionError(absl::StrCat(
      CaseName(record.id),
      " ended long ago and its personal data was erased at the end of the "
      "retention period; nothing more can be recorded on it"));
}

void Touch(pqxx::work& tx, CaseRecord& record) {
  tx.exec_params0(
      "UPDATE cases SET revision = revision + 1, update_time = now()"
      " WHERE id = $1",
      record.id);
  ++record.revision;
  record.proto.set_etag(absl::StrCat(record.revision));
}

absl::StatusOr<CaseRecord> Refresh(pqxx::work& tx, int64_t id,
                                   const crypto::FieldCipher& cipher) {
  tx.exec_params0(
      "UPDATE cases c SET approach_status = a.status,"
      "       approach_reason = a.reason"
      "  FROM (SELECT status, reason FROM approach_changes"
      "         WHERE case_id = $1"
      "         ORDER BY effective_date DESC, record_time DESC, id DESC"
      "         LIMIT 1) a"
      " WHERE c.id = $1",
      id);
  tx.exec_params0(
      "UPDATE cases c SET"
      "   state = CASE WHEN c.state = 'withdrawn' THEN 'withdrawn'"
      "                WHEN o.kind IS NULL OR o.kind = 'reopened' THEN 'open'"
      "                ELSE 'closed' END,"
      "   outcome = CASE WHEN o.kind IS NULL OR o.kind = 'reopened' THEN ''"
      "                  ELSE o.kind END,"
      "   outcome_date = CASE WHEN o.kind IS NULL OR o.kind = 'reopened'"
      "                       THEN NULL ELSE o.effective_date END"
      "  FROM (SELECT 1) one"
      "  LEFT JOIN LATERAL (SELECT kind, effective_date FROM outcome_changes"
      "         WHERE case_id = $1"
      "         ORDER BY effective_date DESC, record_time DESC, id DESC"
      "         LIMIT 1) o ON true"
      " WHERE c.id = $1",
      id);
  return LoadCase(tx, id, false, cipher);
}

}  // namespace kosapo::cases
