#include "services/screening/store/retention_store.h"

#include <pqxx/binarystring>
#include <pqxx/result>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/pg/transaction.h"
#include "kosapo/screening/v1/events.pb.h"
#include "services/screening/domain/round_rules.h"
#include "services/screening/store/audit_store.h"

namespace kosapo::screening {
namespace {

// Blanks the pupil's data in the round's PupilExtracted events; what a
// consumer counts by (ids, area, school, grade, round, decision date) stays.
// ExtractionWithdrawn carries no personal data. Returns the events changed.
absl::StatusOr<int64_t> ScrubExtractionEvents(pqxx::work& tx,
                                              const std::string& round_name) {
  const std::string type_url = absl::StrCat(
      "type.googleapis.com/", v1::PupilExtracted::descriptor()->full_name());
  int64_t changed = 0;
  for (const pqxx::row& row :
       tx.exec_params("SELECT sequence, payload FROM outbox_events"
                      " WHERE type_url = $1 AND starts_with(subject, $2)",
                      type_url, absl::StrCat(round_name, "/"))) {
    v1::PupilExtracted event;
    const pqxx::binarystring payload(row[1]);
    if (!event.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
      return absl::DataLossError(
          absl::StrCat("screening event ", row[0].as<int64_t>(),
                       " does not parse as PupilExtracted"));
    }
    v1::Extraction* extraction = event.mutable_extraction();
    extraction->clear_pupil_name();
    extraction->clear_pupil_kana();
    extraction->clear_birth_date();
    extraction->clear_sex();
    extraction->clear_reason();
    extraction->clear_triggered();
    const std::string bytes = event.SerializeAsString();
    if (bytes == payload.str()) {
      continue;
    }
    tx.exec_params0("UPDATE outbox_events SET payload = $2 WHERE sequence = $1",
                    row[0].as<int64_t>(),
                    pqxx::binarystring(bytes.data(), bytes.size()));
    ++changed;
  }
  return changed;
}

}  // namespace

absl::StatusOr<std::optional<ErasedRound>>
RetentionStore::EraseOneRoundEndedBefore(absl::Time horizon) {
  const std::string horizon_text =
      absl::FormatTime(absl::RFC3339_full, horizon, absl::UTCTimeZone());
  return pg::InTransaction(
      pool_, "erase round",
      [&](pqxx::work& tx) -> absl::StatusOr<std::optional<ErasedRound>> {
        // SKIP LOCKED: a round a staff call holds goes at the next sweep.
        const pqxx::result due = tx.exec_params(
            "SELECT r.id, r.municipality FROM rounds r"
            "  JOIN municipalities m ON m.code = r.municipality"
            " WHERE r.erase_time IS NULL"
            "   AND make_date(r.fiscal_year + 1, 3, 31)"
            "       < ($1::timestamptz AT TIME ZONE m.time_zone)::date"
            " ORDER BY r.id LIMIT 1 FOR UPDATE OF r SKIP LOCKED",
            horizon_text);
        if (due.empty()) {
          return std::optional<ErasedRound>();
        }
        const int64_t round_id = due[0][0].as<int64_t>();
        const std::string municipality = due[0][1].as<std::string>();
        ErasedRound erased;
        erased.round = RoundName(municipality, round_id);
        tx.exec_params0("UPDATE rounds SET erase_time = now() WHERE id = $1",
                        round_id);
        std::vector<PupilKey> pupils;
        for (const pqxx::row& row : tx.exec_params(
                 "UPDATE sheets SET class_name = '', pupil_name = '',"
                 "   pupil_kana = '', birth_date = NULL, sex = '',"
                 "   answers = '[]', note = '', score = 0, triggered = '[]',"
                 "   content_hash = '', erase_time = now()"
                 " WHERE round_id = $1 AND erase_time IS NULL"
                 " RETURNING school_code, pupil_id",
                 round_id)) {
          pupils.push_back(
              PupilKey{row[0].as<std::string>(), row[1].as<std::string>()});
        }
        erased.sheets = static_cast<int64_t>(pupils.size());
        tx.exec_params0(
            "UPDATE decisions SET reason = '', erase_time = now()"
            " WHERE round_id = $1 AND erase_time IS NULL",
            round_id);
        erased.history_rows =
            tx.exec_params1("SELECT erase_round_history($1)", round_id)[0]
                .as<int64_t>();
        KOSAPO_ASSIGN_OR_RETURN(erased.events,
                                ScrubExtractionEvents(tx, erased.round));
        Accessor sweep;
        sweep.subject = "service:screening-retention";
        sweep.role = "service";
        sweep.method = "EraseAfterRetention";
        AuditBatch(tx, AuditScope{municipality, round_id}, RecordKind::kSheet,
                   pupils, sweep, "write");
        return std::optional<ErasedRound>(std::move(erased));
      });
}

RetentionSweeper::RetentionSweeper(RetentionStore& store,
                                   RetentionSettings settings)
    : store_(store),
      settings_(std::move(settings)),
      periodic_("retention sweep", settings_.interval,
                [this] { return SweepOnce().status(); }) {}

void RetentionSweeper::Start() {
  periodic_.StartIf(
      settings_.period > absl::ZeroDuration(),
      "retention is off (--retention_period=0): pupils' personal data of "
      "ended rounds is kept forever");
}

absl::StatusOr<int64_t> RetentionSweeper::SweepOnce() {
  const absl::Time horizon = settings_.clock->Now() - settings_.period;
  int64_t rounds = 0;
  while (true) {
    absl::StatusOr<std::optional<ErasedRound>> erased =
        store_.EraseOneRoundEndedBefore(horizon);
    if (!erased.ok()) {
      return erased.status();
    }
    if (!erased->has_value()) {
      return rounds;
    }
    ++rounds;
    log::Info("erased the personal data of a round past its retention",
              {{"round", (*erased)->round},
               {"sheets", (*erased)->sheets},
               {"history_rows", (*erased)->history_rows},
               {"events", (*erased)->events}});
    if (periodic_.stopping()) {
      return rounds;
    }
  }
}

}  // namespace kosapo::screening
