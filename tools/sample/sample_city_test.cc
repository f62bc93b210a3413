// The sample city through the real services (in process, real PostgreSQL):
// a small size-only city screened this fiscal year and the small demo-town
// table, with their directories, hub usage and visits, urgent reports and
// case work. Checks through the public APIs that what was generated is
// there, that demo-town's table still comes out cell for cell, and that
// loading a city again changes nothing.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/client_context.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/pg/pool.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/case/store/retention_store.h"
#include "services/referral/referral_server.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"
#include "services/screening/store/retention_store.h"
#include "tools/sample/case_census.h"
#include "tools/sample/compare.h"
#include "tools/sample/generator.h"
#include "tools/sample/loader.h"
#include "tools/sample/wait.h"
#include "tools/sample/ward_spec.h"

namespace kosapo {
namespace {

using ::kosapo::testing::InProcessService;
using ::kosapo::testing::SharedPgCluster;
namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
namespace pv1 = ::kosapo::reporting::v1;

class SampleCityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    token_file_ = SharedPgCluster().data_dir() + "/sample-city.token";
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:sample-city-test");
    screening_ = Start(screening::Definition()).release();
    case_ = Start(cases::Definition()).release();
    referral_ = Start(referral::Definition()).release();
    reporting_ = Start(reporting::Definition()).release();
  }

  static void TearDownTestSuite() {
    delete reporting_;
    delete referral_;
    delete case_;
    delete screening_;
  }

  static std::map<std::string, std::string> Env() {
    return testing::PeerEnv(
        {{"screening", screening_}, {"case", case_}, {"referral", referral_}},
        token_file_);
  }

  static std::unique_ptr<InProcessService> Start(
      server::ServiceDefinition definition) {
    auto service =
        InProcessService::Start(std::move(definition), SharedPgCluster(),
                                *tokens_, SharedPgCluster().data_dir(), Env());
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(screening_ && case_ && referral_ && reporting_)
        << "a service did not start";
  }

  static absl::Status Load(const sample::SampleCity& city,
                           sample::LoadProgress* progress) {
    sample::LoadTargets targets;
    targets.screening = screening_->channel();
    targets.cases = case_->channel();
    targets.referral = referral_->channel();
    targets.sign = [](const auth::Principal& principal) {
      return tokens_->Sign(principal);
    };
    targets.concurrency = 4;
    targets.case_feed_timeout = absl::Minutes(2);
    // The services log many lines while a city loads: to a file, and the
    // last of them with a failure.
    auto logs = std::make_unique<testing::StdoutCapture>(
        SharedPgCluster().data_dir() + "-sample-city.log");
    const absl::Status loaded = sample::LoadCity(city, targets, progress);
    const std::string logged = logs->Finish();
    if (loaded.ok()) {
      return loaded;
    }
    return absl::Status(
        loaded.code(),
        absl::StrCat(
            loaded.message(), "\nlast log lines:\n",
            logged.substr(logged.size() > 3000 ? logged.size() - 3000 : 0)));
  }

  static sample::FeedSources Sources(const std::string& municipality) {
    sample::FeedSources sources;
    sources.producers = {{"screening", screening_->service_channel("sample")},
                         {"case", case_->service_channel("sample")},
                         {"referral", referral_->service_channel("sample")}};
    sources.reporting = reporting_->service_channel("sample");
    sources.sign = [](const auth::Principal& principal) {
      return tokens_->Sign(principal);
    };
    sources.municipality = municipality;
    return sources;
  }

  // Each producer's feed head.
  static std::map<std::string, int64_t> Heads() {
    std::map<std::string, int64_t> heads;
    for (const auto& [source, channel] : Sources("").producers) {
      events::v1::ListEventsRequest request;
      request.set_page_size(1);
      request.set_after_sequence(int64_t{1} << 60);
      events::v1::ListEventsResponse response;
      grpc::ClientContext context;
      context.AddMetadata(
          "authorization",
          "Bearer " + tokens_->Sign(auth::Role::kService, "service:sample"));
      EXPECT_TRUE(events::v1::EventFeed::NewStub(channel)
                      ->ListEvents(&context, request, &response)
                      .ok());
      heads[source] = response.head_sequence();
    }
    return heads;
  }

  static std::unique_ptr<grpc::ClientContext> As(
      const sample::SampleCity& city, auth::Role role,
      std::vector<std::string> hubs = {}) {
    auth::Principal principal;
    principal.subject =
        absl::StrCat("test:", std::string(auth::RoleName(role)));
    principal.role = role;
    principal.municipality = city.municipality;
    for (const sample::SampleArea& area : city.areas) {
      principal.areas.push_back(area.code);
    }
    principal.hubs = std::move(hubs);
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }

  // The comparison at the year's end, or as of `as_of`.
  static pv1::WardComparison Comparison(
      const std::string& municipality, int fiscal_year,
      std::optional<absl::CivilDay> as_of = std::nullopt) {
    pv1::GetWardComparisonRequest request;
    request.set_parent(absl::StrCat("municipalities/", municipality));
    request.set_fiscal_year(fiscal_year);
    if (as_of.has_value()) {
      *request.mutable_as_of() = DateToProto(*as_of);
    }
    pv1::WardComparison comparison;
    grpc::ClientContext context;
    auth::Principal analyst;
    analyst.subject = "test:analyst";
    analyst.role = auth::Role::kAnalyst;
    analyst.municipality = municipality;
    context.AddMetadata("authorization", "Bearer " + tokens_->Sign(analyst));
    const grpc::Status status =
        pv1::ReportingService::NewStub(reporting_->channel())
            ->GetWardComparison(&context, request, &comparison);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return comparison;
  }

  // Retention: every case that ended is erased now, as if its period were
  // over (the case service's own sweep, through its store, with the cutoff
  // moved to tomorrow), and so is every screening round whose fiscal year
  // has ended (the screening sweep's store, with a period of zero). The
  // ward comparison, at the year's end and as of a day in the year, is the
  // same message before and after, and no ended case nor erased sheet keeps
  // a name.
  static void ExpectReportUnchangedByErasure(const sample::WardSpec& spec) {
    const absl::CivilDay mid_year(spec.area_year, 12, 31);
    auto comparison_as_of = [&](std::optional<absl::CivilDay> day) {
      return Comparison(spec.municipality, spec.area_year, day);
    };
    const pv1::WardComparison year_end = comparison_as_of(std::nullopt);
    const pv1::WardComparison in_year = comparison_as_of(mid_year);
    ASSERT_GT(year_end.rows_size(), 0);

    pg::PoolOptions options;
    options.url = SharedPgCluster().ServiceUrl("case");
    options.schema = SharedPgCluster().Schema("case");
    options.size = 1;
    pg::Pool pool(options);
    cases::RetentionStore retention(pool);
    const absl::CivilDay tomorrow = *DayIn(absl::Now(), "Asia/Tokyo") + 1;
    int64_t erased = 0;
    while (true) {
      absl::StatusOr<int64_t> batch =
          retention.EraseEndedBefore(tomorrow, "Asia/Tokyo", 500);
      ASSERT_TRUE(batch.ok()) << batch.status();
      erased += *batch;
      if (*batch == 0) {
        break;
      }
    }
    pqxx::connection connection(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(connection);
    const std::string cases_table =
        absl::StrCat(tx.quote_name(SharedPgCluster().Schema("case")), ".cases");
    const pqxx::row counts = tx.exec1(absl::StrCat(
        "SELECT count(*) FILTER (WHERE state <> 'open'),"
        "       count(*) FILTER (WHERE state <> 'open' AND child_name <> ''),"
        "       count(*) FILTER (WHERE erase_time IS NOT NULL)"
        "  FROM ",
        cases_table));
    EXPECT_GT(erased, 0);
    EXPECT_EQ(counts[0].as<int64_t>(), erased) << "every ended case erased";
    EXPECT_EQ(counts[1].as<int64_t>(), 0) << "an ended case kept its name";
    EXPECT_EQ(counts[2].as<int64_t>(), erased);

    pg::PoolOptions screening_options;
    screening_options.url = SharedPgCluster().ServiceUrl("screening");
    screening_options.schema = SharedPgCluster().Schema("screening");
    screening_options.size = 1;
    pg::Pool screening_pool(screening_options);
    screening::RetentionStore rounds_retention(screening_pool);
    int64_t rounds = 0;
    const absl::Time erase_start = absl::Now();
    while (true) {
      absl::StatusOr<std::optional<screening::ErasedRound>> round =
          rounds_retention.EraseOneRoundEndedBefore(absl::Now());
      ASSERT_TRUE(round.ok()) << round.status();
      if (!round->has_value()) {
        break;
      }
      ++rounds;
    }
    const absl::Duration erase_took = absl::Now() - erase_start;
    const pqxx::row sheets = tx.exec1(absl::StrCat(
        "SELECT count(*) FILTER (WHERE erase_time IS NOT NULL),"
        "       count(*) FILTER (WHERE erase_time IS NOT NULL"
        "                          AND pupil_name <> '')"
        "  FROM ",
        tx.quote_name(SharedPgCluster().Schema("screening")), ".sheets"));
    EXPECT_GT(rounds, 0);
    EXPECT_GT(sheets[0].as<int64_t>(), 0);
    EXPECT_EQ(sheets[1].as<int64_t>(), 0) << "an erased sheet kept its name";

    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        comparison_as_of(std::nullopt), year_end))
        << "the year-end comparison changed after erasing " << erased
        << " cases and " << rounds << " screening rounds";
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        comparison_as_of(mid_year), in_year))
        << "the comparison as of " << mid_year << " changed after erasing "
        << erased << " cases";
    std::printf(
        "retention: erased %lld ended cases, %lld screening rounds (%lld "
        "sheets, in %s); comparison unchanged\n",
        static_cast<long long>(erased), static_cast<long long>(rounds),
        static_cast<long long>(sheets[0].as<int64_t>()),
        absl::FormatDuration(erase_took).c_str());
  }

  // The directory, hub usages and visits, and urgent reports of `city`
  // are in the services as generated.
  static void ExpectExtrasLoaded(const sample::SampleCity& city) {
    auto referral = rv1::ReferralService::NewStub(referral_->channel());
    rv1::SearchSupportsRequest search;
    search.set_parent(absl::StrCat("municipalities/", city.municipality));
    search.set_page_size(500);
    rv1::SearchSupportsResponse supports;
    ASSERT_TRUE(referral
                    ->SearchSupports(As(city, auth::Role::kWardOfficer).get(),
                                     search, &supports)
                    .ok());
    EXPECT_EQ(supports.supports_size(), static_cast<int>(city.supports.size()));
    std::set<int> categories;
    for (const rv1::Support& support : supports.supports()) {
      categories.insert(support.category());
    }
    for (int category : {1, 2, 3, 4, 5, 6, 9, 10, 13}) {
      EXPECT_EQ(categories.count(category), 1u) << "category " << category;
    }
    for (size_t s = 0; s < city.supports.size(); ++s) {
      if (!city.supports[s].hub.has_value()) {
        continue;
      }
      const sample::SampleHub& hub = *city.supports[s].hub;
      SCOPED_TRACE(hub.hub_code);
      rv1::SearchSupportsRequest by_code = search;
      by_code.set_hub_code(hub.hub_code);
      rv1::SearchSupportsResponse found;
      ASSERT_TRUE(referral
                      ->SearchSupports(As(city, auth::Role::kWardOfficer).get(),
                                       by_code, &found)
                      .ok());
      ASSERT_EQ(found.supports_size(), 1);
      const rv1::Support& stored = found.supports(0);
      EXPECT_EQ(stored.hub().daily_capacity(), hub.daily_capacity);
      EXPECT_EQ(stored.hub().contract_services_size(), 7);
      EXPECT_EQ(stored.weekly_schedule_size(), 5);
      EXPECT_EQ(stored.hub().school_holiday_schedule_size(), 5);
      EXPECT_FALSE(stored.hub().school_holidays().empty());

      std::vector<const sample::SampleHubUsage*> usages;
      for (const sample::SampleHubUsage& usage : city.hub_usages) {
        if (usage.support == static_cast<int>(s)) {
          usages.push_back(&usage);
        }
      }
      rv1::ListHubUsagesRequest list;
      list.set_parent(search.parent());
      list.set_hub_code(hub.hub_code);
      list.set_page_size(500);
      rv1::ListHubUsagesResponse listed;
      ASSERT_TRUE(
          referral
              ->ListHubUsages(As(city, auth::Role::kCentreDirector).get(), list,
                              &listed)
              .ok());
      ASSERT_EQ(listed.usages_size(), static_cast<int>(usages.size()));
      int in_use = 0;
      int ended = 0;
      int expect_in_use = 0;
      int expect_ended = 0;
      for (const rv1::HubUsage& usage : listed.usages()) {
        in_use += usage.state() == rv1::HUB_USAGE_STATE_IN_USE ? 1 : 0;
        ended += usage.state() == rv1::HUB_USAGE_STATE_ENDED ? 1 : 0;
        EXPECT_EQ(usage.plans_size(), 1);
        EXPECT_TRUE(usage.plans(0).has_review());
        EXPECT_TRUE(usage.enrollment_synced());
      }
      for (const sample::SampleHubUsage* usage : usages) {
        expect_ended += usage->ended.has_value() ? 1 : 0;
        expect_in_use +=
            !usage->visits.empty() && !usage->ended.has_value() ? 1 : 0;
      }
      EXPECT_EQ(in_use, expect_in_use);
      EXPECT_EQ(ended, expect_ended);

      // Every visit, day by day, in windows of 92 days.
      const std::map<absl::CivilDay, int> expected =
          sample::HubDayCounts(city, static_cast<int>(s));
      if (expected.empty()) {
        continue;
      }
      std::map<absl::CivilDay, int> stored_counts;
      for (absl::CivilDay from = expected.begin()->first;
           from <= expected.rbegin()->first; from += 92) {
        rv1::ListHubVisitsRequest visits;
        visits.set_hub_code(hub.hub_code);
        *visits.mutable_from_date() = DateToProto(from);
        *visits.mutable_to_date() = DateToProto(from + 91);
        rv1::ListHubVisitsResponse got;
        ASSERT_TRUE(
            referral
                ->ListHubVisits(
                    As(city, auth::Role::kHubOperator, {hub.hub_code}).get(),
                    visits, &got)
                .ok());
        for (const rv1::HubVisit& visit : got.visits()) {
          EXPECT_FALSE(visit.over_capacity());
          ++stored_counts[absl::CivilDay(visit.visit_date().year(),
                                         visit.visit_date().month(),
                                         visit.visit_date().day())];
        }
      }
      EXPECT_EQ(stored_counts, expected);
      int full = 0;
      for (const auto& [day, count] : stored_counts) {
        full += count == hub.daily_capacity ? 1 : 0;
      }
      if (usages.size() >= 2) {
        EXPECT_GE(full, 1) << "no day at the hub's capacity";
      }
    }

    // The unacknowledged urgent reports, as the ward sees them.
    int open_reports = 0;
    for (const sample::SampleUrgentReport& report : city.urgent_reports) {
      open_reports += report.acknowledged ? 0 : 1;
    }
    cv1::ListUrgentReportsRequest urgent;
    urgent.set_parent(search.parent());
    urgent.set_page_size(500);
    cv1::ListUrgentReportsResponse reports;
    ASSERT_TRUE(
        cv1::CaseService::NewStub(case_->channel())
            ->ListUrgentReports(As(city, auth::Role::kWardOfficer).get(),
                                urgent, &reports)
            .ok());
    EXPECT_EQ(reports.reports_size(), open_reports);
    for (const cv1::UrgentReport& report : reports.reports()) {
      EXPECT_EQ(report.raised_by_role(), "hub_operator");
    }
  }

  // Every case of every year of `city` was opened by a screening
  // extraction, as the case service tells.
  static void ExpectEveryCaseExtracted(const sample::SampleCity& city) {
    std::vector<std::string> areas;
    for (const sample::SampleArea& area : city.areas) {
      areas.push_back(area.code);
    }
    const auto census = sample::TakeCaseCensus(
        case_->channel(),
        [](const auth::Principal& principal) {
          return tokens_->Sign(principal);
        },
        city.municipality, areas);
    ASSERT_TRUE(census.ok()) << census.status();
    std::map<int, int64_t> want;
    for (const sample::SampleCase& c : city.cases) {
      ++want[c.fiscal_year];
    }
    ASSERT_EQ(census->size(), want.size());
    for (const auto& [year, cases] : want) {
      SCOPED_TRACE(year);
      const sample::YearCensus& got = census->at(year);
      EXPECT_EQ(got.cases, cases);
      EXPECT_EQ(got.from_extraction, cases);
      EXPECT_EQ(got.by_source.size(), 1u);
    }
  }

  static testing::TestTokens* tokens_;
  static std::string token_file_;
  static InProcessService* screening_;
  static InProcessService* case_;
  static InProcessService* referral_;
  static InProcessService* reporting_;
};

testing::TestTokens* SampleCityTest::tokens_ = nullptr;
std::string SampleCityTest::token_file_;
InProcessService* SampleCityTest::screening_ = nullptr;
InProcessService* SampleCityTest::case_ = nullptr;
InProcessService* SampleCityTest::referral_ = nullptr;
InProcessService* SampleCityTest::reporting_ = nullptr;

TEST_F(SampleCityTest, DemoTownTableStillComesOutWithItsExtrasAndLoadsOnce) {
  auto spec = sample::ReadWardSpec(KOSAPO_DEMO_TOWN_TSV);
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto city = sample::CityFromSpec(*spec, 2024);
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_FALSE(city->hub_usages.empty());
  sample::LoadProgress progress;
  const absl::Time start = absl::Now();
  const absl::Status loaded = Load(*city, &progress);
  ASSERT_TRUE(loaded.ok()) << loaded;
  const sample::LoadTotals totals = sample::TotalsOf(*city);
  EXPECT_EQ(progress.hub_usages.load(), totals.hub_usages);
  EXPECT_EQ(progress.visits.load(), totals.visits);
  EXPECT_EQ(progress.urgent_reports.load(), totals.urgent_reports);
  EXPECT_EQ(progress.supports.load(), totals.supports);
  std::printf(
      "demo-town: %lld cases, %lld hub usages, %lld visits, %lld "
      "urgent reports in %s\n",
      static_cast<long long>(totals.cases),
      static_cast<long long>(totals.hub_usages),
      static_cast<long long>(totals.visits),
      static_cast<long long>(totals.urgent_reports),
      absl::FormatDuration(absl::Now() - start).c_str());
  const absl::Status applied =
      sample::WaitForReporting(Sources(spec->municipality), absl::Minutes(3));
  ASSERT_TRUE(applied.ok()) << applied;
  const sample::SpecComparison compared = sample::CompareWithSpec(
      *spec, Comparison(spec->municipality, spec->area_year));
  EXPECT_THAT(compared.differences, ::testing::IsEmpty());
  EXPECT_EQ(compared.cells, static_cast<int>(spec->rows.size()) * 18);
  ExpectExtrasLoaded(*city);
  ExpectEveryCaseExtracted(*city);

  // Again: every write is answered from its request id; no feed moves.
  const std::map<std::string, int64_t> before = Heads();
  const absl::Status again = Load(*city, nullptr);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(Heads(), before);

  ExpectReportUnchangedByErasure(*spec);
}

TEST_F(SampleCityTest, SizeOnlyCityIsScreenedAndFollowedThisYear) {
  const absl::StatusOr<absl::CivilDay> today = DayIn(absl::Now(), "Asia/Tokyo");
  ASSERT_TRUE(today.ok());
  auto city = sample::CityOfSize(2500, 0, *today, 11, "99998");
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_FALSE(city->cases.empty());
  sample::LoadProgress progress;
  const absl::Time start = absl::Now();
  const absl::Status loaded = Load(*city, &progress);
  ASSERT_TRUE(loaded.ok()) << loaded;
  ASSERT_EQ(city->screenings.size(), 1u);
  const sample::SampleScreening& screening = city->screenings[0];
  EXPECT_EQ(progress.sheets.load(),
            static_cast<int64_t>(screening.pupils.size()));
  std::printf("size-only city: %zu pupils, %zu cases, %zu hub usages in %s\n",
              screening.pupils.size(), city->cases.size(),
              city->hub_usages.size(),
              absl::FormatDuration(absl::Now() - start).c_str());
  const absl::Status applied =
      sample::WaitForReporting(Sources(city->municipality), absl::Minutes(3));
  ASSERT_TRUE(applied.ok()) << applied;

  // The cases the meetings extracted are the year's cohort, followed as
  // generated (as of today, which nothing generated comes after).
  const int fiscal_year = screening.fiscal_year;
  const reporting::WardCounts want =
      sample::CountAsOf(*city, fiscal_year, *today, "");
  const pv1::WardComparison comparison =
      Comparison(city->municipality, fiscal_year);
  const pv1::WardRow* total = nullptr;
  for (const pv1::WardRow& row : comparison.rows()) {
    if (row.kind() == pv1::ROW_KIND_CITY_TOTAL) {
      total = &row;
    }
  }
  ASSERT_NE(total, nullptr);
  ASSERT_EQ(total->cells_size(), 18);
  EXPECT_EQ(total->cells(0).count(), want.pupils);
  EXPECT_EQ(total->cells(1).count(), want.target);
  EXPECT_EQ(total->cells(3).count(), want.outreach_done);
  EXPECT_EQ(total->cells(5).count(), want.connected);
  EXPECT_EQ(total->cells(10).count(), want.preparing);
  EXPECT_EQ(total->cells(12).count(), want.unable);
  EXPECT_EQ(total->cells(14).count(), want.resolved);
  ExpectExtrasLoaded(*city);
  ExpectEveryCaseExtracted(*city);

  const std::map<std::string, int64_t> before = Heads();
  const absl::Status again = Load(*city, nullptr);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(Heads(), before);
}

}  // namespace
}  // namespace kosapo
