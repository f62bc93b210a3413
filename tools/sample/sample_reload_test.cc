// Loading the same sample city again after its fiscal year has ended
// (screening, case and referral in process on a clock the test moves, real
// PostgreSQL): the first load puts the year's sheets into a regular round;
// the second, in the next fiscal year, finds that round by its request id
// and its sheets in it (it no longer takes any), and changes nothing: no
// second round, no feed moves. A table's past years load into past-record
// rounds.
#include <grpcpp/client_context.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"
#include "services/screening/screening_server.h"
#include "tools/sample/case_census.h"
#include "tools/sample/generator.h"
#include "tools/sample/loader.h"

namespace kosapo {
namespace {

using ::kosapo::testing::InProcessService;
using ::kosapo::testing::SharedPgCluster;
namespace sv1 = ::kosapo::screening::v1;

absl::Time NoonInTokyo(absl::CivilDay day) {
  absl::TimeZone tokyo;
  absl::LoadTimeZone("Asia/Tokyo", &tokyo);
  return absl::FromCivil(absl::CivilHour(day) + 12, tokyo);
}

class SampleReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = std::move(*tokens);
    token_file_ = SharedPgCluster().data_dir() + "/sample-reload.token";
    std::ofstream(token_file_)
        << tokens_->Sign(auth::Role::kService, "service:sample-reload-test");
    clock_ = std::make_shared<FakeClock>(NoonInTokyo(kBeforeYearEnd));
    screening_ = Start(screening::Definition(clock_));
    case_ = Start(cases::Definition(clock_));
    referral_ = Start(referral::Definition(clock_));
    ASSERT_TRUE(screening_ && case_ && referral_) << "a service did not start";
  }

  std::map<std::string, std::string> Env() const {
    return testing::PeerEnv({{"screening", screening_.get()},
                             {"case", case_.get()},
                             {"referral", referral_.get()}},
                            token_file_);
  }

  std::unique_ptr<InProcessService> Start(
      server::ServiceDefinition definition) {
    auto service =
        InProcessService::Start(std::move(definition), SharedPgCluster(),
                                *tokens_, SharedPgCluster().data_dir(), Env());
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }

  absl::Status Load(const sample::SampleCity& city, absl::CivilDay today,
                    sample::LoadProgress* progress) {
    sample::LoadTargets targets;
    targets.screening = screening_->channel();
    targets.cases = case_->channel();
    targets.referral = referral_->channel();
    targets.sign = [this](const auth::Principal& principal) {
      return tokens_->Sign(principal);
    };
    targets.concurrency = 4;
    targets.case_feed_timeout = absl::Minutes(2);
    targets.today = today;
    auto logs = std::make_unique<testing::StdoutCapture>(
        SharedPgCluster().data_dir() + "-sample-reload.log");
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

  std::map<std::string, int64_t> Heads() {
    std::map<std::string, int64_t> heads;
    for (const auto& [source, service] :
         std::map<std::string, InProcessService*>{
             {"screening", screening_.get()},
             {"case", case_.get()},
             {"referral", referral_.get()}}) {
      events::v1::ListEventsRequest request;
      request.set_page_size(1);
      request.set_after_sequence(int64_t{1} << 60);
      events::v1::ListEventsResponse response;
      grpc::ClientContext context;
      context.AddMetadata(
          "authorization",
          "Bearer " + tokens_->Sign(auth::Role::kService, "service:test"));
      EXPECT_TRUE(
          events::v1::EventFeed::NewStub(service->service_channel("test"))
              ->ListEvents(&context, request, &response)
              .ok());
      heads[source] = response.head_sequence();
    }
    return heads;
  }

  std::vector<sv1::Round> Rounds(const std::string& municipality) {
    auth::Principal ops;
    ops.subject = "test:ops";
    ops.role = auth::Role::kCityOperations;
    ops.municipality = municipality;
    sv1::ListRoundsRequest request;
    request.set_parent(absl::StrCat("municipalities/", municipality));
    sv1::ListRoundsResponse response;
    EXPECT_TRUE(sv1::ScreeningService::NewStub(screening_->channel())
                    ->ListRounds(testing::ContextAs(*tokens_, ops).get(),
                                 request, &response)
                    .ok());
    return {response.rounds().begin(), response.rounds().end()};
  }

  // The last days of FY2024 and the first of FY2025.
  static constexpr absl::CivilDay kBeforeYearEnd{2025, 3, 20};
  static constexpr absl::CivilDay kNextYear{2025, 4, 2};

  std::unique_ptr<testing::TestTokens> tokens_;
  std::string token_file_;
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<InProcessService> screening_;
  std::unique_ptr<InProcessService> case_;
  std::unique_ptr<InProcessService> referral_;
};

TEST_F(SampleReloadTest, SameCityLoadsOnceAcrossTheFiscalYearBoundary) {
  auto city = sample::CityOfSize(900, 1, kBeforeYearEnd, 5, "99996");
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_FALSE(city->cases.empty());
  const int64_t sheets =
      static_cast<int64_t>(city->screenings[0].pupils.size());

  sample::LoadProgress first;
  const absl::Status loaded = Load(*city, kBeforeYearEnd, &first);
  ASSERT_TRUE(loaded.ok()) << loaded;
  EXPECT_EQ(first.sheets.load(), sheets);
  std::vector<sv1::Round> rounds = Rounds(city->municipality);
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0].fiscal_year(), 2024);
  EXPECT_EQ(rounds[0].kind(), sv1::ROUND_KIND_REGULAR);
  const std::map<std::string, int64_t> before = Heads();

  // FY2024 has ended: its round takes no sheets any more, and the loader
  // would now ask for a past-record round. The same city again finds what
  // it loaded.
  clock_->Set(NoonInTokyo(kNextYear));
  sample::LoadProgress second;
  const absl::Status again = Load(*city, kNextYear, &second);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(second.sheets.load(), sheets);
  EXPECT_EQ(second.cases.load(), static_cast<int64_t>(city->cases.size()));
  EXPECT_EQ(Heads(), before);
  rounds = Rounds(city->municipality);
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0].kind(), sv1::ROUND_KIND_REGULAR);

  const auto census =
      sample::TakeCaseCensus(case_->channel(),
                             [this](const auth::Principal& principal) {
                               return tokens_->Sign(principal);
                             },
                             city->municipality, {city->areas[0].code});
  ASSERT_TRUE(census.ok()) << census.status();
  ASSERT_EQ(census->count(2024), 1u);
  EXPECT_EQ(census->at(2024).cases, static_cast<int64_t>(city->cases.size()));
  EXPECT_EQ(census->at(2024).from_extraction, census->at(2024).cases);
}

TEST_F(SampleReloadTest, PartlyLoadedYearThatHasEndedIsNamedNotPatched) {
  auto city = sample::CityOfSize(300, 1, kBeforeYearEnd, 6, "99995");
  ASSERT_TRUE(city.ok()) << city.status();
  // Loaded before the year ended with one school's sheets missing (its
  // system never sent them)...
  sample::SampleCity partial = *city;
  sample::SampleScreening& screening = partial.screenings[0];
  const std::string missing = partial.schools.back().code;
  std::vector<sample::SamplePupil> kept;
  for (const sample::SamplePupil& pupil : screening.pupils) {
    if (pupil.child.school_code != missing) {
      kept.push_back(pupil);
    }
  }
  ASSERT_LT(kept.size(), screening.pupils.size());
  screening.pupils = kept;
  partial.cases.clear();
  partial.hub_usages.clear();
  partial.urgent_reports.clear();
  for (sample::SamplePupil& pupil : screening.pupils) {
    pupil.meeting = -1;
  }
  const absl::Status loaded = Load(partial, kBeforeYearEnd, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded;

  // ...the whole city after it ended: the round can no longer take them,
  // and the loader says so instead of opening a second round of the year.
  clock_->Set(NoonInTokyo(kNextYear));
  const absl::Status again = Load(*city, kNextYear, nullptr);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()),
              ::testing::HasSubstr(absl::StrCat("school ", missing)));
  EXPECT_THAT(std::string(again.message()),
              ::testing::HasSubstr("no longer takes sheets"));
  EXPECT_EQ(Rounds(city->municipality).size(), 1u);
}

}  // namespace
}  // namespace kosapo
