// Retention through the running screening service, real gRPC and
// PostgreSQL, with an injected clock: the sweep erases the pupils' personal
// data of rounds whose fiscal year ended more than the period ago, and of
// no other round, in sheets, sheet_history, decisions, decision_history and
// the PupilExtracted events of the outbox; what the counts need stays; the
// erasure is audited; a second sweep changes nothing; an erased round takes
// no more writes; and the runtime role still cannot rewrite history itself.
#include <grpcpp/client_context.h>

#include <memory>
#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/screening/v1/events.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace kosapo::screening {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCity[] = "27203";

absl::Time NoonInTokyo(absl::CivilDay day) {
  absl::TimeZone tokyo;
  absl::LoadTimeZone("Asia/Tokyo", &tokyo);
  return absl::FromCivil(absl::CivilHour(day) + 12, tokyo);
}

kosapo::type::Date DateOf(absl::CivilDay day) {
  kosapo::type::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

// What one round's pupils were given that is personal, each value distinct
// per round so that a leak names its round.
struct Personal {
  std::string name;
  std::string kana;
  std::string birth;  // as PostgreSQL prints a date
  std::string class_name;
  std::string note;
  std::string corrected_note;
  std::vector<std::string> reasons;

  std::vector<std::string> All() const {
    std::vector<std::string> all = {name,       kana, birth,
                                    class_name, note, corrected_note};
    all.insert(all.end(), reasons.begin(), reasons.end());
    return all;
  }
};

class RetentionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = kosapo::testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    clock_ = new std::shared_ptr<FakeClock>(
        std::make_shared<FakeClock>(NoonInTokyo(absl::CivilDay(2024, 6, 3))));
    auto service = kosapo::testing::InProcessService::Start(
        Definition(*clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(),
        {{"KOSAPO_RETENTION_PERIOD", "43824h"},
         {"KOSAPO_RETENTION_INTERVAL", "100ms"}});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
    const absl::Status seeded =
        screening::testing::SeedCity(*Stub(), *tokens_, kCity);
    ASSERT_TRUE(seeded.ok()) << seeded;
  }

  static void TearDownTestSuite() {
    delete service_;
    delete clock_;
    delete tokens_;
  }

  static std::unique_ptr<grpc::ClientContext> As(auth::Role role) {
    auth::Principal principal;
    principal.subject = "user:retention-test";
    principal.role = role;
    principal.municipality = kCity;
    principal.schools = {"E1"};
    principal.areas = {"A1"};
    return kosapo::testing::ContextAs(*tokens_, principal);
  }
  static std::unique_ptr<grpc::ClientContext> Staff() {
    return As(auth::Role::kSchoolStaff);
  }
  static std::unique_ptr<v1::ScreeningService::Stub> Stub() {
    return v1::ScreeningService::NewStub(service_->channel());
  }

  static void Ok(const grpc::Status& status, const std::string& what) {
    ASSERT_TRUE(status.ok()) << what << ": " << status.error_message();
  }

  // `kana` is the pupil's reading, distinct per round (kana only).
  static Personal PersonalOf(int fiscal_year, const std::string& kana) {
    const std::string tag = absl::StrCat(fiscal_year);
    return {absl::StrCat("保持 ", tag, "子"),
            absl::StrCat("ホジ ", kana),
            absl::StrCat(fiscal_year - 9, "-06-0", fiscal_year % 7 + 1),
            absl::StrCat("組", tag),
            absl::StrCat("メモ", tag, " 夕食を一人でとる"),
            absl::StrCat("訂正メモ", tag, " 弟の世話で欠席"),
            {absl::StrCat("抽出理由", tag), absl::StrCat("見守り理由", tag),
             absl::StrCat("再抽出理由", tag)}};
  }

  static v1::Sheet SheetOf(const Personal& personal, const std::string& pupil,
                           int fiscal_year, const std::string& note) {
    v1::Sheet sheet;
    sheet.set_school_code("E1");
    sheet.set_pupil_id(pupil);
    sheet.set_grade(3);
    sheet.set_class_name(personal.class_name);
    sheet.set_pupil_name(personal.name);
    sheet.set_pupil_kana(personal.kana);
    *sheet.mutable_birth_date() =
        DateOf(absl::CivilDay(fiscal_year - 9, 6, fiscal_year % 7 + 1));
    sheet.set_sex(v1::SEX_FEMALE);
    v1::Answer* answer = sheet.add_answers();
    answer->set_item("young_carer_siblings");
    answer->set_flag(true);
    sheet.set_note(note);
    return sheet;
  }

  static grpc::Status Upsert(const std::string& round, const v1::Sheet& sheet) {
    v1::UpsertSheetRequest request;
    request.set_parent(round);
    *request.mutable_sheet() = sheet;
    v1::UpsertSheetResponse response;
    return Stub()->UpsertSheet(Staff().get(), request, &response);
  }

  static grpc::Status Decide(const std::string& meeting,
                             const std::string& pupil,
                             v1::DecisionOutcome outcome,
                             const std::string& reason) {
    v1::RecordDecisionRequest request;
    request.set_meeting(meeting);
    request.set_pupil_id(pupil);
    request.set_outcome(outcome);
    request.set_reason(reason);
    v1::RecordDecisionResponse response;
    return Stub()->RecordDecision(Staff().get(), request, &response);
  }

  // A round of `fiscal_year` (past-record unless it is the current year)
  // with pupils P1 and P2: P1's sheet corrected once (a history row), and
  // P1 extracted, withdrawn, and extracted again (two decision history
  // rows, three events).
  static v1::Round SeedRound(int fiscal_year, bool past_record,
                             const Personal& personal) {
    v1::CreateRoundRequest create = screening::testing::RoundRequest(
        absl::StrCat("municipalities/", kCity),
        absl::StrCat("retention-", fiscal_year), fiscal_year,
        absl::StrCat(fiscal_year, "年度"), absl::CivilDay(fiscal_year, 5, 1),
        absl::CivilDay(fiscal_year, 7, 31));
    create.mutable_round()->set_kind(past_record ? v1::ROUND_KIND_PAST_RECORD
                                                 : v1::ROUND_KIND_REGULAR);
    v1::Round round;
    Ok(Stub()->CreateRound(As(auth::Role::kCityOperations).get(), create,
                           &round),
       "create round");
    Ok(Upsert(round.name(),
              SheetOf(personal, "P1", fiscal_year, personal.note)),
       "sheet");
    Ok(Upsert(round.name(),
              SheetOf(personal, "P1", fiscal_year, personal.corrected_note)),
       "correction");
    Ok(Upsert(round.name(),
              SheetOf(personal, "P2", fiscal_year, personal.note)),
       "second sheet");
    v1::RecordMeetingRequest meeting;
    meeting.set_parent(round.name());
    meeting.set_request_id("meeting");
    meeting.mutable_meeting()->set_school_code("E1");
    *meeting.mutable_meeting()->mutable_meeting_date() =
        DateOf(absl::CivilDay(fiscal_year, 6, 1));
    v1::Attendee* attendee = meeting.mutable_meeting()->add_attendees();
    attendee->set_role("principal");
    attendee->set_count(1);
    v1::Meeting recorded;
    Ok(Stub()->RecordMeeting(Staff().get(), meeting, &recorded), "meeting");
    Ok(Decide(recorded.name(), "P1", v1::DECISION_OUTCOME_EXTRACT,
              personal.reasons[0]),
       "extract");
    Ok(Decide(recorded.name(), "P1", v1::DECISION_OUTCOME_WATCH_IN_SCHOOL,
              personal.reasons[1]),
       "watch");
    Ok(Decide(recorded.name(), "P1", v1::DECISION_OUTCOME_EXTRACT,
              personal.reasons[2]),
       "extract again");
    Ok(Decide(recorded.name(), "P2", v1::DECISION_OUTCOME_NO_CONCERN,
              personal.reasons[0]),
       "no concern");
    return round;
  }

  static int64_t IdOf(const v1::Round& round) {
    return std::stoll(round.name().substr(round.name().rfind('/') + 1));
  }

  static std::string Schema() { return SharedPgCluster().Schema("screening"); }

  // Every row of the round in sheets, sheet_history, decisions,
  // decision_history, as JSON text, and its events' payloads: what a dump
  // shows of it.
  static std::string DumpOf(const v1::Round& round) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    std::string dump;
    for (const char* table :
         {"sheets", "sheet_history", "decisions", "decision_history"}) {
      for (const pqxx::row& row :
           tx.exec_params(absl::StrCat("SELECT row_to_json(t)::text FROM ",
                                       tx.quote_name(Schema()), ".", table,
                                       " t WHERE round_id = $1 ORDER BY 1"),
                          IdOf(round))) {
        absl::StrAppend(&dump, table, ": ", row[0].as<std::string>(), "\n");
      }
    }
    for (const pqxx::row& row : tx.exec_params(
             absl::StrCat("SELECT payload FROM ", tx.quote_name(Schema()),
                          ".outbox_events WHERE starts_with(subject, $1)"
                          " ORDER BY sequence"),
             round.name() + "/")) {
      absl::StrAppend(&dump, "event: ", pqxx::binarystring(row[0]).str(), "\n");
    }
    return dump;
  }

  // How many free texts of the round are stored, encrypted or not: sheet
  // notes (current and replaced) and decision reasons (current and
  // replaced).
  static int64_t FreeTextLeft(const v1::Round& round) {
    return Count(
        "SELECT (SELECT count(*) FROM sheets WHERE round_id = $1"
        "         AND note <> '')"
        " + (SELECT count(*) FROM sheet_history WHERE round_id = $1"
        "     AND content->>'note' <> '')"
        " + (SELECT count(*) FROM decisions WHERE round_id = $1"
        "     AND reason <> '')"
        " + (SELECT count(*) FROM decision_history WHERE round_id = $1"
        "     AND reason <> '')",
        IdOf(round));
  }

  static int64_t Count(const std::string& sql, int64_t round_id) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("SET search_path TO ", tx.quote_name(Schema())));
    return tx.exec_params1(sql, round_id)[0].as<int64_t>();
  }

  static v1::Round Get(const v1::Round& round) {
    v1::GetRoundRequest request;
    request.set_name(round.name());
    v1::Round out;
    const grpc::Status status =
        Stub()->GetRound(As(auth::Role::kCityOperations).get(), request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  // Waits (bounded) for the sweep to have erased `round`.
  static bool WaitErased(const v1::Round& round) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (Get(round).has_erase_time()) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // The extractions of the round's feed: (extraction id, area, school,
  // grade, decision year), what a consumer counts by.
  static std::vector<std::string> FeedCounts(const v1::Round& round) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    std::vector<std::string> out;
    for (const pqxx::row& row : tx.exec_params(
             absl::StrCat("SELECT type_url, payload FROM ",
                          tx.quote_name(Schema()),
                          ".outbox_events WHERE starts_with(subject, $1)"
                          " ORDER BY sequence"),
             round.name() + "/")) {
      const pqxx::binarystring payload(row[1]);
      if (row[0].as<std::string>().find("PupilExtracted") ==
          std::string::npos) {
        out.push_back(row[0].as<std::string>());
        continue;
      }
      v1::PupilExtracted event;
      EXPECT_TRUE(event.ParseFromArray(payload.data(),
                                       static_cast<int>(payload.size())));
      const v1::Extraction& x = event.extraction();
      out.push_back(absl::StrCat(x.extraction_id(), " ", x.area_code(), " ",
                                 x.school_code(), " ", x.grade(), " ",
                                 x.decision_date().year(), " ", event.round(),
                                 " ", event.fiscal_year()));
    }
    return out;
  }

  // Runs `sql` as `url`'s role in the screening schema: "" or the error.
  static std::string ExecAs(const std::string& url, const std::string& sql) {
    try {
      pqxx::connection connection(url);
      pqxx::nontransaction tx(connection);
      tx.exec0(absl::StrCat("SET search_path TO ", tx.quote_name(Schema())));
      tx.exec(sql);
      return "";
    } catch (const pqxx::sql_error& error) {
      return error.what();
    }
  }

  static kosapo::testing::TestTokens* tokens_;
  static std::shared_ptr<FakeClock>* clock_;
  static kosapo::testing::InProcessService* service_;
};

kosapo::testing::TestTokens* RetentionTest::tokens_ = nullptr;
std::shared_ptr<FakeClock>* RetentionTest::clock_ = nullptr;
kosapo::testing::InProcessService* RetentionTest::service_ = nullptr;

TEST_F(RetentionTest, RoundsPastThePeriodAreErasedAndNothingElse) {
  // Today is 2024-06-03; the period is 5 years after the fiscal year ended.
  // FY2019 ended 2020-03-31 (erased from 2025-04-01), FY2021 ended
  // 2022-03-31 (from 2027-04-01), FY2024 is running.
  const Personal p2019 = PersonalOf(2019, "イチ");
  const Personal p2021 = PersonalOf(2021, "サン");
  const Personal p2024 = PersonalOf(2024, "ヨン");
  const v1::Round r2019 = SeedRound(2019, true, p2019);
  const v1::Round r2021 = SeedRound(2021, true, p2021);
  const v1::Round r2024 = SeedRound(2024, false, p2024);
  for (const auto& [round, personal] :
       std::vector<std::pair<v1::Round, Personal>>{
           {r2019, p2019}, {r2021, p2021}, {r2024, p2024}}) {
    const std::string dump = DumpOf(round);
    for (const std::string& value :
         {personal.name, personal.kana, personal.birth, personal.class_name}) {
      ASSERT_THAT(dump, HasSubstr(value)) << "the fixture stored " << value;
    }
    // 2 notes, 1 replaced note, 2 reasons, 2 replaced reasons.
    ASSERT_EQ(FreeTextLeft(round), 7) << round.name();
    ASSERT_EQ(Count("SELECT count(*) FROM sheet_history WHERE round_id = $1",
                    IdOf(round)),
              1);
  }
  const std::vector<std::string> feed_2019 = FeedCounts(r2019);
  ASSERT_EQ(feed_2019.size(), 3u);  // extracted, withdrawn, extracted
  v1::ListCandidatesRequest candidates_request;
  candidates_request.set_parent(r2019.name());
  candidates_request.set_school_code("E1");
  v1::ListCandidatesResponse candidates_before;
  Ok(Stub()->ListCandidates(Staff().get(), candidates_request,
                            &candidates_before),
     "candidates");
  // The running sweep (every 100 ms) has found nothing due.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(Get(r2019).has_erase_time());

  // A year on, FY2019 is past the period: it goes, the others stay.
  (*clock_)->Set(NoonInTokyo(absl::CivilDay(2025, 6, 1)));
  ASSERT_TRUE(WaitErased(r2019));
  const std::string erased_dump = DumpOf(r2019);
  for (const std::string& value : p2019.All()) {
    EXPECT_THAT(erased_dump, Not(HasSubstr(value)));
  }
  EXPECT_EQ(FreeTextLeft(r2019), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM sheets WHERE round_id = $1"
                  " AND (birth_date IS NOT NULL OR answers <> '[]'"
                  "      OR triggered <> '[]' OR content_hash <> ''"
                  "      OR erase_time IS NULL)",
                  IdOf(r2019)),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM sheet_history WHERE round_id = $1"
                  " AND (content->>'birth_date' IS NOT NULL"
                  "      OR content->'answers' <> '[]'"
                  "      OR content->>'content_hash' <> '')",
                  IdOf(r2019)),
            0);
  // The erasure did not add history: the version it blanked is not kept.
  EXPECT_EQ(Count("SELECT count(*) FROM sheet_history WHERE round_id = $1",
                  IdOf(r2019)),
            1);
  for (const auto& [round, personal] :
       std::vector<std::pair<v1::Round, Personal>>{{r2021, p2021},
                                                   {r2024, p2024}}) {
    EXPECT_FALSE(Get(round).has_erase_time()) << round.name();
    const std::string dump = DumpOf(round);
    for (const std::string& value :
         {personal.name, personal.kana, personal.birth, personal.class_name}) {
      EXPECT_THAT(dump, HasSubstr(value)) << round.name();
    }
    EXPECT_EQ(FreeTextLeft(round), 7) << round.name();
  }

  // What the counts need stays: the feed's extractions, the candidates,
  // the decisions' outcomes.
  EXPECT_EQ(FeedCounts(r2019), feed_2019);
  v1::ListCandidatesResponse candidates_after;
  Ok(Stub()->ListCandidates(Staff().get(), candidates_request,
                            &candidates_after),
     "candidates after");
  ASSERT_EQ(candidates_after.candidates_size(),
            candidates_before.candidates_size());
  for (int i = 0; i < candidates_after.candidates_size(); ++i) {
    EXPECT_EQ(candidates_after.candidates(i).pupil_id(),
              candidates_before.candidates(i).pupil_id());
    EXPECT_EQ(candidates_after.candidates(i).grade(), 3);
    EXPECT_EQ(candidates_after.candidates(i).score().triggered_size(), 0);
  }
  {
    v1::GetSheetRequest request;
    request.set_name(absl::StrCat(r2019.name(), "/schools/E1/sheets/P1"));
    v1::Sheet sheet;
    Ok(Stub()->GetSheet(Staff().get(), request, &sheet), "get erased sheet");
    EXPECT_TRUE(sheet.has_erase_time());
    EXPECT_EQ(sheet.pupil_name(), "");
    EXPECT_EQ(sheet.pupil_kana(), "");
    EXPECT_EQ(sheet.class_name(), "");
    EXPECT_EQ(sheet.note(), "");
    EXPECT_FALSE(sheet.has_birth_date());
    EXPECT_EQ(sheet.sex(), v1::SEX_UNSPECIFIED);
    EXPECT_EQ(sheet.answers_size(), 0);
    EXPECT_EQ(sheet.grade(), 3);
    EXPECT_EQ(sheet.revision(), 2);
  }
  {
    v1::ListDecisionsRequest request;
    request.set_parent(r2019.name());
    request.set_school_code("E1");
    v1::ListDecisionsResponse response;
    Ok(Stub()->ListDecisions(Staff().get(), request, &response), "decisions");
    ASSERT_EQ(response.decisions_size(), 2);
    EXPECT_EQ(response.decisions(0).outcome(), v1::DECISION_OUTCOME_EXTRACT);
    EXPECT_EQ(response.decisions(0).reason(), "");
    EXPECT_EQ(response.decisions(1).outcome(), v1::DECISION_OUTCOME_NO_CONCERN);
  }
  {
    v1::ListExtractionsRequest request;
    request.set_parent(r2019.name());
    request.set_area_code("A1");
    v1::ListExtractionsResponse response;
    Ok(Stub()->ListExtractions(As(auth::Role::kWardOfficer).get(), request,
                               &response),
       "extractions");
    ASSERT_EQ(response.extractions_size(), 1);
    EXPECT_EQ(response.extractions(0).pupil_id(), "P1");
    EXPECT_EQ(response.extractions(0).pupil_name(), "");
    EXPECT_FALSE(response.extractions(0).has_birth_date());
  }

  // The erasure is audited, once per school, as the sweep's.
  const int64_t audit_rows = Count(
      "SELECT count(*) FROM screening_audit WHERE round_id = $1"
      " AND subject = 'service:screening-retention'"
      " AND method = 'EraseAfterRetention' AND access = 'write'"
      " AND school_code = 'E1' AND pupil_ids @> '{P1,P2}'"
      " AND cardinality(pupil_ids) = 2",
      IdOf(r2019));
  EXPECT_EQ(audit_rows, 1);

  // An erased round takes nothing more: not a retried import (a
  // past-record round would otherwise take it), not a decision.
  {
    const grpc::Status status =
        Upsert(r2019.name(), SheetOf(p2019, "P1", 2019, p2019.note));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("erased"));
    const grpc::Status decided =
        Decide(absl::StrCat(r2019.name(), "/schools/E1/meetings/",
                            Count("SELECT min(id) FROM meetings"
                                  " WHERE round_id = $1",
                                  IdOf(r2019))),
               "P2", v1::DECISION_OUTCOME_EXTRACT, "消去後の理由");
    EXPECT_EQ(decided.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(decided.error_message(), HasSubstr("erased"));
    EXPECT_THAT(DumpOf(r2019), Not(HasSubstr(p2019.name)));
  }

  // Further sweeps change nothing.
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_EQ(DumpOf(r2019), erased_dump);
  EXPECT_EQ(Count("SELECT count(*) FROM screening_audit WHERE round_id = $1"
                  " AND method = 'EraseAfterRetention'",
                  IdOf(r2019)),
            1);

  // Two years on, FY2021 goes too; the running year never does.
  (*clock_)->Set(NoonInTokyo(absl::CivilDay(2027, 6, 1)));
  ASSERT_TRUE(WaitErased(r2021));
  for (const std::string& value : p2021.All()) {
    EXPECT_THAT(DumpOf(r2021), Not(HasSubstr(value)));
  }
  EXPECT_EQ(FreeTextLeft(r2021), 0);
  EXPECT_FALSE(Get(r2024).has_erase_time());
  EXPECT_EQ(FreeTextLeft(r2024), 7);
}

TEST_F(RetentionTest, RuntimeRoleStillCannotRewriteHistory) {
  const Personal personal = PersonalOf(2020, "ニ");
  (*clock_)->Set(NoonInTokyo(absl::CivilDay(2024, 6, 3)));
  const v1::Round round = SeedRound(2020, true, personal);
  const std::string runtime = SharedPgCluster().ServiceUrl("screening");
  const std::string owner = SharedPgCluster().OwnerUrl("screening");
  for (const char* table : {"sheet_history", "decision_history"}) {
    SCOPED_TRACE(table);
    const std::string update =
        absl::StrCat("UPDATE ", table, " SET round_id = round_id");
    const std::string remove = absl::StrCat("DELETE FROM ", table);
    EXPECT_THAT(ExecAs(runtime, update), HasSubstr("permission denied"));
    EXPECT_THAT(ExecAs(runtime, remove), HasSubstr("permission denied"));
    // The erasure's setting does not make the runtime role the owner.
    EXPECT_THAT(
        ExecAs(runtime,
               absl::StrCat("SET kosapo.append_only_erasure = 'on';", update)),
        HasSubstr("permission denied"));
    // The owner is stopped by the trigger, unless inside the erasure.
    EXPECT_THAT(ExecAs(owner, update), HasSubstr("is append-only"));
    EXPECT_THAT(ExecAs(owner, remove), HasSubstr("is append-only"));
  }
  // The erasure function refuses a round not marked erased (FY2020 is
  // not due until 2026-04-01), and one whose fiscal year has not ended by
  // the database's clock, whatever the service's clock says.
  const std::string call =
      absl::StrCat("SELECT erase_round_history(", IdOf(round), ")");
  EXPECT_THAT(ExecAs(runtime, call), HasSubstr("is not erased"));
  const std::string admin = SharedPgCluster().AdminUrl();
  const std::string set_year = absl::StrCat(
      "UPDATE rounds SET erase_time = now(), fiscal_year = 2199 WHERE id = ",
      IdOf(round));
  ASSERT_EQ(ExecAs(admin, set_year), "");
  EXPECT_THAT(ExecAs(runtime, call), HasSubstr("fiscal year has not ended"));
  ASSERT_EQ(ExecAs(admin, absl::StrCat("UPDATE rounds SET erase_time = NULL,"
                                       " fiscal_year = 2020 WHERE id = ",
                                       IdOf(round))),
            "");
  EXPECT_EQ(FreeTextLeft(round), 7);
}

}  // namespace
}  // namespace kosapo::screening
