// Cases opened from the screening service's extraction events, with both
// services running over real gRPC against one PostgreSQL (each in its own
// schema): one case per extraction however often the event is delivered,
// withdrawn when the extraction is, and back when the pupil is extracted
// again.
#include <grpcpp/client_context.h>

#include <fstream>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace kosapo::cases {
namespace {

using ::kosapo::testing::SharedPgCluster;
namespace sv1 = ::kosapo::screening::v1;

constexpr char kCity[] = "27203";

absl::CivilDay TodayInTokyo() { return *DayIn(absl::Now(), "Asia/Tokyo"); }

class CaseIntakeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    auto screening = testing::InProcessService::Start(
        screening::Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir());
    ASSERT_TRUE(screening.ok()) << screening.status();
    screening_ = screening->release();
    // The case service reads the feed with its own service token.
    token_file_ = absl::StrCat(SharedPgCluster().data_dir(), "/case.token");
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:case");
    StartCaseService();
    SetUpScreening();
  }

  static void TearDownTestSuite() {
    delete case_;
    delete screening_;
    delete tokens_;
    delete meeting_;
  }

  static void StartCaseService() {
    delete case_;
    case_ = nullptr;
    auto service = testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_, SharedPgCluster().data_dir(),
        {{"KOSAPO_SCREENING_ADDRESS",
          absl::StrCat("127.0.0.1:", screening_->runtime().port())},
         {"KOSAPO_PEER_TOKEN_FILE", token_file_}});
    ASSERT_TRUE(service.ok()) << service.status();
    case_ = service->release();
  }

  static std::unique_ptr<grpc::ClientContext> As(
      auth::Role role, std::vector<std::string> areas = {},
      std::vector<std::string> schools = {}) {
    auth::Principal principal;
    principal.subject = "user:test";
    principal.role = role;
    principal.municipality = kCity;
    principal.areas = std::move(areas);
    principal.schools = std::move(schools);
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }
  static std::unique_ptr<grpc::ClientContext> Officer() {
    return As(auth::Role::kWardOfficer, {"A1"});
  }

  static std::unique_ptr<sv1::ScreeningService::Stub> Screening() {
    return sv1::ScreeningService::NewStub(screening_->channel());
  }
  static std::unique_ptr<v1::CaseService::Stub> Cases() {
    return v1::CaseService::NewStub(case_->channel());
  }

  static void SetUpScreening() {
    auto meeting =
        screening::testing::SeedMeeting(*Screening(), *tokens_, kCity);
    ASSERT_TRUE(meeting.ok()) << meeting.status();
    meeting_ = new std::string(*meeting);
  }

  static std::string Parent() { return absl::StrCat("municipalities/", kCity); }

  static std::string Decide(sv1::DecisionOutcome outcome) {
    auto decided = screening::testing::DecidePupil(*Screening(), *tokens_,
                                                   kCity, *meeting_, outcome);
    EXPECT_TRUE(decided.ok()) << decided.status();
    return decided.value_or("");
  }

  // Waits until the case service has applied the whole screening feed.
  static void CatchUp() {
    const absl::Status applied =
        testing::WaitForConsumer(SharedPgCluster(), "case", "screening",
                                 *screening_, *tokens_, absl::Seconds(20));
    ASSERT_TRUE(applied.ok()) << applied;
  }

  // The cases of pupil P1 (kana and birth date), any state.
  static std::vector<v1::Case> CasesOfPupil() {
    v1::ListCasesRequest request;
    request.set_parent(Parent());
    request.set_page_size(500);
    v1::ListCasesResponse response;
    EXPECT_TRUE(Cases()->ListCases(Officer().get(), request, &response).ok());
    std::vector<v1::Case> out;
    for (const v1::Case& c : response.cases()) {
      if (c.child().kana() == screening::testing::kPupilKana) {
        out.push_back(c);
      }
    }
    return out;
  }

  static testing::TestTokens* tokens_;
  static testing::InProcessService* screening_;
  static testing::InProcessService* case_;
  static std::string token_file_;
  static std::string* meeting_;
};

testing::TestTokens* CaseIntakeTest::tokens_ = nullptr;
testing::InProcessService* CaseIntakeTest::screening_ = nullptr;
testing::InProcessService* CaseIntakeTest::case_ = nullptr;
std::string CaseIntakeTest::token_file_;
std::string* CaseIntakeTest::meeting_ = nullptr;

TEST_F(CaseIntakeTest, OneCasePerExtractionWithdrawnAndBackAgain) {
  const std::string extraction = Decide(sv1::DECISION_OUTCOME_EXTRACT);
  CatchUp();
  std::vector<v1::Case> cases = CasesOfPupil();
  ASSERT_EQ(cases.size(), 1u);
  const v1::Case opened = cases[0];
  EXPECT_EQ(opened.extraction_id(), extraction);
  EXPECT_EQ(opened.source(), v1::CASE_SOURCE_SCREENING);
  EXPECT_EQ(opened.state(), v1::CASE_STATE_OPEN);
  EXPECT_EQ(opened.area_code(), "A1");
  EXPECT_EQ(opened.child().school_code(), "E1");
  EXPECT_EQ(opened.child().name(), screening::testing::kPupilName);
  EXPECT_EQ(opened.fiscal_year(), FiscalYearOf(TodayInTokyo()));
  EXPECT_EQ(opened.approach_status(), v1::APPROACH_STATUS_IN_PREPARATION);

  // Re-delivery: the case service forgets how far it got and restarts; the
  // whole feed comes again and nothing is opened twice.
  case_->runtime().Drain();
  {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("UPDATE ", SharedPgCluster().Schema("case"),
                          ".consumer_checkpoints SET last_sequence = 0"));
  }
  StartCaseService();
  CatchUp();
  cases = CasesOfPupil();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].name(), opened.name());
  EXPECT_EQ(cases[0].etag(), opened.etag());
  EXPECT_EQ(testing::FeedEvents(*case_, *tokens_, opened.name()).size(), 1u);

  // The school corrects its decision: the case is withdrawn.
  Decide(sv1::DECISION_OUTCOME_WATCH_IN_SCHOOL);
  CatchUp();
  cases = CasesOfPupil();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].state(), v1::CASE_STATE_WITHDRAWN);

  // Extracted again: the same case comes back, still one.
  Decide(sv1::DECISION_OUTCOME_EXTRACT);
  CatchUp();
  cases = CasesOfPupil();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].name(), opened.name());
  EXPECT_EQ(cases[0].state(), v1::CASE_STATE_OPEN);
  const auto events = testing::FeedEvents(*case_, *tokens_, opened.name());
  std::vector<std::string> types;
  for (const auto& event : events) {
    const std::string& url = event.payload().type_url();
    types.push_back(url.substr(url.rfind('.') + 1));
  }
  EXPECT_THAT(types, ::testing::ElementsAre("CaseOpened", "CaseWithdrawn",
                                            "CaseOpened"));
}

}  // namespace
}  // namespace kosapo::cases
