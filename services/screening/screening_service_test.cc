// The screening service in-process over real gRPC against a real PostgreSQL:
// the registry and enrollment API, its access rules and its events.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <memory>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/transaction>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/service/in_process.h"
#include "common/testing/opaque_ids.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/screening/v1/events.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/screening/screening_server.h"

namespace kosapo::screening {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ScreeningServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    auto service = testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir());
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
  }

  static void TearDownTestSuite() {
    delete service_;
    delete tokens_;
  }

  std::unique_ptr<v1::ScreeningService::Stub> Stub() {
    return v1::ScreeningService::NewStub(service_->channel());
  }

  // A client context acting as `role` for `municipality`.
  std::unique_ptr<grpc::ClientContext> As(auth::Role role,
                                          const std::string& municipality) {
    auth::Principal principal;
    principal.subject = "user:" + std::string(auth::RoleName(role));
    principal.role = role;
    principal.municipality = municipality;
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }

  // Registers municipality `code` with two areas and three schools.
  void RegisterCity(const std::string& code) {
    auto stub = Stub();
    v1::UpsertMunicipalityRequest municipality;
    municipality.mutable_municipality()->set_code(code);
    municipality.mutable_municipality()->set_display_name("テスト市");
    v1::Municipality stored;
    ASSERT_TRUE(
        stub->UpsertMunicipality(Ops(code).get(), municipality, &stored).ok());
    for (const auto& [area_code, name, order] :
         std::vector<std::tuple<std::string, std::string, int>>{
             {"A2", "南区", 2}, {"A1", "北区", 1}}) {
      v1::UpsertAreaRequest request;
      request.set_parent("municipalities/" + code);
      request.mutable_area()->set_code(area_code);
      request.mutable_area()->set_display_name(name);
      request.mutable_area()->set_display_order(order);
      v1::Area area;
      ASSERT_TRUE(stub->UpsertArea(Ops(code).get(), request, &area).ok());
    }
    for (const auto& [school_code, kind, area] :
         std::vector<std::tuple<std::string, v1::SchoolKind, std::string>>{
             {"E1", v1::SCHOOL_KIND_ELEMENTARY, "A1"},
             {"J1", v1::SCHOOL_KIND_JUNIOR_HIGH, "A2"},
             {"E2", v1::SCHOOL_KIND_ELEMENTARY, "A2"}}) {
      v1::UpsertSchoolRequest request;
      request.set_parent("municipalities/" + code);
      request.mutable_school()->set_code(school_code);
      request.mutable_school()->set_display_name("学校 " + school_code);
      request.mutable_school()->set_kind(kind);
      request.mutable_school()->set_area_code(area);
      v1::School school;
      ASSERT_TRUE(stub->UpsertSchool(Ops(code).get(), request, &school).ok());
    }
  }

  std::unique_ptr<grpc::ClientContext> Ops(const std::string& code) {
    return As(auth::Role::kCityOperations, code);
  }

  // Events of the screening feed whose subject starts with `prefix`.
  std::vector<events::v1::Event> Events(const std::string& prefix) {
    // As the case service reads it: its certificate is its identity.
    auto feed =
        events::v1::EventFeed::NewStub(service_->service_channel("case"));
    std::vector<events::v1::Event> out;
    int64_t after = 0;
    while (true) {
      auto context = std::make_unique<grpc::ClientContext>();
      events::v1::ListEventsRequest request;
      request.set_after_sequence(after);
      request.set_page_size(1000);
      events::v1::ListEventsResponse response;
      EXPECT_TRUE(feed->ListEvents(context.get(), request, &response).ok());
      for (const auto& event : response.events()) {
        if (event.subject().rfind(prefix, 0) == 0) {
          out.push_back(event);
        }
        after = event.sequence();
      }
      if (response.events_size() == 0) {
        return out;
      }
    }
  }

  grpc::Status ImportCsv(
      const std::string& code, int year, const std::string& csv,
      v1::ImportEnrollmentResponse* response,
      v1::CsvEncoding encoding = v1::CSV_ENCODING_UNSPECIFIED) {
    v1::ImportEnrollmentRequest request;
    request.set_parent("municipalities/" + code);
    request.set_fiscal_year(year);
    request.set_csv(csv);
    request.set_encoding(encoding);
    return Stub()->ImportEnrollment(Ops(code).get(), request, response);
  }

  int64_t Pupils(const std::string& code, int year) {
    v1::GetEnrollmentRequest request;
    request.set_parent("municipalities/" + code);
    request.set_fiscal_year(year);
    v1::Enrollment enrollment;
    EXPECT_TRUE(Stub()
                    ->GetEnrollment(As(auth::Role::kAnalyst, code).get(),
                                    request, &enrollment)
                    .ok());
    return enrollment.pupils();
  }

  static testing::TestTokens* tokens_;
  static testing::InProcessService* service_;
};

testing::TestTokens* ScreeningServiceTest::tokens_ = nullptr;
testing::InProcessService* ScreeningServiceTest::service_ = nullptr;

TEST_F(ScreeningServiceTest, MunicipalityUpsertIsIdempotentAndValidated) {
  auto stub = Stub();
  v1::UpsertMunicipalityRequest request;
  request.mutable_municipality()->set_code("27101");
  request.mutable_municipality()->set_display_name("一号市");
  v1::Municipality first, second;
  ASSERT_TRUE(
      stub->UpsertMunicipality(Ops("27101").get(), request, &first).ok());
  EXPECT_EQ(first.name(), "municipalities/27101");
  EXPECT_EQ(first.time_zone(), "Asia/Tokyo");
  ASSERT_TRUE(
      stub->UpsertMunicipality(Ops("27101").get(), request, &second).ok());
  EXPECT_EQ(second.update_time().seconds(), first.update_time().seconds());
  EXPECT_EQ(second.update_time().nanos(), first.update_time().nanos());

  request.mutable_municipality()->set_code("271");
  grpc::Status bad =
      stub->UpsertMunicipality(Ops("271").get(), request, &second);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("municipality.code"));

  request.mutable_municipality()->set_code("27101");
  request.mutable_municipality()->set_time_zone("Mars/Olympus");
  bad = stub->UpsertMunicipality(Ops("27101").get(), request, &second);
  EXPECT_THAT(bad.error_message(), HasSubstr("municipality.time_zone"));
}

TEST_F(ScreeningServiceTest, OnlyTheCitysOwnOperationsMayWriteTheRegistry) {
  auto stub = Stub();
  v1::UpsertMunicipalityRequest request;
  request.mutable_municipality()->set_code("27102");
  request.mutable_municipality()->set_display_name("二号市");
  v1::Municipality out;
  EXPECT_EQ(stub->UpsertMunicipality(
                    As(auth::Role::kSchoolStaff, "27102").get(), request, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      stub->UpsertMunicipality(Ops("27203").get(), request, &out).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext anonymous;
  EXPECT_EQ(stub->UpsertMunicipality(&anonymous, request, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(stub->UpsertMunicipality(Ops("27102").get(), request, &out).ok());

  v1::GetMunicipalityRequest get;
  get.set_name("municipalities/27102");
  EXPECT_TRUE(
      stub->GetMunicipality(As(auth::Role::kAnalyst, "27102").get(), get, &out)
          .ok());
  EXPECT_EQ(
      stub->GetMunicipality(As(auth::Role::kAnalyst, "27203").get(), get, &out)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ScreeningServiceTest, AreasListInDisplayOrderAndChangesAreEventsOnce) {
  RegisterCity("27103");
  v1::ListAreasRequest list;
  list.set_parent("municipalities/27103");
  v1::ListAreasResponse areas;
  ASSERT_TRUE(
      Stub()
          ->ListAreas(As(auth::Role::kAnalyst, "27103").get(), list, &areas)
          .ok());
  ASSERT_EQ(areas.areas_size(), 2);
  EXPECT_EQ(areas.areas(0).code(), "A1");
  EXPECT_EQ(areas.areas(1).name(), "municipalities/27103/areas/A2");
  EXPECT_EQ(Events("municipalities/27103/areas/").size(), 2u);

  RegisterCity("27103");  // everything again: no change, no event
  EXPECT_EQ(Events("municipalities/27103/areas/").size(), 2u);
  EXPECT_EQ(Events("municipalities/27103/schools/").size(), 3u);

  v1::UpsertAreaRequest rename;
  rename.set_parent("municipalities/27103");
  rename.mutable_area()->set_code("A1");
  rename.mutable_area()->set_display_name("北区（新）");
  rename.mutable_area()->set_display_order(1);
  v1::Area renamed;
  ASSERT_TRUE(Stub()->UpsertArea(Ops("27103").get(), rename, &renamed).ok());
  const auto area_events = Events("municipalities/27103/areas/A1");
  ASSERT_EQ(area_events.size(), 2u);
  v1::AreaChanged changed;
  ASSERT_TRUE(area_events[1].payload().UnpackTo(&changed));
  EXPECT_EQ(changed.area().display_name(), "北区（新）");
  EXPECT_EQ(changed.municipality_code(), "27103");
}

TEST_F(ScreeningServiceTest, AreaAndSchoolRulesNameTheField) {
  RegisterCity("27104");
  v1::UpsertAreaRequest clash;
  clash.set_parent("municipalities/27104");
  clash.mutable_area()->set_code("A3");
  clash.mutable_area()->set_display_name("東区");
  clash.mutable_area()->set_display_order(1);
  v1::Area area;
  grpc::Status status = Stub()->UpsertArea(Ops("27104").get(), clash, &area);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("area.display_order"));

  clash.set_parent("municipalities/27999");
  status = Stub()->UpsertArea(Ops("27999").get(), clash, &area);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("27999 is not registered"));

  v1::UpsertSchoolRequest school;
  school.set_parent("municipalities/27104");
  school.mutable_school()->set_code("E9");
  school.mutable_school()->set_display_name("第九小学校");
  school.mutable_school()->set_kind(v1::SCHOOL_KIND_ELEMENTARY);
  school.mutable_school()->set_area_code("NOPE");
  v1::School stored;
  status = Stub()->UpsertSchool(Ops("27104").get(), school, &stored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("school.area_code"));

  school.mutable_school()->set_area_code("A1");
  school.mutable_school()->clear_kind();
  status = Stub()->UpsertSchool(Ops("27104").get(), school, &stored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("school.kind"));
}

TEST_F(ScreeningServiceTest, SchoolsPageInAreaOrder) {
  RegisterCity("27105");
  std::vector<std::string> codes;
  std::string token;
  int pages = 0;
  do {
    v1::ListSchoolsRequest request;
    request.set_parent("municipalities/27105");
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListSchoolsResponse response;
    ASSERT_TRUE(Stub()
                    ->ListSchools(As(auth::Role::kSchoolStaff, "27105").get(),
                                  request, &response)
                    .ok());
    for (const auto& school : response.schools()) {
      codes.push_back(school.code());
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(codes, ElementsAre("E1", "E2", "J1"));  // A1's, then A2's
}

TEST_F(ScreeningServiceTest, EnrollmentLoadReplacesTheYearAndRepeatsAreNoOps) {
  RegisterCity("27106");
  v1::ImportEnrollmentResponse response;
  ASSERT_TRUE(ImportCsv("27106", 2023,
                        "school_code,grade,pupils\nE1,1,30\nE1,2,31\nJ1,0,90\n",
                        &response)
                  .ok());
  EXPECT_FALSE(response.unchanged());
  EXPECT_EQ(response.rows(), 3);
  EXPECT_EQ(response.schools(), 2);
  EXPECT_EQ(Pupils("27106", 2023), 151);

  ASSERT_TRUE(
      ImportCsv("27106", 2023,
                "pupils,school_code,grade\r\n90,J1,0\r\n31,E1,2\r\n30,E1,1\r\n",
                &response)
          .ok());
  EXPECT_TRUE(response.unchanged());
  EXPECT_EQ(Events("municipalities/27106/enrollment/2023").size(), 1u);

  // A corrected load replaces, never adds up.
  ASSERT_TRUE(ImportCsv("27106", 2023,
                        "school_code,pupils\nE1,60\nJ1,88\nE2,10\n", &response)
                  .ok());
  EXPECT_EQ(Pupils("27106", 2023), 158);
  EXPECT_EQ(Pupils("27106", 2022), 0);
  const auto loads = Events("municipalities/27106/enrollment/2023");
  ASSERT_EQ(loads.size(), 2u);
  v1::EnrollmentLoaded loaded;
  ASSERT_TRUE(loads[1].payload().UnpackTo(&loaded));
  EXPECT_EQ(loaded.fiscal_year(), 2023);
  EXPECT_EQ(loaded.schools_size(), 3);

  v1::GetEnrollmentRequest get;
  get.set_parent("municipalities/27106");
  get.set_fiscal_year(2023);
  v1::Enrollment enrollment;
  ASSERT_TRUE(Stub()
                  ->GetEnrollment(As(auth::Role::kAnalyst, "27106").get(), get,
                                  &enrollment)
                  .ok());
  ASSERT_EQ(enrollment.areas_size(), 2);
  EXPECT_EQ(enrollment.areas(0).area_code(), "A1");
  EXPECT_EQ(enrollment.areas(0).pupils(), 60);
  EXPECT_EQ(enrollment.areas(1).pupils(), 98);
}

TEST_F(ScreeningServiceTest,
       BadEnrollmentRowsAreAllReportedAndNothingIsStored) {
  RegisterCity("27107");
  v1::ImportEnrollmentResponse response;
  ASSERT_TRUE(
      ImportCsv("27107", 2023, "school_code,pupils\nE1,10\n", &response).ok());
  const grpc::Status status =
      ImportCsv("27107", 2023,
                "school_code,grade,pupils\n"
                "E1,1,30\n"
                "XX,1,5\n"     // unknown school
                "E1,7,5\n"     // no grade 7 in an elementary school
                "J1,1,many\n"  // not a number
                "E1,1,3\n"     // duplicate
                "E2,0,4\n"
                "E2,2,4\n",  // total mixed with grades
                &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string& message = status.error_message();
  EXPECT_THAT(message,
              HasSubstr("line 3 school_code: school 'XX' is not registered"));
  EXPECT_THAT(message, HasSubstr("line 4 grade: grade 7 is outside 1..6"));
  EXPECT_THAT(message, HasSubstr("line 5 pupils: not a whole number"));
  EXPECT_THAT(message, HasSubstr("line 6 grade:"));
  EXPECT_THAT(message, HasSubstr("already given at line 2"));
  EXPECT_THAT(message, HasSubstr("line 8 grade:"));
  EXPECT_EQ(Pupils("27107", 2023), 10);  // the earlier load stands

  const grpc::Status missing_column =
      ImportCsv("27107", 2023, "school,pupils\nE1,10\n", &response);
  EXPECT_EQ(missing_column.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing_column.error_message(), HasSubstr("school_code"));
}

TEST_F(ScreeningServiceTest, EnrollmentCsvInShiftJisIsRead) {
  RegisterCity("27108");
  // "学校,児童数" is not needed: the header is ASCII, but a school export
  // carries a Japanese note column in CP932.
  const std::string cp932 =
      "school_code,pupils,note\r\nE1,12,\x94\xf5\x8d\x6c\r\nJ1,30,\x87\x40\r\n";
  v1::ImportEnrollmentResponse response;
  ASSERT_TRUE(ImportCsv("27108", 2023, cp932, &response).ok());
  EXPECT_EQ(response.pupils(), 42);
  const grpc::Status wrong =
      ImportCsv("27108", 2024, cp932, &response, v1::CSV_ENCODING_UTF8);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(wrong.error_message(), HasSubstr("line 2"));
}

TEST_F(ScreeningServiceTest, EnrollmentNeedsOperationsOfThatCity) {
  RegisterCity("27109");
  v1::ImportEnrollmentRequest request;
  request.set_parent("municipalities/27109");
  request.set_fiscal_year(2023);
  request.set_csv("school_code,pupils\nE1,1\n");
  v1::ImportEnrollmentResponse response;
  EXPECT_EQ(
      Stub()
          ->ImportEnrollment(As(auth::Role::kSchoolManager, "27109").get(),
                             request, &response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  request.set_fiscal_year(1900);
  const grpc::Status year =
      Stub()->ImportEnrollment(Ops("27109").get(), request, &response);
  EXPECT_EQ(year.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(year.error_message(), HasSubstr("fiscal_year"));
}

TEST_F(ScreeningServiceTest, ShippedDefaultTemplateIsListedAndReadable) {
  v1::ListTemplatesResponse templates;
  ASSERT_TRUE(Stub()
                  ->ListTemplates(As(auth::Role::kSchoolStaff, "27110").get(),
                                  v1::ListTemplatesRequest(), &templates)
                  .ok());
  const v1::Template* shipped = nullptr;
  for (const auto& listed : templates.templates()) {
    if (listed.key() == "default") {
      shipped = &listed;
    }
  }
  ASSERT_NE(shipped, nullptr);
  EXPECT_GE(shipped->items_size(), 30);
  EXPECT_EQ(shipped->categories_size(), 8);
  v1::GetTemplateRequest get;
  get.set_name(shipped->name());
  v1::Template fetched;
  ASSERT_TRUE(Stub()
                  ->GetTemplate(As(auth::Role::kSchoolStaff, "27110").get(),
                                get, &fetched)
                  .ok());
  EXPECT_EQ(fetched.items_size(), shipped->items_size());
  get.set_name("templates/default/versions/999");
  EXPECT_EQ(Stub()
                ->GetTemplate(As(auth::Role::kSchoolStaff, "27110").get(), get,
                              &fetched)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

v1::Template SmallTemplate(const std::string& key, double weight) {
  v1::Template t;
  t.set_key(key);
  t.set_title_ja("小さなシート");
  t.set_title_en("Small sheet");
  t.set_review_threshold(1.0);
  auto* category = t.add_categories();
  category->set_code("meals");
  category->set_label_ja("食事");
  category->set_label_en("Meals");
  auto* item = t.add_items();
  item->set_code("meals_no_breakfast");
  item->set_category("meals");
  item->set_label_ja("朝食を食べていない");
  item->set_label_en("No breakfast");
  item->set_kind(v1::ANSWER_KIND_LEVEL);
  item->set_max_level(3);
  item->set_weight(weight);
  return t;
}

TEST_F(ScreeningServiceTest,
       TemplateVersionsAreNewRecordsAndRetriesDoNotDuplicate) {
  RegisterCity("27110");  // the template's owner
  v1::CreateTemplateVersionRequest request;
  *request.mutable_template_() = SmallTemplate("city27110", 2.0);
  v1::Template first, retry, second;
  ASSERT_TRUE(
      Stub()->CreateTemplateVersion(Ops("27110").get(), request, &first).ok());
  EXPECT_EQ(first.version(), 1);
  EXPECT_EQ(first.name(), "templates/city27110/versions/1");
  ASSERT_TRUE(
      Stub()->CreateTemplateVersion(Ops("27110").get(), request, &retry).ok());
  EXPECT_EQ(retry.version(), 1);
  *request.mutable_template_() = SmallTemplate("city27110", 3.0);
  ASSERT_TRUE(
      Stub()->CreateTemplateVersion(Ops("27110").get(), request, &second).ok());
  EXPECT_EQ(second.version(), 2);

  v1::GetTemplateRequest get;
  get.set_name("templates/city27110/versions/1");
  v1::Template v1_again;
  ASSERT_TRUE(Stub()->GetTemplate(Ops("27110").get(), get, &v1_again).ok());
  EXPECT_DOUBLE_EQ(v1_again.items(0).weight(), 2.0);  // untouched by v2

  *request.mutable_template_() = SmallTemplate("city27110", -1.0);
  const grpc::Status bad =
      Stub()->CreateTemplateVersion(Ops("27110").get(), request, &second);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("template.items[0].weight"));
  EXPECT_EQ(
      Stub()
          ->CreateTemplateVersion(As(auth::Role::kSchoolManager, "27110").get(),
                                  request, &second)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

v1::CreateRoundRequest RoundRequest(const std::string& code,
                                    const std::string& request_id) {
  v1::CreateRoundRequest request;
  request.set_parent("municipalities/" + code);
  request.set_request_id(request_id);
  v1::Round* round = request.mutable_round();
  round->set_fiscal_year(2023);
  round->set_title("令和5年度 第1回");
  round->set_template_("templates/default/versions/1");
  round->mutable_open_date()->set_year(2023);
  round->mutable_open_date()->set_month(6);
  round->mutable_open_date()->set_day(1);
  round->mutable_close_date()->set_year(2023);
  round->mutable_close_date()->set_month(7);
  round->mutable_close_date()->set_day(31);
  return request;
}

// A template belongs to the municipality that published it: no other
// municipality publishes its versions or uses it for a round, and the
// shipped default, every municipality's, is changed by none.
TEST_F(ScreeningServiceTest, TemplatesBelongToTheirMunicipality) {
  RegisterCity("27113");
  RegisterCity("27114");
  v1::CreateTemplateVersionRequest request;
  *request.mutable_template_() = SmallTemplate("city27113", 2.0);
  v1::Template own;
  ASSERT_TRUE(
      Stub()->CreateTemplateVersion(Ops("27113").get(), request, &own).ok());
  EXPECT_EQ(own.municipality(), "municipalities/27113");

  // Another city's operations: not a version of 27113's template.
  *request.mutable_template_() = SmallTemplate("city27113", 3.0);
  v1::Template out;
  const grpc::Status foreign =
      Stub()->CreateTemplateVersion(Ops("27114").get(), request, &out);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(foreign.error_message(),
              HasSubstr("template.key: city27113 belongs to municipality "
                        "27113"));
  v1::GetTemplateRequest get;
  get.set_name("templates/city27113/versions/2");
  EXPECT_EQ(Stub()->GetTemplate(Ops("27113").get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A token naming no municipality publishes nothing: a template has one.
  const grpc::Status nobody =
      Stub()->CreateTemplateVersion(Ops("").get(), request, &out);
  EXPECT_EQ(nobody.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(nobody.error_message(), HasSubstr("acts for no municipality"));
  // Its own operations: the next version.
  ASSERT_TRUE(
      Stub()->CreateTemplateVersion(Ops("27113").get(), request, &out).ok());
  EXPECT_EQ(out.name(), "templates/city27113/versions/2");
  EXPECT_EQ(out.municipality(), "municipalities/27113");

  // The shared default: no one's to change, not even with its own content.
  get.set_name("templates/default/versions/1");
  v1::Template shipped;
  ASSERT_TRUE(Stub()->GetTemplate(Ops("27114").get(), get, &shipped).ok());
  EXPECT_EQ(shipped.municipality(), "");
  for (double weight : {shipped.items(0).weight(), 2.5}) {
    *request.mutable_template_() = shipped;
    request.mutable_template_()->mutable_items(0)->set_weight(weight);
    const grpc::Status shared =
        Stub()->CreateTemplateVersion(Ops("27114").get(), request, &out);
    EXPECT_EQ(shared.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(shared.error_message(),
                HasSubstr("default is a shared template and read-only"));
  }
  get.set_name("templates/default/versions/2");
  EXPECT_EQ(Stub()->GetTemplate(Ops("27114").get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A copy of the default under a key of its own is the city's.
  *request.mutable_template_() = shipped;
  request.mutable_template_()->set_key("city27114");
  ASSERT_TRUE(
      Stub()->CreateTemplateVersion(Ops("27114").get(), request, &out).ok());
  EXPECT_EQ(out.municipality(), "municipalities/27114");

  // Every municipality reads every template.
  get.set_name("templates/city27113/versions/1");
  ASSERT_TRUE(
      Stub()
          ->GetTemplate(As(auth::Role::kSchoolStaff, "27114").get(), get, &out)
          .ok());
  EXPECT_EQ(out.municipality(), "municipalities/27113");

  // Rounds: their own municipality's templates or the shared one.
  v1::Round round;
  auto with = [](v1::CreateRoundRequest r, const std::string& tmpl) {
    r.mutable_round()->set_template_(tmpl);
    return r;
  };
  const grpc::Status borrowed = Stub()->CreateRound(
      Ops("27114").get(),
      with(RoundRequest("27114", "t-1"), "templates/city27113/versions/1"),
      &round);
  EXPECT_EQ(borrowed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(borrowed.error_message(),
              HasSubstr("round.template: templates/city27113/versions/1 "
                        "belongs to municipality 27113"));
  v1::ListRoundsRequest list;
  list.set_parent("municipalities/27114");
  v1::ListRoundsResponse rounds;
  ASSERT_TRUE(Stub()->ListRounds(Ops("27114").get(), list, &rounds).ok());
  EXPECT_EQ(rounds.rounds_size(), 0);
  EXPECT_TRUE(Stub()
                  ->CreateRound(Ops("27113").get(),
                                with(RoundRequest("27113", "t-1"),
                                     "templates/city27113/versions/1"),
                                &round)
                  .ok());
  EXPECT_TRUE(Stub()
                  ->CreateRound(Ops("27114").get(),
                                with(RoundRequest("27114", "t-2"),
                                     "templates/city27114/versions/1"),
                                &round)
                  .ok());
  EXPECT_TRUE(Stub()
                  ->CreateRound(Ops("27114").get(),
                                RoundRequest("27114", "t-3"), &round)
                  .ok());

  // The database holds the same rule for a writer that skips the service.
  pqxx::connection admin(SharedPgCluster().AdminUrl());
  pqxx::work tx(admin);
  EXPECT_THROW(
      tx.exec0("INSERT INTO screening.rounds (municipality, fiscal_year,"
               " title, template_key, template_version, open_date,"
               " close_date, request_id, created_by)"
               " VALUES ('27114', 2023, 'x', 'city27113', 1, '2023-06-01',"
               " '2023-07-31', 'sql-1', 'test')"),
      pqxx::check_violation);
}

TEST_F(ScreeningServiceTest, RoundsAreIdempotentOnRequestIdAndCanBeClosed) {
  RegisterCity("27111");
  v1::Round first, retry, other;
  ASSERT_TRUE(Stub()
                  ->CreateRound(Ops("27111").get(),
                                RoundRequest("27111", "r-1"), &first)
                  .ok());
  EXPECT_EQ(first.state(), v1::ROUND_STATE_OPEN);
  ASSERT_TRUE(Stub()
                  ->CreateRound(Ops("27111").get(),
                                RoundRequest("27111", "r-1"), &retry)
                  .ok());
  EXPECT_EQ(retry.name(), first.name());
  ASSERT_TRUE(Stub()
                  ->CreateRound(Ops("27111").get(),
                                RoundRequest("27111", "r-2"), &other)
                  .ok());
  EXPECT_NE(other.name(), first.name());

  v1::ListRoundsRequest list;
  list.set_parent("municipalities/27111");
  list.set_fiscal_year(2023);
  v1::ListRoundsResponse rounds;
  ASSERT_TRUE(Stub()
                  ->ListRounds(As(auth::Role::kSchoolStaff, "27111").get(),
                               list, &rounds)
                  .ok());
  EXPECT_EQ(rounds.rounds_size(), 2);

  v1::CloseRoundRequest close;
  close.set_name(first.name());
  v1::Round closed;
  ASSERT_TRUE(Stub()->CloseRound(Ops("27111").get(), close, &closed).ok());
  EXPECT_EQ(closed.state(), v1::ROUND_STATE_CLOSED);
  ASSERT_TRUE(Stub()->CloseRound(Ops("27111").get(), close, &closed).ok());
  EXPECT_EQ(Stub()->CloseRound(Ops("27203").get(), close, &closed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetRoundRequest get;
  get.set_name(first.name());
  v1::Round fetched;
  ASSERT_TRUE(
      Stub()
          ->GetRound(As(auth::Role::kAnalyst, "27111").get(), get, &fetched)
          .ok());
  EXPECT_EQ(fetched.state(), v1::ROUND_STATE_CLOSED);
  EXPECT_EQ(fetched.close_date().month(), 7);
}

// Round ids (municipalities/{m}/rounds/{id}, and the meetings under them)
// tell nothing of other municipalities: rounds created one after the
// other get ids that neither increase nor sit one apart, as a sequence
// shared by every city would. Rounds of one open date still list in the
// order they were created.
TEST_F(ScreeningServiceTest, RoundIdsTellNothingOfOtherRecords) {
  RegisterCity("27115");
  std::vector<std::string> created;
  for (int i = 0; i < 20; ++i) {
    v1::Round round;
    const grpc::Status status = Stub()->CreateRound(
        Ops("27115").get(), RoundRequest("27115", absl::StrCat("ids-", i)),
        &round);
    ASSERT_TRUE(status.ok()) << status.error_message();
    created.push_back(round.name());
  }
  kosapo::testing::ExpectOpaqueIds(created);

  v1::ListRoundsRequest list;
  list.set_parent("municipalities/27115");
  v1::ListRoundsResponse rounds;
  ASSERT_TRUE(Stub()
                  ->ListRounds(As(auth::Role::kSchoolStaff, "27115").get(),
                               list, &rounds)
                  .ok());
  std::vector<std::string> listed;
  for (const v1::Round& round : rounds.rounds()) {
    listed.push_back(round.name());
  }
  EXPECT_EQ(listed, created);
}

TEST_F(ScreeningServiceTest, RoundRulesNameTheField) {
  RegisterCity("27112");
  v1::Round out;
  auto request = RoundRequest("27112", "bad-1");
  request.mutable_round()->mutable_close_date()->set_month(5);
  grpc::Status status = Stub()->CreateRound(Ops("27112").get(), request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("round.close_date"));

  request = RoundRequest("27112", "bad-2");
  request.mutable_round()->mutable_open_date()->set_day(31);  // 31 June
  status = Stub()->CreateRound(Ops("27112").get(), request, &out);
  EXPECT_THAT(status.error_message(), HasSubstr("round.open_date"));

  request = RoundRequest("27112", "bad-3");
  request.mutable_round()->mutable_close_date()->set_year(2024);
  request.mutable_round()->mutable_close_date()->set_month(4);
  request.mutable_round()->mutable_close_date()->set_day(1);
  status = Stub()->CreateRound(Ops("27112").get(), request, &out);
  EXPECT_THAT(status.error_message(), HasSubstr("within fiscal year 2023"));

  request = RoundRequest("27112", "bad-4");
  request.mutable_round()->set_template_("templates/nope/versions/1");
  status = Stub()->CreateRound(Ops("27112").get(), request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("round.template"));

  request = RoundRequest("27112", "");
  status = Stub()->CreateRound(Ops("27112").get(), request, &out);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
}

}  // namespace
}  // namespace kosapo::screening
