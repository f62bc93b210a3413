#include "services/screening/store/meeting_store.h"

#include <pqxx/result>
#include <pqxx/transaction>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/events/outbox.h"
#include "common/pg/errors.h"
#include "common/pg/transaction.h"
#include "kosapo/screening/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "services/screening/domain/round_rules.h"
#include "services/screening/domain/sheet_rules.h"

namespace kosapo::screening {
namespace {

absl::string_view OutcomeToDb(v1::DecisionOutcome outcome) {
  switch (outcome) {
    case v1::DECISION_OUTCOME_EXTRACT:
      return "extract";
    case v1::DECISION_OUTCOME_WATCH_IN_SCHOOL:
      return "watch_in_school";
    case v1::DECISION_OUTCOME_NO_CONCERN:
      return "no_concern";
    default:
      return "";
  }
}

v1::DecisionOutcome OutcomeFromDb(absl::string_view text) {
  if (text == "extract") {
    return v1::DECISION_OUTCOME_EXTRACT;
  }
  if (text == "watch_in_school") {
    return v1::DECISION_OUTCOME_WATCH_IN_SCHOOL;
  }
  if (text == "no_concern") {
    return v1::DECISION_OUTCOME_NO_CONCERN;
  }
  return v1::DECISION_OUTCOME_UNSPECIFIED;
}

v1::Meeting MeetingFromRow(const RoundContext& round, const pqxx::row& row) {
  v1::Meeting meeting;
  meeting.set_school_code(row["school_code"].as<std::string>());
  meeting.set_name(
      MeetingName(round, meeting.school_code(), row["id"].as<int64_t>()));
  *meeting.mutable_meeting_date() =
      DateFromSql(row["meeting_date"].as<std::string>());
  for (const auto& attendee :
       nlohmann::json::parse(row["attendees"].as<std::string>())) {
    v1::Attendee* out = meeting.add_attendees();
    out->set_role(attendee.at("role").get<std::string>());
    out->set_count(attendee.at("count").get<int>());
  }
  SetTimestampMicros(row["create_us"].as<int64_t>(),
                     meeting.mutable_create_time());
  return meeting;
}

constexpr char kMeetingColumns[] =
    "id, school_code, meeting_date::text AS meeting_date,"
    " attendees::text AS attendees,"
    " (extract(epoch FROM create_time) * 1000000)::bigint AS create_us";

constexpr char kDecisionColumns[] =
    "d.pupil_id, d.meeting_id, d.outcome, d.reason, d.decided_by, d.revision,"
    " m.meeting_date::text AS meeting_date, d.school_code";

// Throws pg::StatusError when the reason does not open.
v1::Decision DecisionFromRow(const RoundContext& round, const pqxx::row& row,
                             const crypto::FieldCipher& cipher) {
  v1::Decision decision;
  const std::string school = row["school_code"].as<std::string>();
  decision.set_pupil_id(row["pupil_id"].as<std::string>());
  decision.set_name(DecisionName(round, school, decision.pupil_id()));
  decision.set_meeting(
      MeetingName(round, school, row["meeting_id"].as<int64_t>()));
  decision.set_outcome(OutcomeFromDb(row["outcome"].as<std::string>()));
  decision.set_reason(pg::ValueOrThrow(
      cipher.Open(row["reason"].as<std::string>(),
                  DecisionReasonContext(round, school, decision.pupil_id()))));
  decision.set_decided_by(row["decided_by"].as<std::string>());
  decision.set_revision(row["revision"].as<int>());
  *decision.mutable_decision_date() =
      DateFromSql(row["meeting_date"].as<std::string>());
  return decision;
}

constexpr char kExtractionSelect[] =
    "SELECT d.school_code, sc.area_code, d.pupil_id, s.grade, s.pupil_name,"
    "       s.pupil_kana, s.birth_date::text AS birth_date, s.sex,"
    "       m.meeting_date::text AS meeting_date, d.reason,"
    "       s.triggered::text AS triggered"
    "  FROM decisions d"
    "  JOIN sheets s ON s.round_id = d.round_id"
    "   AND s.school_code = d.school_code AND s.pupil_id = d.pupil_id"
    "  JOIN meetings m ON m.id = d.meeting_id"
    "  JOIN schools sc ON sc.municipality = s.municipality"
    "   AND sc.code = s.school_code"
    " WHERE d.round_id = $1 AND d.outcome = 'extract'";

// Throws pg::StatusError when the reason does not open.
v1::Extraction ExtractionFromRow(const RoundContext& round,
                                 const pqxx::row& row,
                                 const crypto::FieldCipher& cipher) {
  v1::Extraction extraction;
  extraction.set_school_code(row["school_code"].as<std::string>());
  extraction.set_area_code(row["area_code"].as<std::string>());
  extraction.set_pupil_id(row["pupil_id"].as<std::string>());
  extraction.set_extraction_id(
      DecisionName(round, extraction.school_code(), extraction.pupil_id()));
  extraction.set_grade(row["grade"].as<int>());
  extraction.set_pupil_name(row["pupil_name"].as<std::string>());
  extraction.set_pupil_kana(row["pupil_kana"].as<std::string>());
  if (!row["birth_date"].is_null()) {  // NULL once erased
    *extraction.mutable_birth_date() =
        DateFromSql(row["birth_date"].as<std::string>());
  }
  extraction.set_sex(SexFromDb(row["sex"].as<std::string>()));
  *extraction.mutable_decision_date() =
      DateFromSql(row["meeting_date"].as<std::string>());
  extraction.set_reason(pg::ValueOrThrow(
      cipher.Open(row["reason"].as<std::string>(),
                  DecisionReasonContext(round, extraction.school_code(),
                                        extraction.pupil_id()))));
  for (const auto& trigger :
       nlohmann::json::parse(row["triggered"].as<std::string>())) {
    v1::TriggeredItem* item = extraction.add_triggered();
    item->set_item(trigger.at("item").get<std::string>());
    item->set_points(trigger.at("points").get<double>());
    item->set_always_review(trigger.at("always_review").get<bool>());
  }
  return extraction;
}

}  // namespace

std::string MeetingName(const RoundContext& round, absl::string_view school,
                        int64_t id) {
  return absl::StrCat(RoundName(round.municipality, round.round_id),
                      "/schools/", school, "/meetings/", id);
}

std::string DecisionName(const RoundContext& round, absl::string_view school,
                         absl::string_view pupil_id) {
  return absl::StrCat(RoundName(round.municipality, round.round_id),
                      "/schools/", school, "/decisions/", pupil_id);
}

std::string DecisionReasonContext(const RoundContext& round,
                                  absl::string_view school,
                                  absl::string_view pupil_id) {
  return crypto::FieldContext("screening.decisions.reason",
                              DecisionName(round, school, pupil_id));
}

absl::StatusOr<v1::Meeting> MeetingStore::RecordMeeting(
    const RoundContext& round, const v1::Meeting& meeting,
    absl::string_view request_id, const Actor& actor) {
  nlohmann::json attendees = nlohmann::json::array();
  for (const v1::Attendee& attendee : meeting.attendees()) {
    attendees.push_back(
        {{"role", attendee.role()}, {"count", attendee.count()}});
  }
  return pg::InTransaction(
      pool_, "record meeting",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Meeting> {
        const std::string select = absl::StrCat(
            "SELECT ", kMeetingColumns,
            " FROM meetings WHERE round_id = $1 AND school_code = $2"
            " AND request_id = $3");
        tx.exec_params0(
            "INSERT INTO meetings (round_id, municipality, school_code,"
            " meeting_date, attendees, request_id, created_by)"
            " VALUES ($1, $2, $3, $4::date, $5::jsonb, $6, $7)"
            " ON CONFLICT (round_id, school_code, request_id) DO NOTHING",
            round.round_id, round.municipality, meeting.school_code(),
            DateToSql(meeting.meeting_date()), attendees.dump(),
            std::string(request_id), actor.subject);
        return MeetingFromRow(round, tx.exec_params1(select, round.round_id,
                                                     meeting.school_code(),
                                                     std::string(request_id)));
      });
}

absl::StatusOr<MeetingRef> MeetingStore::GetMeeting(
    const RoundContext& round, absl::string_view school_code,
    int64_t meeting_id) {
  return pg::InTransaction(
      pool_, "get meeting",
      [&](pqxx::work& tx) -> absl::StatusOr<MeetingRef> {
        const pqxx::result rows = tx.exec_params(
            "SELECT meeting_date::text FROM meetings"
            " WHERE id = $1 AND round_id = $2 AND school_code = $3",
            meeting_id, round.round_id, std::string(school_code));
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat(
              MeetingName(round, school_code, meeting_id), " not found"));
        }
        return MeetingRef{meeting_id, std::string(school_code),
                          DateFromSql(rows[0][0].as<std::string>())};
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<DecisionResult> MeetingStore::RecordDecision(
    const RoundContext& round, const MeetingRef& meeting,
    absl::string_view pupil_id, v1::DecisionOutcome outcome,
    absl::string_view reason, const Accessor& who) {
  const std::string pupil(pupil_id);
  const server::Caller& actor = who;
  const std::string outcome_text(OutcomeToDb(outcome));
  KOSAPO_ASSIGN_OR_RETURN(
      const std::string sealed_reason,
      cipher_.Seal(reason,
                   DecisionReasonContext(round, meeting.school_code, pupil)));
  return pg::InTransaction(
      pool_, "record decision",
      [&](pqxx::work& tx) -> absl::StatusOr<DecisionResult> {
        // FOR SHARE: the retention sweep, which locks the round to erase
        // it, waits for this decision or is seen by it.
        if (tx.exec_params1("SELECT erase_time IS NOT NULL FROM rounds"
                            " WHERE id = $1 FOR SHARE",
                            round.round_id)[0]
                .as<bool>()) {
          return absl::FailedPreconditionError(absl::StrCat(
              RoundName(round.municipality, round.round_id),
              " was erased after its retention period: it takes no more "
              "decisions"));
        }
        if (tx.exec_params("SELECT 1 FROM sheets WHERE round_id = $1"
                           " AND school_code = $2 AND pupil_id = $3",
                           round.round_id, meeting.school_code, pupil)
                .empty()) {
          return absl::FailedPreconditionError(
              "pupil_id: the pupil has no sheet in this round and school");
        }
        // A replay of the same decision is audited too: it answers with the
        // stored decision.
        AuditEach(tx, AuditScope{round.municipality, round.round_id},
                  RecordKind::kDecision, {PupilKey{meeting.school_code, pupil}},
                  who, "write");
        const pqxx::result previous = tx.exec_params(
            "SELECT meeting_id, outcome, reason FROM decisions"
            " WHERE round_id = $1 AND school_code = $2 AND pupil_id = $3"
            " FOR UPDATE",
            round.round_id, meeting.school_code, pupil);
        const std::string select = absl::StrCat(
            "SELECT ", kDecisionColumns,
            " FROM decisions d JOIN meetings m ON m.id = d.meeting_id"
            " WHERE d.round_id = $1 AND d.school_code = $2"
            " AND d.pupil_id = $3");
        bool was_extracted = false;
        if (!previous.empty()) {
          was_extracted = previous[0][1].as<std::string>() == "extract";
          // Sealed values differ on every write: compare the texts.
          KOSAPO_ASSIGN_OR_RETURN(
              const std::string previous_reason,
              cipher_.Open(
                  previous[0][2].as<std::string>(),
                  DecisionReasonContext(round, meeting.school_code, pupil)));
          if (previous[0][0].as<int64_t>() == meeting.id &&
              previous[0][1].as<std::string>() == outcome_text &&
              previous_reason == reason) {
            return DecisionResult{
                DecisionFromRow(round,
                                tx.exec_params1(select, round.round_id,
                                                meeting.school_code, pupil),
                                cipher_),
                false};
          }
          tx.exec_params0(
              "INSERT INTO decision_history (round_id, school_code, pupil_id,"
              " revision, meeting_id, outcome, reason, decided_by, update_time)"
              " SELECT round_id, school_code, pupil_id, revision, meeting_id,"
              "        outcome, reason, decided_by, update_time"
              "   FROM decisions WHERE round_id = $1 AND school_code = $2"
              "    AND pupil_id = $3",
              round.round_id, meeting.school_code, pupil);
        }
        tx.exec_params0(
            "INSERT INTO decisions (round_id, school_code, pupil_id, "
            "meeting_id,"
            " outcome, reason, decided_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (round_id, school_code, pupil_id) DO UPDATE SET"
            "   meeting_id = EXCLUDED.meeting_id, outcome = EXCLUDED.outcome,"
            "   reason = EXCLUDED.reason, decided_by = EXCLUDED.decided_by,"
            "   revision = decisions.revision + 1, update_time = now()",
            round.round_id, meeting.school_code, pupil, meeting.id,
            outcome_text, sealed_reason, actor.subject);
        DecisionResult result{
            DecisionFromRow(round,
                            tx.exec_params1(select, round.round_id,
                                            meeting.school_code, pupil),
                            cipher_),
            true};
        const bool extracted = outcome == v1::DECISION_OUTCOME_EXTRACT;
        const std::string extraction_id =
            DecisionName(round, meeting.school_code, pupil);
        if (extracted && !was_extracted) {
          v1::PupilExtracted event;
          *event.mutable_extraction() = ExtractionFromRow(
              round,
              tx.exec_params1(
                  absl::StrCat(kExtractionSelect,
                               " AND d.school_code = $2 AND d.pupil_id = $3"),
                  round.round_id, meeting.school_code, pupil),
              cipher_);
          // The reason stays sealed in this schema: no consumer needs it,
          // and the outbox would keep it in plain text.
          event.mutable_extraction()->clear_reason();
          event.set_municipality_code(round.municipality);
          event.set_fiscal_year(round.fiscal_year);
          event.set_round(RoundName(round.municipality, round.round_id));
          event.set_decided_by(actor.subject);
          events::AppendEvent(tx, extraction_id, event, actor.trace_id);
        } else if (!extracted && was_extracted) {
          v1::ExtractionWithdrawn event;
          event.set_extraction_id(extraction_id);
          event.set_municipality_code(round.municipality);
          event.set_outcome(outcome);
          *event.mutable_decision_date() = meeting.date;
          events::AppendEvent(tx, extraction_id, event, actor.trace_id);
        }
        return result;
      });
}

absl::StatusOr<std::vector<v1::Decision>> MeetingStore::ListDecisions(
    const RoundContext& round, absl::string_view school_code,
    const Accessor& who) {
  return pg::InTransaction(
      pool_, "list decisions",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Decision>> {
        std::vector<v1::Decision> out;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kDecisionColumns,
                              " FROM decisions d JOIN meetings m"
                              "   ON m.id = d.meeting_id"
                              " WHERE d.round_id = $1 AND d.school_code = $2"
                              " ORDER BY d.pupil_id"),
                 round.round_id, std::string(school_code))) {
          out.push_back(DecisionFromRow(round, row, cipher_));
        }
        std::vector<PupilKey> pupils;
        for (const v1::Decision& decision : out) {
          pupils.push_back(
              PupilKey{std::string(school_code), decision.pupil_id()});
        }
        AuditEach(tx, AuditScope{round.municipality, round.round_id},
                  RecordKind::kDecision, pupils, who, "read");
        return out;
      });
}

absl::StatusOr<std::vector<v1::Extraction>> MeetingStore::ListExtractions(
    const RoundContext& round, absl::string_view area_code,
    const Accessor& who) {
  return pg::InTransaction(
      pool_, "list extractions",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Extraction>> {
        std::vector<v1::Extraction> out;
        for (const pqxx::row& row :
             tx.exec_params(absl::StrCat(kExtractionSelect,
                                         " AND sc.area_code = $2"
                                         " ORDER BY d.school_code, d.pupil_id"),
                            round.round_id, std::string(area_code))) {
          out.push_back(ExtractionFromRow(round, row, cipher_));
        }
        std::vector<PupilKey> pupils;
        for (const v1::Extraction& extraction : out) {
          pupils.push_back(
              PupilKey{extraction.school_code(), extraction.pupil_id()});
        }
        AuditEach(tx, AuditScope{round.municipality, round.round_id},
                  RecordKind::kExtraction, pupils, who, "read");
        return out;
      });
}

}  // namespace kosapo::screening
