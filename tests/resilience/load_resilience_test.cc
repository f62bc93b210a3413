// Every service under sustained concurrent calls for a bounded time (20 s
// by default, KOSAPO_RESILIENCE_LOAD_SECONDS to change it): no error but
// the deliberate ones (calls without a token, a role the matrix refuses),
// resident memory flat between the middle and the end of the run, no file
// descriptor left behind once the clients are gone, and no service holding
// more database connections than its pool (and its outbox listener).
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "tests/resilience/proc_stats.h"
#include "tests/resilience/suite.h"

namespace kosapo::resilience {
namespace {

namespace cv1 = ::kosapo::cases::v1;
constexpr char kCity[] = "90003";
constexpr int kPoolSize = 4;  // Suite's KOSAPO_DB_POOL_SIZE

struct Sample {
  int64_t rss_kib = 0;
  int fds = 0;
  int connections = 0;
};

std::map<std::string, Sample> Measure(Suite& suite) {
  std::map<std::string, Sample> samples;
  for (const std::string& service : ServiceNames()) {
    Sample& sample = samples[service];
    sample.rss_kib = ResidentKiB(suite.Pid(service)).value_or(-1);
    sample.fds = OpenFds(suite.Pid(service)).value_or(-1);
    sample.connections =
        PgConnections(suite.cluster().AdminUrl(), "kosapo_" + service)
            .value_or(-1);
  }
  return samples;
}

// Calls and their outcomes per service.
class Counter {
 public:
  // `want` is the code the call must end with.
  void Add(const std::string& service, const std::string& call,
           const grpc::Status& status,
           grpc::StatusCode want = grpc::StatusCode::OK) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls_[service];
    if (status.error_code() != want) {
      wrong_.insert(absl::StrCat(service, " ", call, ": code ",
                                 status.error_code(), " ",
                                 status.error_message().substr(0, 100)));
      ++errors_[service];
    }
  }
  std::map<std::string, int64_t> calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  std::map<std::string, int64_t> errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }
  std::set<std::string> wrong() {
    std::lock_guard<std::mutex> lock(mutex_);
    return wrong_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, int64_t> calls_;
  std::map<std::string, int64_t> errors_;
  std::set<std::string> wrong_;
};

TEST(LoadTest, EveryServiceUnderSustainedCallsStaysFlat) {
  absl::Duration duration = absl::Seconds(20);
  if (const char* text = std::getenv("KOSAPO_RESILIENCE_LOAD_SECONDS")) {
    int seconds = 0;
    ASSERT_TRUE(absl::SimpleAtoi(text, &seconds) && seconds > 0);
    duration = absl::Seconds(seconds);
  }
  auto city = SmallCity(kCity, 300);
  ASSERT_TRUE(city.ok()) << city.status();
  auto started = Suite::Start("load");
  ASSERT_TRUE(started.ok()) << started.status();
  Suite& suite = **started;
  ASSERT_TRUE(LoadUntilDone(suite, *city, absl::Minutes(3)).ok());
  ASSERT_TRUE(Observe(suite, *city, absl::Minutes(2)).ok());
  std::vector<std::string> areas;
  for (const sample::SampleArea& area : city->areas) {
    areas.push_back(area.code);
  }
  const std::string parent = absl::StrCat("municipalities/", kCity);
  const std::map<std::string, Sample> idle = Measure(suite);

  Counter counter;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> writes{0};
  const auto deadline = absl::Seconds(10);
  // Each client makes its own channels (its own mutual-TLS connections:
  // one as a client for users' calls, one as a service for the feed) and,
  // every 50 calls, new ones, so connections and handshakes come and go as
  // they do in production.
  using Client = std::function<void(const std::shared_ptr<grpc::Channel>&,
                                    const std::shared_ptr<grpc::Channel>&)>;
  auto run = [&](const std::string& service, Client client) {
    return std::thread([&, service, client] {
      int calls = 0;
      std::shared_ptr<grpc::Channel> channel;
      std::shared_ptr<grpc::Channel> as_service;
      while (!stop) {
        if (calls++ % 50 == 0) {
          channel = suite.Dial(suite.Address(service));
          as_service = suite.Dial(suite.Address(service), true);
        }
        client(channel, as_service);
      }
    });
  };
  std::vector<std::thread> clients;
  for (int copy = 0; copy < 2; ++copy) {
    clients.push_back(
        run("screening", [&](const auto& channel, const auto& /*as_service*/) {
          auto stub = screening::v1::ScreeningService::NewStub(channel);
          screening::v1::ListSchoolsRequest schools;
          schools.set_parent(parent);
          screening::v1::ListSchoolsResponse listed;
          counter.Add(
              "screening", "ListSchools",
              stub->ListSchools(
                  suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline)
                      .get(),
                  schools, &listed));
          screening::v1::UpsertAreaRequest upsert;
          upsert.set_parent(parent);
          upsert.mutable_area()->set_code(areas.front());
          upsert.mutable_area()->set_display_name("refused");
          screening::v1::Area area;
          counter.Add(
              "screening", "UpsertArea as analyst (deliberate)",
              stub->UpsertArea(
                  suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline)
                      .get(),
                  upsert, &area),
              grpc::StatusCode::PERMISSION_DENIED);
        }));
    clients.push_back(run("case", [&](const auto& channel,
                                      const auto& /*as_service*/) {
      auto stub = cv1::CaseService::NewStub(channel);
      cv1::ListCasesRequest list;
      list.set_parent(parent);
      list.set_area_code(city->cases.front().area_code);
      list.set_page_size(50);
      cv1::ListCasesResponse listed;
      counter.Add("case", "ListCases",
                  stub->ListCases(suite
                                      .ContextAs(auth::Role::kWardOfficer,
                                                 kCity, areas, {}, deadline)
                                      .get(),
                                  list, &listed));
      if (!listed.cases().empty()) {
        cv1::GetCaseRequest get;
        get.set_name(listed.cases(0).name());
        cv1::Case got;
        counter.Add("case", "GetCase",
                    stub->GetCase(suite
                                      .ContextAs(auth::Role::kWardOfficer,
                                                 kCity, areas, {}, deadline)
                                      .get(),
                                  get, &got));
      }
      // A write: a new case every call.
      const sample::SampleCase& model = city->cases.front();
      cv1::CreateCaseRequest create;
      create.set_parent(parent);
      create.set_request_id(absl::StrCat("load-", writes++));
      // The same child every time: each is opened on purpose.
      create.set_duplicate_override("resilience test: another case on purpose");
      cv1::Case* c = create.mutable_case_();
      c->set_area_code(areas.front());
      c->set_source(cv1::CASE_SOURCE_SCHOOL);
      *c->mutable_opened_date() = DateToProto(model.opened);
      c->mutable_child()->set_name(model.child.name);
      c->mutable_child()->set_kana(model.child.kana);
      *c->mutable_child()->mutable_birth_date() =
          DateToProto(model.child.birth_date);
      c->mutable_child()->set_sex(cv1::SEX_FEMALE);
      c->mutable_child()->set_school_code(model.child.school_code);
      c->mutable_child()->set_grade(model.child.grade);
      cv1::Case opened;
      counter.Add("case", "CreateCase",
                  stub->CreateCase(suite
                                       .ContextAs(auth::Role::kWardOfficer,
                                                  kCity, areas, {}, deadline)
                                       .get(),
                                   create, &opened));
      grpc::ClientContext anonymous;
      anonymous.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
      counter.Add("case", "ListCases without a token (deliberate)",
                  stub->ListCases(&anonymous, list, &listed),
                  grpc::StatusCode::UNAUTHENTICATED);
    }));
    clients.push_back(run("referral", [&](const auto& channel,
                                          const auto& as_service) {
      auto stub = referral::v1::ReferralService::NewStub(channel);
      referral::v1::SearchSupportsRequest search;
      search.set_parent(parent);
      search.set_page_size(100);
      referral::v1::SearchSupportsResponse found;
      counter.Add(
          "referral", "SearchSupports",
          stub->SearchSupports(suite
                                   .ContextAs(auth::Role::kWardOfficer, kCity,
                                              areas, {}, deadline)
                                   .get(),
                               search, &found));
      events::v1::ListEventsRequest events;
      events.set_page_size(100);
      events::v1::ListEventsResponse page;
      counter.Add(
          "referral", "ListEvents",
          events::v1::EventFeed::NewStub(as_service)
              ->ListEvents(
                  suite.ContextAs(auth::Role::kService, "", {}, {}, deadline)
                      .get(),
                  events, &page));
      counter.Add(
          "referral", "ListEvents as analyst (deliberate)",
          events::v1::EventFeed::NewStub(channel)->ListEvents(
              suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline)
                  .get(),
              events, &page),
          grpc::StatusCode::PERMISSION_DENIED);
    }));
    clients.push_back(run("reporting", [&](const auto& channel,
                                           const auto& /*as_service*/) {
      auto stub = reporting::v1::ReportingService::NewStub(channel);
      reporting::v1::GetWardComparisonRequest compare;
      compare.set_parent(parent);
      compare.set_fiscal_year(FiscalYear(*city));
      reporting::v1::WardComparison comparison;
      counter.Add(
          "reporting", "GetWardComparison",
          stub->GetWardComparison(
              suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline)
                  .get(),
              compare, &comparison));
      reporting::v1::ProjectionStatus status;
      counter.Add(
          "reporting", "GetProjectionStatus",
          stub->GetProjectionStatus(
              suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline)
                  .get(),
              reporting::v1::GetProjectionStatusRequest(), &status));
      grpc::ClientContext anonymous;
      anonymous.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
      counter.Add("reporting", "GetWardComparison without a token (deliberate)",
                  stub->GetWardComparison(&anonymous, compare, &comparison),
                  grpc::StatusCode::UNAUTHENTICATED);
    }));
  }

  // Memory and connections, once a second; the first third is warm-up.
  const absl::Time start = absl::Now();
  std::vector<std::map<std::string, Sample>> series;
  while (absl::Now() < start + duration) {
    absl::SleepFor(absl::Seconds(1));
    series.push_back(Measure(suite));
  }
  stop = true;
  for (std::thread& client : clients) {
    client.join();
  }
  const absl::Duration ran = absl::Now() - start;
  const auto calls = counter.calls();
  EXPECT_THAT(counter.wrong(), ::testing::IsEmpty());
  ASSERT_GE(series.size(), 6u);

  // Once the clients are gone their connections close: the descriptors
  // come back to where they were before the load (a few seconds' grace
  // for gRPC to notice the closed connections).
  std::map<std::string, Sample> after;
  const absl::Time settle = absl::Now() + absl::Seconds(15);
  bool settled = false;
  while (!settled && absl::Now() < settle) {
    absl::SleepFor(absl::Milliseconds(500));
    after = Measure(suite);
    settled = true;
    for (const std::string& service : ServiceNames()) {
      settled = settled && after[service].fds <= idle.at(service).fds + 2;
    }
  }
  const std::map<std::string, Sample>& middle = series[series.size() / 3];
  const std::map<std::string, Sample>& end = series.back();
  for (const std::string& service : ServiceNames()) {
    SCOPED_TRACE(service);
    int max_connections = 0;
    int max_fds = 0;
    for (const auto& point : series) {
      max_connections =
          std::max(max_connections, point.at(service).connections);
      max_fds = std::max(max_fds, point.at(service).fds);
    }
    const int64_t mid_rss = middle.at(service).rss_kib;
    const int64_t end_rss = end.at(service).rss_kib;
    std::printf(
        "%-9s %7lld calls (%.0f/s), %lld errors; RSS idle %lld KiB, at a "
        "third %lld KiB, at the end %lld KiB; fds idle %d, max %d, after %d; "
        "db connections idle %d, max %d, after %d\n",
        service.c_str(),
        static_cast<long long>(calls.count(service) ? calls.at(service) : 0),
        (calls.count(service) ? calls.at(service) : 0) /
            absl::ToDoubleSeconds(ran),
        static_cast<long long>(counter.errors()[service]),
        static_cast<long long>(idle.at(service).rss_kib),
        static_cast<long long>(mid_rss), static_cast<long long>(end_rss),
        idle.at(service).fds, max_fds, after[service].fds,
        idle.at(service).connections, max_connections,
        after[service].connections);
    EXPECT_GT(calls.count(service) ? calls.at(service) : 0, 100);
    // Flat: at most 8 MiB or 10% more than at a third of the run.
    EXPECT_LE(end_rss - mid_rss, std::max<int64_t>(8 * 1024, mid_rss / 10));
    EXPECT_LE(after[service].fds, idle.at(service).fds + 2);
    // The pool, and the outbox listener of a service whose feed is watched.
    EXPECT_LE(max_connections, kPoolSize + 1);
    EXPECT_LE(after[service].connections, kPoolSize + 1);
  }
}

}  // namespace
}  // namespace kosapo::resilience
