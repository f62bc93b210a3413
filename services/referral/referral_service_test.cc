// The referral service through real gRPC against a real PostgreSQL, with a
// real case service beside it (each in its own schema): the directory and
// its search, referrals from proposal to connection with effective dates,
// consent, invalid steps, overdue answers with an injected clock and
// revocation, the whole hub flow with its roles, opening hours and
// capacity, operators scoped to their hub, and the case service refusing
// or unreachable.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/base/clock.h"
#include "common/service/in_process.h"
#include "common/testing/opaque_ids.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/events.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"

namespace kosapo::referral {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;
namespace cv1 = ::kosapo::cases::v1;

// Toyonaka, and a city of its own for the search test.
constexpr char kCity[] = "27203";
constexpr char kSearchCity[] = "27999";
constexpr char kWard[] = "27203-01";
constexpr char kOtherWard[] = "27203-02";

absl::TimeZone Tokyo() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Tokyo", &zone));
  return zone;
}

google::protobuf::Timestamp TimestampAt(absl::CivilSecond local) {
  google::protobuf::Timestamp out;
  out.set_seconds(absl::ToUnixSeconds(absl::FromCivil(local, Tokyo())));
  return out;
}

class ReferralServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    clock_ = std::make_shared<FakeClock>(absl::Now());
    StartCaseService("0");
    case_port_ = case_->runtime().port();
    token_file_ = absl::StrCat(SharedPgCluster().data_dir(), "/referral.token");
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:referral");
    auto referral = testing::InProcessService::Start(
        Definition(clock_), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(),
        {{"KOSAPO_CASE_ADDRESS", absl::StrCat("127.0.0.1:", case_port_)},
         {"KOSAPO_PEER_TOKEN_FILE", token_file_},
         {"KOSAPO_PEER_TIMEOUT", "2s"},
         {"KOSAPO_ENROLLMENT_RETRY_INTERVAL", "200ms"}});
    ASSERT_TRUE(referral.ok()) << referral.status();
    referral_ = referral->release();
  }

  static void TearDownTestSuite() {
    delete referral_;
    delete case_;
    delete tokens_;
    clock_.reset();
  }

  // The case service on `port` ("0": any free one), without the screening
  // feed.
  static void StartCaseService(const std::string& port) {
    auto service = testing::InProcessService::Start(
        cases::Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(),
        {{"KOSAPO_FOLLOW_SCREENING", "false"}, {"PORT", port}});
    ASSERT_TRUE(service.ok()) << service.status();
    case_ = service->release();
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
  static std::unique_ptr<grpc::ClientContext> Officer() {
    return As(auth::Role::kWardOfficer, "user:officer", {kWard});
  }

  static std::unique_ptr<v1::ReferralService::Stub> Referrals() {
    return v1::ReferralService::NewStub(referral_->channel());
  }
  static std::unique_ptr<cv1::CaseService::Stub> Cases() {
    return cv1::CaseService::NewStub(case_->channel());
  }

  static absl::CivilDay Today() { return *DayIn(clock_->Now(), "Asia/Tokyo"); }
  static kosapo::type::Date DaysAgo(int days) {
    return DateToProto(Today() - days);
  }

  static v1::Organization NewOrganization(
      const std::string& request_id, const std::string& municipality = kCity) {
    v1::CreateOrganizationRequest request;
    request.set_parent(absl::StrCat("municipalities/", municipality));
    request.set_request_id(request_id);
    request.mutable_organization()->set_display_name("NPO法人 びーびー");
    request.mutable_organization()->set_kind(v1::ORGANIZATION_KIND_LOCAL);
    request.mutable_organization()->mutable_contact()->set_phone(
        "06-0000-0000");
    v1::Organization created;
    const grpc::Status status = Referrals()->CreateOrganization(
        CityOps(municipality).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static v1::Support NewSupport(const v1::Support& support,
                                const std::string& request_id,
                                const std::string& municipality = kCity) {
    v1::CreateSupportRequest request;
    *request.mutable_support() = support;
    request.set_request_id(request_id);
    v1::Support created;
    const grpc::Status status = Referrals()->CreateSupport(
        CityOps(municipality).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static void AddHours(
      google::protobuf::RepeatedPtrField<v1::OpeningHours>* hours,
      v1::Weekday day, const std::string& opens, const std::string& closes) {
    v1::OpeningHours* entry = hours->Add();
    entry->set_weekday(day);
    entry->set_opens(opens);
    entry->set_closes(closes);
  }

  // A hub like BB House: Tue-Fri 16:00-21:00, Sat 11:00-21:00; in school
  // holidays Tue-Sat 11:00-21:00; seven contract services.
  static v1::Support BbHouse(const v1::Organization& organization,
                             const std::string& hub_code, int capacity,
                             const v1::HolidayPeriod& summer) {
    v1::Support hub;
    hub.set_organization(organization.name());
    hub.set_display_name("BB House");
    hub.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
    hub.add_service_area_codes(kWard);
    for (v1::Weekday day : {v1::WEEKDAY_TUESDAY, v1::WEEKDAY_WEDNESDAY,
                            v1::WEEKDAY_THURSDAY, v1::WEEKDAY_FRIDAY}) {
      AddHours(hub.mutable_weekly_schedule(), day, "16:00", "21:00");
      AddHours(hub.mutable_hub()->mutable_school_holiday_schedule(), day,
               "11:00", "21:00");
    }
    AddHours(hub.mutable_weekly_schedule(), v1::WEEKDAY_SATURDAY, "11:00",
             "21:00");
    AddHours(hub.mutable_hub()->mutable_school_holiday_schedule(),
             v1::WEEKDAY_SATURDAY, "11:00", "21:00");
    *hub.mutable_hub()->add_school_holidays() = summer;
    v1::HubDetails* details = hub.mutable_hub();
    details->set_hub_code(hub_code);
    details->set_daily_capacity(capacity);
    for (v1::HubOffering offering :
         {v1::HUB_OFFERING_MEALS, v1::HUB_OFFERING_LEARNING_SUPPORT,
          v1::HUB_OFFERING_FREE_SPACE, v1::HUB_OFFERING_DAILY_LIFE_HABITS,
          v1::HUB_OFFERING_INDIVIDUAL_CONSULTATION}) {
      details->add_offerings(offering);
    }
    const std::vector<std::pair<std::string, std::string>> contract = {
        {"meal", "食事の提供"},         {"learning", "学習支援"},
        {"free_space", "居場所の提供"}, {"daily_life", "生活習慣の形成"},
        {"consultation", "個別相談"},   {"liaison", "関係機関との連携"},
        {"outreach", "家庭への支援"}};
    for (const auto& [code, label] : contract) {
      v1::ContractService* service = details->add_contract_services();
      service->set_code(code);
      service->set_display_name(label);
    }
    return hub;
  }

  static v1::HolidayPeriod Summer(absl::CivilDay start, absl::CivilDay end) {
    v1::HolidayPeriod period;
    period.set_holiday(v1::SCHOOL_HOLIDAY_SUMMER);
    *period.mutable_start_date() = DateToProto(start);
    *period.mutable_end_date() = DateToProto(end);
    return period;
  }

  static absl::CivilDay RealToday() {
    return *DayIn(absl::Now(), "Asia/Tokyo");
  }

  // A case in `area` opened 90 days ago by `creator` (an officer of the area
  // by default), for a child with this kana.
  static cv1::Case NewCase(
      const std::string& kana, const std::string& request_id,
      std::unique_ptr<grpc::ClientContext> creator = nullptr,
      const std::string& area = kWard) {
    if (creator == nullptr) {
      creator = As(auth::Role::kWardOfficer, "user:officer", {area});
    }
    cv1::CreateCaseRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(request_id);
    cv1::Case* c = request.mutable_case_();
    c->set_area_code(area);
    c->set_source(cv1::CASE_SOURCE_SCHOOL);
    *c->mutable_opened_date() = DateToProto(RealToday() - 90);
    c->mutable_child()->set_name("豊中 花子");
    c->mutable_child()->set_kana(kana);
    *c->mutable_child()->mutable_birth_date() =
        DateToProto(absl::CivilDay(RealToday().year() - 10, 6, 1));
    c->mutable_child()->set_grade(4);
    cv1::Case created;
    const grpc::Status status =
        Cases()->CreateCase(creator.get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  // A learning-support NPO of the city, serving every area.
  static v1::Support NewLearningSupport(const std::string& request_id) {
    const v1::Organization organization = NewOrganization(request_id + "-org");
    v1::Support support;
    support.set_organization(organization.name());
    support.set_display_name("まなびの部屋");
    support.set_category(v1::SUPPORT_CATEGORY_LEARNING_SUPPORT);
    return NewSupport(support, request_id);
  }

  static grpc::Status Propose(const cv1::Case& c, const v1::Support& support,
                              const std::string& request_id, v1::Referral* out,
                              std::unique_ptr<grpc::ClientContext> as = nullptr,
                              int proposed_days_ago = 30) {
    v1::CreateReferralRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(request_id);
    request.mutable_referral()->set_case_(c.name());
    request.mutable_referral()->set_support(support.name());
    *request.mutable_referral()->mutable_proposed_date() =
        DaysAgo(proposed_days_ago);
    request.mutable_referral()->set_purpose("放課後の学習支援を依頼");
    return Referrals()->CreateReferral(
        as == nullptr ? Officer().get() : as.get(), request, out);
  }

  static grpc::Status Consent(const v1::Referral& referral,
                              v1::SharingBasis basis, int days_ago,
                              const std::string& request_id, v1::Referral* out,
                              const std::string& note = "") {
    v1::RecordReferralConsentRequest request;
    request.set_name(referral.name());
    request.set_request_id(request_id);
    request.mutable_consent()->set_basis(basis);
    *request.mutable_consent()->mutable_given_date() = DaysAgo(days_ago);
    request.mutable_consent()->set_note(note);
    return Referrals()->RecordReferralConsent(Officer().get(), request, out);
  }

  static grpc::Status Step(const v1::Referral& referral,
                           v1::ReferralState state, kosapo::type::Date date,
                           const std::string& request_id, v1::Referral* out,
                           const std::string& reason = "",
                           std::unique_ptr<grpc::ClientContext> as = nullptr) {
    v1::ChangeReferralStateRequest request;
    request.set_name(referral.name());
    request.set_state(state);
    *request.mutable_effective_date() = date;
    request.set_reason(reason);
    request.set_request_id(request_id);
    return Referrals()->ChangeReferralState(
        as == nullptr ? Officer().get() : as.get(), request, out);
  }

  static std::vector<std::string> OverdueNames(
      std::unique_ptr<grpc::ClientContext> as) {
    v1::ListOverdueReferralsRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    v1::ListOverdueReferralsResponse response;
    const grpc::Status status =
        Referrals()->ListOverdueReferrals(as.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const v1::OverdueReferral& overdue : response.referrals()) {
      names.push_back(overdue.referral());
    }
    return names;
  }

  // ---- Hub usage ------------------------------------------------------

  static std::unique_ptr<grpc::ClientContext> Desk() {
    return As(auth::Role::kConsultationDesk, "user:desk", {kWard});
  }
  static std::unique_ptr<grpc::ClientContext> Director() {
    return As(auth::Role::kCentreDirector, "user:director");
  }
  static std::unique_ptr<grpc::ClientContext> Operator(
      const std::string& hub_code) {
    return As(auth::Role::kHubOperator, "user:operator-" + hub_code, {},
              {hub_code});
  }

  // The latest `weekday` on or before `day`.
  static absl::CivilDay LatestWeekday(absl::Weekday weekday,
                                      absl::CivilDay day) {
    while (absl::GetWeekday(day) != weekday) {
      --day;
    }
    return day;
  }

  // A hub of its own for a test, with a school holiday 40 to 30 days ago.
  static v1::Support NewHub(const std::string& hub_code, int capacity) {
    const v1::Organization organization = NewOrganization(hub_code + "-org");
    return NewSupport(BbHouse(organization, hub_code, capacity,
                              Summer(Today() - 40, Today() - 30)),
                      hub_code + "-hub");
  }

  // A case opened by the consultation desk (who thereby works on it; its
  // lead is the desk) and its application at `hub_code`, 60 days ago.
  static v1::HubUsage Apply(const std::string& kana,
                            const std::string& hub_code,
                            const std::string& prefix) {
    const cv1::Case c = NewCase(kana, prefix + "-case", Desk());
    v1::CreateHubApplicationRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(prefix + "-apply");
    v1::HubUsage* usage = request.mutable_usage();
    usage->set_case_(c.name());
    usage->set_hub_code(hub_code);
    usage->mutable_application()->set_applicant(v1::APPLICANT_SCHOOL);
    usage->mutable_application()->set_applicant_detail("豊中市立第一小学校");
    *usage->mutable_application()->mutable_application_date() = DaysAgo(60);
    usage->mutable_application()->set_reason("放課後に一人で過ごす時間が長い");
    v1::HubUsage created;
    const grpc::Status status =
        Referrals()->CreateHubApplication(Officer().get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static grpc::Status Assess(const v1::HubUsage& usage,
                             const std::string& request_id, v1::HubUsage* out,
                             std::unique_ptr<grpc::ClientContext> as) {
    v1::RecordHubAssessmentRequest request;
    request.set_name(usage.name());
    request.set_request_id(request_id);
    *request.mutable_assessment()->mutable_hearing_date() = DaysAgo(55);
    request.mutable_assessment()->set_summary("母子家庭。母は夜勤が多い。");
    return Referrals()->RecordHubAssessment(as.get(), request, out);
  }

  static grpc::Status Decide(const v1::HubUsage& usage, bool approve,
                             const std::string& request_id, v1::HubUsage* out,
                             std::unique_ptr<grpc::ClientContext> as) {
    v1::DecideHubUsageRequest request;
    request.set_name(usage.name());
    request.set_request_id(request_id);
    request.mutable_decision()->set_approved(approve);
    *request.mutable_decision()->mutable_decision_date() = DaysAgo(50);
    if (approve) {
      *request.mutable_decision()->mutable_start_date() = DaysAgo(45);
    } else {
      request.mutable_decision()->set_reason("より適した支援がある");
    }
    return Referrals()->DecideHubUsage(as.get(), request, out);
  }

  static grpc::Status Interview(const v1::HubUsage& usage,
                                const std::string& request_id,
                                v1::HubUsage* out,
                                std::unique_ptr<grpc::ClientContext> as) {
    v1::RecordPreUseInterviewRequest request;
    request.set_name(usage.name());
    request.set_request_id(request_id);
    *request.mutable_interview()->mutable_interview_date() = DaysAgo(48);
    request.mutable_interview()->set_notes(
        "母と面談。本人は絵を描くのが好き。");
    request.mutable_interview()->set_troubles_beyond_hub("家賃の滞納がある");
    return Referrals()->RecordPreUseInterview(as.get(), request, out);
  }

  // Applied, heard, approved and interviewed: ready for its first visit.
  static v1::HubUsage ReadyUsage(const std::string& kana,
                                 const std::string& hub_code,
                                 const std::string& prefix) {
    v1::HubUsage usage = Apply(kana, hub_code, prefix);
    EXPECT_TRUE(Assess(usage, prefix + "-assess", &usage, Desk()).ok());
    EXPECT_TRUE(
        Decide(usage, true, prefix + "-decide", &usage, Director()).ok());
    EXPECT_TRUE(
        Interview(usage, prefix + "-interview", &usage, Operator(hub_code))
            .ok());
    return usage;
  }

  static grpc::Status Visit(const v1::HubUsage& usage, absl::CivilDay day,
                            const std::string& arrival,
                            const std::string& departure,
                            const std::string& request_id, v1::HubVisit* out,
                            const std::string& over_capacity_reason = "",
                            std::unique_ptr<grpc::ClientContext> as = nullptr) {
    v1::RecordHubVisitRequest request;
    request.set_parent(usage.name());
    request.set_request_id(request_id);
    *request.mutable_visit()->mutable_visit_date() = DateToProto(day);
    request.mutable_visit()->set_arrival_time(arrival);
    request.mutable_visit()->set_departure_time(departure);
    request.mutable_visit()->add_services_delivered("meal");
    request.mutable_visit()->add_services_delivered("learning");
    request.mutable_visit()->set_over_capacity_reason(over_capacity_reason);
    return Referrals()->RecordHubVisit(
        as == nullptr ? Operator(usage.hub_code()).get() : as.get(), request,
        out);
  }

  // Whether the hub's operators see the case's child in the case service.
  static grpc::StatusCode OperatorReadsCase(const std::string& case_name,
                                            const std::string& hub_code) {
    cv1::GetCaseRequest get;
    get.set_name(case_name);
    cv1::Case read;
    return Cases()->GetCase(Operator(hub_code).get(), get, &read).error_code();
  }

  static v1::HubUsage GetUsage(const v1::HubUsage& usage,
                               std::unique_ptr<grpc::ClientContext> as) {
    v1::GetHubUsageRequest get;
    get.set_name(usage.name());
    v1::HubUsage out;
    const grpc::Status status = Referrals()->GetHubUsage(as.get(), get, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  // The short type names of the events about `subject` on the referral
  // service's feed.
  static std::vector<std::string> EventTypes(const std::string& subject) {
    std::vector<std::string> types;
    for (const auto& event :
         testing::FeedEvents(*referral_, *tokens_, subject)) {
      const std::string& url = event.payload().type_url();
      types.push_back(url.substr(url.rfind('.') + 1));
    }
    return types;
  }

  static testing::TestTokens* tokens_;
  static testing::InProcessService* case_;
  static testing::InProcessService* referral_;
  static std::shared_ptr<FakeClock> clock_;
  static std::string token_file_;
  static int case_port_;
};

testing::TestTokens* ReferralServiceTest::tokens_ = nullptr;
testing::InProcessService* ReferralServiceTest::case_ = nullptr;
testing::InProcessService* ReferralServiceTest::referral_ = nullptr;
std::shared_ptr<FakeClock> ReferralServiceTest::clock_;
std::string ReferralServiceTest::token_file_;
int ReferralServiceTest::case_port_ = 0;

TEST_F(ReferralServiceTest, DirectoryIsWrittenByCityOperationsReadByAnyone) {
  const v1::Organization organization = NewOrganization("dir-org-1");
  EXPECT_EQ(organization.municipality_code(), kCity);
  EXPECT_EQ(organization.contact().phone(), "06-0000-0000");
  // A retry gives the same organization.
  EXPECT_EQ(NewOrganization("dir-org-1").name(), organization.name());

  // Ward staff may not write the directory; anyone may read it.
  v1::CreateOrganizationRequest create;
  create.set_parent(absl::StrCat("municipalities/", kCity));
  create.set_request_id("dir-org-2");
  *create.mutable_organization() = organization;
  v1::Organization out;
  EXPECT_EQ(Referrals()
                ->CreateOrganization(Officer().get(), create, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetOrganizationRequest get;
  get.set_name(organization.name());
  EXPECT_TRUE(
      Referrals()
          ->GetOrganization(
              As(auth::Role::kHubOperator, "user:hub", {}, {"H-X"}).get(), get,
              &out)
          .ok());
  EXPECT_EQ(out.display_name(), "NPO法人 びーびー");

  // An update changes the masked fields only, and refuses a stale etag.
  v1::UpdateOrganizationRequest update;
  *update.mutable_organization() = organization;
  update.mutable_organization()->set_display_name("ignored");
  update.mutable_organization()->mutable_contact()->set_phone("06-1111-1111");
  update.add_update_mask("contact");
  v1::Organization updated;
  ASSERT_TRUE(
      Referrals()->UpdateOrganization(CityOps().get(), update, &updated).ok());
  EXPECT_EQ(updated.contact().phone(), "06-1111-1111");
  EXPECT_EQ(updated.display_name(), "NPO法人 びーびー");
  EXPECT_NE(updated.etag(), organization.etag());
  grpc::Status status =
      Referrals()->UpdateOrganization(CityOps().get(), update, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  update.clear_update_mask();
  update.add_update_mask("municipality_code");
  status = Referrals()->UpdateOrganization(CityOps().get(), update, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("update_mask"));

  // Bad input names the field and stores nothing.
  v1::CreateSupportRequest support;
  support.set_request_id("dir-support-bad");
  support.mutable_support()->set_organization(organization.name());
  support.mutable_support()->set_display_name("BB House");
  support.mutable_support()->set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  v1::Support created;
  status = Referrals()->CreateSupport(CityOps().get(), support, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("support.hub"));
  support.mutable_support()->set_category(v1::SUPPORT_CATEGORY_NPO);
  support.mutable_support()->add_locations("locations/999999");
  status = Referrals()->CreateSupport(CityOps().get(), support, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("support.locations[0]"));

  // A location of the organization may be named; another hub may not take
  // a hub's code.
  v1::CreateLocationRequest location;
  location.set_request_id("dir-location-1");
  location.mutable_location()->set_organization(organization.name());
  location.mutable_location()->set_display_name("本部");
  location.mutable_location()->set_area_code(kWard);
  v1::Location place;
  ASSERT_TRUE(
      Referrals()->CreateLocation(CityOps().get(), location, &place).ok());
  v1::Support hub =
      BbHouse(organization, "H-DIR", 25, Summer(Today() + 30, Today() + 60));
  hub.add_locations(place.name());
  created = NewSupport(hub, "dir-hub-1");
  EXPECT_EQ(created.locations(0), place.name());
  support.Clear();
  *support.mutable_support() = hub;
  support.set_request_id("dir-hub-2");
  v1::Support duplicate;
  status = Referrals()->CreateSupport(CityOps().get(), support, &duplicate);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(created.name()));

  // The directory's changes are on the feed.
  EXPECT_THAT(
      EventTypes(organization.name()),
      ::testing::ElementsAre("OrganizationChanged", "OrganizationChanged"));
  EXPECT_THAT(EventTypes(created.name()),
              ::testing::ElementsAre("SupportChanged"));
}

// Directory ids (and every other id this service gives) tell nothing of
// other records: organizations created one after the other have ids that
// neither increase nor sit one apart, as a sequence shared by every city
// would, so no city counts another's entries from the gaps. The list still
// pages oldest first, by creation time.
TEST_F(ReferralServiceTest, IdsTellNothingOfOtherRecords) {
  std::vector<std::string> created;
  for (int i = 0; i < 20; ++i) {
    const v1::Organization organization =
        NewOrganization(absl::StrCat("ids-org-", i));
    ASSERT_FALSE(organization.name().empty());
    created.push_back(organization.name());
  }
  kosapo::testing::ExpectOpaqueIds(created);

  v1::ListOrganizationsRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_page_size(3);
  std::vector<std::string> listed;
  int pages = 0;
  do {
    v1::ListOrganizationsResponse page;
    const grpc::Status status =
        Referrals()->ListOrganizations(CityOps(kCity).get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const v1::Organization& organization : page.organizations()) {
      if (std::find(created.begin(), created.end(), organization.name()) !=
          created.end()) {
        listed.push_back(organization.name());
      }
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() && ++pages < 100);
  EXPECT_EQ(listed, created);
  // A token of the form pages had when they followed ids is refused.
  request.set_page_token(created[0].substr(created[0].rfind('/') + 1));
  v1::ListOrganizationsResponse page;
  EXPECT_EQ(Referrals()
                ->ListOrganizations(CityOps(kCity).get(), request, &page)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReferralServiceTest, SearchByAreaCategoryAndOpeningTime) {
  const v1::Organization organization =
      NewOrganization("search-org", kSearchCity);
  // 2024-06-11 is a term-time Tuesday, 2024-07-23 a Tuesday in the summer
  // holiday.
  const v1::Support hub = NewSupport(
      BbHouse(organization, "H-SEARCH", 25,
              Summer(absl::CivilDay(2024, 7, 20), absl::CivilDay(2024, 8, 31))),
      "search-hub", kSearchCity);
  v1::Support cafeteria;
  cafeteria.set_organization(organization.name());
  cafeteria.set_display_name("みんなの食堂");
  cafeteria.set_category(v1::SUPPORT_CATEGORY_CHILDRENS_CAFETERIA);
  cafeteria.add_service_area_codes("A2");
  AddHours(cafeteria.mutable_weekly_schedule(), v1::WEEKDAY_TUESDAY, "11:00",
           "14:00");
  cafeteria = NewSupport(cafeteria, "search-cafeteria", kSearchCity);
  v1::Support allowance;
  allowance.set_organization(organization.name());
  allowance.set_display_name("児童手当");
  allowance.set_category(v1::SUPPORT_CATEGORY_CHILD_ALLOWANCE);
  allowance = NewSupport(allowance, "search-allowance", kSearchCity);

  const auto search = [](v1::SearchSupportsRequest request) {
    request.set_parent(absl::StrCat("municipalities/", kSearchCity));
    v1::SearchSupportsResponse response;
    const grpc::Status status = Referrals()->SearchSupports(
        As(auth::Role::kSchoolStaff, "user:teacher", {}, {}, kSearchCity).get(),
        request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::set<std::string> names;
    for (const v1::Support& support : response.supports()) {
      names.insert(support.display_name());
    }
    return names;
  };
  v1::SearchSupportsRequest request;
  EXPECT_THAT(search(request),
              ::testing::ElementsAre("BB House", "みんなの食堂", "児童手当"));
  // By area: the hub serves kWard, the cafeteria A2, the allowance all.
  request.set_area_code("A2");
  EXPECT_THAT(search(request),
              ::testing::ElementsAre("みんなの食堂", "児童手当"));
  request.Clear();
  request.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  EXPECT_THAT(search(request), ::testing::ElementsAre("BB House"));
  request.Clear();
  request.set_hub_code("H-SEARCH");
  EXPECT_THAT(search(request), ::testing::ElementsAre("BB House"));

  // Open at: Tuesday noon in term time only the cafeteria; in the summer
  // holiday the hub too; Tuesday 17:00 in term the hub alone; supports
  // without hours never.
  request.Clear();
  *request.mutable_open_at() =
      TimestampAt(absl::CivilSecond(2024, 6, 11, 12, 0, 0));
  EXPECT_THAT(search(request), ::testing::ElementsAre("みんなの食堂"));
  *request.mutable_open_at() =
      TimestampAt(absl::CivilSecond(2024, 7, 23, 12, 0, 0));
  EXPECT_THAT(search(request),
              ::testing::ElementsAre("BB House", "みんなの食堂"));
  *request.mutable_open_at() =
      TimestampAt(absl::CivilSecond(2024, 6, 11, 17, 0, 0));
  EXPECT_THAT(search(request), ::testing::ElementsAre("BB House"));
  *request.mutable_open_at() =
      TimestampAt(absl::CivilSecond(2024, 6, 10, 17, 0, 0));  // a Monday
  EXPECT_TRUE(search(request).empty());

  // Pages of one.
  request.Clear();
  request.set_parent(absl::StrCat("municipalities/", kSearchCity));
  request.set_page_size(1);
  std::vector<std::string> paged;
  do {
    v1::SearchSupportsResponse page;
    ASSERT_TRUE(Referrals()
                    ->SearchSupports(CityOps(kSearchCity).get(), request, &page)
                    .ok());
    for (const v1::Support& support : page.supports()) {
      paged.push_back(support.name());
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_THAT(paged, ::testing::ElementsAre(hub.name(), cafeteria.name(),
                                            allowance.name()));
}

TEST_F(ReferralServiceTest, FullLifecycleWithEffectiveDates) {
  const cv1::Case c = NewCase("らいふさいくる", "life-case");
  const v1::Support support = NewLearningSupport("life-support");
  v1::Referral referral;
  grpc::Status status = Propose(c, support, "life-1", &referral);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_PROPOSED);
  EXPECT_EQ(referral.case_(), c.name());
  EXPECT_EQ(referral.area_code(), kWard);
  EXPECT_EQ(referral.category(), v1::SUPPORT_CATEGORY_LEARNING_SUPPORT);
  EXPECT_EQ(referral.organization(), support.organization());
  EXPECT_EQ(referral.referred_by(), "user:officer");
  // A retry gives the same referral; a second open referral of the case to
  // the same support is refused, naming the first.
  v1::Referral again;
  ASSERT_TRUE(Propose(c, support, "life-1", &again).ok());
  EXPECT_EQ(again.name(), referral.name());
  status = Propose(c, support, "life-2", &again);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(referral.name()));

  v1::Referral out;
  ASSERT_TRUE(Consent(referral, v1::SHARING_BASIS_HOUSEHOLD_CONSENT, 28,
                      "life-consent", &out)
                  .ok());
  EXPECT_EQ(out.consent().basis(), v1::SHARING_BASIS_HOUSEHOLD_CONSENT);
  ASSERT_TRUE(
      Step(referral, v1::REFERRAL_STATE_SENT, DaysAgo(25), "life-send", &out)
          .ok());
  EXPECT_EQ(out.state(), v1::REFERRAL_STATE_SENT);
  EXPECT_EQ(DateToSql(out.answer_due_date()),
            DateToSql(DaysAgo(11)));  // 14 days after sending
  EXPECT_TRUE(out.overdue());
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_ACCEPTED, DaysAgo(20),
                   "life-accept", &out)
                  .ok());
  EXPECT_FALSE(out.overdue());
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_CONNECTED, DaysAgo(10),
                   "life-connect", &out, "",
                   As(auth::Role::kSsw, "user:ssw", {kWard}))
                  .ok());
  EXPECT_EQ(out.state(), v1::REFERRAL_STATE_CONNECTED);
  // A retried step changes nothing.
  v1::Referral retried;
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_CONNECTED, DaysAgo(10),
                   "life-connect", &retried)
                  .ok());
  EXPECT_EQ(retried.etag(), out.etag());
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_ENDED, DaysAgo(2), "life-end",
                   &out, "支援計画の目標を達成")
                  .ok());

  // The history: every step with its effective date and who recorded it.
  v1::GetReferralRequest get;
  get.set_name(referral.name());
  ASSERT_TRUE(Referrals()->GetReferral(Officer().get(), get, &out).ok());
  ASSERT_EQ(out.steps_size(), 5);
  const std::vector<std::pair<v1::ReferralState, int>> expected = {
      {v1::REFERRAL_STATE_PROPOSED, 30},
      {v1::REFERRAL_STATE_SENT, 25},
      {v1::REFERRAL_STATE_ACCEPTED, 20},
      {v1::REFERRAL_STATE_CONNECTED, 10},
      {v1::REFERRAL_STATE_ENDED, 2}};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out.steps(i).state(), expected[i].first) << i;
    EXPECT_EQ(DateToSql(out.steps(i).effective_date()),
              DateToSql(DaysAgo(expected[i].second)))
        << i;
  }
  EXPECT_EQ(out.steps(3).recorded_by(), "user:ssw");
  EXPECT_EQ(out.steps(3).recorded_by_role(), "ssw");
  EXPECT_EQ(out.steps(4).reason(), "支援計画の目標を達成");

  // Listed with the case; the connection is on the feed for the ward table,
  // and no event carries what staff wrote.
  v1::ListReferralsRequest list;
  list.set_parent(absl::StrCat("municipalities/", kCity));
  list.set_case_(c.name());
  v1::ListReferralsResponse listed;
  ASSERT_TRUE(Referrals()->ListReferrals(Officer().get(), list, &listed).ok());
  ASSERT_EQ(listed.referrals_size(), 1);
  EXPECT_EQ(listed.referrals(0).name(), referral.name());
  EXPECT_THAT(
      EventTypes(referral.name()),
      ::testing::ElementsAre("ReferralProposed", "ReferralConsentRecorded",
                             "ReferralStateChanged", "ReferralStateChanged",
                             "ReferralConnected", "ReferralStateChanged"));
  for (const auto& event :
       testing::FeedEvents(*referral_, *tokens_, referral.name())) {
    EXPECT_THAT(event.payload().value(),
                ::testing::Not(HasSubstr("放課後の学習支援")));
    EXPECT_THAT(event.payload().value(),
                ::testing::Not(HasSubstr("目標を達成")));
    v1::ReferralConnected connected;
    if (event.payload().UnpackTo(&connected)) {
      EXPECT_EQ(connected.case_(), c.name());
      EXPECT_EQ(connected.area_code(), kWard);
      EXPECT_EQ(connected.support(), support.name());
      EXPECT_EQ(connected.category(), v1::SUPPORT_CATEGORY_LEARNING_SUPPORT);
      EXPECT_EQ(DateToSql(connected.effective_date()), DateToSql(DaysAgo(10)));
    }
  }
}

TEST_F(ReferralServiceTest, SendingNeedsConsentOrALegalBasis) {
  const cv1::Case c = NewCase("どうい", "consent-case");
  const v1::Support support = NewLearningSupport("consent-support");
  v1::Referral referral;
  ASSERT_TRUE(Propose(c, support, "consent-1", &referral).ok());
  v1::Referral out;
  grpc::Status status = Step(referral, v1::REFERRAL_STATE_SENT, DaysAgo(5),
                             "consent-send-1", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("consent"));
  // Another legal basis must be named.
  status = Consent(referral, v1::SHARING_BASIS_OTHER_LEGAL_BASIS, 6,
                   "consent-2", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("consent.note"));
  status = Consent(referral, v1::SHARING_BASIS_HOUSEHOLD_CONSENT, -1,
                   "consent-3", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("consent.given_date"));
  v1::GetReferralRequest get;
  get.set_name(referral.name());
  ASSERT_TRUE(Referrals()->GetReferral(Officer().get(), get, &out).ok());
  EXPECT_FALSE(out.has_consent());
  EXPECT_EQ(out.steps_size(), 1);

  // A 要対協 decision is a legal basis.
  ASSERT_TRUE(Consent(referral, v1::SHARING_BASIS_YOUTAIKYO_DECISION, 6,
                      "consent-4", &out)
                  .ok());
  status = Step(referral, v1::REFERRAL_STATE_SENT, DaysAgo(5), "consent-send-2",
                &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(out.state(), v1::REFERRAL_STATE_SENT);
  EXPECT_EQ(out.consent().basis(), v1::SHARING_BASIS_YOUTAIKYO_DECISION);
  // Once sent, the consent is what it was.
  status = Consent(referral, v1::SHARING_BASIS_HOUSEHOLD_CONSENT, 1,
                   "consent-5", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ReferralServiceTest, InvalidTransitionsAreRejected) {
  const cv1::Case c = NewCase("むこう", "invalid-case");
  const v1::Support support = NewLearningSupport("invalid-support");
  v1::Referral referral;
  ASSERT_TRUE(Propose(c, support, "invalid-1", &referral).ok());
  v1::Referral out;
  grpc::Status status = Step(referral, v1::REFERRAL_STATE_CONNECTED, DaysAgo(5),
                             "invalid-2", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("is proposed"));
  status = Step(referral, v1::REFERRAL_STATE_PROPOSED, DaysAgo(5), "invalid-3",
                &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("state"));
  status = Step(referral, v1::REFERRAL_STATE_WITHDRAWN, DaysAgo(31),
                "invalid-4", &out, "家庭の希望");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("before the previous step"));
  status = Step(referral, v1::REFERRAL_STATE_WITHDRAWN,
                DateToProto(Today() + 1), "invalid-5", &out, "家庭の希望");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("effective_date"));
  status = Step(referral, v1::REFERRAL_STATE_WITHDRAWN, DaysAgo(5), "invalid-6",
                &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("reason"));

  // A stale etag is refused; the current one goes through.
  v1::ChangeReferralStateRequest withdraw;
  withdraw.set_name(referral.name());
  withdraw.set_state(v1::REFERRAL_STATE_WITHDRAWN);
  *withdraw.mutable_effective_date() = DaysAgo(5);
  withdraw.set_reason("家庭の希望");
  withdraw.set_request_id("invalid-7");
  withdraw.set_etag("999");
  status = Referrals()->ChangeReferralState(Officer().get(), withdraw, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  withdraw.set_etag(referral.etag());
  ASSERT_TRUE(
      Referrals()->ChangeReferralState(Officer().get(), withdraw, &out).ok());
  EXPECT_EQ(out.state(), v1::REFERRAL_STATE_WITHDRAWN);
  // Withdrawn is final.
  status =
      Step(referral, v1::REFERRAL_STATE_SENT, DaysAgo(1), "invalid-8", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("is withdrawn"));
  // Only the accepted withdrawal left a step.
  v1::GetReferralRequest get;
  get.set_name(referral.name());
  ASSERT_TRUE(Referrals()->GetReferral(Officer().get(), get, &out).ok());
  EXPECT_EQ(out.steps_size(), 2);
}

TEST_F(ReferralServiceTest, OverdueAnswersAreListedAsTheClockMoves) {
  const absl::Time start = clock_->Now();
  const cv1::Case c = NewCase("おくれ", "overdue-case");
  const v1::Support support = NewLearningSupport("overdue-support");
  v1::Referral referral;
  ASSERT_TRUE(Propose(c, support, "overdue-1", &referral,
                      As(auth::Role::kSsw, "user:sender", {kWard}), 1)
                  .ok());
  v1::Referral out;
  ASSERT_TRUE(Consent(referral, v1::SHARING_BASIS_HOUSEHOLD_CONSENT, 1,
                      "overdue-consent", &out)
                  .ok());
  ASSERT_TRUE(
      Step(referral, v1::REFERRAL_STATE_SENT, DaysAgo(0), "overdue-2", &out)
          .ok());
  EXPECT_EQ(DateToSql(out.answer_due_date()), DayToSql(Today() + 14));
  const auto sender = [] {
    return As(auth::Role::kSsw, "user:sender", {kWard});
  };
  EXPECT_THAT(OverdueNames(sender()),
              ::testing::Not(::testing::Contains(referral.name())));

  // Due on day 14: not overdue then, overdue the day after.
  clock_->Advance(absl::Hours(24 * 14));
  EXPECT_THAT(OverdueNames(sender()),
              ::testing::Not(::testing::Contains(referral.name())));
  clock_->Advance(absl::Hours(24));
  EXPECT_THAT(OverdueNames(sender()), ::testing::Contains(referral.name()));
  // The ward officers of the area see it too; other staff do not.
  EXPECT_THAT(OverdueNames(Officer()), ::testing::Contains(referral.name()));
  EXPECT_THAT(OverdueNames(As(auth::Role::kSsw, "user:other-ssw", {kWard})),
              ::testing::Not(::testing::Contains(referral.name())));
  EXPECT_THAT(OverdueNames(As(auth::Role::kWardOfficer, "user:other-officer",
                              {kOtherWard})),
              ::testing::Not(::testing::Contains(referral.name())));
  v1::ListOverdueReferralsRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  v1::ListOverdueReferralsResponse response;
  ASSERT_TRUE(Referrals()
                  ->ListOverdueReferrals(sender().get(), request, &response)
                  .ok());
  for (const v1::OverdueReferral& overdue : response.referrals()) {
    if (overdue.referral() == referral.name()) {
      EXPECT_EQ(overdue.days_overdue(), 1);
      EXPECT_EQ(overdue.referred_by(), "user:sender");
    }
  }
  v1::GetReferralRequest get;
  get.set_name(referral.name());
  ASSERT_TRUE(Referrals()->GetReferral(Officer().get(), get, &out).ok());
  EXPECT_TRUE(out.overdue());

  // Answered: off the list.
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_DECLINED, DaysAgo(0),
                   "overdue-3", &out, "空きがない")
                  .ok());
  EXPECT_THAT(OverdueNames(sender()),
              ::testing::Not(::testing::Contains(referral.name())));
  clock_->Set(start);
}

TEST_F(ReferralServiceTest, RevokedByAWardOfficerOfTheAreaWithAReason) {
  const cv1::Case c = NewCase("とりけし", "revoke-case");
  const v1::Support support = NewLearningSupport("revoke-support");
  v1::Referral referral;
  ASSERT_TRUE(Propose(c, support, "revoke-1", &referral).ok());
  v1::RevokeReferralRequest revoke;
  revoke.set_name(referral.name());
  revoke.set_request_id("revoke-2");
  revoke.set_reason("別の児童の案件として誤って登録");
  v1::Referral out;
  // Not the school social worker, not another ward's officer.
  EXPECT_EQ(
      Referrals()
          ->RevokeReferral(As(auth::Role::kSsw, "user:ssw", {kWard}).get(),
                           revoke, &out)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Referrals()
          ->RevokeReferral(
              As(auth::Role::kWardOfficer, "user:other", {kOtherWard}).get(),
              revoke, &out)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  revoke.clear_reason();
  grpc::Status status =
      Referrals()->RevokeReferral(Officer().get(), revoke, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("reason"));
  revoke.set_reason("別の児童の案件として誤って登録");
  ASSERT_TRUE(Referrals()->RevokeReferral(Officer().get(), revoke, &out).ok());
  EXPECT_EQ(out.state(), v1::REFERRAL_STATE_REVOKED);
  EXPECT_EQ(out.steps(out.steps_size() - 1).reason(),
            "別の児童の案件として誤って登録");
  EXPECT_EQ(DateToSql(out.steps(out.steps_size() - 1).effective_date()),
            DayToSql(Today()));
  EXPECT_EQ(EventTypes(referral.name()).back(), "ReferralRevoked");
  // Nothing follows a revocation.
  status = Step(referral, v1::REFERRAL_STATE_WITHDRAWN, DaysAgo(0), "revoke-3",
                &out, "重複");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // And the case may be referred to the support again.
  EXPECT_TRUE(Propose(c, support, "revoke-4", &out).ok());
}

TEST_F(ReferralServiceTest, TheCaseServiceDecidesWhoMayRefer) {
  const cv1::Case c = NewCase("ほかのく", "scope-case");
  const v1::Support support = NewLearningSupport("scope-support");
  v1::Referral out;
  // Another ward's officer: refused by the case service, naming the area.
  grpc::Status status =
      Propose(c, support, "scope-1", &out,
              As(auth::Role::kWardOfficer, "user:other", {kOtherWard}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr(kWard));
  // A case worker not (yet) assigned to the case.
  status = Propose(c, support, "scope-2", &out,
                   As(auth::Role::kCaseWorker, "user:worker", {kWard}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Roles that never refer are refused here.
  status = Propose(c, support, "scope-3", &out,
                   As(auth::Role::kHubOperator, "user:hub", {}, {"H-X"}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // No such case.
  cv1::Case missing;
  missing.set_name("cases/999999");
  status = Propose(missing, support, "scope-4", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // A bad case name is ours to name.
  missing.set_name("case-12");
  status = Propose(missing, support, "scope-5", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("referral.case"));

  // Nothing was recorded for the refused attempts; reads are scoped too.
  ASSERT_TRUE(Propose(c, support, "scope-6", &out).ok());
  v1::GetReferralRequest get;
  get.set_name(out.name());
  v1::Referral read;
  EXPECT_EQ(
      Referrals()
          ->GetReferral(
              As(auth::Role::kWardOfficer, "user:other", {kOtherWard}).get(),
              get, &read)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::ListReferralsRequest list;
  list.set_parent(absl::StrCat("municipalities/", kCity));
  list.set_case_(c.name());
  v1::ListReferralsResponse listed;
  ASSERT_TRUE(Referrals()->ListReferrals(Officer().get(), list, &listed).ok());
  EXPECT_EQ(listed.referrals_size(), 1);
}

TEST_F(ReferralServiceTest, ARetryIsAnsweredAsFirstAfterTheCaseClosed) {
  const cv1::Case c = NewCase("しまったけーす", "closed-case");
  const v1::Support support = NewLearningSupport("closed-support");
  v1::Referral first;
  ASSERT_TRUE(Propose(c, support, "closed-1", &first).ok());
  cv1::RecordOutcomeRequest outcome;
  outcome.set_name(c.name());
  outcome.set_outcome(cv1::OUTCOME_MOVED_AWAY);
  *outcome.mutable_effective_date() = DaysAgo(1);
  outcome.set_request_id("closed-outcome");
  cv1::Case closed;
  ASSERT_TRUE(Cases()->RecordOutcome(Officer().get(), outcome, &closed).ok());
  ASSERT_EQ(closed.state(), cv1::CASE_STATE_CLOSED);
  // The retry (a loader run again) gets the referral it made ...
  v1::Referral again;
  const grpc::Status retried = Propose(c, support, "closed-1", &again);
  ASSERT_TRUE(retried.ok()) << retried.error_message();
  EXPECT_EQ(again.name(), first.name());
  // ... while a new referral of the closed case is refused.
  v1::Referral other;
  const grpc::Status refused = Propose(c, support, "closed-2", &other);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("not open"));
}

TEST_F(ReferralServiceTest, CaseServiceDownIsUnavailable) {
  const cv1::Case c = NewCase("ていし", "down-case");
  const v1::Support support = NewLearningSupport("down-support");
  delete case_;  // drains: the port closes
  case_ = nullptr;
  v1::Referral out;
  grpc::Status status = Propose(c, support, "down-1", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("case service is unreachable"));

  // Back on the same port: the same request goes through once.
  StartCaseService(absl::StrCat(case_port_));
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    status = Propose(c, support, "down-1", &out);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ListReferralsRequest list;
  list.set_parent(absl::StrCat("municipalities/", kCity));
  list.set_case_(c.name());
  v1::ListReferralsResponse listed;
  ASSERT_TRUE(Referrals()->ListReferrals(Officer().get(), list, &listed).ok());
  EXPECT_EQ(listed.referrals_size(), 1);
}

TEST_F(ReferralServiceTest, HubFlowFromApplicationToEnd) {
  const v1::Support hub = NewHub("H-FLOW", 1);
  v1::HubUsage usage = Apply("はぶりよう", "H-FLOW", "flow");
  EXPECT_EQ(usage.state(), v1::HUB_USAGE_STATE_APPLIED);
  EXPECT_EQ(usage.support(), hub.name());
  EXPECT_EQ(usage.area_code(), kWard);
  EXPECT_EQ(usage.application().recorded_by(), "user:officer");
  EXPECT_EQ(OperatorReadsCase(usage.case_(), "H-FLOW"),
            grpc::StatusCode::PERMISSION_DENIED);
  // One application at a time per child and hub.
  v1::CreateHubApplicationRequest again;
  again.set_parent(absl::StrCat("municipalities/", kCity));
  again.set_request_id("flow-apply-2");
  *again.mutable_usage() = usage;
  v1::HubUsage out;
  grpc::Status status =
      Referrals()->CreateHubApplication(Officer().get(), again, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(usage.name()));

  // 2. The hearing: the consultation desk leads (the child is not on the
  // 要対協 register); a ward officer may not record it.
  status = Assess(usage, "flow-assess-0", &out, Officer());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = Decide(usage, true, "flow-decide-0", &out, Director());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("is applied"));
  ASSERT_TRUE(Assess(usage, "flow-assess", &usage, Desk()).ok());
  EXPECT_EQ(usage.state(), v1::HUB_USAGE_STATE_ASSESSED);
  EXPECT_EQ(usage.assessment().led_by_role(), "consultation_desk");
  EXPECT_EQ(usage.assessment().led_by(), "user:desk");

  // A request id names one write: reusing it for another is refused.
  status = Decide(usage, true, "flow-assess", &out, Director());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));

  // 3. The decision: the centre director only.
  for (auto* as :
       {+[] { return Officer(); }, +[] { return CityOps(); },
        +[] { return Operator("H-FLOW"); }, +[] { return Desk(); }}) {
    status = Decide(usage, true, "flow-decide-x", &out, as());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  ASSERT_TRUE(Decide(usage, true, "flow-decide", &usage, Director()).ok());
  EXPECT_EQ(usage.state(), v1::HUB_USAGE_STATE_APPROVED);
  EXPECT_EQ(usage.decision().decided_by(), "user:director");
  EXPECT_TRUE(usage.enrollment_synced());
  // The hub's operators now see the child in the case service.
  EXPECT_EQ(OperatorReadsCase(usage.case_(), "H-FLOW"), grpc::StatusCode::OK);

  // 4. No visit before the interview with the guardian.
  const absl::CivilDay term_tuesday =
      LatestWeekday(absl::Weekday::tuesday, Today() - 1);
  v1::HubVisit visit;
  status = Visit(usage, term_tuesday, "16:30", "19:00", "flow-visit-0", &visit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("interview"));
  ASSERT_TRUE(
      Interview(usage, "flow-interview", &usage, Operator("H-FLOW")).ok());
  EXPECT_EQ(usage.interview().troubles_beyond_hub(), "家賃の滞納がある");

  // 5. The hub's plan, reviewed by the city.
  v1::RecordHubSupportPlanRequest plan;
  plan.set_name(usage.name());
  plan.set_request_id("flow-plan");
  *plan.mutable_plan()->mutable_plan_date() = DaysAgo(47);
  plan.mutable_plan()->add_goals("夕食を一緒にとる");
  plan.mutable_plan()->add_goals("宿題を終えてから遊ぶ");
  plan.mutable_plan()->set_child_wishes("友だちとゲームがしたい");
  plan.mutable_plan()->set_guardian_wishes("勉強の習慣をつけてほしい");
  ASSERT_TRUE(Referrals()
                  ->RecordHubSupportPlan(Operator("H-FLOW").get(), plan, &usage)
                  .ok());
  v1::ReviewHubSupportPlanRequest review;
  review.set_name(usage.name());
  review.set_request_id("flow-review");
  review.set_version(1);
  *review.mutable_review()->mutable_review_date() = DaysAgo(46);
  review.mutable_review()->set_advice("学校との連絡を月1回");
  EXPECT_EQ(Referrals()
                ->ReviewHubSupportPlan(Operator("H-FLOW").get(), review, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      Referrals()->ReviewHubSupportPlan(CityOps().get(), review, &usage).ok());
  ASSERT_EQ(usage.plans_size(), 1);
  EXPECT_EQ(usage.plans(0).version(), 1);
  EXPECT_EQ(usage.plans(0).review().advice(), "学校との連絡を月1回");

  // 6. Visits within the day's opening hours: the summer schedule in the
  // school holiday, the term schedule otherwise, closed on Mondays.
  const absl::CivilDay holiday_tuesday =
      LatestWeekday(absl::Weekday::tuesday, Today() - 34);
  status = Visit(usage, term_tuesday, "12:00", "15:00", "flow-visit-1", &visit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("visit.arrival_time"));
  status = Visit(usage, LatestWeekday(absl::Weekday::monday, Today() - 1),
                 "16:30", "19:00", "flow-visit-2", &visit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("closed"));
  status = Visit(usage, term_tuesday, "20:00", "21:30", "flow-visit-3", &visit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("visit.departure_time"));
  status =
      Visit(usage, holiday_tuesday, "12:00", "15:00", "flow-visit-4", &visit);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(visit.services_delivered(),
              ::testing::ElementsAre("meal", "learning"));
  EXPECT_FALSE(visit.over_capacity());
  usage = GetUsage(usage, Operator("H-FLOW"));
  EXPECT_EQ(usage.state(), v1::HUB_USAGE_STATE_IN_USE);
  EXPECT_EQ(DateToSql(usage.started_date()), DayToSql(holiday_tuesday));

  // A day beyond capacity (one place; two children registered) is refused
  // with the count, unless the operator says why the child was let in.
  const v1::HubUsage other = ReadyUsage("ほかのこ", "H-FLOW", "flow-other");
  ASSERT_TRUE(
      Visit(other, term_tuesday, "16:00", "18:00", "flow-other-visit", &visit)
          .ok());
  status = Visit(usage, term_tuesday, "16:30", "19:00", "flow-visit-5", &visit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("1 children already came"));
  EXPECT_THAT(status.error_message(), HasSubstr("daily capacity is 1"));
  status = Visit(usage, term_tuesday, "16:30", "19:00", "flow-visit-5", &visit,
                 "母の急な残業で預かりが必要");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(visit.over_capacity());
  // A retry gives the same visit; a second visit the same day is refused.
  v1::HubVisit retried;
  ASSERT_TRUE(Visit(usage, term_tuesday, "16:30", "19:00", "flow-visit-5",
                    &retried, "母の急な残業で預かりが必要")
                  .ok());
  EXPECT_EQ(retried.name(), visit.name());
  status = Visit(usage, term_tuesday, "19:00", "20:00", "flow-visit-6",
                 &retried, "再来所");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  v1::ListHubVisitsRequest visits;
  visits.set_hub_code("H-FLOW");
  *visits.mutable_from_date() = DaysAgo(60);
  *visits.mutable_to_date() = DaysAgo(0);
  v1::ListHubVisitsResponse listed;
  ASSERT_TRUE(Referrals()
                  ->ListHubVisits(Operator("H-FLOW").get(), visits, &listed)
                  .ok());
  ASSERT_EQ(listed.visits_size(), 3);
  EXPECT_EQ(listed.visits(0).usage(), usage.name());
  EXPECT_EQ(listed.visits(0).arrival_time(), "12:00");

  // 7. The end, with the reason: the child leaves the hub's view.
  v1::EndHubUsageRequest end;
  end.set_name(usage.name());
  end.set_request_id("flow-end");
  *end.mutable_end()->mutable_end_date() = DateToProto(term_tuesday - 1);
  end.mutable_end()->set_reason(v1::HUB_USAGE_END_REASON_GOALS_REACHED);
  status = Referrals()->EndHubUsage(Operator("H-FLOW").get(), end, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("the last visit"));
  *end.mutable_end()->mutable_end_date() = DateToProto(term_tuesday);
  ASSERT_TRUE(
      Referrals()->EndHubUsage(Operator("H-FLOW").get(), end, &usage).ok());
  EXPECT_EQ(usage.state(), v1::HUB_USAGE_STATE_ENDED);
  EXPECT_EQ(usage.end().ended_by(), "user:operator-H-FLOW");
  EXPECT_TRUE(usage.enrollment_synced());
  EXPECT_EQ(OperatorReadsCase(usage.case_(), "H-FLOW"),
            grpc::StatusCode::PERMISSION_DENIED);

  // Every step is on the feed, with the start counted as a connection.
  EXPECT_THAT(
      EventTypes(usage.name()),
      ::testing::ElementsAre("HubApplicationReceived", "HubAssessmentRecorded",
                             "HubUsageDecided", "HubInterviewRecorded",
                             "HubSupportPlanRecorded", "HubSupportPlanReviewed",
                             "HubUsageStarted", "HubUsageEnded"));
  EXPECT_THAT(EventTypes(visit.name()),
              ::testing::ElementsAre("HubVisitRecorded"));
  for (const auto& event :
       testing::FeedEvents(*referral_, *tokens_, usage.name())) {
    EXPECT_THAT(event.payload().value(),
                ::testing::Not(HasSubstr("家賃の滞納")));
    v1::HubUsageStarted started;
    if (event.payload().UnpackTo(&started)) {
      EXPECT_EQ(started.case_(), usage.case_());
      EXPECT_EQ(started.category(), v1::SUPPORT_CATEGORY_DROP_IN_HUB);
      EXPECT_EQ(started.organization(), hub.organization());
      EXPECT_EQ(DateToSql(started.start_date()), DayToSql(holiday_tuesday));
    }
  }
}

TEST_F(ReferralServiceTest, ApplicationForAChildWithoutACaseOpensOne) {
  NewHub("H-NEW", 25);
  v1::CreateHubApplicationRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_request_id("new-case-apply");
  v1::HubUsage* usage = request.mutable_usage();
  usage->set_hub_code("H-NEW");
  usage->mutable_application()->set_applicant(v1::APPLICANT_LOCAL_GROUP);
  *usage->mutable_application()->mutable_application_date() = DaysAgo(3);
  cv1::Case* child = request.mutable_new_case();
  child->set_area_code(kWard);
  child->set_source(cv1::CASE_SOURCE_LOCAL_GROUP);
  *child->mutable_opened_date() = DaysAgo(3);
  child->mutable_child()->set_name("新規 みらい");
  child->mutable_child()->set_kana("しんき みらい");
  *child->mutable_child()->mutable_birth_date() =
      DateToProto(absl::CivilDay(RealToday().year() - 9, 2, 3));

  // Not both an existing case and a new one.
  v1::CreateHubApplicationRequest both = request;
  both.mutable_usage()->set_case_("cases/1");
  v1::HubUsage out;
  grpc::Status status =
      Referrals()->CreateHubApplication(Officer().get(), both, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("new_case"));
  // The case service's own checks apply, named under new_case.
  v1::CreateHubApplicationRequest nameless = request;
  nameless.set_request_id("new-case-apply-nameless");
  nameless.mutable_new_case()->mutable_child()->clear_kana();
  status = Referrals()->CreateHubApplication(Officer().get(), nameless, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("new_case: "));
  EXPECT_THAT(status.error_message(), HasSubstr("kana"));

  v1::HubUsage created;
  status =
      Referrals()->CreateHubApplication(Officer().get(), request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.state(), v1::HUB_USAGE_STATE_APPLIED);
  EXPECT_EQ(created.area_code(), kWard);
  cv1::GetCaseRequest get;
  get.set_name(created.case_());
  cv1::Case opened;
  ASSERT_TRUE(Cases()->GetCase(Officer().get(), get, &opened).ok());
  EXPECT_EQ(opened.source(), cv1::CASE_SOURCE_LOCAL_GROUP);
  EXPECT_EQ(opened.state(), cv1::CASE_STATE_OPEN);

  // A retry opens no second case and no second usage.
  v1::HubUsage retried;
  ASSERT_TRUE(Referrals()
                  ->CreateHubApplication(Officer().get(), request, &retried)
                  .ok());
  EXPECT_EQ(retried.name(), created.name());
  EXPECT_EQ(retried.case_(), created.case_());
  cv1::SearchCasesRequest search;
  search.set_parent(request.parent());
  search.set_kana("しんき みらい");
  *search.mutable_birth_date() = child->child().birth_date();
  cv1::SearchCasesResponse found;
  ASSERT_TRUE(Cases()->SearchCases(Officer().get(), search, &found).ok());
  EXPECT_EQ(found.matches_size(), 1);

  // Another application for the same child as a new case: the case
  // service's duplicate check names the open case.
  v1::CreateHubApplicationRequest duplicate = request;
  duplicate.set_request_id("new-case-apply-again");
  status = Referrals()->CreateHubApplication(Officer().get(), duplicate, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr(created.case_()));
}

// Calls with a stated purpose; "" states none.
std::unique_ptr<grpc::ClientContext> Stating(
    std::unique_ptr<grpc::ClientContext> context, const std::string& purpose) {
  context->AddMetadata("x-kosapo-purpose-bin", purpose);
  return context;
}

TEST_F(ReferralServiceTest, TheAuditTrailOfACaseShowsWhoReadItsRecordsAndWhy) {
  const cv1::Case c = NewCase("もくてき さんしょう", "audit-trail-case");
  const v1::Support support = NewLearningSupport("audit-trail-support");
  NewHub("H-AUDIT", 25);
  v1::Referral referral;
  ASSERT_TRUE(Propose(c, support, "audit-trail-propose", &referral,
                      Stating(Officer(), "支援会議の準備"))
                  .ok());
  v1::GetReferralRequest get;
  get.set_name(referral.name());
  v1::Referral read;
  auto ssw = As(auth::Role::kSsw, "user:ssw", {kWard});
  ssw->AddMetadata("x-kosapo-purpose", "case review");
  ASSERT_TRUE(Referrals()->GetReferral(ssw.get(), get, &read).ok());
  ASSERT_TRUE(Referrals()->GetReferral(Officer().get(), get, &read).ok());

  // A purpose over 200 characters, or not UTF-8: refused naming the key,
  // before anything is read, so nothing is audited.
  std::string too_long;
  for (int i = 0; i < 201; ++i) {
    too_long += "目";
  }
  grpc::Status refused =
      Referrals()->GetReferral(Stating(Officer(), too_long).get(), get, &read);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "metadata x-kosapo-purpose-bin: at most 200 characters");
  refused = Referrals()->GetReferral(
      Stating(Officer(), std::string("\xc3\x28", 2)).get(), get, &read);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("metadata x-kosapo-purpose-bin: not valid UTF-8"));

  v1::CreateHubApplicationRequest apply;
  apply.set_parent(absl::StrCat("municipalities/", kCity));
  apply.set_request_id("audit-trail-apply");
  apply.mutable_usage()->set_case_(c.name());
  apply.mutable_usage()->set_hub_code("H-AUDIT");
  apply.mutable_usage()->mutable_application()->set_applicant(
      v1::APPLICANT_SCHOOL);
  *apply.mutable_usage()->mutable_application()->mutable_application_date() =
      DaysAgo(60);
  v1::HubUsage usage;
  ASSERT_TRUE(Referrals()
                  ->CreateHubApplication(Stating(Officer(), "利用申請").get(),
                                         apply, &usage)
                  .ok());

  // The trail of the case's referral and usage, newest first, and of no
  // other case's.
  v1::ListReferralAuditRequest request;
  request.set_case_(c.name());
  v1::ListReferralAuditResponse trail;
  ASSERT_TRUE(Referrals()
                  ->ListReferralAudit(Stating(Officer(), "監査の確認").get(),
                                      request, &trail)
                  .ok());
  const auto entries = [](const v1::ListReferralAuditResponse& response) {
    std::vector<std::string> out;
    for (const v1::ReferralAuditEntry& entry : response.entries()) {
      out.push_back(absl::StrCat(entry.resource(), " ", entry.subject(), " ",
                                 entry.role(), " ", entry.method(), " ",
                                 entry.access(), " [", entry.purpose(), "]"));
    }
    return out;
  };
  const std::string r = referral.name();
  const std::string u = usage.name();
  EXPECT_THAT(entries(trail),
              ::testing::ElementsAre(
                  u + " user:officer ward_officer CreateHubApplication write "
                      "[利用申請]",
                  r + " user:officer ward_officer GetReferral read []",
                  r + " user:ssw ssw GetReferral read [case review]",
                  r + " user:officer ward_officer CreateReferral write "
                      "[支援会議の準備]"));

  // Reading the trail was itself audited, with its purpose; a page at a
  // time.
  request.set_page_size(2);
  ASSERT_TRUE(
      Referrals()->ListReferralAudit(Officer().get(), request, &trail).ok());
  EXPECT_THAT(entries(trail),
              ::testing::UnorderedElementsAre(
                  u + " user:officer ward_officer ListReferralAudit read "
                      "[監査の確認]",
                  r + " user:officer ward_officer ListReferralAudit read "
                      "[監査の確認]"));
  ASSERT_FALSE(trail.next_page_token().empty());
  request.set_page_token(trail.next_page_token());
  ASSERT_TRUE(
      Referrals()->ListReferralAudit(Officer().get(), request, &trail).ok());
  EXPECT_THAT(entries(trail),
              ::testing::ElementsAre(
                  u + " user:officer ward_officer CreateHubApplication write "
                      "[利用申請]",
                  r + " user:officer ward_officer GetReferral read []"));

  // Ward officers who may work on the case only.
  request.clear_page_token();
  EXPECT_EQ(
      Referrals()
          ->ListReferralAudit(As(auth::Role::kSsw, "user:ssw", {kWard}).get(),
                              request, &trail)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Referrals()
          ->ListReferralAudit(
              As(auth::Role::kWardOfficer, "user:other", {kOtherWard}).get(),
              request, &trail)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  request.set_case_("cases/987654321");
  EXPECT_EQ(Referrals()
                ->ListReferralAudit(Officer().get(), request, &trail)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// The case service, called for the user, records the user's purpose.
TEST_F(ReferralServiceTest, ACaseOpenedForAnApplicationKeepsThePurpose) {
  NewHub("H-PURPOSE", 25);
  v1::CreateHubApplicationRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_request_id("purpose-new-case-apply");
  v1::HubUsage* usage = request.mutable_usage();
  usage->set_hub_code("H-PURPOSE");
  usage->mutable_application()->set_applicant(v1::APPLICANT_LOCAL_GROUP);
  *usage->mutable_application()->mutable_application_date() = DaysAgo(3);
  cv1::Case* child = request.mutable_new_case();
  child->set_area_code(kWard);
  child->set_source(cv1::CASE_SOURCE_LOCAL_GROUP);
  *child->mutable_opened_date() = DaysAgo(3);
  child->mutable_child()->set_name("目的 ひかり");
  child->mutable_child()->set_kana("もくてき ひかり");
  *child->mutable_child()->mutable_birth_date() =
      DateToProto(absl::CivilDay(RealToday().year() - 8, 4, 5));
  v1::HubUsage created;
  ASSERT_TRUE(
      Referrals()
          ->CreateHubApplication(Stating(Officer(), "地域団体からの相談").get(),
                                 request, &created)
          .ok());
  cv1::ListCaseAuditRequest audit_request;
  audit_request.set_name(created.case_());
  cv1::ListCaseAuditResponse audit;
  ASSERT_TRUE(
      Cases()->ListCaseAudit(Officer().get(), audit_request, &audit).ok());
  ASSERT_GE(audit.entries_size(), 1);
  const cv1::AuditEntry& opened = audit.entries(audit.entries_size() - 1);
  EXPECT_EQ(opened.method(), "CreateCase");
  EXPECT_EQ(opened.subject(), "user:officer");
  EXPECT_EQ(opened.purpose(), "地域団体からの相談");
}

TEST_F(ReferralServiceTest, ProblemsNotedOnVisitsGoOnTheFeedWithoutTheNote) {
  NewHub("H-NOTE", 25);
  const v1::HubUsage usage = ReadyUsage("もんだいあり", "H-NOTE", "note");
  v1::RecordHubVisitRequest request;
  request.set_parent(usage.name());
  request.set_request_id("note-visit");
  *request.mutable_visit()->mutable_visit_date() =
      DateToProto(LatestWeekday(absl::Weekday::tuesday, Today() - 1));
  request.mutable_visit()->set_arrival_time("16:30");
  request.mutable_visit()->set_departure_time("19:00");
  request.mutable_visit()->set_problem_note("腕にあざがあった");
  v1::HubVisit visit;
  grpc::Status status =
      Referrals()->RecordHubVisit(Operator("H-NOTE").get(), request, &visit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("visit.problem_note"));
  request.mutable_visit()->set_problem_noted(true);
  status =
      Referrals()->RecordHubVisit(Operator("H-NOTE").get(), request, &visit);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(visit.problem_noted());
  EXPECT_EQ(visit.problem_note(), "腕にあざがあった");

  v1::ListHubVisitsRequest list;
  list.set_hub_code("H-NOTE");
  *list.mutable_from_date() = DaysAgo(10);
  *list.mutable_to_date() = DaysAgo(0);
  v1::ListHubVisitsResponse listed;
  ASSERT_TRUE(Referrals()->ListHubVisits(Director().get(), list, &listed).ok());
  ASSERT_EQ(listed.visits_size(), 1);
  EXPECT_TRUE(listed.visits(0).problem_noted());
  EXPECT_EQ(listed.visits(0).problem_note(), "腕にあざがあった");
  // Listing the visits is a read of the usage, on its audit trail.
  {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    EXPECT_EQ(tx.exec1(absl::StrCat(
                  "SELECT count(*) FROM ", SharedPgCluster().Schema("referral"),
                  ".access_audit WHERE resource = ", tx.quote(usage.name()),
                  " AND method = 'ListHubVisits'"
                  " AND access = 'read'"))[0]
                  .as<int>(),
              1);
  }

  // The feed says a problem was noted, never what it was.
  const auto events = testing::FeedEvents(*referral_, *tokens_, visit.name());
  ASSERT_EQ(events.size(), 1u);
  v1::HubVisitRecorded recorded;
  ASSERT_TRUE(events[0].payload().UnpackTo(&recorded));
  EXPECT_TRUE(recorded.problem_noted());
  EXPECT_EQ(recorded.usage(), usage.name());
  EXPECT_THAT(events[0].payload().value(), ::testing::Not(HasSubstr("あざ")));
}

// Free text about the child is encrypted at rest (services/case's
// field_encryption_test covers keys and rotation): it reads back equal, and
// no row of the referral schema, as a dump shows it, holds it in plaintext.
TEST_F(ReferralServiceTest, FreeTextIsEncryptedAtRest) {
  NewHub("H-SEAL", 25);
  const v1::HubUsage usage = ReadyUsage("ふうかん", "H-SEAL", "seal");
  v1::HubVisit visit;
  v1::RecordHubVisitRequest noted;
  noted.set_parent(usage.name());
  noted.set_request_id("seal-visit");
  *noted.mutable_visit()->mutable_visit_date() =
      DateToProto(LatestWeekday(absl::Weekday::tuesday, Today() - 1));
  noted.mutable_visit()->set_arrival_time("16:30");
  noted.mutable_visit()->set_departure_time("19:00");
  noted.mutable_visit()->set_problem_noted(true);
  noted.mutable_visit()->set_problem_note("首に赤い跡があった");
  ASSERT_TRUE(Referrals()
                  ->RecordHubVisit(Operator("H-SEAL").get(), noted, &visit)
                  .ok());
  EXPECT_EQ(visit.problem_note(), "首に赤い跡があった");
  const v1::HubUsage read = GetUsage(usage, Desk());
  EXPECT_EQ(read.application().reason(), "放課後に一人で過ごす時間が長い");
  EXPECT_EQ(read.assessment().summary(), "母子家庭。母は夜勤が多い。");
  EXPECT_EQ(read.interview().troubles_beyond_hub(), "家賃の滞納がある");

  const cv1::Case c = NewCase("ふうかんにばん", "seal-case");
  v1::Referral referral;
  ASSERT_TRUE(
      Propose(c, NewLearningSupport("seal-support"), "seal-1", &referral).ok());
  ASSERT_TRUE(Consent(referral, v1::SHARING_BASIS_OTHER_LEGAL_BASIS, 20,
                      "seal-consent", &referral, "児童福祉法に基づき祖母が同意")
                  .ok());
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_SENT, DaysAgo(10), "seal-sent",
                   &referral)
                  .ok());
  ASSERT_TRUE(Step(referral, v1::REFERRAL_STATE_DECLINED, DaysAgo(5),
                   "seal-declined", &referral, "父親が支援の利用を拒否")
                  .ok());
  v1::GetReferralRequest get;
  get.set_name(referral.name());
  ASSERT_TRUE(Referrals()->GetReferral(Officer().get(), get, &referral).ok());
  EXPECT_EQ(referral.purpose(), "放課後の学習支援を依頼");
  EXPECT_EQ(referral.consent().note(), "児童福祉法に基づき祖母が同意");
  EXPECT_EQ(referral.steps(referral.steps_size() - 1).reason(),
            "父親が支援の利用を拒否");

  pqxx::connection connection(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(connection);
  const std::string schema = SharedPgCluster().Schema("referral");
  std::string dump;
  for (const pqxx::row& table :
       tx.exec_params("SELECT table_name FROM information_schema.tables"
                      " WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
                      schema)) {
    for (const pqxx::row& row : tx.exec(absl::StrCat(
             "SELECT row_to_json(t)::text FROM ", tx.quote_name(schema), ".",
             tx.quote_name(table[0].as<std::string>()), " t"))) {
      absl::StrAppend(&dump, row[0].as<std::string>(), "\n");
    }
  }
  EXPECT_THAT(dump, HasSubstr("H-SEAL"));  // the dump does read the rows
  for (const char* text :
       {"首に赤い跡", "放課後に一人で", "母子家庭", "家賃の滞納", "絵を描く",
        "豊中市立第一小学校", "放課後の学習支援", "祖母が同意",
        "支援の利用を拒否"}) {
    EXPECT_THAT(dump, ::testing::Not(HasSubstr(text))) << text;
  }
}

TEST_F(ReferralServiceTest, OperatorsSeeOnlyTheirHub) {
  NewHub("H-MINE", 25);
  NewHub("H-THEIRS", 25);
  const v1::HubUsage mine = ReadyUsage("わたしのはぶ", "H-MINE", "mine");
  const v1::HubUsage theirs = ReadyUsage("よそのはぶ", "H-THEIRS", "theirs");

  v1::ListHubUsagesRequest list;
  list.set_parent(absl::StrCat("municipalities/", kCity));
  list.set_hub_code("H-MINE");
  v1::ListHubUsagesResponse listed;
  ASSERT_TRUE(
      Referrals()->ListHubUsages(Operator("H-MINE").get(), list, &listed).ok());
  ASSERT_EQ(listed.usages_size(), 1);
  EXPECT_EQ(listed.usages(0).name(), mine.name());
  // Another hub's list, usage, visits and steps are closed to them.
  list.set_hub_code("H-THEIRS");
  EXPECT_EQ(Referrals()
                ->ListHubUsages(Operator("H-MINE").get(), list, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetHubUsageRequest get;
  get.set_name(theirs.name());
  v1::HubUsage out;
  EXPECT_EQ(Referrals()
                ->GetHubUsage(Operator("H-MINE").get(), get, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::HubVisit visit;
  const absl::CivilDay tuesday =
      LatestWeekday(absl::Weekday::tuesday, Today() - 1);
  EXPECT_EQ(Visit(theirs, tuesday, "16:30", "19:00", "theirs-visit", &visit, "",
                  Operator("H-MINE"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListHubVisitsRequest visits;
  visits.set_hub_code("H-THEIRS");
  *visits.mutable_from_date() = DaysAgo(7);
  *visits.mutable_to_date() = DaysAgo(0);
  v1::ListHubVisitsResponse visit_list;
  EXPECT_EQ(Referrals()
                ->ListHubVisits(Operator("H-MINE").get(), visits, &visit_list)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // And in the case service they see their own hub's child only.
  EXPECT_EQ(OperatorReadsCase(mine.case_(), "H-MINE"), grpc::StatusCode::OK);
  EXPECT_EQ(OperatorReadsCase(theirs.case_(), "H-MINE"),
            grpc::StatusCode::PERMISSION_DENIED);
  // The centre director and the case's own staff see either.
  EXPECT_EQ(GetUsage(theirs, Director()).name(), theirs.name());
  EXPECT_EQ(GetUsage(theirs, Desk()).name(), theirs.name());
  EXPECT_EQ(
      Referrals()
          ->GetHubUsage(
              As(auth::Role::kWardOfficer, "user:other", {kOtherWard}).get(),
              get, &out)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReferralServiceTest, DecisionIsDurableWhileTheCaseServiceIsDown) {
  NewHub("H-DOWN", 25);
  v1::HubUsage usage = Apply("まちあわせ", "H-DOWN", "durable");
  ASSERT_TRUE(Assess(usage, "durable-assess", &usage, Desk()).ok());
  delete case_;  // the case service goes away
  case_ = nullptr;

  // The decision stands; the enrollment waits for the case service.
  ASSERT_TRUE(Decide(usage, true, "durable-decide", &usage, Director()).ok());
  EXPECT_EQ(usage.state(), v1::HUB_USAGE_STATE_APPROVED);
  EXPECT_FALSE(usage.enrollment_synced());
  EXPECT_FALSE(GetUsage(usage, Director()).enrollment_synced());

  // Back again: the background retry records it.
  StartCaseService(absl::StrCat(case_port_));
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (!GetUsage(usage, Director()).enrollment_synced() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(GetUsage(usage, Director()).enrollment_synced());
  EXPECT_EQ(OperatorReadsCase(usage.case_(), "H-DOWN"), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace kosapo::referral
