#include "services/case/store/case_store.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/events/outbox.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/events.pb.h"
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {
namespace {

constexpr char kExtractionWithdrawn[] = "extraction withdrawn";

// The household as stored: its JSON form with the personal fields sealed
// for cases/{id}.
absl::StatusOr<std::string> HouseholdJson(v1::Household household, int64_t id,
                                          const crypto::FieldCipher& cipher) {
  KOSAPO_RETURN_IF_ERROR(crypto::SealFields(
      household, kHouseholdText, kHouseholdPlace, CaseName(id), cipher));
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(household, &json, options);
  return json;
}

std::string ApproachNoteContext(int64_t id) {
  return crypto::FieldContext("cases.approach_changes.note", CaseName(id));
}

// Outcome notes and reopening reasons share the column.
std::string OutcomeNoteContext(int64_t id) {
  return crypto::FieldContext("cases.outcome_changes.note", CaseName(id));
}

v1::CaseOpened OpenedEvent(const v1::Case& c) {
  v1::CaseOpened event;
  event.set_case_(c.name());
  event.set_municipality_code(c.municipality_code());
  event.set_area_code(c.area_code());
  event.set_source(c.source());
  event.set_extraction_id(c.extraction_id());
  *event.mutable_opened_date() = c.opened_date();
  event.set_fiscal_year(c.fiscal_year());
  event.set_school_code(c.child().school_code());
  event.set_grade(c.child().grade());
  event.set_lead(c.lead());
  return event;
}

std::vector<ApproachEntry> LoadApproach(pqxx::work& tx, int64_t id) {
  std::vector<ApproachEntry> history;
  for (const pqxx::row& row :
       tx.exec_params("SELECT status, reason, effective_date::text,"
                      " (extract(epoch FROM record_time) * 1000000)::bigint"
                      " FROM approach_changes WHERE case_id = $1 ORDER BY id",
                      id)) {
    ApproachEntry entry;
    FromText(row[0].as<std::string>(), &entry.status);
    FromText(row[1].as<std::string>(), &entry.reason);
    entry.effective_date = DayFromSql(row[2].as<std::string>());
    entry.record_time = absl::FromUnixMicros(row[3].as<int64_t>());
    history.push_back(entry);
  }
  return history;
}

std::vector<OutcomeEntry> LoadOutcomes(pqxx::work& tx, int64_t id) {
  std::vector<OutcomeEntry> outcomes;
  for (const pqxx::row& row :
       tx.exec_params("SELECT kind, effective_date::text,"
                      " (extract(epoch FROM record_time) * 1000000)::bigint"
                      " FROM outcome_changes WHERE case_id = $1 ORDER BY id",
                      id)) {
    OutcomeEntry entry;
    FromText(row[0].as<std::string>(), &entry.outcome);  // reopened -> 0
    entry.effective_date = DayFromSql(row[1].as<std::string>());
    entry.record_time = absl::FromUnixMicros(row[2].as<int64_t>());
    outcomes.push_back(entry);
  }
  return outcomes;
}

bool Replayed(pqxx::work& tx, absl::string_view table, int64_t id,
              const std::string& request_id) {
  return !tx.exec_params(
                absl::StrCat("SELECT 1 FROM ", table,
                             " WHERE case_id = $1 AND request_id = $2"),
                id, request_id)
              .empty();
}

void InsertInitialApproach(pqxx::work& tx, int64_t id,
                           const std::string& opened,
                           const std::string& recorded_by) {
  tx.exec_params0(
      "INSERT INTO approach_changes (case_id, status, effective_date,"
      " recorded_by) VALUES ($1, 'in_preparation', $2::date, $3)",
      id, opened, recorded_by);
}

}  // namespace

absl::Status CaseStore::ApplyExtraction(
    pqxx::work& tx, int64_t sequence,
    const screening::v1::PupilExtracted& event) {
  const screening::v1::Extraction& x = event.extraction();
  auto opened = DateFromProto(x.decision_date(), "extraction.decision_date");
  if (!opened.ok() || x.extraction_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "extraction event ", sequence, " has no id or decision date"));
  }
  // The producer validated the kana; an odd one still opens the case.
  const std::string kana_key =
      KanaKey(x.pupil_kana(), "pupil_kana").value_or(x.pupil_kana());
  v1::Sex sex = v1::SEX_UNSPECIFIED;
  if (v1::Sex_IsValid(x.sex())) {
    sex = static_cast<v1::Sex>(x.sex());  // same values in both APIs
  }
  const pqxx::result inserted = tx.exec_params(
      "INSERT INTO cases (municipality, area_code, source, extraction_id,"
      " extraction_seq, opened_date, fiscal_year, child_name, child_kana,"
      " kana_key, birth_date, sex, school_code, grade, created_by)"
      " VALUES ($1, $2, 'screening', $3, $4, $5::date, $6, $7, $8, $9,"
      " $10::date, $11, $12, $13, $14)"
      " ON CONFLICT (extraction_id) DO NOTHING RETURNING id",
      event.municipality_code(), x.area_code(), x.extraction_id(), sequence,
      DayToSql(*opened), FiscalYearOf(*opened), x.pupil_name(), x.pupil_kana(),
      kana_key, DateToSql(x.birth_date()), ToText(sex), x.school_code(),
      x.grade(), event.decided_by());
  int64_t id = 0;
  if (!inserted.empty()) {
    id = inserted[0][0].as<int64_t>();
    InsertInitialApproach(tx, id, DayToSql(*opened), event.decided_by());
  } else {
    const pqxx::row existing = tx.exec_params1(
        "SELECT id, state, withdraw_reason, extraction_seq FROM cases"
        " WHERE extraction_id = $1 FOR UPDATE",
        x.extraction_id());
    id = existing[0].as<int64_t>();
    if (existing[3].as<int64_t>() >= sequence) {
      return absl::OkStatus();  // delivered again
    }
    tx.exec_params0("UPDATE cases SET extraction_seq = $2 WHERE id = $1", id,
                    sequence);
    if (existing[1].as<std::string>() != "withdrawn" ||
        existing[2].as<std::string>() != kExtractionWithdrawn) {
      return absl::OkStatus();  // already open
    }
    // Extracted again after the withdrawal: the same case comes back.
    tx.exec_params0(
        "UPDATE cases SET state = 'open', withdraw_reason = '' WHERE id = $1",
        id);
    KOSAPO_ASSIGN_OR_RETURN(CaseRecord reinstated, Refresh(tx, id, cipher_));
    Touch(tx, reinstated);
  }
  KOSAPO_ASSIGN_OR_RETURN(const CaseRecord record,
                          LoadCase(tx, id, false, cipher_));
  events::AppendEvent(tx, record.proto.name(), OpenedEvent(record.proto));
  return absl::OkStatus();
}

absl::Status CaseStore::ApplyExtractionWithdrawn(
    pqxx::work& tx, int64_t sequence,
    const screening::v1::ExtractionWithdrawn& event) {
  const pqxx::result rows = tx.exec_params(
      "UPDATE cases SET state = 'withdrawn', withdraw_reason = $2,"
      " withdraw_time = now(), extraction_seq = $3, revision = revision + 1,"
      " update_time = now()"
      " WHERE extraction_id = $1 AND extraction_seq < $3"
      "   AND state <> 'withdrawn'"
      " RETURNING id",
      event.extraction_id(), std::string(kExtractionWithdrawn), sequence);
  if (rows.empty()) {
    return absl::OkStatus();  // never opened, already withdrawn, or replayed
  }
  v1::CaseWithdrawn withdrawn;
  withdrawn.set_case_(CaseName(rows[0][0].as<int64_t>()));
  withdrawn.set_municipality_code(event.municipality_code());
  withdrawn.set_reason(kExtractionWithdrawn);
  events::AppendEvent(tx, withdrawn.case_(), withdrawn);
  return absl::OkStatus();
}

absl::StatusOr<v1::Case> CaseStore::Create(
    const std::string& municipality, const v1::Case& c,
    const std::string& duplicate_override, const Caller& caller,
    bool assign_caller) {
  KOSAPO_ASSIGN_OR_RETURN(const std::string kana_key,
                          KanaKey(c.child().kana(), "case.child.kana"));
  const std::string opened = DateToSql(c.opened_date());
  const std::string birth = DateToSql(c.child().birth_date());
  const absl::CivilDay opened_day = DayFromSql(opened);
  return pg::InTransaction(
      pool_, "create case", [&](pqxx::work& tx) -> absl::StatusOr<v1::Case> {
        // One child at a time, so two staff cannot both miss each other's
        // new case; a retry waits for its first attempt here too.
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                       absl::StrCat("case-child:", municipality, ":", kana_key,
                                    ":", birth));
        const pqxx::result replay = tx.exec_params(
            "SELECT id FROM cases WHERE municipality = $1"
            " AND create_request_id = $2",
            municipality, caller.request_id);
        if (!replay.empty()) {
          KOSAPO_ASSIGN_OR_RETURN(
              const CaseRecord record,
              LoadCase(tx, replay[0][0].as<int64_t>(), false, cipher_));
          return record.proto;
        }
        std::vector<std::string> duplicates;
        for (const pqxx::row& row :
             tx.exec_params("SELECT id FROM cases WHERE municipality = $1"
                            " AND kana_key = $2 AND birth_date = $3::date"
                            " AND state <> 'withdrawn' ORDER BY id",
                            municipality, kana_key, birth)) {
          duplicates.push_back(CaseName(row[0].as<int64_t>()));
        }
        if (!duplicates.empty() && duplicate_override.empty()) {
          return absl::AlreadyExistsError(absl::StrCat(
              "a case of this child (kana and birth date) may already exist: ",
              absl::StrJoin(duplicates, ", "),
              ". Check with SearchCases; to open another anyway, give "
              "duplicate_override with the reason"));
        }
        // The id first: the household is sealed for it. Concealed like the
        // column's default (migration 0005), so it tells nothing of how many
        // cases other municipalities opened.
        const int64_t id =
            tx.exec1(
                  "SELECT kosapo_conceal_id("
                  "nextval(pg_get_serial_sequence('cases', 'id')))")[0]
                .as<int64_t>();
        KOSAPO_ASSIGN_OR_RETURN(const std::string household,
                                HouseholdJson(c.household(), id, cipher_));
        tx.exec_params0(
            "INSERT INTO cases (id, municipality, area_code, source,"
            " source_detail, opened_date, fiscal_year, child_name,"
            " child_kana, kana_key, birth_date, sex, school_code, grade,"
            " household, youtaikyo, duplicate_override,"
            " create_request_id, created_by)"
            " VALUES ($19, $1, $2, $3, $4, $5::date, $6, $7, $8, $9,"
            " $10::date, $11, $12, $13, $14::jsonb, $15, $16, $17, $18)",
            municipality, c.area_code(), ToText(c.source()), c.source_detail(),
            opened, FiscalYearOf(opened_day), c.child().name(),
            c.child().kana(), kana_key, birth, ToText(c.child().sex()),
            c.child().school_code(), c.child().grade(), household,
            c.youtaikyo_registered(),
            duplicates.empty() ? std::string() : duplicate_override,
            caller.request_id, caller.subject, id);
        InsertInitialApproach(tx, id, opened, caller.subject);
        if (assign_caller) {
          tx.exec_params0(
              "INSERT INTO case_assignees (case_id, subject, role)"
              " VALUES ($1, $2, $3)",
              id, caller.subject, caller.role);
        }
        KOSAPO_ASSIGN_OR_RETURN(const CaseRecord record,
                                LoadCase(tx, id, false, cipher_));
        Audit(tx, {id}, caller, "write");
        events::AppendEvent(tx, record.proto.name(), OpenedEvent(record.proto),
                            caller.trace_id);
        return record.proto;
      });
}

absl::StatusOr<v1::Case> CaseStore::Get(int64_t id, const Caller& caller,
                                        const Authorize& authorize) {
  return WithCase<v1::Case>(pool_, cipher_, "get case", id, caller, authorize,
                            false,
                            [](pqxx::work&, CaseRecord& record,
                               Access access) -> absl::StatusOr<v1::Case> {
                              return Redacted(record, access);
                            });
}

absl::StatusOr<v1::Case> CaseStore::Update(int64_t id, const v1::Case& changes,
                                           const std::vector<std::string>& mask,
                                           absl::CivilDay today,
                                           const Caller& caller,
                                           const Authorize& authorize) {
  return WithCase<v1::Case>(
      pool_, cipher_, "update case", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Case> {
        KOSAPO_RETURN_IF_ERROR(CheckEtag(record, changes.etag()));
        KOSAPO_RETURN_IF_ERROR(RequireWritable(record));
        v1::Case merged = record.proto;
        v1::Child& child = *merged.mutable_child();
        for (const std::string& path : mask) {
          if (path == "child.name") {
            child.set_name(changes.child().name());
          } else if (path == "child.kana") {
            child.set_kana(changes.child().kana());
          } else if (path == "child.birth_date") {
            *child.mutable_birth_date() = changes.child().birth_date();
          } else if (path == "child.sex") {
            child.set_sex(changes.child().sex());
          } else if (path == "child.school_code") {
            child.set_school_code(changes.child().school_code());
          } else if (path == "child.grade") {
            child.set_grade(changes.child().grade());
          } else if (path == "household") {
            *merged.mutable_household() = changes.household();
          } else if (path == "youtaikyo_registered") {
            merged.set_youtaikyo_registered(changes.youtaikyo_registered());
          } else if (path == "area_code") {
            merged.set_area_code(changes.area_code());
          } else if (path == "source_detail") {
            merged.set_source_detail(changes.source_detail());
          }
        }
        KOSAPO_RETURN_IF_ERROR(ValidateChild(child, today, "case.child"));
        KOSAPO_RETURN_IF_ERROR(
            ValidateHousehold(merged.household(), "case.household"));
        KOSAPO_RETURN_IF_ERROR(
            ValidateText(merged.area_code(), 20, true, "case.area_code"));
        KOSAPO_RETURN_IF_ERROR(ValidateText(merged.source_detail(), 200, false,
                                            "case.source_detail"));
        KOSAPO_ASSIGN_OR_RETURN(const std::string kana_key,
                                KanaKey(child.kana(), "case.child.kana"));
        KOSAPO_ASSIGN_OR_RETURN(const std::string household,
                                HouseholdJson(merged.household(), id, cipher_));
        tx.exec_params0(
            "UPDATE cases SET child_name = $2, child_kana = $3, kana_key = $4,"
            " birth_date = $5::date, sex = $6, school_code = $7, grade = $8,"
            " household = $9::jsonb, youtaikyo = $10, area_code = $11,"
            " source_detail = $12 WHERE id = $1",
            id, child.name(), child.kana(), kana_key,
            DateToSql(child.birth_date()), ToText(child.sex()),
            child.school_code(), child.grade(), household,
            merged.youtaikyo_registered(), merged.area_code(),
            merged.source_detail());
        Touch(tx, record);
        KOSAPO_ASSIGN_OR_RETURN(CaseRecord updated,
                                LoadCase(tx, id, false, cipher_));
        const v1::Case& before = record.proto;
        const v1::Case& after = updated.proto;
        if (before.area_code() != after.area_code() ||
            before.child().school_code() != after.child().school_code() ||
            before.child().grade() != after.child().grade() ||
            before.lead() != after.lead()) {
          v1::CaseDetailsChanged event;
          event.set_case_(after.name());
          event.set_municipality_code(after.municipality_code());
          event.set_area_code(after.area_code());
          event.set_school_code(after.child().school_code());
          event.set_grade(after.child().grade());
          event.set_lead(after.lead());
          events::AppendEvent(tx, after.name(), event, caller.trace_id);
        }
        return after;
      });
}

absl::StatusOr<v1::Case> CaseStore::Withdraw(int64_t id,
                                             const std::string& etag,
                                             const std::string& reason,
                                             const Caller& caller,
                                             const Authorize& authorize) {
  return WithCase<v1::Case>(
      pool_, cipher_, "withdraw case", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Case> {
        if (record.state == v1::CASE_STATE_WITHDRAWN) {
          return record.proto;  // a retry, or already done
        }
        KOSAPO_RETURN_IF_ERROR(CheckEtag(record, etag));
        tx.exec_params0(
            "UPDATE cases SET state = 'withdrawn', withdraw_reason = $2,"
            " withdraw_time = now() WHERE id = $1",
            id, reason);
        Touch(tx, record);
        v1::CaseWithdrawn event;
        event.set_case_(CaseName(id));
        event.set_municipality_code(record.scope.municipality);
        event.set_reason(reason);
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        KOSAPO_ASSIGN_OR_RETURN(const CaseRecord updated,
                                LoadCase(tx, id, false, cipher_));
        return updated.proto;
      });
}

absl::StatusOr<std::vector<CaseRecord>> CaseStore::Search(
    const std::string& municipality, const std::string& kana_key,
    absl::CivilDay birth_date) {
  return pg::InTransaction(
      pool_, "search cases",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<CaseRecord>> {
        std::vector<CaseRecord> records;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kCaseColumns,
                              " FROM cases c WHERE c.municipality = $1"
                              " AND c.kana_key = $2 AND c.birth_date = $3::date"
                              " AND c.state <> 'withdrawn'"
                              " ORDER BY c.id LIMIT 50"),
                 municipality, kana_key, DayToSql(birth_date))) {
          records.push_back(CaseFromRow(row, cipher_, false));
        }
        LoadScopes(tx, records);
        return records;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::vector<CaseRecord>> CaseStore::List(
    const CaseFilter& filter, const Caller& caller) {
  return pg::InTransaction(
      pool_, "list cases",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<CaseRecord>> {
        std::string sql =
            absl::StrCat("SELECT ", kCaseColumns, " FROM cases c");
        if (!filter.assigned_to.empty()) {
          sql +=
              " JOIN case_assignees a ON a.case_id = c.id AND a.subject = $2";
        }
        // Oldest first: by creation time, as ids do not follow it.
        sql +=
            " WHERE c.municipality = $1 AND ($3::bigint = 0 OR (c.create_time, "
            "c.id) >"
            " ('epoch'::timestamptz + $8::bigint * interval '1 microsecond',"
            " $3::bigint))";
        // Every parameter appears in both forms, so each has a type.
        if (filter.assigned_to.empty()) {
          sql += " AND c.area_code = ANY($4::text[]) AND $2::text = ''";
        } else {
          sql += " AND $4::text[] IS NOT NULL";
        }
        sql += " AND ($5 = '' OR c.state = $5)";
        sql += " AND ($6 = '' OR c.approach_status = $6)";
        sql += " ORDER BY c.create_time, c.id LIMIT $7 + 1";
        std::vector<CaseRecord> records;
        std::vector<int64_t> ids;
        for (const pqxx::row& row : tx.exec_params(
                 sql, filter.municipality, filter.assigned_to, filter.after_id,
                 TextArray(filter.areas), ToText(filter.state),
                 ToText(filter.approach_status), filter.limit,
                 filter.after_us)) {
          records.push_back(CaseFromRow(row, cipher_, false));
          if (static_cast<int>(ids.size()) < filter.limit) {
            ids.push_back(records.back().id);  // the extra row is not shown
          }
        }
        LoadScopes(tx, records);
        Audit(tx, ids, caller, "read");
        return records;
      });
}

absl::StatusOr<v1::Case> CaseStore::ChangeApproach(
    int64_t id, const v1::ChangeApproachStatusRequest& request,
    absl::CivilDay today, const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::Case>(
      pool_, cipher_, "change approach status", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Case> {
        if (Replayed(tx, "approach_changes", id, request.request_id())) {
          return record.proto;
        }
        KOSAPO_RETURN_IF_ERROR(CheckEtag(record, request.etag()));
        KOSAPO_RETURN_IF_ERROR(RequireWritable(record));
        if (record.state == v1::CASE_STATE_CLOSED) {
          return absl::FailedPreconditionError(absl::StrCat(
              CaseName(id), " is closed: reopen it to change the approach"));
        }
        KOSAPO_ASSIGN_OR_RETURN(
            const absl::CivilDay effective,
            EffectiveDate(request.effective_date(), "effective_date", today,
                          record.opened));
        KOSAPO_RETURN_IF_ERROR(
            CheckApproachChange(LoadApproach(tx, id), request.status(),
                                request.reason(), effective));
        KOSAPO_RETURN_IF_ERROR(
            ValidateText(request.note(), 1000, false, "note"));
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string note,
            cipher_.Seal(request.note(), ApproachNoteContext(id)));
        const int64_t record_us =
            tx.exec_params1(
                  "INSERT INTO approach_changes (case_id, status, reason,"
                  " effective_date, note, recorded_by, request_id)"
                  " VALUES ($1, $2, $3, $4::date, $5, $6, $7)"
                  " RETURNING (extract(epoch FROM record_time) * 1000000)"
                  "::bigint",
                  id, ToText(request.status()), ToText(request.reason()),
                  DayToSql(effective), note, caller.subject,
                  request.request_id())[0]
                .as<int64_t>();
        KOSAPO_ASSIGN_OR_RETURN(CaseRecord updated, Refresh(tx, id, cipher_));
        Touch(tx, updated);
        v1::ApproachStatusChanged event;
        event.set_case_(CaseName(id));
        event.set_municipality_code(record.scope.municipality);
        event.set_status(request.status());
        event.set_reason(request.reason());
        *event.mutable_effective_date() = DateToProto(effective);
        SetTimestampMicros(record_us, event.mutable_record_time());
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return updated.proto;
      });
}

absl::StatusOr<v1::ApproachHistory> CaseStore::ApproachHistory(
    int64_t id, absl::CivilDay as_of, absl::Time known_at, const Caller& caller,
    const Authorize& authorize) {
  return WithCase<v1::ApproachHistory>(
      pool_, cipher_, "get approach history", id, caller, authorize, false,
      [&](pqxx::work& tx, CaseRecord&,
          Access) -> absl::StatusOr<v1::ApproachHistory> {
        v1::ApproachHistory history;
        std::vector<ApproachEntry> entries;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT status, reason, effective_date::text, note,"
                 " recorded_by,"
                 " (extract(epoch FROM record_time) * 1000000)::bigint"
                 " FROM approach_changes WHERE case_id = $1"
                 "   AND record_time <= to_timestamp($2::double precision"
                 "                                   / 1000000)"
                 " ORDER BY effective_date, record_time, id",
                 id, absl::ToUnixMicros(known_at))) {
          v1::ApproachChange* change = history.add_changes();
          change->set_status(
              EnumFromText<v1::ApproachStatus>(row[0].as<std::string>()));
          change->set_reason(
              EnumFromText<v1::NotPossibleReason>(row[1].as<std::string>()));
          *change->mutable_effective_date() =
              DateFromSql(row[2].as<std::string>());
          KOSAPO_ASSIGN_OR_RETURN(
              *change->mutable_note(),
              cipher_.Open(row[3].as<std::string>(), ApproachNoteContext(id)));
          change->set_recorded_by(row[4].as<std::string>());
          SetTimestampMicros(row[5].as<int64_t>(),
                             change->mutable_record_time());
          ApproachEntry entry;
          entry.status = change->status();
          entry.reason = change->reason();
          entry.effective_date = DayFromSql(row[2].as<std::string>());
          entry.record_time = absl::FromUnixMicros(row[5].as<int64_t>());
          entries.push_back(entry);
        }
        if (const ApproachEntry* in_force =
                ApproachAsOf(entries, as_of, known_at)) {
          history.set_status(in_force->status);
          history.set_reason(in_force->reason);
        }
        return history;
      });
}

absl::StatusOr<v1::Case> CaseStore::RecordOutcome(
    int64_t id, const v1::RecordOutcomeRequest& request, absl::CivilDay today,
    const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::Case>(
      pool_, cipher_, "record outcome", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Case> {
        if (Replayed(tx, "outcome_changes", id, request.request_id())) {
          return record.proto;
        }
        KOSAPO_RETURN_IF_ERROR(CheckEtag(record, request.etag()));
        KOSAPO_RETURN_IF_ERROR(RequireWritable(record));
        KOSAPO_ASSIGN_OR_RETURN(
            const absl::CivilDay effective,
            EffectiveDate(request.effective_date(), "effective_date", today,
                          record.opened));
        KOSAPO_RETURN_IF_ERROR(CheckOutcome(LoadOutcomes(tx, id),
                                            LoadApproach(tx, id),
                                            request.outcome(), effective));
        KOSAPO_RETURN_IF_ERROR(
            ValidateText(request.note(), 1000, false, "note"));
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string note,
            cipher_.Seal(request.note(), OutcomeNoteContext(id)));
        const int64_t record_us =
            tx.exec_params1(
                  "INSERT INTO outcome_changes (case_id, kind, effective_date,"
                  " note, recorded_by, request_id)"
                  " VALUES ($1, $2, $3::date, $4, $5, $6)"
                  " RETURNING (extract(epoch FROM record_time) * 1000000)"
                  "::bigint",
                  id, ToText(request.outcome()), DayToSql(effective), note,
                  caller.subject, request.request_id())[0]
                .as<int64_t>();
        KOSAPO_ASSIGN_OR_RETURN(CaseRecord updated, Refresh(tx, id, cipher_));
        Touch(tx, updated);
        v1::OutcomeRecorded event;
        event.set_case_(CaseName(id));
        event.set_municipality_code(record.scope.municipality);
        event.set_outcome(request.outcome());
        *event.mutable_effective_date() = DateToProto(effective);
        SetTimestampMicros(record_us, event.mutable_record_time());
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return updated.proto;
      });
}

absl::StatusOr<v1::Case> CaseStore::Reopen(int64_t id,
                                           const v1::ReopenCaseRequest& request,
                                           absl::CivilDay today,
                                           const Caller& caller,
                                           const Authorize& authorize) {
  return WithCase<v1::Case>(
      pool_, cipher_, "reopen case", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Case> {
        if (Replayed(tx, "outcome_changes", id, request.request_id())) {
          return record.proto;
        }
        KOSAPO_RETURN_IF_ERROR(CheckEtag(record, request.etag()));
        KOSAPO_RETURN_IF_ERROR(RequireWritable(record));
        KOSAPO_RETURN_IF_ERROR(
            ValidateText(request.reason(), 1000, true, "reason"));
        KOSAPO_ASSIGN_OR_RETURN(
            const absl::CivilDay effective,
            EffectiveDate(request.effective_date(), "effective_date", today,
                          record.opened));
        KOSAPO_RETURN_IF_ERROR(CheckReopen(LoadOutcomes(tx, id), effective));
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string reason,
            cipher_.Seal(request.reason(), OutcomeNoteContext(id)));
        const int64_t record_us =
            tx.exec_params1(
                  "INSERT INTO outcome_changes (case_id, kind, effective_date,"
                  " note, recorded_by, request_id)"
                  " VALUES ($1, 'reopened', $2::date, $3, $4, $5)"
                  " RETURNING (extract(epoch FROM record_time) * 1000000)"
                  "::bigint",
                  id, DayToSql(effective), reason, caller.subject,
                  request.request_id())[0]
                .as<int64_t>();
        KOSAPO_ASSIGN_OR_RETURN(CaseRecord updated, Refresh(tx, id, cipher_));
        Touch(tx, updated);
        v1::CaseReopened event;
        event.set_case_(CaseName(id));
        event.set_municipality_code(record.scope.municipality);
        *event.mutable_effective_date() = DateToProto(effective);
        SetTimestampMicros(record_us, event.mutable_record_time());
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        return updated.proto;
      });
}

absl::StatusOr<v1::Case> CaseStore::SetHubEnrollment(
    int64_t id, const std::string& hub_code, bool enrolled,
    const Caller& caller, const Authorize& authorize) {
  return WithCase<v1::Case>(
      pool_, cipher_, "set hub enrollment", id, caller, authorize, true,
      [&](pqxx::work& tx, CaseRecord& record,
          Access) -> absl::StatusOr<v1::Case> {
        const pqxx::result changed =
            enrolled ? tx.exec_params(
                           "INSERT INTO case_hubs (case_id, hub_code)"
                           " VALUES ($1, $2) ON CONFLICT DO NOTHING"
                           " RETURNING 1",
                           id, hub_code)
                     : tx.exec_params(
                           "DELETE FROM case_hubs WHERE case_id = $1"
                           " AND hub_code = $2 RETURNING 1",
                           id, hub_code);
        if (changed.empty()) {
          return record.proto;
        }
        Touch(tx, record);
        v1::HubEnrollmentChanged event;
        event.set_case_(CaseName(id));
        event.set_hub_code(hub_code);
        event.set_enrolled(enrolled);
        events::AppendEvent(tx, event.case_(), event, caller.trace_id);
        KOSAPO_ASSIGN_OR_RETURN(const CaseRecord updated,
                                LoadCase(tx, id, false, cipher_));
        return updated.proto;
      });
}

absl::StatusOr<CaseRecord> CaseStore::Scope(int64_t id) {
  return pg::InTransaction(
      pool_, "read case scope",
      [&](pqxx::work& tx) { return LoadCase(tx, id, false, cipher_); },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::vector<std::pair<int64_t, v1::AuditEntry>>>
CaseStore::AuditTrail(int64_t id, int64_t before_us, int64_t before_id,
                      int limit, const Caller& caller,
                      const Authorize& authorize) {
  using Page = std::vector<std::pair<int64_t, v1::AuditEntry>>;
  return WithCase<Page>(
      pool_, cipher_, "list case audit", id, caller, authorize, false,
      [&](pqxx::work& tx, CaseRecord& record, Access) -> absl::StatusOr<Page> {
        Page page;
        // The trail as it was before this call (its own row is written
        // with the load).
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT id, (extract(epoch FROM access_time) * 1000000)"
                 "::bigint, subject, role, method, access, request_id,"
                 " purpose FROM case_audit WHERE case_id = $1"
                 "   AND ($2::bigint = 0 OR (access_time, id) < ("
                 "'epoch'::timestamptz + $5::bigint * interval '1 microsecond',"
                 " $2::bigint))"
                 "   AND id <> $4"
                 " ORDER BY access_time DESC, id DESC LIMIT $3",
                 id, before_id, limit, record.audit_id, before_us)) {
          v1::AuditEntry entry;
          SetTimestampMicros(row[1].as<int64_t>(), entry.mutable_time());
          entry.set_subject(row[2].as<std::string>());
          entry.set_role(row[3].as<std::string>());
          entry.set_method(row[4].as<std::string>());
          entry.set_access(row[5].as<std::string>());
          entry.set_request_id(row[6].as<std::string>());
          entry.set_purpose(row[7].as<std::string>());
          page.emplace_back(row[0].as<int64_t>(), std::move(entry));
        }
        return page;
      });
}

}  // namespace kosapo::cases
