// The ward comparison built from what happened in the screening and case
// services, all three running over real gRPC against one PostgreSQL: counts
// and published rates of an area and the city, "as of" a day in the middle
// of the year, a zero denominator shown as "-", projections that never
// count a re-delivered event twice, and catching up after the reporting
// service was down while cases changed; flag directions from the
// service's configuration; and the exports streamed by
// ExportWardComparison.
#include "services/reporting/api/reporting_service.h"

#include <grpcpp/client_context.h>

#include <fstream>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/reporting/export/ward_export.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace kosapo::reporting {
namespace {

using ::kosapo::testing::SharedPgCluster;
namespace cv1 = ::kosapo::cases::v1;
namespace sv1 = ::kosapo::screening::v1;

constexpr char kCity[] = "27204";

absl::CivilDay Today() { return *DayIn(absl::Now(), "Asia/Tokyo"); }

class ReportingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    token_file_ = SharedPgCluster().data_dir() + "/reporting.token";
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:reporting");
    auto screening = testing::InProcessService::Start(
        screening::Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir());
    ASSERT_TRUE(screening.ok()) << screening.status();
    screening_ = screening->release();
    auto cases = testing::InProcessService::Start(
        cases::Definition(), SharedPgCluster(), *tokens_,
        SharedPgCluster().data_dir(), PeerEnv());
    ASSERT_TRUE(cases.ok()) << cases.status();
    case_ = cases->release();
    StartReporting();
  }

  static void TearDownTestSuite() {
    delete reporting_;
    delete case_;
    delete screening_;
    delete tokens_;
  }

  static std::map<std::string, std::string> PeerEnv() {
    std::map<std::string, std::string> env = {
        {"KOSAPO_PEER_TOKEN_FILE", token_file_},
        {"KOSAPO_SCREENING_ADDRESS",
         absl::StrCat("127.0.0.1:", screening_->runtime().port())}};
    if (case_ != nullptr) {
      env["KOSAPO_CASE_ADDRESS"] =
          absl::StrCat("127.0.0.1:", case_->runtime().port());
    }
    return env;
  }

  // `options` add the reporting service's own settings to the peers'.
  static void StartReporting(
      const std::map<std::string, std::string>& options = {}) {
    delete reporting_;
    reporting_ = nullptr;
    std::map<std::string, std::string> env = PeerEnv();
    env.insert(options.begin(), options.end());
    auto reporting = testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_, SharedPgCluster().data_dir(),
        env);
    ASSERT_TRUE(reporting.ok()) << reporting.status();
    reporting_ = reporting->release();
  }
  static void StopReporting() {
    delete reporting_;
    reporting_ = nullptr;
  }

  static std::unique_ptr<grpc::ClientContext> As(auth::Role role) {
    return screening::testing::ContextAs(*tokens_, role, kCity);
  }

  // Waits until reporting has applied both feeds up to their heads.
  static void CatchUp() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    for (const auto& [source, producer] :
         std::vector<std::pair<std::string, testing::InProcessService*>>{
             {"screening", screening_}, {"case", case_}}) {
      const absl::Status applied =
          testing::WaitForConsumer(SharedPgCluster(), "reporting", source,
                                   *producer, *tokens_, deadline - absl::Now());
      ASSERT_TRUE(applied.ok()) << applied;
    }
  }

  static v1::WardComparison Comparison(int fiscal_year,
                                       const kosapo::type::Date* as_of) {
    v1::GetWardComparisonRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_fiscal_year(fiscal_year);
    if (as_of != nullptr) {
      *request.mutable_as_of() = *as_of;
    }
    v1::WardComparison comparison;
    const grpc::Status status =
        v1::ReportingService::NewStub(reporting_->channel())
            ->GetWardComparison(As(auth::Role::kAnalyst).get(), request,
                                &comparison);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return comparison;
  }

  static const v1::WardRow* RowOf(const v1::WardComparison& comparison,
                                  v1::RowKind kind,
                                  const std::string& area = "") {
    for (const v1::WardRow& row : comparison.rows()) {
      if (row.kind() == kind && (area.empty() || row.area_code() == area)) {
        return &row;
      }
    }
    return nullptr;
  }

  static cv1::Case OpenCase(const std::string& kana, int n) {
    cv1::CreateCaseRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_request_id(absl::StrCat("reporting-case-", n));
    cv1::Case* c = request.mutable_case_();
    c->set_area_code("A1");
    c->set_source(cv1::CASE_SOURCE_AGENCY);
    *c->mutable_opened_date() = DateToProto(FiscalYearStart());
    c->mutable_child()->set_name(absl::StrCat("児童 ", n));
    c->mutable_child()->set_kana(kana);
    *c->mutable_child()->mutable_birth_date() =
        DateToProto(absl::CivilDay(2015, 4, 1) + n);
    cv1::Case created;
    const grpc::Status status =
        cv1::CaseService::NewStub(case_->channel())
            ->CreateCase(As(auth::Role::kWardOfficer).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static void Approach(
      const cv1::Case& c, cv1::ApproachStatus status, absl::CivilDay day,
      const std::string& request_id,
      cv1::NotPossibleReason reason = cv1::NOT_POSSIBLE_REASON_UNSPECIFIED) {
    cv1::ChangeApproachStatusRequest request;
    request.set_name(c.name());
    request.set_status(status);
    request.set_reason(reason);
    *request.mutable_effective_date() = DateToProto(day);
    request.set_request_id(request_id);
    cv1::Case out;
    const grpc::Status done =
        cv1::CaseService::NewStub(case_->channel())
            ->ChangeApproachStatus(As(auth::Role::kWardOfficer).get(), request,
                                   &out);
    EXPECT_TRUE(done.ok()) << done.error_message();
  }

  // A town of its own with areas A1 (English name "Ward One") and A2 (none),
  // two cases in each, outreach done for one in A1 and both in A2: column 5
  // (④/②) is 50.0 in A1, 100.0 in A2 and 75.0 in the town. Request ids and
  // names start with `tag`. Returns the town's city operations.
  static auth::Principal SeedTwoWardTown(const std::string& town,
                                         const std::string& tag) {
    const std::string parent = absl::StrCat("municipalities/", town);
    auth::Principal officer;
    officer.subject = absl::StrCat("user:", tag, "-officer");
    officer.role = auth::Role::kWardOfficer;
    officer.municipality = town;
    officer.areas = {"A1", "A2"};
    auth::Principal operations = officer;
    operations.subject = absl::StrCat("user:", tag, "-operations");
    operations.role = auth::Role::kCityOperations;
    auto screening = sv1::ScreeningService::NewStub(screening_->channel());
    sv1::UpsertMunicipalityRequest municipality;
    municipality.mutable_municipality()->set_code(town);
    municipality.mutable_municipality()->set_display_name(
        absl::StrCat(tag, "町"));
    sv1::Municipality stored;
    EXPECT_TRUE(
        screening
            ->UpsertMunicipality(testing::ContextAs(*tokens_, operations).get(),
                                 municipality, &stored)
            .ok());
    for (int n : {1, 2}) {
      sv1::UpsertAreaRequest area;
      area.set_parent(parent);
      area.mutable_area()->set_code(absl::StrCat("A", n));
      area.mutable_area()->set_display_name(absl::StrCat("区", n));
      area.mutable_area()->set_display_order(n);
      if (n == 1) {
        area.mutable_area()->set_display_name_en("Ward One");
      }
      sv1::Area a;
      EXPECT_TRUE(
          screening
              ->UpsertArea(testing::ContextAs(*tokens_, operations).get(), area,
                           &a)
              .ok());
    }
    auto cases = cv1::CaseService::NewStub(case_->channel());
    for (int n = 0; n < 4; ++n) {
      cv1::CreateCaseRequest request;
      request.set_parent(parent);
      request.set_request_id(absl::StrCat(tag, "-case-", n));
      cv1::Case* c = request.mutable_case_();
      c->set_area_code(n < 2 ? "A1" : "A2");
      c->set_source(cv1::CASE_SOURCE_AGENCY);
      *c->mutable_opened_date() = DateToProto(FiscalYearStart());
      c->mutable_child()->set_name(absl::StrCat(tag, " ", n));
      c->mutable_child()->set_kana(
          std::vector<std::string>{"はた", "はだ", "ばた", "ぱた"}[n]);
      *c->mutable_child()->mutable_birth_date() =
          DateToProto(absl::CivilDay(2014, 5, 1) + n);
      cv1::Case created;
      const grpc::Status opened = cases->CreateCase(
          testing::ContextAs(*tokens_, officer).get(), request, &created);
      EXPECT_TRUE(opened.ok()) << opened.error_message();
      if (n == 0) {
        continue;
      }
      cv1::ChangeApproachStatusRequest approach;
      approach.set_name(created.name());
      approach.set_status(cv1::APPROACH_STATUS_OUTREACH_DONE);
      *approach.mutable_effective_date() = DateToProto(FiscalYearStart());
      approach.set_request_id(absl::StrCat(tag, "-outreach-", n));
      cv1::Case changed;
      const grpc::Status done = cases->ChangeApproachStatus(
          testing::ContextAs(*tokens_, officer).get(), approach, &changed);
      EXPECT_TRUE(done.ok()) << done.error_message();
    }
    return operations;
  }

  static absl::CivilDay FiscalYearStart() {
    return absl::CivilDay(FiscalYearOf(Today()), 4, 1);
  }

  static testing::TestTokens* tokens_;
  static std::string token_file_;
  static testing::InProcessService* screening_;
  static testing::InProcessService* case_;
  static testing::InProcessService* reporting_;
};

testing::TestTokens* ReportingTest::tokens_ = nullptr;
std::string ReportingTest::token_file_;
testing::InProcessService* ReportingTest::screening_ = nullptr;
testing::InProcessService* ReportingTest::case_ = nullptr;
testing::InProcessService* ReportingTest::reporting_ = nullptr;

TEST_F(ReportingTest, WardComparisonFromWhatHappenedInTheServices) {
  const int year = FiscalYearOf(Today());
  auto screening_stub = sv1::ScreeningService::NewStub(screening_->channel());
  auto meeting =
      screening::testing::SeedMeeting(*screening_stub, *tokens_, kCity);
  ASSERT_TRUE(meeting.ok()) << meeting.status();
  sv1::ImportEnrollmentRequest enrollment;
  enrollment.set_parent(absl::StrCat("municipalities/", kCity));
  enrollment.set_fiscal_year(year);
  enrollment.set_csv("school_code,pupils\nE1,120\n");
  sv1::ImportEnrollmentResponse loaded;
  ASSERT_TRUE(screening_stub
                  ->ImportEnrollment(As(auth::Role::kCityOperations).get(),
                                     enrollment, &loaded)
                  .ok());
  // One extracted pupil (its case opens by itself) and three referrals.
  ASSERT_TRUE(screening::testing::DecidePupil(*screening_stub, *tokens_, kCity,
                                              *meeting,
                                              sv1::DECISION_OUTCOME_EXTRACT)
                  .ok());
  const cv1::Case done = OpenCase("あいだ", 1);
  const cv1::Case unable = OpenCase("いいだ", 2);
  OpenCase("うえだ", 3);
  const absl::CivilDay today = Today();
  Approach(done, cv1::APPROACH_STATUS_OUTREACH_DONE, today, "r-done");
  Approach(unable, cv1::APPROACH_STATUS_NOT_POSSIBLE, FiscalYearStart(),
           "r-unable", cv1::NOT_POSSIBLE_REASON_REFUSED);
  CatchUp();

  v1::WardComparison comparison = Comparison(year, nullptr);
  EXPECT_EQ(comparison.as_of().month(), 3);
  EXPECT_EQ(comparison.as_of().year(), year + 1);
  ASSERT_EQ(comparison.columns_size(), 18);
  const v1::WardRow* area = RowOf(comparison, v1::ROW_KIND_AREA, "A1");
  ASSERT_NE(area, nullptr);
  EXPECT_EQ(area->label_ja(), "北区");
  auto cell = [](const v1::WardRow& row, int column) -> const v1::Cell& {
    return row.cells(column - 1);
  };
  EXPECT_EQ(cell(*area, 1).count(), 120);
  EXPECT_EQ(cell(*area, 2).count(), 4);
  EXPECT_EQ(cell(*area, 3).published(), "3.3");  // 4 / 120
  EXPECT_EQ(cell(*area, 3).numerator(), 4);
  EXPECT_EQ(cell(*area, 3).denominator(), 120);
  EXPECT_EQ(cell(*area, 4).count(), 1);
  EXPECT_EQ(cell(*area, 5).published(), "25.0");
  EXPECT_EQ(cell(*area, 6).count(), 0);  // no support connected yet
  EXPECT_EQ(cell(*area, 8).published(), "0.0");
  EXPECT_EQ(cell(*area, 11).count(), 2);
  EXPECT_EQ(cell(*area, 13).count(), 1);
  EXPECT_EQ(cell(*area, 14).published(), "25.0");  // 100 - 25.0 - 50.0
  EXPECT_EQ(cell(*area, 18).published(), "-");     // nothing connected
  const v1::WardRow* city = RowOf(comparison, v1::ROW_KIND_CITY_TOTAL);
  ASSERT_NE(city, nullptr);
  EXPECT_EQ(cell(*city, 2).count(), 4);
  EXPECT_EQ(city->label_ja(), absl::StrCat("令和", year - 2018, "年度 (令和",
                                           year + 1 - 2018, "年3月末)"));
  // One area is the city: nothing is worse than itself.
  for (const v1::Cell& c : area->cells()) {
    EXPECT_FALSE(c.flagged()) << c.column();
  }

  // As of yesterday, the outreach of today had not happened, and the pupil
  // extracted today was not yet in the cohort.
  if (today > FiscalYearStart()) {
    const kosapo::type::Date yesterday = DateToProto(today - 1);
    const v1::WardComparison before = Comparison(year, &yesterday);
    const v1::WardRow* then = RowOf(before, v1::ROW_KIND_AREA, "A1");
    ASSERT_NE(then, nullptr);
    EXPECT_EQ(cell(*then, 2).count(), 3);
    EXPECT_EQ(cell(*then, 4).count(), 0);
    EXPECT_EQ(cell(*then, 11).count(), 2);
    EXPECT_EQ(cell(*then, 13).count(), 1);
    EXPECT_EQ(cell(*then, 17).published(), "-");  // zero outreach
  }

  // Re-delivery: reporting forgets its checkpoints and restarts; the whole
  // feeds come again and nothing counts twice.
  StopReporting();
  {
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    tx.exec0(absl::StrCat("UPDATE ", SharedPgCluster().Schema("reporting"),
                          ".consumer_checkpoints SET last_sequence = 0"));
  }
  // While it is down, a case changes.
  const cv1::Case third = OpenCase("えだ", 4);
  Approach(third, cv1::APPROACH_STATUS_OUTREACH_DONE, today, "r-third");
  StartReporting();
  CatchUp();
  comparison = Comparison(year, nullptr);
  area = RowOf(comparison, v1::ROW_KIND_AREA, "A1");
  ASSERT_NE(area, nullptr);
  EXPECT_EQ(cell(*area, 2).count(), 5);
  EXPECT_EQ(cell(*area, 4).count(), 2);
  EXPECT_EQ(cell(*area, 11).count(), 2);
  EXPECT_EQ(cell(*area, 13).count(), 1);
  EXPECT_EQ(cell(*area, 1).count(), 120);  // enrollment replaced, not added
}

TEST_F(ReportingTest, CallersAndInputAreChecked) {
  v1::GetWardComparisonRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_fiscal_year(2023);
  v1::WardComparison comparison;
  auto stub = v1::ReportingService::NewStub(reporting_->channel());
  EXPECT_EQ(stub->GetWardComparison(As(auth::Role::kHubOperator).get(), request,
                                    &comparison)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  request.set_parent("municipalities/27100");  // not the caller's city
  EXPECT_EQ(stub->GetWardComparison(As(auth::Role::kAnalyst).get(), request,
                                    &comparison)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_fiscal_year(0);
  const grpc::Status status = stub->GetWardComparison(
      As(auth::Role::kAnalyst).get(), request, &comparison);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("fiscal_year"), std::string::npos);
}

// GetProjectionStatus says how far each feed is applied: once caught up,
// each producer's head, to services; people learn when, never the
// sequence (it counts every city's events); hub operators (no report
// readers) are refused.
TEST_F(ReportingTest, ProjectionStatusTellsHowFarEachFeedIsApplied) {
  // Events on both feeds, in a city of their own: a meeting's extraction in
  // screening opens a case in the case service.
  auto screening =
      screening::v1::ScreeningService::NewStub(screening_->channel());
  auto meeting = screening::testing::SeedMeeting(*screening, *tokens_, "27205");
  ASSERT_TRUE(meeting.ok()) << meeting.status();
  ASSERT_TRUE(
      screening::testing::DecidePupil(*screening, *tokens_, "27205", *meeting,
                                      screening::v1::DECISION_OUTCOME_EXTRACT)
          .ok());
  CatchUp();
  auto stub = v1::ReportingService::NewStub(reporting_->channel());
  v1::ProjectionStatus status;
  ASSERT_TRUE(stub->GetProjectionStatus(As(auth::Role::kAnalyst).get(),
                                        v1::GetProjectionStatusRequest(),
                                        &status)
                  .ok());
  ASSERT_GE(status.feeds_size(), 2);
  for (const v1::FeedPosition& feed : status.feeds()) {
    EXPECT_EQ(feed.applied_sequence(), 0) << feed.source();
    EXPECT_GT(feed.update_time().seconds(), 0) << feed.source();
  }
  grpc::ClientContext service;
  service.AddMetadata(
      "authorization",
      "Bearer " + tokens_->Sign(auth::Role::kService, "service:sample"));
  ASSERT_TRUE(
      v1::ReportingService::NewStub(reporting_->service_channel("sample"))
          ->GetProjectionStatus(&service, v1::GetProjectionStatusRequest(),
                                &status)
          .ok());
  std::map<std::string, int64_t> applied;
  for (const v1::FeedPosition& feed : status.feeds()) {
    applied[feed.source()] = feed.applied_sequence();
    EXPECT_GT(feed.update_time().seconds(), 0) << feed.source();
  }
  for (const auto& [source, producer] :
       std::vector<std::pair<std::string, testing::InProcessService*>>{
           {"screening", screening_}, {"case", case_}}) {
    const auto events = testing::FeedEvents(*producer, *tokens_, "");
    ASSERT_FALSE(events.empty()) << source;
    EXPECT_EQ(applied[source], events.back().sequence()) << source;
  }
  EXPECT_EQ(stub->GetProjectionStatus(As(auth::Role::kHubOperator).get(),
                                      v1::GetProjectionStatusRequest(), &status)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// The export streams exactly the file the export library writes for the
// comparison GetWardComparison answers, in chunks of at most 64 KiB, the
// first naming the content type and file name. Enough areas (with names
// to escape) make the HTML page longer than one chunk.
TEST_F(ReportingTest, ExportStreamsTheFileTheLibraryWrites) {
  auto screening_stub = sv1::ScreeningService::NewStub(screening_->channel());
  ASSERT_TRUE(
      screening::testing::SeedMeeting(*screening_stub, *tokens_, kCity).ok());
  for (int i = 0; i < 400; ++i) {
    sv1::UpsertAreaRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.mutable_area()->set_code(absl::StrCat("X", 1000 + i));
    request.mutable_area()->set_display_name(
        absl::StrCat(i % 2 == 0 ? "=試験区<" : "試験区&", i));
    request.mutable_area()->set_display_order(100 + i);
    sv1::Area area;
    const grpc::Status status = screening_stub->UpsertArea(
        As(auth::Role::kCityOperations).get(), request, &area);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  CatchUp();
  const int year = FiscalYearOf(Today());
  const v1::WardComparison comparison = Comparison(year, nullptr);
  ASSERT_GE(comparison.rows_size(), 401);

  auto stub = v1::ReportingService::NewStub(reporting_->channel());
  for (const v1::ExportFormat format :
       {v1::EXPORT_FORMAT_CSV, v1::EXPORT_FORMAT_XLSX,
        v1::EXPORT_FORMAT_HTML}) {
    SCOPED_TRACE(v1::ExportFormat_Name(format));
    v1::ExportWardComparisonRequest request;
    request.set_parent(absl::StrCat("municipalities/", kCity));
    request.set_fiscal_year(year);
    request.set_format(format);
    auto context = As(auth::Role::kAnalyst);
    auto reader = stub->ExportWardComparison(context.get(), request);
    std::string file;
    std::vector<v1::ExportChunk> chunks;
    v1::ExportChunk chunk;
    while (reader->Read(&chunk)) {
      EXPECT_LE(chunk.data().size(), ReportingServiceImpl::kExportChunkBytes);
      file += chunk.data();
      chunk.clear_data();
      chunks.push_back(chunk);
    }
    const grpc::Status status = reader->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_FALSE(chunks.empty());

    exports::StringSink expected;
    ASSERT_TRUE(exports::Write(comparison, format, expected).ok());
    EXPECT_EQ(file.size(), expected.data().size());
    EXPECT_TRUE(file == expected.data());
    const auto info = exports::InfoOf(comparison, format);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(chunks[0].content_type(), info->content_type);
    EXPECT_EQ(chunks[0].file_name(), info->file_name);
    EXPECT_EQ(chunks[0].file_name(),
              absl::StrCat("ward-comparison-fy", year, "-", year + 1, "-03-31.",
                           format == v1::EXPORT_FORMAT_CSV    ? "csv"
                           : format == v1::EXPORT_FORMAT_XLSX ? "xlsx"
                                                              : "html"));
    for (size_t i = 1; i < chunks.size(); ++i) {
      EXPECT_EQ(chunks[i].content_type(), "");
      EXPECT_EQ(chunks[i].file_name(), "");
    }
    if (format == v1::EXPORT_FORMAT_HTML) {
      EXPECT_GE(chunks.size(), 2u);  // streamed, not one message
      EXPECT_EQ(file.find("<試験区"), std::string::npos);
      EXPECT_NE(file.find("=試験区&lt;0</th>"), std::string::npos);
    }
    if (format == v1::EXPORT_FORMAT_CSV) {
      EXPECT_NE(file.find("\r\n'=試験区<0,"), std::string::npos);
    }
  }
}

TEST_F(ReportingTest, ExportChecksTheFormatAndTheCaller) {
  auto stub = v1::ReportingService::NewStub(reporting_->channel());
  auto export_status = [&](auth::Role role,
                           const v1::ExportWardComparisonRequest& request) {
    auto context = As(role);
    auto reader = stub->ExportWardComparison(context.get(), request);
    v1::ExportChunk chunk;
    int chunks = 0;
    while (reader->Read(&chunk)) {
      ++chunks;
    }
    EXPECT_EQ(chunks, 0);
    return reader->Finish();
  };
  v1::ExportWardComparisonRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_fiscal_year(2023);
  for (const int format : {0, 42}) {
    request.set_format(static_cast<v1::ExportFormat>(format));
    const grpc::Status status = export_status(auth::Role::kAnalyst, request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << format;
    EXPECT_EQ(status.error_message().rfind("format:", 0), 0u)
        << status.error_message();
  }
  request.set_format(v1::EXPORT_FORMAT_CSV);
  request.set_fiscal_year(0);
  const grpc::Status year = export_status(auth::Role::kAnalyst, request);
  EXPECT_EQ(year.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(year.error_message().find("fiscal_year"), std::string::npos);
  request.set_fiscal_year(2023);
  EXPECT_EQ(export_status(auth::Role::kHubOperator, request).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Which way is worse per column is the service's configuration
// (--flag_directions): the same facts flag the other ward when a column's
// direction turns, and none when it is switched off; a bad setting stops the
// service from starting, naming the setting.
TEST_F(ReportingTest, FlagDirectionsAreConfiguration) {
  constexpr char kTown[] = "27207";
  const std::string parent = absl::StrCat("municipalities/", kTown);
  const auth::Principal operations = SeedTwoWardTown(kTown, "flags");
  const int year = FiscalYearOf(Today());
  // Which cells of column 5 are flagged, by area, under the running rules;
  // the rows' labels as the last call gave them.
  std::map<std::string, std::pair<std::string, std::string>> labels;
  auto flagged_in_column5 = [&]() {
    CatchUp();
    v1::GetWardComparisonRequest request;
    request.set_parent(parent);
    request.set_fiscal_year(year);
    v1::WardComparison comparison;
    const grpc::Status status =
        v1::ReportingService::NewStub(reporting_->channel())
            ->GetWardComparison(testing::ContextAs(*tokens_, operations).get(),
                                request, &comparison);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, bool> flagged;
    for (const v1::WardRow& row : comparison.rows()) {
      if (row.kind() == v1::ROW_KIND_AREA) {
        EXPECT_EQ(row.cells(4).column(), 5);
        flagged[row.area_code()] = row.cells(4).flagged();
        labels[row.area_code()] = {row.label_ja(), row.label_en()};
      }
    }
    return flagged;
  };
  using Flags = std::map<std::string, bool>;
  EXPECT_EQ(flagged_in_column5(), (Flags{{"A1", true}, {"A2", false}}));
  EXPECT_EQ(labels["A1"],
            std::make_pair(std::string("区1"), std::string("Ward One")));
  EXPECT_EQ(labels["A2"],
            std::make_pair(std::string("区2"), std::string("A2")));

  StartReporting({{"KOSAPO_FLAG_DIRECTIONS", "5=higher"}});
  EXPECT_EQ(flagged_in_column5(), (Flags{{"A1", false}, {"A2", true}}));

  StartReporting({{"KOSAPO_FLAG_DIRECTIONS", "5=none"}});
  EXPECT_EQ(flagged_in_column5(), (Flags{{"A1", false}, {"A2", false}}));

  StopReporting();
  auto refused = testing::InProcessService::Start(
      Definition(), SharedPgCluster(), *tokens_, SharedPgCluster().data_dir(),
      [] {
        auto env = PeerEnv();
        env["KOSAPO_FLAG_DIRECTIONS"] = "5=sideways";
        return env;
      }());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--flag_directions"),
            std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("sideways"), std::string::npos)
      << refused.status();
  StartReporting();
}

// Small-cell suppression: a suppressed cell carries no number, only "-";
// analysts get at least the city's minimum (--analyst_suppress_below)
// whatever they ask for, while city operations get what they ask for; the
// answer says which threshold was applied. The town has counts 2 (cases
// per area), 1 and 2 (outreach done per area), 4 and 3 in its total.
TEST_F(ReportingTest, AnalystsGetAtLeastTheCitysSuppression) {
  constexpr char kTown[] = "27208";
  const auth::Principal operations = SeedTwoWardTown(kTown, "cells");
  auth::Principal analyst = operations;
  analyst.subject = "user:cells-analyst";
  analyst.role = auth::Role::kAnalyst;
  StartReporting({{"KOSAPO_ANALYST_SUPPRESS_BELOW", "3"}});
  CatchUp();
  auto comparison_as = [&](const auth::Principal& who, int suppress_below) {
    v1::GetWardComparisonRequest request;
    request.set_parent(absl::StrCat("municipalities/", kTown));
    request.set_fiscal_year(FiscalYearOf(Today()));
    request.set_suppress_below(suppress_below);
    v1::WardComparison comparison;
    const grpc::Status status =
        v1::ReportingService::NewStub(reporting_->channel())
            ->GetWardComparison(testing::ContextAs(*tokens_, who).get(),
                                request, &comparison);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return comparison;
  };
  // Which cells are hidden, as (area or city, column); and no hidden cell
  // may carry a number.
  auto hidden = [](const v1::WardComparison& comparison) {
    std::set<std::pair<std::string, int>> cells;
    for (const v1::WardRow& row : comparison.rows()) {
      if (row.kind() == v1::ROW_KIND_EARLIER_CITY_TOTAL) {
        continue;
      }
      for (const v1::Cell& cell : row.cells()) {
        if (!cell.suppressed()) {
          continue;
        }
        cells.insert({row.area_code(), cell.column()});
        EXPECT_EQ(cell.published(), "-");
        EXPECT_EQ(cell.count(), 0) << row.area_code() << " " << cell.column();
        EXPECT_EQ(cell.numerator(), 0) << row.area_code() << cell.column();
        EXPECT_EQ(cell.denominator(), 0) << row.area_code() << cell.column();
        EXPECT_FALSE(cell.flagged());
      }
    }
    return cells;
  };
  const v1::WardComparison open = comparison_as(operations, 0);
  EXPECT_EQ(open.suppress_below(), 0);
  EXPECT_TRUE(hidden(open).empty());
  const v1::WardRow* a1 = RowOf(open, v1::ROW_KIND_AREA, "A1");
  ASSERT_NE(a1, nullptr);
  ASSERT_EQ(a1->cells(3).count(), 1);  // column 4, outreach done in A1

  // The analyst asks for nothing suppressed and gets the town's minimum: the
  // 1 and 2 of the areas are hidden, with the rates built on them, while the
  // town's 4 and 3 stay.
  const v1::WardComparison minimum = comparison_as(analyst, 0);
  EXPECT_EQ(minimum.suppress_below(), 3);
  const std::set<std::pair<std::string, int>> hidden_by_minimum =
      hidden(minimum);
  for (const std::string area : {"A1", "A2"}) {
    EXPECT_TRUE(hidden_by_minimum.count({area, 2})) << area;
    EXPECT_TRUE(hidden_by_minimum.count({area, 4})) << area;
    EXPECT_TRUE(hidden_by_minimum.count({area, 5})) << area;  // ④/②
  }
  EXPECT_FALSE(hidden_by_minimum.count({kTown, 2}));
  EXPECT_FALSE(hidden_by_minimum.count({kTown, 4}));
  const v1::WardRow* town = RowOf(minimum, v1::ROW_KIND_CITY_TOTAL);
  ASSERT_NE(town, nullptr);
  EXPECT_EQ(town->cells(1).count(), 4);
  EXPECT_EQ(town->cells(3).count(), 3);

  // More than the minimum is granted; city operations may ask for any.
  const v1::WardComparison stricter = comparison_as(analyst, 5);
  EXPECT_EQ(stricter.suppress_below(), 5);
  EXPECT_TRUE(hidden(stricter).count({kTown, 2}));
  const v1::WardComparison chosen = comparison_as(operations, 2);
  EXPECT_EQ(chosen.suppress_below(), 2);
  const std::set<std::pair<std::string, int>> hidden_by_choice = hidden(chosen);
  EXPECT_TRUE(hidden_by_choice.count({"A1", 4}));  // the 1
  EXPECT_TRUE(hidden_by_choice.count({"A1", 5}));
  for (const auto& cell : std::vector<std::pair<std::string, int>>{
           {"A1", 2}, {"A2", 2}, {"A2", 4}, {kTown, 2}, {kTown, 4}}) {
    EXPECT_FALSE(hidden_by_choice.count(cell)) << cell.first << cell.second;
  }

  // The trends of the same town apply the same minimum.
  v1::GetWardTrendsRequest trends_request;
  trends_request.set_parent(absl::StrCat("municipalities/", kTown));
  trends_request.set_from_fiscal_year(FiscalYearOf(Today()));
  trends_request.set_to_fiscal_year(FiscalYearOf(Today()));
  trends_request.set_area_code("A1");
  v1::WardTrends trends;
  ASSERT_TRUE(v1::ReportingService::NewStub(reporting_->channel())
                  ->GetWardTrends(testing::ContextAs(*tokens_, analyst).get(),
                                  trends_request, &trends)
                  .ok());
  EXPECT_EQ(trends.suppress_below(), 3);
  bool area_hidden = false;
  for (const v1::WardRow& row : trends.rows()) {
    if (row.kind() == v1::ROW_KIND_AREA) {
      area_hidden = row.cells(3).suppressed() && row.cells(3).count() == 0;
    }
  }
  EXPECT_TRUE(area_hidden);
  StartReporting();
}

}  // namespace
}  // namespace kosapo::reporting
