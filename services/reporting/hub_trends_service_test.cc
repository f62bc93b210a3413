// The hub monthly report and the ward trends built from what happened in
// the other services, all running over real gRPC against one PostgreSQL:
// a hub's month recorded through the referral service's public API
// (application, decision, visits with services and problems, a full day
// let in, ends) and urgent reports raised in the case service give the
// report that was recorded, in the city's days; the same events delivered
// again count once and a restart catches up; only the hub's operators and
// the city read it; the trends over several years are the per-year
// comparisons. The case and referral services run on a fake clock set in
// 2024, so the month and its school holiday are the same on every run.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/client_context.h>

#include <fstream>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/base/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"

namespace kosapo::reporting {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;
namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
namespace sv1 = ::kosapo::screening::v1;

constexpr char kCity[] = "27203";
constexpr char kOtherCity[] = "27100";
constexpr char kWard[] = "27203-01";
constexpr char kOtherWard[] = "27203-02";

absl::TimeZone Tokyo() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Tokyo", &zone));
  return zone;
}

absl::Time TokyoTime(absl::CivilSecond local) {
  return absl::FromCivil(local, Tokyo());
}

// "Now" for the case and referral services while the month is recorded.
const absl::CivilSecond kRecordedAt(2024, 9, 10, 12, 0, 0);

class HubAndTrendsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    clock_ = std::make_shared<FakeClock>(TokyoTime(kRecordedAt));
    token_file_ = SharedPgCluster().data_dir() + "/reporting.token";
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:reporting");
    const std::string referral_token =
        SharedPgCluster().data_dir() + "/referral.token";
    std::ofstream(referral_token)
        << tokens_->Sign(auth::Role::kService, "service:referral");
    auto screening = testing::InProcessService::Start(
        screening::Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir());
    ASSERT_TRUE(screening.ok()) << screening.status();
    screening_ = screening->release();
    auto cases = testing::InProcessService::Start(
        cases::Definition(clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(), {{"KOSAPO_FOLLOW_SCREENING", "false"}});
    ASSERT_TRUE(cases.ok()) << cases.status();
    case_ = cases->release();
    auto referral = testing::InProcessService::Start(
        referral::Definition(clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(),
        {{"KOSAPO_CASE_ADDRESS", Address(*case_)},
         {"KOSAPO_PEER_TOKEN_FILE", referral_token},
         {"KOSAPO_ENROLLMENT_RETRY_INTERVAL", "200ms"}});
    ASSERT_TRUE(referral.ok()) << referral.status();
    referral_ = referral->release();
    StartReporting();
  }

  static void TearDownTestSuite() {
    delete reporting_;
    delete referral_;
    delete case_;
    delete screening_;
    delete tokens_;
    clock_.reset();
  }

  static std::string Address(testing::InProcessService& service) {
    return absl::StrCat("127.0.0.1:", service.runtime().port());
  }

  static void StartReporting() {
    auto reporting = testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_, SharedPgCluster().data_dir(),
        {{"KOSAPO_PEER_TOKEN_FILE", token_file_},
         {"KOSAPO_SCREENING_ADDRESS", Address(*screening_)},
         {"KOSAPO_CASE_ADDRESS", Address(*case_)},
         {"KOSAPO_REFERRAL_ADDRESS", Address(*referral_)}});
    ASSERT_TRUE(reporting.ok()) << reporting.status();
    reporting_ = reporting->release();
  }
  static void StopReporting() {
    delete reporting_;
    reporting_ = nullptr;
  }

  // Waits until reporting has applied the three feeds up to their heads.
  static void CatchUp() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (const auto& [source, producer] :
         std::vector<std::pair<std::string, testing::InProcessService*>>{
             {"screening", screening_},
             {"case", case_},
             {"referral", referral_}}) {
      const absl::Status applied =
          testing::WaitForConsumer(SharedPgCluster(), "reporting", source,
                                   *producer, *tokens_, deadline - absl::Now());
      ASSERT_TRUE(applied.ok()) << applied;
    }
  }

  static std::unique_ptr<grpc::ClientContext> As(
      auth::Role role, const std::string& subject,
      std::vector<std::string> areas = {}, std::vector<std::string> hubs = {},
      const std::string& municipality = kCity) {
    auth::Principal principal;
    principal.subject = subject;
    principal.role = role;
    principal.municipality = municipality;
    principal.areas = std::move(areas);
    principal.hubs = std::move(hubs);
    return testing::ContextAs(*tokens_, principal);
  }
  static std::unique_ptr<grpc::ClientContext> CityOps(
      const std::string& municipality = kCity) {
    return As(auth::Role::kCityOperations, "user:city-ops", {}, {},
              municipality);
  }
  static std::unique_ptr<grpc::ClientContext> Desk() {
    return As(auth::Role::kConsultationDesk, "user:desk", {kWard});
  }
  static std::unique_ptr<grpc::ClientContext> Officer(
      const std::string& area = kWard) {
    return As(auth::Role::kWardOfficer, "user:officer", {area});
  }
  static std::unique_ptr<grpc::ClientContext> Director() {
    return As(auth::Role::kCentreDirector, "user:director");
  }
  static std::unique_ptr<grpc::ClientContext> Operator(
      const std::string& hub_code) {
    return As(auth::Role::kHubOperator, "user:operator-" + hub_code, {},
              {hub_code});
  }

  static std::unique_ptr<rv1::ReferralService::Stub> Referrals() {
    return rv1::ReferralService::NewStub(referral_->channel());
  }
  static std::unique_ptr<cv1::CaseService::Stub> Cases() {
    return cv1::CaseService::NewStub(case_->channel());
  }
  static std::unique_ptr<v1::ReportingService::Stub> Reports() {
    return v1::ReportingService::NewStub(reporting_->channel());
  }

  static void Check(const grpc::Status& status, const std::string& what) {
    ASSERT_TRUE(status.ok()) << what << ": " << status.error_message();
  }

  static void AddHours(
      google::protobuf::RepeatedPtrField<rv1::OpeningHours>* hours,
      rv1::Weekday day, const std::string& opens, const std::string& closes) {
    rv1::OpeningHours* entry = hours->Add();
    entry->set_weekday(day);
    entry->set_opens(opens);
    entry->set_closes(closes);
  }

  // A hub like BB House (Tue-Fri 16:00-21:00, Sat 11:00-21:00; Tue-Sat
  // 11:00-21:00 in the 2024 summer holiday) with `capacity` places and the
  // seven services of the Toyonaka contract.
  static rv1::Support NewHub(const std::string& hub_code, int capacity) {
    rv1::CreateOrganizationRequest organization;
    organization.set_parent(absl::StrCat("municipalities/", kCity));
    organization.set_request_id(hub_code + "-org");
    organization.mutable_organization()->set_display_name("NPO法人 びーびー");
    organization.mutable_organization()->set_kind(rv1::ORGANIZATION_KIND_LOCAL);
    rv1::Organization created_organization;
    Check(Referrals()->CreateOrganization(CityOps().get(), organization,
                                          &created_organization),
          "organization");
    rv1::CreateSupportRequest request;
    request.set_request_id(hub_code + "-hub");
    rv1::Support* hub = request.mutable_support();
    hub->set_organization(created_organization.name());
    hub->set_display_name("BBハウス");
    hub->set_category(rv1::SUPPORT_CATEGORY_DROP_IN_HUB);
    hub->add_service_area_codes(kWard);
    rv1::HubDetails* details = hub->mutable_hub();
    for (rv1::Weekday day : {rv1::WEEKDAY_TUESDAY, rv1::WEEKDAY_WEDNESDAY,
                             rv1::WEEKDAY_THURSDAY, rv1::WEEKDAY_FRIDAY}) {
      AddHours(hub->mutable_weekly_schedule(), day, "16:00", "21:00");
      AddHours(details->mutable_school_holiday_schedule(), day, "11:00",
               "21:00");
    }
    AddHours(hub->mutable_weekly_schedule(), rv1::WEEKDAY_SATURDAY, "11:00",
             "21:00");
    AddHours(details->mutable_school_holiday_schedule(), rv1::WEEKDAY_SATURDAY,
             "11:00", "21:00");
    rv1::HolidayPeriod* summer = details->add_school_holidays();
    summer->set_holiday(rv1::SCHOOL_HOLIDAY_SUMMER);
    *summer->mutable_start_date() = DateToProto(absl::CivilDay(2024, 7, 20));
    *summer->mutable_end_date() = DateToProto(absl::CivilDay(2024, 8, 31));
    details->set_hub_code(hub_code);
    details->set_daily_capacity(capacity);
    for (const auto& [code, label] : Contract()) {
      rv1::ContractService* service = details->add_contract_services();
      service->set_code(code);
      service->set_display_name(label);
    }
    rv1::Support created;
    Check(Referrals()->CreateSupport(CityOps().get(), request, &created),
          "hub");
    return created;
  }

  static std::vector<std::pair<std::string, std::string>> Contract() {
    return {{"meal", "食事の提供"},         {"learning", "学習支援"},
            {"free_space", "居場所の提供"}, {"daily_life", "生活習慣の形成"},
            {"consultation", "個別相談"},   {"liaison", "関係機関との連携"},
            {"family", "保護者への支援"}};
  }

  // A case opened on 1 May 2024 by the consultation desk (who works on it
  // and leads it), for child `n`.
  static cv1::Case NewCase(int n, const std::string& area = kWard) {
    cv1::CreateCaseRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(absl::StrCat("hub-case-", n));
    cv1::Case* c = request.mutable_case_();
    c->set_area_code(area);
    c->set_source(cv1::CASE_SOURCE_SCHOOL);
    *c->mutable_opened_date() = DateToProto(absl::CivilDay(2024, 5, 1));
    c->mutable_child()->set_name(absl::StrCat("豊中 ", n));
    c->mutable_child()->set_kana("とよなか");
    *c->mutable_child()->mutable_birth_date() =
        DateToProto(absl::CivilDay(2013, 4, 1) + n);
    cv1::Case created;
    const grpc::Status status =
        Cases()->CreateCase(Desk().get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  // Applied in July, heard, approved from 4 July and interviewed: ready
  // for the first visit.
  static rv1::HubUsage ReadyUsage(const cv1::Case& c,
                                  const std::string& hub_code) {
    const std::string id = c.name() + "@" + hub_code;
    rv1::CreateHubApplicationRequest apply;
    apply.set_parent(absl::StrCat("municipalities/", kCity));
    apply.set_request_id(id + "-apply");
    apply.mutable_usage()->set_case_(c.name());
    apply.mutable_usage()->set_hub_code(hub_code);
    rv1::HubApplication* application =
        apply.mutable_usage()->mutable_application();
    application->set_applicant(rv1::APPLICANT_SCHOOL);
    *application->mutable_application_date() =
        DateToProto(absl::CivilDay(2024, 7, 1));
    rv1::HubUsage usage;
    Check(Referrals()->CreateHubApplication(Officer().get(), apply, &usage),
          "apply");
    rv1::RecordHubAssessmentRequest assess;
    assess.set_name(usage.name());
    assess.set_request_id(id + "-assess");
    *assess.mutable_assessment()->mutable_hearing_date() =
        DateToProto(absl::CivilDay(2024, 7, 2));
    assess.mutable_assessment()->set_summary("放課後に一人で過ごす");
    Check(Referrals()->RecordHubAssessment(Desk().get(), assess, &usage),
          "assess");
    rv1::DecideHubUsageRequest decide;
    decide.set_name(usage.name());
    decide.set_request_id(id + "-decide");
    decide.mutable_decision()->set_approved(true);
    *decide.mutable_decision()->mutable_decision_date() =
        DateToProto(absl::CivilDay(2024, 7, 3));
    *decide.mutable_decision()->mutable_start_date() =
        DateToProto(absl::CivilDay(2024, 7, 4));
    Check(Referrals()->DecideHubUsage(Director().get(), decide, &usage),
          "decide");
    EXPECT_TRUE(usage.enrollment_synced());
    rv1::RecordPreUseInterviewRequest interview;
    interview.set_name(usage.name());
    interview.set_request_id(id + "-interview");
    *interview.mutable_interview()->mutable_interview_date() =
        DateToProto(absl::CivilDay(2024, 7, 5));
    interview.mutable_interview()->set_notes("母と面談");
    Check(Referrals()->RecordPreUseInterview(Operator(hub_code).get(),
                                             interview, &usage),
          "interview");
    return usage;
  }

  // One visit as the operator records it.
  struct PlannedVisit {
    int child;  // index into the test's usages
    absl::CivilDay day;
    std::vector<std::string> services;
    bool problem = false;
  };

  static grpc::Status RecordVisit(const rv1::HubUsage& usage,
                                  const PlannedVisit& plan,
                                  const std::string& over_capacity_reason,
                                  rv1::HubVisit* out) {
    rv1::RecordHubVisitRequest request;
    request.set_parent(usage.name());
    request.set_request_id(
        absl::StrCat(usage.name(), "@", absl::FormatCivilTime(plan.day),
                     over_capacity_reason.empty() ? "" : "+"));
    rv1::HubVisit* visit = request.mutable_visit();
    *visit->mutable_visit_date() = DateToProto(plan.day);
    // Within term-time hours (16:00-21:00) and holiday hours alike.
    visit->set_arrival_time("16:30");
    visit->set_departure_time("19:00");
    for (const std::string& service : plan.services) {
      visit->add_services_delivered(service);
    }
    visit->set_problem_noted(plan.problem);
    if (plan.problem) {
      visit->set_problem_note("元気がなく、食事をほとんど残した");
    }
    visit->set_over_capacity_reason(over_capacity_reason);
    return Referrals()->RecordHubVisit(Operator(usage.hub_code()).get(),
                                       request, out);
  }

  static void EndUsage(const rv1::HubUsage& usage, absl::CivilDay day,
                       rv1::HubUsageEndReason reason) {
    rv1::GetHubUsageRequest get;
    get.set_name(usage.name());
    rv1::HubUsage current;
    Check(Referrals()->GetHubUsage(Director().get(), get, &current), "get");
    rv1::EndHubUsageRequest end;
    end.set_name(usage.name());
    end.set_request_id(usage.name() + "-end");
    end.set_etag(current.etag());
    *end.mutable_end()->mutable_end_date() = DateToProto(day);
    end.mutable_end()->set_reason(reason);
    rv1::HubUsage ended;
    Check(
        Referrals()->EndHubUsage(Operator(usage.hub_code()).get(), end, &ended),
        "end");
  }

  // Raises an urgent report about `c` at `when` (Tokyo), as `as`.
  static std::string RaiseUrgent(const cv1::Case& c, absl::CivilSecond when,
                                 cv1::UrgentCategory category,
                                 std::unique_ptr<grpc::ClientContext> as) {
    clock_->Set(TokyoTime(when));
    cv1::RaiseUrgentReportRequest request;
    request.set_parent(c.name());
    request.set_request_id(
        absl::StrCat(c.name(), "-urgent-", absl::FormatCivilTime(when)));
    request.mutable_report()->set_category(category);
    request.mutable_report()->set_description("腕にあざ。本人は転んだと言う");
    cv1::UrgentReport report;
    const grpc::Status status =
        Cases()->RaiseUrgentReport(as.get(), request, &report);
    clock_->Set(TokyoTime(kRecordedAt));
    EXPECT_TRUE(status.ok()) << status.error_message();
    return report.name();
  }

  static grpc::Status HubReport(const std::string& hub_code,
                                const std::string& month,
                                std::unique_ptr<grpc::ClientContext> as,
                                v1::HubMonthlyReport* out,
                                const std::string& municipality = kCity) {
    v1::GetHubMonthlyReportRequest request;
    request.set_parent(absl::StrCat("municipalities/", municipality));
    request.set_hub_code(hub_code);
    request.set_month(month);
    return Reports()->GetHubMonthlyReport(as.get(), request, out);
  }

  static std::shared_ptr<FakeClock> clock_;
  static testing::TestTokens* tokens_;
  static std::string token_file_;
  static testing::InProcessService* screening_;
  static testing::InProcessService* case_;
  static testing::InProcessService* referral_;
  static testing::InProcessService* reporting_;
};

std::shared_ptr<FakeClock> HubAndTrendsTest::clock_;
testing::TestTokens* HubAndTrendsTest::tokens_ = nullptr;
std::string HubAndTrendsTest::token_file_;
testing::InProcessService* HubAndTrendsTest::screening_ = nullptr;
testing::InProcessService* HubAndTrendsTest::case_ = nullptr;
testing::InProcessService* HubAndTrendsTest::referral_ = nullptr;
testing::InProcessService* HubAndTrendsTest::reporting_ = nullptr;

std::string Day(const kosapo::type::Date& date) { return DateToSql(date); }

TEST_F(HubAndTrendsTest, HubMonthIsWhatWasRecorded) {
  constexpr char kHub[] = "H-BB";
  // Two places a day, so the month has full days.
  NewHub(kHub, 2);
  std::vector<cv1::Case> cases;
  std::vector<rv1::HubUsage> usages;
  for (int n = 0; n < 4; ++n) {
    cases.push_back(NewCase(n));
    usages.push_back(ReadyUsage(cases.back(), kHub));
  }
  const cv1::Case elsewhere = NewCase(9);  // never at the hub

  // The summer holiday: Tuesday 30 July, then 6, 7 and 20 August; child 3
  // never comes. Child 1's visit of 7 August is recorded before the one of
  // the 6th, which moves its start back.
  const absl::CivilDay jul30(2024, 7, 30);
  const absl::CivilDay aug6(2024, 8, 6);
  const absl::CivilDay aug7(2024, 8, 7);
  const absl::CivilDay aug20(2024, 8, 20);
  const std::vector<PlannedVisit> plan = {
      {0, jul30, {"meal"}},
      {1, aug7, {"learning", "daily_life"}},
      {0, aug6, {"meal", "learning"}},
      {1, aug6, {"meal", "consultation"}},
      {0, aug7, {"meal"}, true},
      {2, aug7, {"meal"}, true},  // the day is full: let in with a reason
      {0, aug20, {"free_space"}},
      {2, aug20, {"meal", "learning"}},
  };
  std::map<absl::CivilDay, int> came;
  int over_capacity = 0;
  for (const PlannedVisit& visit : plan) {
    rv1::HubVisit recorded;
    grpc::Status status =
        RecordVisit(usages[visit.child], visit, "", &recorded);
    if (came[visit.day] >= 2) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
      EXPECT_THAT(status.error_message(), HasSubstr("daily capacity is 2"));
      status =
          RecordVisit(usages[visit.child], visit, "母の急な残業", &recorded);
      ++over_capacity;
    }
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(recorded.over_capacity(), came[visit.day] >= 2);
    ++came[visit.day];
  }
  ASSERT_EQ(over_capacity, 1);
  EndUsage(usages[1], absl::CivilDay(2024, 8, 21),
           rv1::HUB_USAGE_END_REASON_MOVED_AWAY);
  EndUsage(usages[3], absl::CivilDay(2024, 8, 10),
           rv1::HUB_USAGE_END_REASON_FAMILY_DECLINED);

  // Urgent reports: two while children used the hub in August (the last at
  // 23:30 on the 31st, Tokyo time); none for the child who had left, for
  // a child never at the hub, or at half past midnight on 1 September
  // (which is still August in UTC).
  const std::string abuse =
      RaiseUrgent(cases[2], absl::CivilSecond(2024, 8, 7, 19, 30, 0),
                  cv1::URGENT_CATEGORY_SIGNS_OF_ABUSE, Operator(kHub));
  RaiseUrgent(cases[1], absl::CivilSecond(2024, 8, 25, 12, 0, 0),
              cv1::URGENT_CATEGORY_OTHER, Desk());
  RaiseUrgent(elsewhere, absl::CivilSecond(2024, 8, 15, 12, 0, 0),
              cv1::URGENT_CATEGORY_OTHER, Desk());
  const std::string medical =
      RaiseUrgent(cases[0], absl::CivilSecond(2024, 8, 31, 23, 30, 0),
                  cv1::URGENT_CATEGORY_URGENT_MEDICAL, Operator(kHub));
  const std::string september =
      RaiseUrgent(cases[0], absl::CivilSecond(2024, 9, 1, 0, 30, 0),
                  cv1::URGENT_CATEGORY_OTHER, Operator(kHub));
  CatchUp();

  v1::HubMonthlyReport report;
  Check(HubReport(kHub, "2024-08", Operator(kHub), &report), "report");

  // What the plan says August was.
  std::set<int> children;
  std::set<absl::CivilDay> days;
  std::map<std::string, std::pair<int, std::set<int>>> delivered;
  int visits = 0;
  for (const PlannedVisit& visit : plan) {
    if (visit.day < absl::CivilDay(2024, 8, 1)) {
      continue;
    }
    ++visits;
    children.insert(visit.child);
    days.insert(visit.day);
    for (const std::string& service : visit.services) {
      ++delivered[service].first;
      delivered[service].second.insert(visit.child);
    }
  }
  EXPECT_EQ(report.month(), "2024-08");
  EXPECT_EQ(report.hub_display_name(), "BBハウス");
  EXPECT_EQ(report.daily_capacity(), 2);
  EXPECT_EQ(report.visits(), visits);
  EXPECT_EQ(report.children(), static_cast<int64_t>(children.size()));
  EXPECT_EQ(report.visit_days(), static_cast<int64_t>(days.size()));
  ASSERT_EQ(report.services_size(), static_cast<int>(Contract().size()));
  for (int i = 0; i < report.services_size(); ++i) {
    const v1::HubServiceDelivered& service = report.services(i);
    SCOPED_TRACE(service.code());
    EXPECT_EQ(service.code(), Contract()[i].first);
    EXPECT_EQ(service.display_name(), Contract()[i].second);
    EXPECT_TRUE(service.in_contract());
    EXPECT_EQ(service.visits(), delivered[service.code()].first);
    EXPECT_EQ(service.children(),
              static_cast<int64_t>(delivered[service.code()].second.size()));
  }
  // Every August day of the plan had two children or more.
  ASSERT_EQ(report.days_at_or_over_capacity(), 3);
  std::vector<std::string> full;
  for (const v1::HubFullDay& day : report.full_days()) {
    full.push_back(absl::StrCat(Day(day.date()), " ", day.children(), "/",
                                day.daily_capacity(), " +",
                                day.over_capacity_visits()));
  }
  EXPECT_THAT(full,
              ::testing::ElementsAre("2024-08-06 2/2 +0", "2024-08-07 3/2 +1",
                                     "2024-08-20 2/2 +0"));

  // Children 1 and 2 started in August (child 1 on the 6th, recorded
  // late); children 1 and 3 ended; children 0 and 2 are registered.
  ASSERT_EQ(report.registration_count(), 2);
  ASSERT_EQ(report.registrations_size(), 2);
  EXPECT_EQ(report.registrations(0).usage(), usages[1].name());
  EXPECT_EQ(report.registrations(0).case_(), cases[1].name());
  EXPECT_EQ(Day(report.registrations(0).start_date()), "2024-08-06");
  EXPECT_EQ(report.registrations(1).usage(), usages[2].name());
  EXPECT_EQ(report.end_count(), 2);
  ASSERT_EQ(report.ends_size(), 2);
  EXPECT_EQ(report.ends(0).usage(), usages[3].name());
  EXPECT_EQ(report.ends(0).reason(), rv1::HUB_USAGE_END_REASON_FAMILY_DECLINED);
  EXPECT_FALSE(report.ends(0).was_started());
  EXPECT_EQ(report.ends(1).usage(), usages[1].name());
  EXPECT_EQ(report.ends(1).reason(), rv1::HUB_USAGE_END_REASON_MOVED_AWAY);
  EXPECT_TRUE(report.ends(1).was_started());
  EXPECT_EQ(report.end_reasons_size(), 2);
  EXPECT_EQ(report.registered_children(), 2);

  ASSERT_EQ(report.urgent_report_count(), 2);
  ASSERT_EQ(report.urgent_reports_size(), 2);
  EXPECT_EQ(report.urgent_reports(0).report(), abuse);
  EXPECT_EQ(report.urgent_reports(0).usage(), usages[2].name());
  EXPECT_EQ(Day(report.urgent_reports(0).raise_date()), "2024-08-07");
  EXPECT_EQ(report.urgent_reports(1).report(), medical);
  EXPECT_EQ(report.urgent_reports(1).category(),
            cv1::URGENT_CATEGORY_URGENT_MEDICAL);
  EXPECT_EQ(Day(report.urgent_reports(1).raise_date()), "2024-08-31");

  ASSERT_EQ(report.flagged_child_count(), 2);
  ASSERT_EQ(report.flagged_children_size(), 2);
  // Both were first flagged on one day: their order is then by usage name,
  // which follows no creation order (ids are a keyed permutation).
  const bool first_is_case0 =
      report.flagged_children(0).case_() == cases[0].name();
  const auto& case0 = report.flagged_children(first_is_case0 ? 0 : 1);
  const auto& usage2 = report.flagged_children(first_is_case0 ? 1 : 0);
  EXPECT_EQ(case0.case_(), cases[0].name());
  EXPECT_EQ(case0.visits(), 3);
  EXPECT_EQ(case0.urgent_reports(), 1);
  EXPECT_EQ(usage2.usage(), usages[2].name());
  ASSERT_EQ(usage2.problem_dates_size(), 1);
  EXPECT_EQ(Day(usage2.problem_dates(0)), "2024-08-07");
  // Nothing the staff wrote reaches the report.
  EXPECT_EQ(report.DebugString().find("あざ"), std::string::npos);
  EXPECT_EQ(report.DebugString().find("食事をほとんど"), std::string::npos);

  // July had child 0's first visit; September the report at 00:30.
  v1::HubMonthlyReport july;
  Check(HubReport(kHub, "2024-07", Director(), &july), "july");
  EXPECT_EQ(july.visits(), 1);
  EXPECT_EQ(july.registration_count(), 1);
  EXPECT_EQ(july.days_at_or_over_capacity(), 0);
  v1::HubMonthlyReport before;
  Check(HubReport(kHub, "2024-09", CityOps(), &before), "september");
  ASSERT_EQ(before.urgent_reports_size(), 1);
  EXPECT_EQ(before.urgent_reports(0).report(), september);
  EXPECT_EQ(before.visits(), 0);

  // A later change of the directory does not rewrite August.
  rv1::UpdateSupportRequest update;
  {
    rv1::SearchSupportsRequest search;
    search.set_parent(absl::StrCat("municipalities/", kCity));
    search.set_hub_code(kHub);
    rv1::SearchSupportsResponse found;
    Check(Referrals()->SearchSupports(CityOps().get(), search, &found),
          "search");
    ASSERT_EQ(found.supports_size(), 1);
    *update.mutable_support() = found.supports(0);
  }
  update.mutable_support()->mutable_hub()->set_daily_capacity(25);
  update.add_update_mask("hub");
  rv1::Support updated;
  Check(Referrals()->UpdateSupport(CityOps().get(), update, &updated),
        "update");

  // Re-delivery: reporting forgets its checkpoints and restarts; while it
  // is down, child 2 comes in term time. Every event comes again and
  // counts once; the new visit counts in September.
  StopReporting();
  {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("UPDATE ", SharedPgCluster().Schema("reporting"),
                          ".consumer_checkpoints SET last_sequence = 0"));
  }
  rv1::HubVisit term_visit;
  Check(RecordVisit(usages[2],
                    {2, absl::CivilDay(2024, 9, 3), {"meal", "liaison"}}, "",
                    &term_visit),
        "term visit");
  StartReporting();
  CatchUp();
  v1::HubMonthlyReport again;
  Check(HubReport(kHub, "2024-08", Operator(kHub), &again), "again");
  EXPECT_TRUE(MessageDifferencer::Equals(again, report))
      << again.DebugString() << "\nwas\n"
      << report.DebugString();
  v1::HubMonthlyReport after;
  Check(HubReport(kHub, "2024-09", CityOps(), &after), "september again");
  EXPECT_EQ(after.visits(), 1);
  EXPECT_EQ(after.daily_capacity(), 2);  // changed later than September
  EXPECT_EQ(after.urgent_report_count(), 1);
  for (const v1::HubServiceDelivered& service : after.services()) {
    EXPECT_EQ(service.visits(),
              service.code() == "meal" || service.code() == "liaison" ? 1 : 0)
        << service.code();
  }
}

TEST_F(HubAndTrendsTest, HubReportIsForTheHubsOperatorsAndTheCity) {
  NewHub("H-SCOPE", 25);
  NewHub("H-NEXT", 25);
  CatchUp();
  v1::HubMonthlyReport report;
  auto code = [&](const std::string& hub, const std::string& month,
                  std::unique_ptr<grpc::ClientContext> as,
                  const std::string& municipality = kCity) {
    return HubReport(hub, month, std::move(as), &report, municipality)
        .error_code();
  };
  EXPECT_EQ(code("H-SCOPE", "2024-08", Operator("H-SCOPE")),
            grpc::StatusCode::OK);
  EXPECT_TRUE(report.children_listed());
  EXPECT_EQ(code("H-SCOPE", "2024-08", Director()), grpc::StatusCode::OK);
  EXPECT_EQ(code("H-SCOPE", "2024-08", CityOps()), grpc::StatusCode::OK);
  EXPECT_TRUE(report.children_listed());
  // Analysts see the counts only.
  EXPECT_EQ(
      code("H-SCOPE", "2024-08", As(auth::Role::kAnalyst, "user:analyst")),
      grpc::StatusCode::OK);
  EXPECT_FALSE(report.children_listed());
  // So do other services and dashboards, with their own service identity:
  // a service token over the connection of that service's certificate, or
  // the certificate alone.
  {
    auto dashboard =
        v1::ReportingService::NewStub(reporting_->service_channel("dashboard"));
    v1::GetHubMonthlyReportRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_hub_code("H-SCOPE");
    request.set_month("2024-08");
    auto token = As(auth::Role::kService, "service:dashboard");
    EXPECT_EQ(dashboard->GetHubMonthlyReport(token.get(), request, &report)
                  .error_code(),
              grpc::StatusCode::OK);
    EXPECT_FALSE(report.children_listed());
    grpc::ClientContext certificate_only;
    EXPECT_EQ(
        dashboard->GetHubMonthlyReport(&certificate_only, request, &report)
            .error_code(),
        grpc::StatusCode::OK);
    EXPECT_FALSE(report.children_listed());
  }
  // A service token from a client's connection is refused.
  EXPECT_EQ(
      code("H-SCOPE", "2024-08", As(auth::Role::kService, "service:dashboard")),
      grpc::StatusCode::UNAUTHENTICATED);

  // Another hub's operator, and staff who are not the hub's or the city's.
  EXPECT_EQ(code("H-SCOPE", "2024-08", Operator("H-NEXT")),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      code("H-SCOPE", "2024-08", As(auth::Role::kHubOperator, "user:no-hub")),
      grpc::StatusCode::PERMISSION_DENIED);
  for (auth::Role role : {auth::Role::kWardOfficer, auth::Role::kCaseWorker,
                          auth::Role::kConsultationDesk,
                          auth::Role::kSchoolStaff, auth::Role::kSsw}) {
    EXPECT_EQ(code("H-SCOPE", "2024-08", As(role, "user:x", {kWard})),
              grpc::StatusCode::PERMISSION_DENIED)
        << auth::RoleName(role);
  }
  // Another city's staff, for our city or theirs (where the hub is not).
  EXPECT_EQ(code("H-SCOPE", "2024-08", CityOps(kOtherCity)),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(code("H-SCOPE", "2024-08", CityOps(kOtherCity), kOtherCity),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(code("H-NONE", "2024-08", CityOps()), grpc::StatusCode::NOT_FOUND);

  // Bad input names the field.
  for (const auto& [hub, month, field] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"H-SCOPE", "2024-8", "month"},
           {"H-SCOPE", "", "month"},
           {"H-SCOPE", "2024-13", "month"},
           {"", "2024-08", "hub_code"},
           {"H SCOPE", "2024-08", "hub_code"}}) {
    const grpc::Status status = HubReport(hub, month, CityOps(), &report);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << hub << " " << month;
    EXPECT_THAT(status.error_message(), ::testing::StartsWith(field + ":"));
  }
  v1::GetHubMonthlyReportRequest request;
  request.set_parent("cities/27203");
  request.set_hub_code("H-SCOPE");
  request.set_month("2024-08");
  const grpc::Status status =
      Reports()->GetHubMonthlyReport(CityOps().get(), request, &report);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("parent"));
}

// ---- Trends ----------------------------------------------------------------

TEST_F(HubAndTrendsTest, TrendsAreThePerYearComparisons) {
  // Two wards with a school each, enrollment for FY2021-FY2023.
  auto screening = sv1::ScreeningService::NewStub(screening_->channel());
  const std::string parent = absl::StrCat("municipalities/", kCity);
  sv1::UpsertMunicipalityRequest municipality;
  municipality.mutable_municipality()->set_code(kCity);
  municipality.mutable_municipality()->set_display_name("豊中市");
  sv1::Municipality m;
  Check(screening->UpsertMunicipality(CityOps().get(), municipality, &m),
        "municipality");
  int order = 0;
  for (const auto& [area, name, school] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {kWard, "北部", "E-N"}, {kOtherWard, "南部", "E-S"}}) {
    sv1::UpsertAreaRequest upsert;
    upsert.set_parent(parent);
    upsert.mutable_area()->set_code(area);
    upsert.mutable_area()->set_display_name(name);
    upsert.mutable_area()->set_display_order(++order);
    sv1::Area a;
    Check(screening->UpsertArea(CityOps().get(), upsert, &a), "area");
    sv1::UpsertSchoolRequest s;
    s.set_parent(parent);
    s.mutable_school()->set_code(school);
    s.mutable_school()->set_display_name(name + "小学校");
    s.mutable_school()->set_kind(sv1::SCHOOL_KIND_ELEMENTARY);
    s.mutable_school()->set_area_code(area);
    sv1::School created;
    Check(screening->UpsertSchool(CityOps().get(), s, &created), "school");
  }
  for (int year = 2021; year <= 2023; ++year) {
    sv1::ImportEnrollmentRequest enrollment;
    enrollment.set_parent(parent);
    enrollment.set_fiscal_year(year);
    enrollment.set_csv(absl::StrCat("school_code,pupils\nE-N,", 100 + year % 10,
                                    "\nE-S,", 200 - year % 10, "\n"));
    sv1::ImportEnrollmentResponse loaded;
    Check(screening->ImportEnrollment(CityOps().get(), enrollment, &loaded),
          "enrollment");
  }

  // Cases per year and ward, each with its outreach (or none yet) on a day
  // of its year, so each year's table differs.
  std::map<int, int> opened_per_year;
  int n = 100;
  for (int year = 2021; year <= 2023; ++year) {
    for (const std::string& area :
         {std::string(kWard), std::string(kOtherWard)}) {
      const int count = (area == kWard ? 2 : 1) + (year - 2021);
      for (int i = 0; i < count; ++i, ++n) {
        cv1::CreateCaseRequest request;
        request.set_parent(parent);
        request.set_request_id(absl::StrCat("trend-case-", n));
        cv1::Case* c = request.mutable_case_();
        c->set_area_code(area);
        c->set_source(cv1::CASE_SOURCE_AGENCY);
        *c->mutable_opened_date() = DateToProto(absl::CivilDay(year, 5, 1 + i));
        c->mutable_child()->set_name(absl::StrCat("児童 ", n));
        c->mutable_child()->set_kana("じどう");
        *c->mutable_child()->mutable_birth_date() =
            DateToProto(absl::CivilDay(2010, 1, 1) + n);
        cv1::Case created;
        Check(Cases()->CreateCase(Officer(area).get(), request, &created),
              "case");
        ++opened_per_year[year];
        if (i % 3 == 2) {
          continue;  // still in preparation
        }
        cv1::ChangeApproachStatusRequest approach;
        approach.set_name(created.name());
        approach.set_status(i % 3 == 0 ? cv1::APPROACH_STATUS_OUTREACH_DONE
                                       : cv1::APPROACH_STATUS_NOT_POSSIBLE);
        if (i % 3 == 1) {
          approach.set_reason(cv1::NOT_POSSIBLE_REASON_REFUSED);
        }
        *approach.mutable_effective_date() =
            DateToProto(absl::CivilDay(year, 9, 1));
        approach.set_request_id(absl::StrCat("trend-approach-", n));
        cv1::Case changed;
        Check(Cases()->ChangeApproachStatus(Officer(area).get(), approach,
                                            &changed),
              "approach");
      }
    }
  }
  CatchUp();

  v1::GetWardTrendsRequest request;
  request.set_parent(parent);
  request.set_from_fiscal_year(2021);
  request.set_to_fiscal_year(2023);
  request.set_area_code(kWard);
  v1::WardTrends trends;
  Check(Reports()->GetWardTrends(As(auth::Role::kAnalyst, "user:analyst").get(),
                                 request, &trends),
        "trends");
  EXPECT_EQ(trends.columns_size(), 18);
  ASSERT_EQ(trends.rows_size(), 6);
  for (int year = 2021; year <= 2023; ++year) {
    SCOPED_TRACE(year);
    v1::GetWardComparisonRequest compare;
    compare.set_parent(parent);
    compare.set_fiscal_year(year);
    v1::WardComparison comparison;
    Check(Reports()->GetWardComparison(
              As(auth::Role::kAnalyst, "user:analyst").get(), compare,
              &comparison),
          "comparison");
    const v1::WardRow& city = trends.rows(2 * (year - 2021));
    const v1::WardRow& area = trends.rows(2 * (year - 2021) + 1);
    EXPECT_EQ(city.kind(), v1::ROW_KIND_CITY_TOTAL);
    EXPECT_EQ(city.fiscal_year(), year);
    EXPECT_EQ(area.kind(), v1::ROW_KIND_AREA);
    EXPECT_EQ(area.area_code(), kWard);
    // The city's target cases are the cases opened that year.
    EXPECT_EQ(city.cells(1).count(), opened_per_year[year]);
    for (const v1::WardRow& row : comparison.rows()) {
      if (row.kind() == v1::ROW_KIND_CITY_TOTAL) {
        EXPECT_TRUE(MessageDifferencer::Equals(row, city))
            << row.DebugString() << "\nvs trends\n"
            << city.DebugString();
      } else if (row.kind() == v1::ROW_KIND_AREA && row.area_code() == kWard) {
        EXPECT_TRUE(MessageDifferencer::Equals(row, area))
            << row.DebugString() << "\nvs trends\n"
            << area.DebugString();
      }
    }
  }

  // The city alone, and the checks on the request.
  request.clear_area_code();
  Check(Reports()->GetWardTrends(CityOps().get(), request, &trends), "city");
  ASSERT_EQ(trends.rows_size(), 3);
  for (const v1::WardRow& row : trends.rows()) {
    EXPECT_EQ(row.kind(), v1::ROW_KIND_CITY_TOTAL);
  }
  auto refused = [&](const v1::GetWardTrendsRequest& bad,
                     std::unique_ptr<grpc::ClientContext> as) {
    return Reports()->GetWardTrends(as.get(), bad, &trends);
  };
  v1::GetWardTrendsRequest bad = request;
  bad.set_to_fiscal_year(2020);
  grpc::Status status = refused(bad, CityOps());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("to_fiscal_year:"));
  bad = request;
  bad.set_from_fiscal_year(2004);  // 20 years: the most
  EXPECT_TRUE(refused(bad, CityOps()).ok());
  bad.set_from_fiscal_year(2003);
  status = refused(bad, CityOps());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("at most 20"));
  bad = request;
  bad.set_from_fiscal_year(0);
  status = refused(bad, CityOps());
  EXPECT_THAT(status.error_message(),
              ::testing::StartsWith("from_fiscal_year:"));
  bad = request;
  bad.set_area_code("27203-99");
  EXPECT_EQ(refused(bad, CityOps()).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(refused(request, Operator("H-BB")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused(request, CityOps(kOtherCity)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace kosapo::reporting
