#include "services/case/store/retention_store.h"

#include <pqxx/binarystring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/pg/transaction.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/events.pb.h"
#include "services/case/store/case_tx.h"

namespace kosapo::cases {

absl::StatusOr<int64_t> RetentionStore::EraseEndedBefore(
    absl::CivilDay cutoff, const std::string& time_zone, int limit) {
  return pg::InTransaction(
      pool_, "erase ended cases",
      [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        // Locked and blanked in one statement; SKIP LOCKED leaves a case a
        // staff call is writing to the next batch.
        const pqxx::result erased = tx.exec_params(
            "WITH due AS ("
            "  SELECT id FROM cases"
            "   WHERE erase_time IS NULL AND state <> 'open'"
            "     AND coalesce(outcome_date,"
            "                  (withdraw_time AT TIME ZONE $3)::date)"
            "         < $1::date"
            "   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " UPDATE cases c SET child_name = '', child_kana = '',"
            "   kana_key = '', birth_date = NULL, sex = '',"
            "   household = '{}', source_detail = '',"
            "   duplicate_override = '', withdraw_reason = '',"
            "   erase_time = now(), revision = revision + 1,"
            "   update_time = now()"
            "  FROM due WHERE c.id = due.id RETURNING c.id",
            DayToSql(cutoff), limit, time_zone);
        if (erased.empty()) {
          return int64_t{0};
        }
        std::vector<int64_t> ids;
        std::vector<std::string> names;
        for (const pqxx::row& row : erased) {
          ids.push_back(row[0].as<int64_t>());
          names.push_back(CaseName(ids.back()));
        }
        const std::string id_array = IdArray(ids);
        for (const char* statement : {
                 "UPDATE approach_changes SET note = ''"
                 " WHERE case_id = ANY($1::bigint[]) AND note <> ''",
                 "UPDATE outcome_changes SET note = ''"
                 " WHERE case_id = ANY($1::bigint[]) AND note <> ''",
                 "UPDATE conferences SET body = '{}'"
                 " WHERE case_id = ANY($1::bigint[])",
                 "UPDATE assessments SET body = '{}'"
                 " WHERE case_id = ANY($1::bigint[])",
                 "UPDATE support_plans SET body = '{}'"
                 " WHERE case_id = ANY($1::bigint[])",
                 "UPDATE contacts SET summary = ''"
                 " WHERE case_id = ANY($1::bigint[])",
                 "UPDATE urgent_reports SET description = '', ack_note = ''"
                 " WHERE case_id = ANY($1::bigint[])",
             }) {
          tx.exec_params0(statement, id_array);
        }
        // The staff's reason travels in the withdrawal event; the feed
        // keeps the event (consumers may replay it) without the text.
        const std::string withdrawn_type =
            absl::StrCat("type.googleapis.com/",
                         v1::CaseWithdrawn::descriptor()->full_name());
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT sequence, payload FROM outbox_events"
                 " WHERE subject = ANY($1::text[]) AND type_url = $2",
                 TextArray(names), withdrawn_type)) {
          v1::CaseWithdrawn event;
          const pqxx::binarystring payload(row[1]);
          if (!event.ParseFromArray(payload.data(),
                                    static_cast<int>(payload.size()))) {
            return absl::DataLossError(
                absl::StrCat("case event ", row[0].as<int64_t>(),
                             " does not parse as CaseWithdrawn"));
          }
          if (event.reason().empty()) {
            continue;
          }
          event.clear_reason();
          const std::string bytes = event.SerializeAsString();
          tx.exec_params0(
              "UPDATE outbox_events SET payload = $2 WHERE sequence = $1",
              row[0].as<int64_t>(),
              pqxx::binarystring(bytes.data(), bytes.size()));
        }
        Caller sweep;
        sweep.subject = "service:case-retention";
        sweep.role = "service";
        sweep.method = "EraseAfterRetention";
        Audit(tx, ids, sweep, "write");
        return static_cast<int64_t>(ids.size());
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
      "retention is off (--retention_period=0): personal data of ended "
      "cases is kept forever");
}

absl::StatusOr<int64_t> RetentionSweeper::SweepOnce() {
  absl::StatusOr<absl::CivilDay> today =
      DayIn(settings_.clock->Now() - settings_.period, settings_.time_zone);
  if (!today.ok()) {
    return today.status();
  }
  int64_t total = 0;
  while (true) {
    absl::StatusOr<int64_t> erased =
        store_.EraseEndedBefore(*today, settings_.time_zone, settings_.batch);
    if (!erased.ok()) {
      return erased.status();
    }
    total += *erased;
    if (*erased > 0) {
      log::Info("erased the personal data of cases past their retention",
                {{"cases", *erased}});
    }
    if (*erased < settings_.batch) {
      return total;
    }
    if (periodic_.stopping()) {
      return total;
    }
  }
}

}  // namespace kosapo::cases
