// The sheet's note and the decision's reason are encrypted at rest: the
// screening service through real gRPC against a real PostgreSQL, with keys
// from files. What is written reads back equal, the database holds none of
// it in plaintext (every row of every table of the schema, the replaced
// versions and the outbox among them), a note moved to another pupil does
// not open, a note stored before encryption still reads, and a missing key
// is refused by name.
#include <grpcpp/client_context.h>

#include <filesystem>
#include <memory>
#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/crypto/field_cipher.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace kosapo::screening {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCity[] = "27204";
constexpr char kPupilName[] = "暗号 花子";
// The texts written, each distinct so a leak names its field.
constexpr char kNote[] = "母親が夜勤で、夕食を一人でとっている。";
constexpr char kCorrectedNote[] = "父親と別居、弟の世話で遅刻が多い。";
constexpr char kReason[] = "欠席が続き、きょうだいの世話をしている。";
constexpr char kSecondReason[] = "家庭訪問の結果、校内で見守る。";
constexpr char kThirdReason[] = "再び欠席が増え、区と協議する。";

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

class ScreeningFieldEncryptionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = kosapo::testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    clock_ = new std::shared_ptr<FakeClock>(
        std::make_shared<FakeClock>(NoonInTokyo(absl::CivilDay(2024, 6, 3))));
    keys_dir_ = new std::string(SharedPgCluster().data_dir() + "-sfe-keys");
    ASSERT_OK(crypto::WriteRandomKeyFile(*keys_dir_, "a"));
  }

  static void TearDownTestSuite() {
    delete service_;
    delete clock_;
    delete tokens_;
    std::filesystem::remove_all(*keys_dir_);
    delete keys_dir_;
  }

  // (Re)starts the service with `env` over keys from keys_dir_, key `active`.
  static absl::Status Restart(const std::string& active,
                              std::map<std::string, std::string> env = {}) {
    delete service_;
    service_ = nullptr;
    env.emplace("KOSAPO_FIELD_KEYS_DIR", *keys_dir_);
    env.emplace("KOSAPO_FIELD_KEY_ID", active);
    auto service = kosapo::testing::InProcessService::Start(
        Definition(*clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(), env);
    if (!service.ok()) {
      return service.status();
    }
    service_ = service->release();
    return absl::OkStatus();
  }

  static std::unique_ptr<grpc::ClientContext> As(auth::Role role) {
    auth::Principal principal;
    principal.subject = "user:encryption-test";
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

  static v1::Sheet SheetOf(const std::string& pupil, const std::string& note) {
    v1::Sheet sheet;
    sheet.set_school_code("E1");
    sheet.set_pupil_id(pupil);
    sheet.set_grade(3);
    sheet.set_pupil_name(kPupilName);
    sheet.set_pupil_kana("アンゴウ ハナコ");
    *sheet.mutable_birth_date() = DateOf(absl::CivilDay(2015, 6, 1));
    sheet.set_sex(v1::SEX_FEMALE);
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

  static grpc::Status GetSheet(const std::string& name, v1::Sheet* sheet) {
    v1::GetSheetRequest request;
    request.set_name(name);
    return Stub()->GetSheet(Staff().get(), request, sheet);
  }

  static grpc::Status Decide(const std::string& meeting,
                             v1::DecisionOutcome outcome,
                             const std::string& reason) {
    v1::RecordDecisionRequest request;
    request.set_meeting(meeting);
    request.set_pupil_id("P1");
    request.set_outcome(outcome);
    request.set_reason(reason);
    v1::RecordDecisionResponse response;
    return Stub()->RecordDecision(Staff().get(), request, &response);
  }

  static std::string Schema() { return SharedPgCluster().Schema("screening"); }

  // Every row of every table of the screening schema as JSON text, and the
  // outbox's payloads as bytes: what a dump of the database holds.
  static std::string DumpSchema() {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    std::string dump;
    int tables = 0;
    for (const pqxx::row& table : tx.exec_params(
             "SELECT table_name FROM information_schema.tables"
             " WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
             Schema())) {
      ++tables;
      const std::string name = table[0].as<std::string>();
      for (const pqxx::row& row : tx.exec(absl::StrCat(
               "SELECT row_to_json(t)::text FROM ", tx.quote_name(Schema()),
               ".", tx.quote_name(name), " t"))) {
        absl::StrAppend(&dump, name, ": ", row[0].as<std::string>(), "\n");
      }
    }
    EXPECT_GT(tables, 12);
    for (const pqxx::row& row :
         tx.exec(absl::StrCat("SELECT payload FROM ", tx.quote_name(Schema()),
                              ".outbox_events"))) {
      absl::StrAppend(&dump, "event: ", pqxx::binarystring(row[0]).str(), "\n");
    }
    return dump;
  }

  static std::string Sql(const std::string& sql) {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("SET search_path TO ", tx.quote_name(Schema())));
    const pqxx::result rows = tx.exec(sql);
    return rows.empty() || rows[0][0].is_null() ? ""
                                                : rows[0][0].as<std::string>();
  }

  static kosapo::testing::TestTokens* tokens_;
  static std::shared_ptr<FakeClock>* clock_;
  static std::string* keys_dir_;
  static kosapo::testing::InProcessService* service_;
};

kosapo::testing::TestTokens* ScreeningFieldEncryptionTest::tokens_ = nullptr;
std::shared_ptr<FakeClock>* ScreeningFieldEncryptionTest::clock_ = nullptr;
std::string* ScreeningFieldEncryptionTest::keys_dir_ = nullptr;
kosapo::testing::InProcessService* ScreeningFieldEncryptionTest::service_ =
    nullptr;

// One test: the steps build on each other (write, dump, swap, lose a key).
TEST_F(ScreeningFieldEncryptionTest, NotesAndReasonsAreEncryptedAtRest) {
  ASSERT_OK(Restart("a"));
  ASSERT_OK(screening::testing::SeedCity(*Stub(), *tokens_, kCity));
  const v1::CreateRoundRequest create = screening::testing::RoundRequest(
      absl::StrCat("municipalities/", kCity), "sfe-round", 2024, "2024年度",
      absl::CivilDay(2024, 5, 1), absl::CivilDay(2024, 7, 31));
  v1::Round round;
  ASSERT_TRUE(
      Stub()
          ->CreateRound(As(auth::Role::kCityOperations).get(), create, &round)
          .ok());
  const std::string p1 = absl::StrCat(round.name(), "/schools/E1/sheets/P1");
  const std::string p2 = absl::StrCat(round.name(), "/schools/E1/sheets/P2");

  // A note, its correction (the first goes to sheet_history), and three
  // decisions (two go to decision_history; two extraction events).
  ASSERT_TRUE(Upsert(round.name(), SheetOf("P1", kNote)).ok());
  ASSERT_TRUE(Upsert(round.name(), SheetOf("P1", kCorrectedNote)).ok());
  ASSERT_TRUE(Upsert(round.name(), SheetOf("P2", "別の児童のメモ")).ok());
  v1::RecordMeetingRequest meeting;
  meeting.set_parent(round.name());
  meeting.set_request_id("sfe-meeting");
  meeting.mutable_meeting()->set_school_code("E1");
  *meeting.mutable_meeting()->mutable_meeting_date() =
      DateOf(absl::CivilDay(2024, 6, 1));
  auto* attendee = meeting.mutable_meeting()->add_attendees();
  attendee->set_role("principal");
  attendee->set_count(1);
  v1::Meeting recorded;
  ASSERT_TRUE(Stub()->RecordMeeting(Staff().get(), meeting, &recorded).ok());
  ASSERT_TRUE(
      Decide(recorded.name(), v1::DECISION_OUTCOME_EXTRACT, kReason).ok());
  ASSERT_TRUE(Decide(recorded.name(), v1::DECISION_OUTCOME_WATCH_IN_SCHOOL,
                     kSecondReason)
                  .ok());
  ASSERT_TRUE(
      Decide(recorded.name(), v1::DECISION_OUTCOME_EXTRACT, kThirdReason).ok());
  // The same decision again is a replay, not a new version, though its
  // stored reason is sealed afresh on each write.
  ASSERT_TRUE(
      Decide(recorded.name(), v1::DECISION_OUTCOME_EXTRACT, kThirdReason).ok());
  EXPECT_EQ(Sql("SELECT count(*) FROM decision_history"), "2");

  // Each reads back equal through the API.
  v1::Sheet sheet;
  ASSERT_TRUE(GetSheet(p1, &sheet).ok());
  EXPECT_EQ(sheet.note(), kCorrectedNote);
  EXPECT_EQ(sheet.revision(), 2);
  v1::ListDecisionsRequest decisions_request;
  decisions_request.set_parent(round.name());
  decisions_request.set_school_code("E1");
  v1::ListDecisionsResponse decisions;
  ASSERT_TRUE(
      Stub()->ListDecisions(Staff().get(), decisions_request, &decisions).ok());
  ASSERT_EQ(decisions.decisions_size(), 1);
  EXPECT_EQ(decisions.decisions(0).reason(), kThirdReason);
  v1::ListExtractionsRequest extractions_request;
  extractions_request.set_parent(round.name());
  extractions_request.set_area_code("A1");
  v1::ListExtractionsResponse extractions;
  ASSERT_TRUE(Stub()
                  ->ListExtractions(As(auth::Role::kWardOfficer).get(),
                                    extractions_request, &extractions)
                  .ok());
  ASSERT_EQ(extractions.extractions_size(), 1);
  EXPECT_EQ(extractions.extractions(0).reason(), kThirdReason);

  // The database holds none of it in plaintext, the history and the
  // outbox included.
  const std::string dump = DumpSchema();
  for (const char* text :
       {kNote, kCorrectedNote, kReason, kSecondReason, kThirdReason}) {
    EXPECT_THAT(dump, Not(HasSubstr(text))) << text;
  }
  EXPECT_THAT(dump, HasSubstr(kPupilName));  // the dump does read the rows
  EXPECT_THAT(Sql("SELECT note FROM sheets WHERE pupil_id = 'P1'"),
              StartsWith("enc:v1:a:"));
  EXPECT_THAT(Sql("SELECT content->>'note' FROM sheet_history"),
              StartsWith("enc:v1:a:"));
  EXPECT_THAT(Sql("SELECT reason FROM decisions"), StartsWith("enc:v1:a:"));
  EXPECT_THAT(Sql("SELECT min(reason) FROM decision_history"),
              StartsWith("enc:v1:a:"));

  // A note moved to another pupil's sheet does not open there: DATA_LOSS,
  // without the text.
  Sql("UPDATE sheets SET note = (SELECT note FROM sheets"
      " WHERE pupil_id = 'P1') WHERE pupil_id = 'P2' RETURNING 1");
  const grpc::Status moved = GetSheet(p2, &sheet);
  EXPECT_EQ(moved.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(moved.error_message(), Not(HasSubstr(kCorrectedNote)));
  // A note stored before encryption (plaintext) reads as it is.
  Sql("UPDATE sheets SET note = '暗号化前のメモ' WHERE pupil_id = 'P2'"
      " RETURNING 1");
  ASSERT_TRUE(GetSheet(p2, &sheet).ok());
  EXPECT_EQ(sheet.note(), "暗号化前のメモ");

  // The service does not start without keys, nor with an active key it
  // does not have.
  const absl::Status no_keys = Restart("a", {{"KOSAPO_FIELD_KEYS_DIR", ""}});
  EXPECT_THAT(no_keys.message(), HasSubstr("--field_keys_dir"));
  const absl::Status unknown = Restart("b");
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.message(), HasSubstr("the active field key 'b'"));
  // Without key a, what it sealed is refused, never returned garbled.
  ASSERT_OK(crypto::WriteRandomKeyFile(*keys_dir_, "b"));
  std::filesystem::rename(*keys_dir_ + "/a.key", *keys_dir_ + "/a.removed");
  ASSERT_OK(Restart("b"));
  const grpc::Status missing = GetSheet(p1, &sheet);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::DATA_LOSS);
  // The note written before encryption still reads; a new one is sealed
  // with key b.
  ASSERT_TRUE(GetSheet(p2, &sheet).ok());
  ASSERT_TRUE(Upsert(round.name(), SheetOf("P3", kNote)).ok());
  EXPECT_THAT(Sql("SELECT note FROM sheets WHERE pupil_id = 'P3'"),
              StartsWith("enc:v1:b:"));
  std::filesystem::rename(*keys_dir_ + "/a.removed", *keys_dir_ + "/a.key");
  ASSERT_OK(Restart("b"));
  ASSERT_TRUE(GetSheet(p1, &sheet).ok());
  EXPECT_EQ(sheet.note(), kCorrectedNote);
}

}  // namespace
}  // namespace kosapo::screening
