// The referral service through real gRPC against a real PostgreSQL, with a
// real case service beside it (each in its own schema): the directory and
// its search, referrals from proposal to connection with effective dates,
// consent, invalid steps, overdue answers with an injected clock and
// revocation, the whole hub flow with its roles, opening hours and
// capacity, operators scoped to their hub, and the case service refusing
// or unreachable.
#include <grpcpp/client_context.h>

#include <fstream>
#include <memory>
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
         {"KOSAPO_PEER_TOKEN_FILE", token_file_}});
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
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
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

}  // namespace
}  // namespace kosapo::referral
