// The audit trail of pupils' personal data through the real service: which
// rows each audited call leaves (who, role, method, record, purpose), none
// for a refused or failed call, list pages and bulk intake, the trail read
// back by the roles allowed to, and the rows out of reach of the service's
// own database role.
#include <grpcpp/client_context.h>

#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/service/in_process.h"
#include "common/testing/opaque_ids.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace kosapo::screening {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kCity[] = "27203";
constexpr char kOtherCity[] = "27204";

int CurrentFiscalYear() {
  return kosapo::FiscalYearOf(*kosapo::DayIn(absl::Now(), "Asia/Tokyo"));
}

// One screening_audit row as stored.
struct Row {
  std::string method;
  std::string role;
  std::string access;
  std::string record;
  std::string school;
  std::string pupils;  // joined by ","
  std::string purpose;
  std::string request_id;
  bool has_round = false;

  // "GetSheet read sheet E1:P1" for compact comparisons.
  std::string Short() const {
    return absl::StrCat(method, " ", access, " ", record, " ", school, ":",
                        pupils);
  }
};

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = kosapo::testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    auto service = kosapo::testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir());
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
    auto stub = v1::ScreeningService::NewStub(service_->channel());
    const absl::Status seeded =
        screening::testing::SeedCity(*stub, *tokens_, kCity, {"E1", "E2"});
    ASSERT_TRUE(seeded.ok()) << seeded;
  }

  static void TearDownTestSuite() {
    delete service_;
    delete tokens_;
  }

  static std::string Parent() { return absl::StrCat("municipalities/", kCity); }

  // A caller named `subject`, so each test finds its own audit rows.
  static std::unique_ptr<grpc::ClientContext> As(
      const std::string& subject, auth::Role role,
      std::vector<std::string> schools = {}, const char* city = kCity) {
    auth::Principal principal;
    principal.subject = subject;
    principal.role = role;
    principal.municipality = city;
    principal.schools = std::move(schools);
    principal.areas = {"A1"};
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }
  static std::unique_ptr<grpc::ClientContext> Ops(
      const std::string& subject = "user:ops") {
    return As(subject, auth::Role::kCityOperations);
  }
  static std::unique_ptr<grpc::ClientContext> Staff(const std::string& subject,
                                                    const char* school = "E1") {
    return As(subject, auth::Role::kSchoolStaff, {school});
  }

  std::unique_ptr<v1::ScreeningService::Stub> Stub() {
    return v1::ScreeningService::NewStub(service_->channel());
  }

  // A school meeting of E1 today in `round`, recorded by `who`; its name,
  // or empty (with the failure reported) when it could not be recorded.
  std::string MeetingOfToday(const std::string& round,
                             const std::string& request_id,
                             const std::string& who) {
    v1::RecordMeetingRequest request;
    request.set_parent(round);
    request.set_request_id(request_id);
    request.mutable_meeting()->set_school_code("E1");
    *request.mutable_meeting()->mutable_meeting_date() =
        DateToProto(*DayIn(absl::Now(), "Asia/Tokyo"));
    v1::Attendee* attendee = request.mutable_meeting()->add_attendees();
    attendee->set_role("principal");
    attendee->set_count(1);
    v1::Meeting recorded;
    const grpc::Status status =
        Stub()->RecordMeeting(Staff(who).get(), request, &recorded);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return recorded.name();
  }

  std::string NewRound(const std::string& request_id) {
    const v1::CreateRoundRequest request = screening::testing::RoundRequest(
        Parent(), request_id, CurrentFiscalYear(), "第1回");
    v1::Round created;
    EXPECT_TRUE(Stub()->CreateRound(Ops().get(), request, &created).ok());
    return created.name();
  }

  static v1::Sheet Pupil(const std::string& school, const std::string& id,
                         bool candidate = false) {
    v1::Sheet sheet;
    sheet.set_school_code(school);
    sheet.set_pupil_id(id);
    sheet.set_grade(3);
    sheet.set_pupil_name("山田 太郎");
    sheet.set_pupil_kana("ヤマダ タロウ");
    sheet.mutable_birth_date()->set_year(CurrentFiscalYear() - 9);
    sheet.mutable_birth_date()->set_month(5);
    sheet.mutable_birth_date()->set_day(20);
    sheet.set_sex(v1::SEX_MALE);
    if (candidate) {
      v1::Answer* answer = sheet.add_answers();
      answer->set_item("home_neglect_suspected");  // always reviewed
      answer->set_flag(true);
    }
    return sheet;
  }

  grpc::Status Upsert(const std::string& round, const v1::Sheet& sheet,
                      std::unique_ptr<grpc::ClientContext> context) {
    v1::UpsertSheetRequest request;
    request.set_parent(round);
    *request.mutable_sheet() = sheet;
    v1::UpsertSheetResponse response;
    return Stub()->UpsertSheet(context.get(), request, &response);
  }

  grpc::Status Get(const std::string& name,
                   std::unique_ptr<grpc::ClientContext> context) {
    v1::GetSheetRequest request;
    request.set_name(name);
    v1::Sheet sheet;
    return Stub()->GetSheet(context.get(), request, &sheet);
  }

  grpc::Status Trail(const std::string& parent, int page_size,
                     const std::string& token,
                     std::unique_ptr<grpc::ClientContext> context,
                     v1::ListAuditRecordsResponse* response) {
    v1::ListAuditRecordsRequest request;
    request.set_parent(parent);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return Stub()->ListAuditRecords(context.get(), request, response);
  }

  // The audit rows of `subject`'s calls, oldest first, read as the
  // superuser. Ids are a keyed permutation; rows of one statement can share
  // a microsecond, and this append-only table's physical order is the order
  // they were written in.
  static std::vector<Row> RowsOf(const std::string& subject) {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    std::vector<Row> rows;
    for (const pqxx::row& row :
         tx.exec_params("SELECT method, role, access, record, school_code,"
                        " array_to_string(pupil_ids, ','), purpose, request_id,"
                        " round_id IS NOT NULL"
                        " FROM screening.screening_audit WHERE subject = $1"
                        " ORDER BY access_time, ctid",
                        subject)) {
      rows.push_back(Row{row[0].as<std::string>(), row[1].as<std::string>(),
                         row[2].as<std::string>(), row[3].as<std::string>(),
                         row[4].as<std::string>(), row[5].as<std::string>(),
                         row[6].as<std::string>(), row[7].as<std::string>(),
                         row[8].as<bool>()});
    }
    return rows;
  }
  static std::vector<std::string> ShortRowsOf(const std::string& subject) {
    std::vector<std::string> out;
    for (const Row& row : RowsOf(subject)) {
      out.push_back(row.Short());
    }
    return out;
  }

  static kosapo::testing::TestTokens* tokens_;
  static kosapo::testing::InProcessService* service_;
};

kosapo::testing::TestTokens* AuditTest::tokens_ = nullptr;
kosapo::testing::InProcessService* AuditTest::service_ = nullptr;

TEST_F(AuditTest, SingleReadsAndWritesRecordWhoRoleMethodRecordAndPurpose) {
  const std::string round = NewRound("single");
  auto writing = Staff("user:single");
  const std::string purpose = "年度のスクリーニング";
  writing->AddMetadata("x-kosapo-purpose-bin", purpose);
  writing->AddMetadata("x-request-id", "req-single-1");
  ASSERT_TRUE(Upsert(round, Pupil("E1", "SG1"), std::move(writing)).ok());
  auto reading = As("user:single", auth::Role::kSchoolManager, {"E1"});
  reading->AddMetadata("x-kosapo-purpose", "parent meeting");
  ASSERT_TRUE(Get(round + "/schools/E1/sheets/SG1", std::move(reading)).ok());
  ASSERT_TRUE(Get(round + "/schools/E1/sheets/SG1", Staff("user:single")).ok());

  const std::vector<Row> rows = RowsOf("user:single");
  ASSERT_EQ(rows.size(), 4u);
  // The write, then the read of the stored sheet it answers with.
  EXPECT_EQ(rows[0].Short(), "UpsertSheet write sheet E1:SG1");
  EXPECT_EQ(rows[1].Short(), "UpsertSheet read sheet E1:SG1");
  EXPECT_EQ(rows[2].Short(), "GetSheet read sheet E1:SG1");
  EXPECT_EQ(rows[3].Short(), "GetSheet read sheet E1:SG1");
  EXPECT_EQ(rows[0].role, "school_staff");
  EXPECT_EQ(rows[0].purpose, purpose);
  EXPECT_EQ(rows[0].request_id, "req-single-1");
  EXPECT_EQ(rows[1].purpose, purpose);
  EXPECT_TRUE(rows[0].has_round);
  EXPECT_EQ(rows[2].role, "school_manager");
  EXPECT_EQ(rows[2].purpose, "parent meeting");
  EXPECT_EQ(rows[3].purpose, "");
  EXPECT_FALSE(rows[3].request_id.empty());  // the call's generated id
}

TEST_F(AuditTest, RefusedOrFailedCallsLeaveNoRow) {
  const std::string round = NewRound("refused");
  ASSERT_TRUE(Upsert(round, Pupil("E1", "RF1"), Staff("user:rf-setup")).ok());
  const std::string sheet = round + "/schools/E1/sheets/RF1";
  const std::string who = "user:refused";
  // Another school's staff; a role the matrix refuses; no such sheet.
  EXPECT_EQ(Get(sheet, Staff(who, "E2")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(sheet, As(who, auth::Role::kWardOfficer)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(round + "/schools/E1/sheets/NOPE", Staff(who)).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A purpose that is not text of at most 200 characters.
  auto long_purpose = Staff(who);
  long_purpose->AddMetadata("x-kosapo-purpose", std::string(201, 'x'));
  const grpc::Status too_long = Get(sheet, std::move(long_purpose));
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_long.error_message(), HasSubstr("x-kosapo-purpose"));
  // Bytes that are not UTF-8 in the binary key.
  auto not_utf8 = Staff(who);
  not_utf8->AddMetadata("x-kosapo-purpose-bin", std::string("\xc3\x28", 2));
  const grpc::Status bad_bytes = Get(sheet, std::move(not_utf8));
  EXPECT_EQ(bad_bytes.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_bytes.error_message(),
              HasSubstr("metadata x-kosapo-purpose-bin: not valid UTF-8"));
  // A write refused by the sheet's checks, and one into a closed round.
  v1::Sheet bad = Pupil("E1", "RF2");
  bad.set_grade(12);
  EXPECT_EQ(Upsert(round, bad, Staff(who)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const std::string closed_round = NewRound("refused-closed");
  v1::CloseRoundRequest close;
  close.set_name(closed_round);
  v1::Round closed;
  ASSERT_TRUE(Stub()->CloseRound(Ops().get(), close, &closed).ok());
  EXPECT_EQ(Upsert(closed_round, Pupil("E1", "RF3"), Staff(who)).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // A decision about a pupil without a sheet.
  const std::string meeting = MeetingOfToday(round, "refused-meeting", who);
  ASSERT_FALSE(meeting.empty());
  v1::RecordDecisionRequest decide;
  decide.set_meeting(meeting);
  decide.set_pupil_id("NOSHEET");
  decide.set_outcome(v1::DECISION_OUTCOME_EXTRACT);
  decide.set_reason("理由");
  v1::RecordDecisionResponse decision;
  EXPECT_EQ(
      Stub()->RecordDecision(Staff(who).get(), decide, &decision).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  // RecordMeeting itself holds no pupil's data: no row either.
  EXPECT_THAT(ShortRowsOf(who), ElementsAre());
}

TEST_F(AuditTest, ListsAuditEveryRecordTheyReturnAndNoOther) {
  const std::string round = NewRound("lists");
  for (const char* id : {"L1", "L2", "L3", "L4", "L5"}) {
    ASSERT_TRUE(Upsert(round, Pupil("E1", id, std::string(id) == "L4"),
                       Staff("user:lists-setup"))
                    .ok());
  }
  const std::string who = "user:lists";
  v1::ListSheetsRequest list;
  list.set_parent(round);
  list.set_school_code("E1");
  list.set_page_size(2);
  v1::ListSheetsResponse page;
  ASSERT_TRUE(Stub()->ListSheets(Staff(who).get(), list, &page).ok());
  ASSERT_EQ(page.sheets_size(), 2);
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(Stub()->ListSheets(Staff(who).get(), list, &page).ok());
  ASSERT_EQ(page.sheets_size(), 2);
  v1::ListCandidatesRequest candidates;
  candidates.set_parent(round);
  candidates.set_school_code("E1");
  v1::ListCandidatesResponse found;
  ASSERT_TRUE(
      Stub()->ListCandidates(Staff(who).get(), candidates, &found).ok());
  ASSERT_EQ(found.candidates_size(), 1);
  // An empty page shows nobody: no row.
  candidates.set_school_code("E2");
  ASSERT_TRUE(
      Stub()
          ->ListCandidates(As(who, auth::Role::kSchoolStaff, {"E2"}).get(),
                           candidates, &found)
          .ok());
  EXPECT_THAT(
      ShortRowsOf(who),
      ElementsAre("ListSheets read sheet E1:L1", "ListSheets read sheet E1:L2",
                  "ListSheets read sheet E1:L3", "ListSheets read sheet E1:L4",
                  "ListCandidates read sheet E1:L4"));
}

TEST_F(AuditTest, DecisionsAndExtractionsAreAuditedPerPupil) {
  const std::string round = NewRound("decisions");
  ASSERT_TRUE(
      Upsert(round, Pupil("E1", "D1", true), Staff("user:dec-setup")).ok());
  const std::string who = "user:decisions";
  const std::string meeting = MeetingOfToday(round, "decisions-meeting", who);
  ASSERT_FALSE(meeting.empty());
  v1::RecordDecisionRequest decide;
  decide.set_meeting(meeting);
  decide.set_pupil_id("D1");
  decide.set_outcome(v1::DECISION_OUTCOME_EXTRACT);
  decide.set_reason("欠席が続く");
  v1::RecordDecisionResponse decision;
  ASSERT_TRUE(Stub()->RecordDecision(Staff(who).get(), decide, &decision).ok());
  v1::ListDecisionsRequest decisions;
  decisions.set_parent(round);
  decisions.set_school_code("E1");
  v1::ListDecisionsResponse listed;
  ASSERT_TRUE(Stub()->ListDecisions(Staff(who).get(), decisions, &listed).ok());
  v1::ListExtractionsRequest extractions;
  extractions.set_parent(round);
  extractions.set_area_code("A1");
  v1::ListExtractionsResponse extracted;
  ASSERT_TRUE(Stub()
                  ->ListExtractions(As(who, auth::Role::kWardOfficer).get(),
                                    extractions, &extracted)
                  .ok());
  ASSERT_EQ(extracted.extractions_size(), 1);
  const std::vector<Row> rows = RowsOf(who);
  std::vector<std::string> got;
  for (const Row& row : rows) {
    got.push_back(absl::StrCat(row.Short(), " ", row.role));
  }
  EXPECT_THAT(got, ElementsAre("RecordDecision write decision E1:D1 "
                               "school_staff",
                               "ListDecisions read decision E1:D1 school_staff",
                               "ListExtractions read extraction E1:D1 "
                               "ward_officer"));
}

// However its schools' rows interleave and however many batches it takes,
// an intake leaves one row per school, written with the intake.
TEST_F(AuditTest, BulkIntakeLeavesOneRowPerSchool) {
  const std::string round = NewRound("bulk");
  const std::string who = "user:bulk";
  v1::ImportSheetsResponse response;
  {
    auto context = As(who, auth::Role::kSchoolStaff, {"E1", "E2"});
    auto writer = Stub()->ImportSheets(context.get(), &response);
    v1::ImportSheetsRequest request;
    request.set_parent(round);
    // 1200 rows, schools alternating: batches of 1000 and 200.
    for (int n = 0; n < 1200; ++n) {
      *request.add_sheets() =
          Pupil(n % 2 == 0 ? "E1" : "E2", absl::StrCat("B", n));
    }
    v1::Sheet rejected = Pupil("E1", "BAD");
    rejected.set_grade(12);
    *request.add_sheets() = rejected;
    ASSERT_TRUE(writer->Write(request));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
  }
  EXPECT_EQ(response.accepted(), 1200);
  EXPECT_EQ(response.rejected(), 1);
  std::vector<Row> rows = RowsOf(who);
  ASSERT_EQ(rows.size(), 2u);
  const int expected_sizes[] = {600, 600};
  const char* expected_schools[] = {"E1", "E2"};
  std::string all;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].method, "ImportSheets");
    EXPECT_EQ(rows[i].access, "write");
    EXPECT_EQ(rows[i].record, "sheet");
    EXPECT_EQ(rows[i].school, expected_schools[i]);
    const std::vector<std::string> ids = absl::StrSplit(rows[i].pupils, ',');
    EXPECT_EQ(static_cast<int>(ids.size()), expected_sizes[i]);
    absl::StrAppend(&all, ",", rows[i].pupils, ",");
  }
  EXPECT_THAT(all, HasSubstr(",B0,"));
  EXPECT_THAT(all, HasSubstr(",B1199,"));
  EXPECT_THAT(all, ::testing::Not(HasSubstr(",BAD,")));  // never stored

  const std::string csv_who = "user:bulk-csv";
  v1::ImportSheetsCsvRequest csv;
  csv.set_parent(round);
  const std::string born = absl::StrCat(CurrentFiscalYear() - 8, "-06-01");
  csv.set_csv(
      "school_code,pupil_id,grade,class_name,pupil_name,pupil_kana,"
      "birth_date,sex,note\n"
      "E1,CSV1,2,1組,佐藤 花子,サトウ ハナコ," +
      born +
      ",female,\n"
      "E1,CSV2,2,1組,鈴木 一郎,スズキ イチロウ,not-a-date,male,\n"
      "E1,CSV3,2,1組,高橋 次郎,タカハシ ジロウ," +
      born + ",male,\n");
  ASSERT_TRUE(
      Stub()->ImportSheetsCsv(Staff(csv_who).get(), csv, &response).ok());
  EXPECT_EQ(response.accepted(), 2);
  EXPECT_THAT(ShortRowsOf(csv_who),
              ElementsAre("ImportSheetsCsv write sheet E1:CSV1,CSV3"));
}

// Audit ids come from one bigint sequence for every city: the trail pages
// on past 2^31 rows (its cursor was once read as a 32-bit integer).
TEST_F(AuditTest, TrailPagesPastTwoToTheThirtyFirstRows) {
  {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec1("SELECT setval('screening.screening_audit_id_seq', 3000000000)");
  }
  const std::string round = NewRound("trail-big");
  const std::string sheet = round + "/schools/E1/sheets/B1";
  ASSERT_TRUE(Upsert(round, Pupil("E1", "B1"), Staff("user:big-1")).ok());
  ASSERT_TRUE(Get(sheet, Staff("user:big-2")).ok());
  int records = 0;
  int pages = 0;
  std::string token;
  do {
    v1::ListAuditRecordsResponse page;
    const grpc::Status status = Trail(
        sheet, 1, token,
        As("user:big-manager", auth::Role::kSchoolManager, {"E1"}), &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    records += page.records_size();
    token = page.next_page_token();
    if (!token.empty()) {
      // The token tells nothing of how many audit rows all cities made.
      kosapo::testing::ExpectTokenIdConcealed(token, 3000000000);
    }
  } while (!token.empty() && ++pages < 10);
  EXPECT_EQ(records, 3);  // UpsertSheet's read and write, GetSheet's read
}

TEST_F(AuditTest, TrailIsNewestFirstPagedAndOnlyForTheSchoolOrTheCity) {
  const std::string round = NewRound("trail");
  const std::string sheet = round + "/schools/E1/sheets/T1";
  ASSERT_TRUE(Upsert(round, Pupil("E1", "T1"), Staff("user:trail-1")).ok());
  ASSERT_TRUE(Get(sheet, Staff("user:trail-2")).ok());
  ASSERT_TRUE(Get(sheet, Staff("user:trail-3")).ok());
  // The same pupil id at another school is another pupil.
  ASSERT_TRUE(
      Upsert(round, Pupil("E2", "T1"), Staff("user:trail-x", "E2")).ok());
  // The pupil in another round: in the pupil's trail, not this sheet's.
  const std::string next_round = NewRound("trail-next");
  ASSERT_TRUE(
      Upsert(next_round, Pupil("E1", "T1"), Staff("user:trail-next")).ok());

  const std::string manager = "user:trail-manager";
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListAuditRecordsResponse page;
    ASSERT_TRUE(Trail(sheet, 3, token,
                      As(manager, auth::Role::kSchoolManager, {"E1"}), &page)
                    .ok());
    ++pages;
    for (const v1::AuditRecord& record : page.records()) {
      EXPECT_EQ(record.resource(), sheet);
      EXPECT_EQ(record.pupils(), 1);
      EXPECT_TRUE(record.has_time());
      seen.push_back(absl::StrCat(record.subject(), " ", record.method(), " ",
                                  record.access(), " ", record.role()));
    }
    token = page.next_page_token();
  } while (!token.empty() && pages < 5);
  EXPECT_EQ(pages, 2);
  // As before the first page: the trail's own reads are recorded after.
  EXPECT_THAT(seen, ElementsAre("user:trail-3 GetSheet read school_staff",
                                "user:trail-2 GetSheet read school_staff",
                                "user:trail-1 UpsertSheet read school_staff",
                                "user:trail-1 UpsertSheet write school_staff"));
  EXPECT_THAT(ShortRowsOf(manager),
              ElementsAre("ListAuditRecords read audit E1:T1",
                          "ListAuditRecords read audit E1:T1"));

  // City operations, for the pupil in every round: now with the manager's
  // reads (named by the sheet they asked for), newest first.
  const std::string pupil = Parent() + "/schools/E1/pupils/T1";
  v1::ListAuditRecordsResponse all;
  ASSERT_TRUE(Trail(pupil, 0, "", Ops("user:trail-ops"), &all).ok());
  ASSERT_EQ(all.records_size(), 8);
  EXPECT_EQ(all.records(0).method(), "ListAuditRecords");
  EXPECT_EQ(all.records(0).resource(), sheet);
  EXPECT_EQ(all.records(2).subject(), "user:trail-next");
  EXPECT_EQ(all.records(2).resource(), next_round + "/schools/E1/sheets/T1");
  EXPECT_EQ(all.records(7).subject(), "user:trail-1");
  EXPECT_EQ(all.records(7).access(), "write");
  EXPECT_TRUE(all.next_page_token().empty());
  EXPECT_THAT(ShortRowsOf("user:trail-ops"),
              ElementsAre("ListAuditRecords read audit E1:T1"));
  EXPECT_FALSE(RowsOf("user:trail-ops")[0].has_round);

  // Refused: school staff (the matrix), another school's manager, city
  // operations of another city; a token this list did not give.
  const std::string refused = "user:trail-refused";
  v1::ListAuditRecordsResponse none;
  EXPECT_EQ(Trail(sheet, 0, "", Staff(refused), &none).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Trail(sheet, 0, "", As(refused, auth::Role::kSchoolManager, {"E2"}),
                  &none)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Trail(sheet, 0, "",
            As(refused, auth::Role::kCityOperations, {}, kOtherCity), &none)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Trail(sheet, 0, "abc", Ops(refused), &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      Trail(round + "/schools/E1", 0, "", Ops(refused), &none).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Trail(sheet, 1001, "", Ops(refused), &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A pupil nobody accessed: an empty trail, and no row for reading it.
  ASSERT_TRUE(
      Trail(Parent() + "/schools/E1/pupils/NOBODY", 0, "", Ops(refused), &none)
          .ok());
  EXPECT_EQ(none.records_size(), 0);
  EXPECT_THAT(ShortRowsOf(refused), ElementsAre());
}

// Two walls: the service's runtime role holds no UPDATE, DELETE or TRUNCATE
// on the table (grants), and even the schema owner, which could grant
// itself anything, is stopped by the triggers.
TEST_F(AuditTest, AuditRowsCannotBeChangedOrDeleted) {
  const std::string round = NewRound("append-only");
  ASSERT_TRUE(Upsert(round, Pupil("E1", "AO1"), Staff("user:append")).ok());
  ASSERT_EQ(RowsOf("user:append").size(), 2u);
  for (const auto& [url, refusal] :
       std::vector<std::pair<std::string, std::string>>{
           {SharedPgCluster().ServiceUrl("screening"), "permission denied"},
           {SharedPgCluster().OwnerUrl("screening"), "append-only"}}) {
    pqxx::connection connection(url);
    for (const char* sql :
         {"UPDATE screening_audit SET subject = 'user:nobody'"
          " WHERE subject = 'user:append'",
          "DELETE FROM screening_audit WHERE subject = 'user:append'",
          "TRUNCATE screening_audit"}) {
      pqxx::nontransaction tx(connection);
      try {
        tx.exec0(sql);
        ADD_FAILURE() << "allowed: " << sql;
      } catch (const pqxx::sql_error& error) {
        EXPECT_THAT(error.what(), HasSubstr(refusal)) << sql;
      }
    }
  }
  EXPECT_EQ(RowsOf("user:append").size(), 2u);
}

}  // namespace
}  // namespace kosapo::screening
