// Past-record rounds through the real service (gRPC over a socket, real
// PostgreSQL), with the service's clock moved across a fiscal-year boundary:
// a regular round refuses sheets after its dates, a past-record round can
// only be opened for a year that has ended and then takes that year's
// sheets and meeting-I extractions, and only city operations open one.
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
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

constexpr char kCity[] = "27202";

// Noon in Tokyo on `day`.
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

class PastRecordsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = kosapo::testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    // The last day of FY2022.
    clock_ = new std::shared_ptr<FakeClock>(
        std::make_shared<FakeClock>(NoonInTokyo(absl::CivilDay(2023, 3, 31))));
    auto service = kosapo::testing::InProcessService::Start(
        Definition(*clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir());
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
    auto stub = Stub();
    const absl::Status seeded =
        screening::testing::SeedCity(*stub, *tokens_, kCity);
    ASSERT_TRUE(seeded.ok()) << seeded;
  }

  static void TearDownTestSuite() {
    delete service_;
    delete clock_;
    delete tokens_;
  }

  static std::string Parent() { return absl::StrCat("municipalities/", kCity); }

  static std::unique_ptr<grpc::ClientContext> As(
      auth::Role role, std::vector<std::string> schools = {},
      std::vector<std::string> areas = {}) {
    auth::Principal principal;
    principal.subject = "user:test";
    principal.role = role;
    principal.municipality = kCity;
    principal.schools = std::move(schools);
    principal.areas = std::move(areas);
    return kosapo::testing::ContextAs(*tokens_, principal);
  }
  static std::unique_ptr<grpc::ClientContext> Ops() {
    return As(auth::Role::kCityOperations);
  }
  static std::unique_ptr<grpc::ClientContext> Staff() {
    return As(auth::Role::kSchoolStaff, {"E1"});
  }
  static std::unique_ptr<v1::ScreeningService::Stub> Stub() {
    return v1::ScreeningService::NewStub(service_->channel());
  }

  static void SetToday(absl::CivilDay day) { (*clock_)->Set(NoonInTokyo(day)); }

  static v1::CreateRoundRequest RoundRequest(int fiscal_year,
                                             v1::RoundKind kind,
                                             const std::string& request_id) {
    v1::CreateRoundRequest request = screening::testing::RoundRequest(
        Parent(), request_id, fiscal_year,
        absl::StrCat(fiscal_year, "年度 第1回"),
        absl::CivilDay(fiscal_year, 5, 1), absl::CivilDay(fiscal_year, 7, 31));
    request.mutable_round()->set_kind(kind);
    return request;
  }

  // A third grader of `fiscal_year`.
  static v1::Sheet Pupil(int fiscal_year, const std::string& id) {
    v1::Sheet sheet;
    sheet.set_school_code("E1");
    sheet.set_pupil_id(id);
    sheet.set_grade(3);
    sheet.set_pupil_name("山田 花子");
    sheet.set_pupil_kana("ヤマダ ハナコ");
    *sheet.mutable_birth_date() = DateOf(absl::CivilDay(fiscal_year - 9, 6, 1));
    sheet.set_sex(v1::SEX_FEMALE);
    v1::Answer* answer = sheet.add_answers();
    answer->set_item("young_carer_siblings");
    answer->set_flag(true);
    return sheet;
  }

  static grpc::Status Upsert(const std::string& round, const v1::Sheet& sheet,
                             v1::UpsertSheetResponse* response) {
    v1::UpsertSheetRequest request;
    request.set_parent(round);
    *request.mutable_sheet() = sheet;
    return Stub()->UpsertSheet(Staff().get(), request, response);
  }

  static grpc::Status Meeting(const std::string& round, absl::CivilDay day,
                              const std::string& request_id,
                              v1::Meeting* recorded) {
    v1::RecordMeetingRequest request;
    request.set_parent(round);
    request.set_request_id(request_id);
    request.mutable_meeting()->set_school_code("E1");
    *request.mutable_meeting()->mutable_meeting_date() = DateOf(day);
    v1::Attendee* attendee = request.mutable_meeting()->add_attendees();
    attendee->set_role("principal");
    attendee->set_count(1);
    return Stub()->RecordMeeting(Staff().get(), request, recorded);
  }

  static kosapo::testing::TestTokens* tokens_;
  static std::shared_ptr<FakeClock>* clock_;
  static kosapo::testing::InProcessService* service_;
};

kosapo::testing::TestTokens* PastRecordsTest::tokens_ = nullptr;
std::shared_ptr<FakeClock>* PastRecordsTest::clock_ = nullptr;
kosapo::testing::InProcessService* PastRecordsTest::service_ = nullptr;

TEST_F(PastRecordsTest, RegularRoundRefusesSheetsAfterItsDatesAcrossTheYear) {
  SetToday(absl::CivilDay(2023, 3, 31));
  v1::CreateRoundRequest create =
      RoundRequest(2022, v1::ROUND_KIND_UNSPECIFIED, "regular-2022");
  *create.mutable_round()->mutable_close_date() =
      DateOf(absl::CivilDay(2023, 3, 31));
  v1::Round round;
  ASSERT_TRUE(Stub()->CreateRound(Ops().get(), create, &round).ok());
  EXPECT_EQ(round.kind(), v1::ROUND_KIND_REGULAR);
  v1::UpsertSheetResponse stored;
  ASSERT_TRUE(Upsert(round.name(), Pupil(2022, "R1"), &stored).ok());
  EXPECT_EQ(stored.outcome(), v1::ROW_OUTCOME_ACCEPTED);

  // The next day is the next fiscal year: the regular round takes no more,
  // not even the same sheet again.
  SetToday(absl::CivilDay(2023, 4, 1));
  for (const char* pupil : {"R1", "R2"}) {
    const grpc::Status late = Upsert(round.name(), Pupil(2022, pupil), &stored);
    EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << pupil;
    EXPECT_THAT(late.error_message(), HasSubstr("outside its dates"));
  }
  v1::GetRoundRequest get;
  get.set_name(round.name());
  v1::Round again;
  ASSERT_TRUE(Stub()->GetRound(Ops().get(), get, &again).ok());
  EXPECT_EQ(again.kind(), v1::ROUND_KIND_REGULAR);
}

TEST_F(PastRecordsTest, PastRecordRoundOnlyForAYearThatHasEnded) {
  SetToday(absl::CivilDay(2024, 3, 31));
  v1::Round round;
  grpc::Status status = Stub()->CreateRound(
      Ops().get(), RoundRequest(2023, v1::ROUND_KIND_PAST_RECORD, "past-2023"),
      &round);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("round.kind"));
  EXPECT_THAT(status.error_message(), HasSubstr("2024-03-31"));

  SetToday(absl::CivilDay(2024, 4, 1));
  ASSERT_TRUE(Stub()
                  ->CreateRound(Ops().get(),
                                RoundRequest(2023, v1::ROUND_KIND_PAST_RECORD,
                                             "past-2023"),
                                &round)
                  .ok());
  EXPECT_EQ(round.kind(), v1::ROUND_KIND_PAST_RECORD);
  EXPECT_EQ(round.fiscal_year(), 2023);
  // A retry returns the round created first.
  v1::Round retried;
  ASSERT_TRUE(Stub()
                  ->CreateRound(Ops().get(),
                                RoundRequest(2023, v1::ROUND_KIND_PAST_RECORD,
                                             "past-2023"),
                                &retried)
                  .ok());
  EXPECT_EQ(retried.name(), round.name());
  v1::ListRoundsRequest list;
  list.set_parent(Parent());
  list.set_fiscal_year(2023);
  v1::ListRoundsResponse rounds;
  ASSERT_TRUE(Stub()->ListRounds(Staff().get(), list, &rounds).ok());
  ASSERT_EQ(rounds.rounds_size(), 1);
  EXPECT_EQ(rounds.rounds(0).kind(), v1::ROUND_KIND_PAST_RECORD);
}

TEST_F(PastRecordsTest, OnlyCityOperationsOpenPastRecordRounds) {
  SetToday(absl::CivilDay(2026, 12, 6));
  for (auth::Role role :
       {auth::Role::kSchoolStaff, auth::Role::kSchoolManager,
        auth::Role::kWardOfficer, auth::Role::kSsw, auth::Role::kAnalyst}) {
    v1::Round round;
    const grpc::Status status = Stub()->CreateRound(
        As(role, {"E1"}, {"A1"}).get(),
        RoundRequest(2021, v1::ROUND_KIND_PAST_RECORD, "by-role"), &round);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << auth::RoleName(role);
  }
}

TEST_F(PastRecordsTest, PastRecordRoundTakesTheYearsSheetsAndExtractions) {
  SetToday(absl::CivilDay(2026, 12, 6));
  v1::Round round;
  ASSERT_TRUE(Stub()
                  ->CreateRound(Ops().get(),
                                RoundRequest(2020, v1::ROUND_KIND_PAST_RECORD,
                                             "past-2020"),
                                &round)
                  .ok());
  // Years after its dates (2020-05-01 to 2020-07-31).
  v1::UpsertSheetResponse stored;
  ASSERT_TRUE(Upsert(round.name(), Pupil(2020, "P1"), &stored).ok());
  EXPECT_EQ(stored.outcome(), v1::ROW_OUTCOME_ACCEPTED);
  ASSERT_TRUE(Upsert(round.name(), Pupil(2020, "P1"), &stored).ok());
  EXPECT_EQ(stored.outcome(), v1::ROW_OUTCOME_UNCHANGED);
  // The sheet rules still apply: a pupil of that year.
  const grpc::Status wrong_year =
      Upsert(round.name(), Pupil(2030, "P2"), &stored);
  EXPECT_EQ(wrong_year.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(wrong_year.error_message(), HasSubstr("sheet.birth_date"));

  // Meeting I dated within the round's fiscal year only.
  v1::Meeting meeting;
  const grpc::Status next_year =
      Meeting(round.name(), absl::CivilDay(2021, 4, 2), "m-late", &meeting);
  EXPECT_EQ(next_year.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(next_year.error_message(), HasSubstr("fiscal year 2020"));
  ASSERT_TRUE(
      Meeting(round.name(), absl::CivilDay(2020, 11, 12), "m-nov", &meeting)
          .ok());
  v1::RecordDecisionRequest decide;
  decide.set_meeting(meeting.name());
  decide.set_pupil_id("P1");
  decide.set_outcome(v1::DECISION_OUTCOME_EXTRACT);
  decide.set_reason("きょうだいの世話で欠席が続く（紙の記録から）");
  v1::RecordDecisionResponse decision;
  ASSERT_TRUE(Stub()->RecordDecision(Staff().get(), decide, &decision).ok());
  EXPECT_EQ(decision.outcome(), v1::ROW_OUTCOME_ACCEPTED);

  // The extraction is on the feed dated as the meeting, in its year.
  const auto events = kosapo::testing::FeedEvents(*service_, *tokens_,
                                                  decision.decision().name());
  ASSERT_EQ(events.size(), 1u);
  v1::PupilExtracted extracted;
  ASSERT_TRUE(events[0].payload().UnpackTo(&extracted));
  EXPECT_EQ(extracted.fiscal_year(), 2020);
  EXPECT_EQ(extracted.extraction().decision_date().year(), 2020);
  EXPECT_EQ(extracted.extraction().decision_date().month(), 11);
  EXPECT_EQ(extracted.extraction().decision_date().day(), 12);

  // Closed: no more sheets, past records or not.
  v1::CloseRoundRequest close;
  close.set_name(round.name());
  v1::Round closed;
  ASSERT_TRUE(Stub()->CloseRound(Ops().get(), close, &closed).ok());
  EXPECT_EQ(closed.kind(), v1::ROUND_KIND_PAST_RECORD);
  const grpc::Status after_close =
      Upsert(round.name(), Pupil(2020, "P3"), &stored);
  EXPECT_EQ(after_close.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(after_close.error_message(), HasSubstr("closed"));
}

}  // namespace
}  // namespace kosapo::screening
