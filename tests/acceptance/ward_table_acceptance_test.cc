// Acceptance: the city's published ward comparison (every count, every
// published rate, and the flags by the rule) comes out of the reporting
// service after case-level data consistent with it went in through the
// public gRPC APIs of screening, case and referral. The data comes from the
// seeded sample generator, which takes any table of the published shape:
// every fiscal year's sheets and school meetings I (past years in
// past-record rounds), and every case of every year opened by a meeting's
// extraction, which a census through the case service's API confirms.
//
// KOSAPO_WARD_TABLE (a path) replaces the table; KOSAPO_SAMPLE_SEED the
// seed.
#include <grpcpp/client_context.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"
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
namespace rv1 = ::kosapo::reporting::v1;

class WardTableAcceptanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* table = std::getenv("KOSAPO_WARD_TABLE");
    auto spec =
        sample::ReadWardSpec(table != nullptr ? table : KOSAPO_WARD_TABLE_TSV);
    ASSERT_TRUE(spec.ok()) << spec.status();
    spec_ = *spec;
    uint64_t seed = 2024;
    if (const char* text = std::getenv("KOSAPO_SAMPLE_SEED")) {
      ASSERT_TRUE(absl::SimpleAtoi(text, &seed)) << "KOSAPO_SAMPLE_SEED";
    }
    auto city = sample::CityFromSpec(spec_, seed);
    ASSERT_TRUE(city.ok()) << city.status();
    city_ = *city;
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = std::move(*tokens);
    token_file_ = SharedPgCluster().data_dir() + "/acceptance.token";
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:acceptance");
  }

  std::map<std::string, std::string> Env() const {
    return testing::PeerEnv({{"screening", screening_.get()},
                             {"case", case_.get()},
                             {"referral", referral_.get()}},
                            token_file_, 6);
  }

  std::unique_ptr<InProcessService> Start(
      server::ServiceDefinition definition) {
    auto service =
        InProcessService::Start(std::move(definition), SharedPgCluster(),
                                *tokens_, SharedPgCluster().data_dir(), Env());
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }

  // Waits until the reporting service has applied every feed to its head,
  // asking it through its API as the run command does.
  void CatchUp() {
    sample::FeedSources sources;
    sources.producers = {{"screening", screening_->service_channel("sample")},
                         {"case", case_->service_channel("sample")},
                         {"referral", referral_->service_channel("sample")}};
    sources.reporting = reporting_->service_channel("sample");
    sources.sign = [this](const auth::Principal& principal) {
      return tokens_->Sign(principal);
    };
    sources.municipality = spec_.municipality;
    const absl::Status applied =
        sample::WaitForReporting(sources, absl::Minutes(3));
    ASSERT_TRUE(applied.ok()) << applied;
  }

  sample::WardSpec spec_;
  sample::SampleCity city_;
  std::unique_ptr<testing::TestTokens> tokens_;
  std::string token_file_;
  std::unique_ptr<InProcessService> screening_;
  std::unique_ptr<InProcessService> case_;
  std::unique_ptr<InProcessService> referral_;
  std::unique_ptr<InProcessService> reporting_;
};

TEST_F(WardTableAcceptanceTest, ThePublishedTableComesOutCellForCell) {
  // Service logs go to a file while the city loads: it makes many lines.
  auto logs = std::make_unique<testing::StdoutCapture>(
      SharedPgCluster().data_dir() + "-acceptance.log");
  screening_ = Start(screening::Definition());
  case_ = Start(cases::Definition());
  referral_ = Start(referral::Definition());
  reporting_ = Start(reporting::Definition());
  absl::Status loaded = absl::UnavailableError("a service did not start");
  sample::LoadProgress progress;
  const absl::Time start = absl::Now();
  if (screening_ && case_ && referral_ && reporting_) {
    sample::LoadTargets targets;
    targets.screening = screening_->channel();
    targets.cases = case_->channel();
    targets.referral = referral_->channel();
    targets.sign = [this](const auth::Principal& principal) {
      return tokens_->Sign(principal);
    };
    targets.concurrency = 4;
    loaded = sample::LoadCity(city_, targets, &progress);
  }
  const std::string logged = logs->Finish();
  ASSERT_TRUE(loaded.ok()) << loaded << "\nlast log lines:\n"
                           << logged.substr(logged.size() > 3000
                                                ? logged.size() - 3000
                                                : 0);
  CatchUp();
  std::printf(
      "loaded %lld cases (%lld referrals), %lld pupils and %lld sheets in "
      "%s\n",
      static_cast<long long>(progress.cases.load()),
      static_cast<long long>(progress.referrals.load()),
      static_cast<long long>(progress.pupils.load()),
      static_cast<long long>(progress.sheets.load()),
      absl::FormatDuration(absl::Now() - start).c_str());

  // Every case of every year of the table came from a school's screening
  // extraction: none was opened by staff.
  std::vector<std::string> areas;
  for (const sample::SampleArea& area : city_.areas) {
    areas.push_back(area.code);
  }
  const auto census = sample::TakeCaseCensus(
      case_->channel(),
      [this](const auth::Principal& principal) {
        return tokens_->Sign(principal);
      },
      spec_.municipality, areas);
  ASSERT_TRUE(census.ok()) << census.status();
  int years = 0;
  for (const sample::SpecRow& row : spec_.rows) {
    if (!row.city_total) {
      continue;
    }
    ++years;
    SCOPED_TRACE(row.label);
    ASSERT_EQ(census->count(row.fiscal_year), 1u);
    const sample::YearCensus& year = census->at(row.fiscal_year);
    EXPECT_EQ(year.cases, row.target);
    EXPECT_EQ(year.from_extraction, year.cases);
    EXPECT_EQ(year.by_source.size(), 1u);
  }
  EXPECT_EQ(static_cast<int>(census->size()), years);

  rv1::GetWardComparisonRequest request;
  request.set_parent(absl::StrCat("municipalities/", spec_.municipality));
  request.set_fiscal_year(spec_.area_year);
  rv1::WardComparison comparison;
  grpc::ClientContext context;
  auth::Principal analyst;
  analyst.subject = "user:analyst";
  analyst.role = auth::Role::kAnalyst;
  analyst.municipality = spec_.municipality;
  context.AddMetadata("authorization", "Bearer " + tokens_->Sign(analyst));
  const grpc::Status status =
      rv1::ReportingService::NewStub(reporting_->channel())
          ->GetWardComparison(&context, request, &comparison);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Every published row, found by year and area, every cell, and the
  // flags by the rule.
  const sample::SpecComparison compared =
      sample::CompareWithSpec(spec_, comparison);
  EXPECT_THAT(compared.differences, ::testing::IsEmpty());
  EXPECT_EQ(compared.cells, static_cast<int>(spec_.rows.size()) * 18);
  EXPECT_GT(compared.flagged, 0);
}

}  // namespace
}  // namespace kosapo
