#include "services/screening/store/sheet_store.h"

#include <algorithm>
#include <chrono>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <pqxx/subtransaction>
#include <pqxx/transaction>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/pg/errors.h"
#include "common/pg/transaction.h"
#include "common/types/api_types.h"
#include "nlohmann/json.hpp"
#include "services/screening/domain/round_rules.h"
#include "services/screening/domain/sheet_rules.h"

namespace kosapo::screening {
namespace {

// closed, open_date::text, close_date::text, kind.
RoundWindow RoundWindowFromRow(const pqxx::row& row) {
  RoundWindow window;
  window.closed = row[0].as<bool>();
  window.open_date = DayFromSql(row[1].as<std::string>());
  window.close_date = DayFromSql(row[2].as<std::string>());
  window.kind = RoundKindFromDb(row[3].as<std::string>());
  return window;
}

void FillScore(const pqxx::row& row, v1::SheetScore* score) {
  score->set_total(row["score"].as<double>());
  score->set_candidate(row["candidate"].as<bool>());
  for (const auto& trigger :
       nlohmann::json::parse(row["triggered"].as<std::string>())) {
    v1::TriggeredItem* item = score->add_triggered();
    item->set_item(trigger.at("item").get<std::string>());
    item->set_points(trigger.at("points").get<double>());
    item->set_always_review(trigger.at("always_review").get<bool>());
  }
}

// A text[] literal of `values`, each quoted.
std::string ArrayLiteral(const std::vector<SheetWrite>& batch,
                         const std::string& (v1::Sheet::*field)() const) {
  std::string out = "{";
  for (const SheetWrite& write : batch) {
    if (out.size() > 1) {
      out.push_back(',');
    }
    out.push_back('"');
    for (const char c : (write.sheet.*field)()) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
      }
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

// Whether any pupil of `batch` has a sheet in the round. One index probe
// per pupil: OFFSET 0 keeps the lateral subquery from being flattened into
// a join, which the planner ran as a scan of every stored sheet.
bool AnyStored(pqxx::work& tx, const RoundContext& round,
               const std::vector<SheetWrite>& batch) {
  return !tx.exec_params(
                "SELECT 1 FROM unnest($2::text[], $3::text[]) AS t(s, p)"
                " CROSS JOIN LATERAL (SELECT 1 FROM sheets"
                "   WHERE round_id = $1 AND school_code = t.s"
                "     AND pupil_id = t.p OFFSET 0) AS stored"
                " LIMIT 1",
                round.round_id, ArrayLiteral(batch, &v1::Sheet::school_code),
                ArrayLiteral(batch, &v1::Sheet::pupil_id))
              .empty();
}

// COPYs `batch` into `table` (sheets, or the staging table, which has the
// same columns) as the intake stores it, `notes` sealed, in batch order.
void CopySheets(pqxx::transaction_base& tx, const std::string& table,
                const RoundContext& round, const std::vector<SheetWrite>& batch,
                const std::vector<std::string>& notes,
                const std::string& filled_by) {
  pqxx::stream_to copy(
      tx, table,
      std::vector<std::string>{"round_id", "municipality", "school_code",
                               "pupil_id", "grade", "class_name", "pupil_name",
                               "pupil_kana", "birth_date", "sex", "answers",
                               "note", "score", "triggered", "candidate",
                               "content_hash", "filled_by"});
  for (size_t i = 0; i < batch.size(); ++i) {
    const SheetWrite& write = batch[i];
    const v1::Sheet& sheet = write.sheet;
    copy << std::forward_as_tuple(
        round.round_id, round.municipality, sheet.school_code(),
        sheet.pupil_id(), sheet.grade(), sheet.class_name(), sheet.pupil_name(),
        sheet.pupil_kana(), DateToSql(sheet.birth_date()),
        std::string(SexToDb(sheet.sex())), write.answers_json, notes[i],
        write.score.total, write.triggered_json, write.score.candidate,
        write.fingerprint, filled_by);
  }
  copy.complete();
}

// The common case of a bulk intake, a batch of pupils not yet stored: COPY
// straight into sheets, in a savepoint. False, with nothing written, when
// one of them is stored already (the caller then upserts the batch). Unless
// the caller knows the pupils are new (`probe` false), the probe first: a
// failed COPY would put an error naming the pupil's key in the server's log
// on every re-sent batch; the savepoint covers a pupil stored in between.
bool InsertAllNew(pqxx::work& tx, const RoundContext& round,
                  const std::vector<SheetWrite>& batch,
                  const std::vector<std::string>& notes,
                  const std::string& filled_by, bool probe) {
  if (probe && AnyStored(tx, round, batch)) {
    return false;
  }
  pqxx::subtransaction attempt(tx, "insert new sheets");
  try {
    CopySheets(attempt, "sheets", round, batch, notes, filled_by);
  } catch (const pqxx::unique_violation&) {
    return false;  // `attempt` rolls back to its savepoint
  }
  attempt.commit();
  return true;
}

// The round's state for a write: closed, open_date, close_date, kind,
// erased. FAILED_PRECONDITION when it takes no sheets `today`. FOR SHARE:
// a concurrent CloseRound waits for the intake, and an intake after the
// close sees it.
absl::Status CheckTakesSheets(pqxx::work& tx, const RoundContext& round,
                              absl::CivilDay today) {
  const pqxx::row state = tx.exec_params1(
      "SELECT closed, open_date::text, close_date::text, kind,"
      "       erase_time IS NOT NULL"
      "  FROM rounds WHERE id = $1 FOR SHARE",
      round.round_id);
  // Checked first: a retried intake must not bring back what the erasure
  // removed, even into a past-record round that still takes sheets after
  // its dates.
  if (state[4].as<bool>()) {
    return absl::FailedPreconditionError(
        absl::StrCat(RoundName(round.municipality, round.round_id),
                     " was erased after its retention period: its sheets "
                     "take no more writes"));
  }
  return CheckAcceptsSheets(RoundWindowFromRow(state), today,
                            RoundName(round.municipality, round.round_id));
}

// A batch that is not all new goes through this table of the session, of
// the same columns as sheets and numbered in the order copied: created
// once per session (not IF NOT EXISTS, whose notice the service would log
// on every batch), emptied before each batch and at commit.
void FillStaging(pqxx::work& tx, const RoundContext& round,
                 const std::vector<SheetWrite>& batch,
                 const std::vector<std::string>& notes,
                 const std::string& filled_by) {
  if (tx.exec1("SELECT to_regclass('pg_temp.sheet_staging') IS NULL")[0]
          .as<bool>()) {
    tx.exec0(
        "CREATE TEMP TABLE sheet_staging ("
        " row_no bigint GENERATED ALWAYS AS IDENTITY,"
        " round_id bigint, municipality text, school_code text,"
        " pupil_id text, grade integer, class_name text, pupil_name text,"
        " pupil_kana text, birth_date date, sex text, answers jsonb,"
        " note text, score double precision, triggered jsonb,"
        " candidate boolean, content_hash text, filled_by text)"
        " ON COMMIT DELETE ROWS");
  } else {
    tx.exec0("TRUNCATE pg_temp.sheet_staging");
  }
  CopySheets(tx, "pg_temp.sheet_staging", round, batch, notes, filled_by);
}

// The staged batch into sheets in one statement, no join of the batch with
// the stored sheets: new rows go in, a changed row is replaced (the
// migration 0006 trigger keeps the version it replaces), an equal row is
// left alone but locked until commit, as a concurrent writer of it must
// wait. The pupils of the rows inserted or replaced.
constexpr char kUpsertStaged[] =
    "INSERT INTO sheets (round_id, municipality, school_code, pupil_id,"
    " grade, class_name, pupil_name, pupil_kana, birth_date, sex,"
    " answers, note, score, triggered, candidate, content_hash,"
    " filled_by)"
    " SELECT round_id, municipality, school_code, pupil_id, grade,"
    "        class_name, pupil_name, pupil_kana, birth_date, sex, answers,"
    "        note, score, triggered, candidate, content_hash, filled_by"
    "   FROM pg_temp.sheet_staging ORDER BY row_no"
    " ON CONFLICT (round_id, school_code, pupil_id) DO UPDATE SET"
    "   grade = EXCLUDED.grade, class_name = EXCLUDED.class_name,"
    "   pupil_name = EXCLUDED.pupil_name, pupil_kana = EXCLUDED.pupil_kana,"
    "   birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex,"
    "   answers = EXCLUDED.answers, note = EXCLUDED.note,"
    "   score = EXCLUDED.score, triggered = EXCLUDED.triggered,"
    "   candidate = EXCLUDED.candidate, content_hash = EXCLUDED.content_hash,"
    "   revision = sheets.revision + 1, filled_by = EXCLUDED.filled_by,"
    "   update_time = now()"
    " WHERE sheets.content_hash <> EXCLUDED.content_hash"
    " RETURNING school_code, pupil_id";

constexpr char kSheetColumns[] =
    "school_code, pupil_id, grade, class_name, pupil_name, pupil_kana,"
    " birth_date::text AS birth_date, sex, answers::text AS answers, note,"
    " score, triggered::text AS triggered, candidate, revision, filled_by,"
    " (extract(epoch FROM update_time) * 1000000)::bigint AS update_us,"
    " (extract(epoch FROM erase_time) * 1000000)::bigint AS erase_us";

// Throws pg::StatusError when the note does not open.
v1::Sheet SheetFromRow(const RoundContext& round, const pqxx::row& row,
                       const crypto::FieldCipher& cipher) {
  v1::Sheet sheet;
  sheet.set_school_code(row["school_code"].as<std::string>());
  sheet.set_pupil_id(row["pupil_id"].as<std::string>());
  sheet.set_name(SheetName(round.municipality, round.round_id,
                           sheet.school_code(), sheet.pupil_id()));
  sheet.set_grade(row["grade"].as<int>());
  sheet.set_class_name(row["class_name"].as<std::string>());
  sheet.set_pupil_name(row["pupil_name"].as<std::string>());
  sheet.set_pupil_kana(row["pupil_kana"].as<std::string>());
  if (!row["birth_date"].is_null()) {  // NULL once erased
    *sheet.mutable_birth_date() =
        DateFromSql(row["birth_date"].as<std::string>());
  }
  sheet.set_sex(SexFromDb(row["sex"].as<std::string>()));
  for (const auto& answer :
       nlohmann::json::parse(row["answers"].as<std::string>())) {
    v1::Answer* out = sheet.add_answers();
    out->set_item(answer.at("item").get<std::string>());
    if (answer.at("kind") == "flag") {
      out->set_flag(answer.at("value").get<int>() != 0);
    } else {
      out->set_level(answer.at("value").get<int>());
    }
  }
  sheet.set_note(pg::ValueOrThrow(
      cipher.Open(row["note"].as<std::string>(),
                  SheetNoteContext(round.municipality, round.round_id,
                                   sheet.school_code(), sheet.pupil_id()))));
  FillScore(row, sheet.mutable_score());
  sheet.set_revision(row["revision"].as<int>());
  sheet.set_filled_by(row["filled_by"].as<std::string>());
  SetTimestampMicros(row["update_us"].as<int64_t>(),
                     sheet.mutable_update_time());
  if (!row["erase_us"].is_null()) {
    SetTimestampMicros(row["erase_us"].as<int64_t>(),
                       sheet.mutable_erase_time());
  }
  return sheet;
}

AuditScope ScopeOf(const RoundContext& round) {
  return AuditScope{round.municipality, round.round_id};
}

std::vector<PupilKey> PupilsOf(const std::vector<v1::Sheet>& sheets) {
  std::vector<PupilKey> pupils;
  pupils.reserve(sheets.size());
  for (const v1::Sheet& sheet : sheets) {
    pupils.push_back(PupilKey{sheet.school_code(), sheet.pupil_id()});
  }
  return pupils;
}

}  // namespace

std::string SheetName(absl::string_view municipality, int64_t round_id,
                      absl::string_view school_code,
                      absl::string_view pupil_id) {
  return absl::StrCat(RoundName(municipality, round_id), "/schools/",
                      school_code, "/sheets/", pupil_id);
}

std::string SheetNoteContext(absl::string_view municipality, int64_t round_id,
                             absl::string_view school_code,
                             absl::string_view pupil_id) {
  return crypto::FieldContext(
      "screening.sheets.note",
      SheetName(municipality, round_id, school_code, pupil_id));
}

absl::StatusOr<RoundContext> SheetStore::LoadRound(
    absl::string_view municipality, int64_t round_id) {
  const std::string m(municipality);
  return pg::InTransaction(
      pool_, "load round",
      [&](pqxx::work& tx) -> absl::StatusOr<RoundContext> {
        const pqxx::result rows = tx.exec_params(
            "SELECT r.fiscal_year, t.body::text FROM rounds r"
            "  JOIN templates t ON t.key = r.template_key"
            "   AND t.version = r.template_version"
            " WHERE r.municipality = $1 AND r.id = $2",
            m, round_id);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(RoundName(m, round_id), " not found"));
        }
        RoundContext round;
        round.municipality = m;
        round.round_id = round_id;
        round.fiscal_year = rows[0][0].as<int>();
        auto tmpl = ParseTemplateJson(rows[0][1].as<std::string>());
        if (!tmpl.ok()) {
          return absl::DataLossError("stored template does not parse");
        }
        round.tmpl = *std::move(tmpl);
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT code, kind FROM schools WHERE municipality = $1", m)) {
          round.schools[row[0].as<std::string>()] =
              SchoolKindFromDb(row[1].as<std::string>())
                  .value_or(v1::SCHOOL_KIND_UNSPECIFIED);
        }
        return round;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::unique_ptr<SheetImport>> SheetStore::BeginImport(
    const RoundContext& round, const Accessor& who, absl::CivilDay today) {
  {
    const int limit = std::max(1, pool_.options().size / 2);
    std::unique_lock<std::mutex> lock(imports_mutex_);
    if (!import_ended_.wait_for(lock, std::chrono::minutes(1),
                                [&] { return imports_running_ < limit; })) {
      return absl::ResourceExhaustedError(
          absl::StrCat(limit, " sheet intakes are running: send again later"));
    }
    ++imports_running_;
  }
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    EndImport();
    return lease.status();
  }
  // From here on ~SheetImport ends the import.
  std::unique_ptr<SheetImport> import(
      new SheetImport(*this, round, who, *std::move(lease)));
  try {
    import->tx_ = std::make_unique<pqxx::work>(*import->lease_);
    // The server ends a session idle in this transaction: a client that
    // stops sending does not hold the round and its sheets for long.
    import->tx_->exec0(
        absl::StrCat("SET LOCAL idle_in_transaction_session_timeout = ",
                     absl::ToInt64Milliseconds(intake_idle_timeout_)));
    KOSAPO_RETURN_IF_ERROR(CheckTakesSheets(*import->tx_, round, today));
    import->last_statement_ = absl::Now();
  } catch (const std::exception& error) {
    return import->Failed(error);
  }
  return import;
}

void SheetStore::EndImport() {
  {
    std::lock_guard<std::mutex> lock(imports_mutex_);
    --imports_running_;
  }
  import_ended_.notify_one();
}

SheetImport::SheetImport(SheetStore& store, const RoundContext& round,
                         Accessor who, pg::Pool::Lease lease)
    : store_(store),
      round_(round),
      who_(std::move(who)),
      lease_(std::move(lease)) {}

SheetImport::~SheetImport() {
  try {
    tx_.reset();  // rolls back what was not committed
  } catch (const std::exception&) {
    broken_ = true;
  }
  if (broken_) {
    lease_.Discard();
  }
  store_.EndImport();
}

absl::Status SheetImport::Failed(const std::exception& error) {
  const bool in_doubt =
      dynamic_cast<const pqxx::in_doubt_error*>(&error) != nullptr;
  if (in_doubt ||
      dynamic_cast<const pqxx::broken_connection*>(&error) != nullptr) {
    broken_ = true;
  }
  tx_.reset();
  const absl::Status status = pg::StatusFromException(error, "store sheets");
  if (in_doubt) {
    return status;  // the commit may have happened
  }
  if (broken_ && TimedOut()) {
    return TimedOutError();
  }
  return absl::Status(
      status.code(),
      absl::StrCat(status.message(),
                   "; nothing of this intake was stored: send it again"));
}

bool SheetImport::TimedOut() const {
  // Measured from after the last answer: the server's idle time began a
  // little before, so the server has ended the session by now.
  return absl::Now() - last_statement_ > store_.intake_idle_timeout_;
}

absl::Status SheetImport::TimedOutError() {
  tx_.reset();
  broken_ = true;
  return absl::UnavailableError(
      absl::StrCat("the intake sent no rows for more than ",
                   absl::FormatDuration(store_.intake_idle_timeout_),
                   " and was ended; nothing of it was stored: send it again"));
}

bool SheetImport::FromNewSchools(pqxx::work& tx,
                                 const std::vector<SheetWrite>& batch) {
  std::set<std::string> unseen;
  for (const SheetWrite& write : batch) {
    const std::string& school = write.sheet.school_code();
    if (new_schools_.count(school) == 0 && old_schools_.count(school) == 0) {
      unseen.insert(school);
    }
  }
  // A school seen first now is new to the round when it has no sheet in it
  // yet: one index probe each.
  for (const std::string& school : unseen) {
    const bool has_sheets = tx.exec_params1(
                                  "SELECT EXISTS (SELECT 1 FROM sheets"
                                  " WHERE round_id = $1 AND school_code = $2)",
                                  round_.round_id, school)[0]
                                .as<bool>();
    (has_sheets ? old_schools_ : new_schools_).insert(school);
  }
  for (const SheetWrite& write : batch) {
    if (old_schools_.count(write.sheet.school_code()) > 0) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::vector<v1::RowOutcome>> SheetImport::Write(
    const std::vector<SheetWrite>& batch) {
  if (tx_ == nullptr) {
    return absl::FailedPreconditionError(
        "store sheets: the intake failed before this batch");
  }
  if (TimedOut()) {
    return TimedOutError();
  }
  std::vector<std::string> notes;
  notes.reserve(batch.size());
  for (const SheetWrite& write : batch) {
    KOSAPO_ASSIGN_OR_RETURN(
        std::string sealed,
        store_.cipher_.Seal(
            write.sheet.note(),
            SheetNoteContext(round_.municipality, round_.round_id,
                             write.sheet.school_code(),
                             write.sheet.pupil_id())));
    notes.push_back(std::move(sealed));
  }
  try {
    pqxx::work& tx = *tx_;
    for (const SheetWrite& write : batch) {
      written_.push_back(
          PupilKey{write.sheet.school_code(), write.sheet.pupil_id()});
    }
    if (InsertAllNew(tx, round_, batch, notes, who_.subject,
                     !FromNewSchools(tx, batch))) {
      last_statement_ = absl::Now();
      return std::vector<v1::RowOutcome>(batch.size(),
                                         v1::ROW_OUTCOME_ACCEPTED);
    }
    FillStaging(tx, round_, batch, notes, who_.subject);
    std::set<std::pair<std::string, std::string>> stored;
    for (const pqxx::row& row : tx.exec(kUpsertStaged)) {
      stored.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
    std::vector<v1::RowOutcome> outcomes;
    outcomes.reserve(batch.size());
    for (const SheetWrite& write : batch) {
      outcomes.push_back(
          stored.count({write.sheet.school_code(), write.sheet.pupil_id()})
              ? v1::ROW_OUTCOME_ACCEPTED
              : v1::ROW_OUTCOME_UNCHANGED);
    }
    last_statement_ = absl::Now();
    return outcomes;
  } catch (const std::exception& error) {
    return Failed(error);
  }
}

absl::Status SheetImport::Commit() {
  if (tx_ == nullptr) {
    return absl::FailedPreconditionError(
        "store sheets: the intake failed before its end");
  }
  if (TimedOut()) {
    return TimedOutError();  // not committed: the session has ended
  }
  try {
    AuditBatch(*tx_, ScopeOf(round_), RecordKind::kSheet, written_, who_,
               "write");
    tx_->commit();
    tx_.reset();
    return absl::OkStatus();
  } catch (const std::exception& error) {
    return Failed(error);
  }
}

absl::StatusOr<v1::Sheet> SheetStore::Get(const RoundContext& round,
                                          absl::string_view school_code,
                                          absl::string_view pupil_id,
                                          const Accessor& who) {
  return pg::InTransaction(
      pool_, "get sheet", [&](pqxx::work& tx) -> absl::StatusOr<v1::Sheet> {
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", kSheetColumns,
                         " FROM sheets WHERE round_id = $1"
                         " AND school_code = $2 AND pupil_id = $3"),
            round.round_id, std::string(school_code), std::string(pupil_id));
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(SheetName(round.municipality, round.round_id,
                                     school_code, pupil_id),
                           " not found"));
        }
        AuditEach(tx, ScopeOf(round), RecordKind::kSheet,
                  {PupilKey{std::string(school_code), std::string(pupil_id)}},
                  who, "read");
        return SheetFromRow(round, rows[0], cipher_);
      });
}

absl::StatusOr<SheetPage> SheetStore::List(const RoundContext& round,
                                           absl::string_view school_code,
                                           absl::string_view after_pupil_id,
                                           int limit, const Accessor& who) {
  return pg::InTransaction(
      pool_, "list sheets", [&](pqxx::work& tx) -> absl::StatusOr<SheetPage> {
        SheetPage page;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kSheetColumns,
                              " FROM sheets WHERE round_id = $1"
                              " AND school_code = $2 AND pupil_id > $3"
                              " ORDER BY pupil_id LIMIT $4"),
                 round.round_id, std::string(school_code),
                 std::string(after_pupil_id), limit + 1)) {
          page.sheets.push_back(SheetFromRow(round, row, cipher_));
        }
        if (static_cast<int>(page.sheets.size()) > limit) {
          page.sheets.pop_back();  // only told whether more follow
          page.more = true;
        }
        AuditEach(tx, ScopeOf(round), RecordKind::kSheet, PupilsOf(page.sheets),
                  who, "read");
        return page;
      });
}

absl::StatusOr<v1::RoundProgress> SheetStore::Progress(
    const RoundContext& round) {
  return pg::InTransaction(
      pool_, "round progress",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::RoundProgress> {
        v1::RoundProgress out;
        out.set_round(RoundName(round.municipality, round.round_id));
        v1::Progress* area = nullptr;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT a.code, s.code,"
                 "  COALESCE((SELECT sum(e.pupils) FROM enrollment_counts e"
                 "   WHERE e.municipality = s.municipality"
                 "     AND e.school_code = s.code AND e.fiscal_year = $2), 0),"
                 "  (SELECT count(*) FROM sheets sh WHERE sh.round_id = $3"
                 "     AND sh.school_code = s.code)"
                 "  FROM areas a LEFT JOIN schools s"
                 "    ON s.municipality = a.municipality AND s.area_code = "
                 "a.code"
                 " WHERE a.municipality = $1"
                 " ORDER BY a.display_order, s.code",
                 round.municipality, round.fiscal_year, round.round_id)) {
          const std::string area_code = row[0].as<std::string>();
          if (area == nullptr || area->code() != area_code) {
            area = out.add_areas();
            area->set_code(area_code);
          }
          if (row[1].is_null()) {
            continue;  // an area without schools
          }
          const int64_t enrolled = row[2].as<int64_t>();
          const int64_t submitted = row[3].as<int64_t>();
          v1::SchoolProgress* school = out.add_schools();
          school->set_area_code(area_code);
          school->mutable_progress()->set_code(row[1].as<std::string>());
          school->mutable_progress()->set_enrolled(enrolled);
          school->mutable_progress()->set_submitted(submitted);
          area->set_enrolled(area->enrolled() + enrolled);
          area->set_submitted(area->submitted() + submitted);
          out.set_enrolled(out.enrolled() + enrolled);
          out.set_submitted(out.submitted() + submitted);
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<std::vector<v1::Sheet>> SheetStore::Candidates(
    const RoundContext& round, absl::string_view school_code,
    const Accessor& who) {
  return pg::InTransaction(
      pool_, "list candidates",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Sheet>> {
        std::vector<v1::Sheet> out;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT pupil_id, grade, score, triggered::text AS triggered,"
                 "       candidate"
                 "  FROM sheets WHERE round_id = $1 AND school_code = $2"
                 "   AND candidate",
                 round.round_id, std::string(school_code))) {
          v1::Sheet sheet;
          sheet.set_school_code(std::string(school_code));
          sheet.set_pupil_id(row["pupil_id"].as<std::string>());
          sheet.set_name(SheetName(round.municipality, round.round_id,
                                   school_code, sheet.pupil_id()));
          sheet.set_grade(row["grade"].as<int>());
          FillScore(row, sheet.mutable_score());
          out.push_back(std::move(sheet));
        }
        AuditEach(tx, ScopeOf(round), RecordKind::kSheet, PupilsOf(out), who,
                  "read");
        return out;
      });
}

}  // namespace kosapo::screening
