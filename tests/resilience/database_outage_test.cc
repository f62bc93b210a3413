// PostgreSQL stopped the way a crash stops it (pg_ctl stop -m immediate)
// and started again while calls are in flight: every call ends OK with the
// right answer or UNAVAILABLE (never a wrong answer, INTERNAL or anything
// else), each service's readiness goes NOT_SERVING and back to SERVING, and
// calls succeed again without restarting any service. Writes that failed
// are retried with their request ids afterwards: each made exactly one
// case and one event.
#include <grpcpp/client_context.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "tests/resilience/suite.h"

namespace kosapo::resilience {
namespace {

namespace cv1 = ::kosapo::cases::v1;
constexpr char kCity[] = "90002";

// What the callers saw, by call and code.
class Tally {
 public:
  void Add(const std::string& call, const grpc::Status& status,
           bool right_answer) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string code =
        status.ok() ? (right_answer ? "OK" : "OK but WRONG ANSWER")
                    : absl::StrCat("code ", status.error_code(), " (",
                                   status.error_message().substr(0, 80), ")");
    ++counts_[call][status.ok() ? (right_answer ? "OK" : "WRONG") : code];
    if (!status.ok() && status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      unexpected_.insert(call + ": " + code);
    }
    if (status.ok() && !right_answer) {
      unexpected_.insert(call + ": " + code);
    }
  }
  std::map<std::string, std::map<std::string, int>> counts() {
    std::lock_guard<std::mutex> lock(mutex_);
    return counts_;
  }
  std::set<std::string> unexpected() {
    std::lock_guard<std::mutex> lock(mutex_);
    return unexpected_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::map<std::string, int>> counts_;
  std::set<std::string> unexpected_;
};

// Reads list the cases of the first case's area; writes go to another.
std::string ReadArea(const sample::SampleCity& city) {
  return city.cases.front().area_code;
}
std::string WriteArea(const sample::SampleCity& city) {
  for (const sample::SampleArea& area : city.areas) {
    if (area.code != ReadArea(city)) {
      return area.code;
    }
  }
  return ReadArea(city);
}

cv1::CreateCaseRequest NewCase(const sample::SampleCity& city,
                               const std::string& request_id) {
  const sample::SampleCase& model = city.cases.front();
  cv1::CreateCaseRequest create;
  create.set_parent(absl::StrCat("municipalities/", city.municipality));
  create.set_request_id(request_id);
  // The same child every time: each is opened on purpose.
  create.set_duplicate_override("resilience test: another case on purpose");
  cv1::Case* out = create.mutable_case_();
  out->set_area_code(WriteArea(city));
  out->set_source(cv1::CASE_SOURCE_SCHOOL);
  *out->mutable_opened_date() = DateToProto(model.opened);
  cv1::Child* child = out->mutable_child();
  child->set_name(model.child.name);
  child->set_kana(model.child.kana);
  *child->mutable_birth_date() = DateToProto(model.child.birth_date);
  child->set_sex(model.child.male ? cv1::SEX_MALE : cv1::SEX_FEMALE);
  child->set_school_code(model.child.school_code);
  child->set_grade(model.child.grade);
  return create;
}

// The comparison as before, except that the cases written meanwhile (all
// in `written_area`) may have been counted: every other area's row equal,
// the target cases of the year's city total not fewer.
bool SameButForNewCases(const reporting::v1::WardComparison& got,
                        const reporting::v1::WardComparison& before,
                        const std::string& written_area) {
  if (got.rows_size() != before.rows_size()) {
    return false;
  }
  for (int r = 0; r < got.rows_size(); ++r) {
    const reporting::v1::WardRow& now = got.rows(r);
    const reporting::v1::WardRow& then = before.rows(r);
    if (now.kind() != then.kind() || now.area_code() != then.area_code() ||
        now.cells_size() != then.cells_size()) {
      return false;
    }
    if (now.kind() == reporting::v1::ROW_KIND_AREA &&
        now.area_code() != written_area &&
        now.DebugString() != then.DebugString()) {
      return false;
    }
    if (now.cells_size() > 1 && now.cells(1).count() < then.cells(1).count()) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> AreaCodes(const sample::SampleCity& city) {
  std::vector<std::string> areas;
  for (const sample::SampleArea& area : city.areas) {
    areas.push_back(area.code);
  }
  return areas;
}

TEST(DatabaseOutageTest, CallersGetUnavailableAndServicesRecoverUnrestarted) {
  auto city = SmallCity(kCity, 300);
  ASSERT_TRUE(city.ok()) << city.status();
  auto started = Suite::Start("db-outage");
  ASSERT_TRUE(started.ok()) << started.status();
  Suite& suite = **started;
  auto attempts = LoadUntilDone(suite, *city, absl::Minutes(3));
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  auto before = Observe(suite, *city, absl::Minutes(2));
  ASSERT_TRUE(before.ok()) << before.status();
  std::map<std::string, pid_t> pids;
  for (const std::string& service : ServiceNames()) {
    pids[service] = suite.Pid(service);
  }
  const std::vector<std::string> areas = AreaCodes(*city);
  const std::string parent = absl::StrCat("municipalities/", kCity);

  // The answers the reads must give whenever they succeed.
  auto screening =
      screening::v1::ScreeningService::NewStub(suite.Channel("screening"));
  auto cases = cv1::CaseService::NewStub(suite.Channel("case"));
  auto referral =
      referral::v1::ReferralService::NewStub(suite.Channel("referral"));
  auto reporting =
      reporting::v1::ReportingService::NewStub(suite.Channel("reporting"));
  screening::v1::ListAreasRequest list_areas;
  list_areas.set_parent(parent);
  screening::v1::ListAreasResponse areas_before;
  ASSERT_TRUE(
      screening
          ->ListAreas(suite.ContextAs(auth::Role::kAnalyst, kCity).get(),
                      list_areas, &areas_before)
          .ok());
  cv1::ListCasesRequest list_cases;
  list_cases.set_parent(parent);
  list_cases.set_area_code(ReadArea(*city));
  ASSERT_NE(WriteArea(*city), ReadArea(*city));
  list_cases.set_page_size(500);
  cv1::ListCasesResponse cases_before;
  ASSERT_TRUE(
      cases
          ->ListCases(
              suite.ContextAs(auth::Role::kWardOfficer, kCity, areas).get(),
              list_cases, &cases_before)
          .ok());
  ASSERT_FALSE(cases_before.cases().empty());
  referral::v1::SearchSupportsRequest search;
  search.set_parent(parent);
  search.set_page_size(500);
  referral::v1::SearchSupportsResponse supports_before;
  ASSERT_TRUE(
      referral
          ->SearchSupports(
              suite.ContextAs(auth::Role::kWardOfficer, kCity, areas).get(),
              search, &supports_before)
          .ok());
  reporting::v1::GetWardComparisonRequest compare;
  compare.set_parent(parent);
  compare.set_fiscal_year(FiscalYear(*city));

  Tally tally;
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::vector<std::thread> callers;
  const auto deadline = absl::Seconds(5);
  callers.emplace_back([&] {
    while (!stop) {
      screening::v1::ListAreasResponse got;
      const grpc::Status status = screening->ListAreas(
          suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline).get(),
          list_areas, &got);
      tally.Add("screening ListAreas", status,
                got.DebugString() == areas_before.DebugString());
    }
  });
  callers.emplace_back([&] {
    while (!stop) {
      cv1::ListCasesResponse got;
      const grpc::Status status = cases->ListCases(
          suite.ContextAs(auth::Role::kWardOfficer, kCity, areas, {}, deadline)
              .get(),
          list_cases, &got);
      tally.Add("case ListCases", status,
                got.DebugString() == cases_before.DebugString());
    }
  });
  callers.emplace_back([&] {
    while (!stop) {
      referral::v1::SearchSupportsResponse got;
      const grpc::Status status = referral->SearchSupports(
          suite.ContextAs(auth::Role::kWardOfficer, kCity, areas, {}, deadline)
              .get(),
          search, &got);
      tally.Add("referral SearchSupports", status,
                got.DebugString() == supports_before.DebugString());
    }
  });
  callers.emplace_back([&] {
    while (!stop) {
      reporting::v1::WardComparison got;
      const grpc::Status status = reporting->GetWardComparison(
          suite.ContextAs(auth::Role::kAnalyst, kCity, {}, {}, deadline).get(),
          compare, &got);
      tally.Add("reporting GetWardComparison", status,
                SameButForNewCases(got, before->comparison, WriteArea(*city)));
    }
  });
  // Writes: new cases, each with its own request id.
  std::mutex written_mutex;
  std::map<std::string, std::string> written;  // request id -> case name
  callers.emplace_back([&] {
    while (!stop) {
      const std::string request_id = absl::StrCat("outage-", writes++);
      cv1::Case opened;
      const grpc::Status status = cases->CreateCase(
          suite.ContextAs(auth::Role::kWardOfficer, kCity, areas, {}, deadline)
              .get(),
          NewCase(*city, request_id), &opened);
      tally.Add("case CreateCase", status,
                !status.ok() || !opened.name().empty());
      std::lock_guard<std::mutex> lock(written_mutex);
      written[request_id] = status.ok() ? opened.name() : "";
    }
  });

  absl::SleepFor(absl::Seconds(1));
  const absl::Time stopped = absl::Now();
  ASSERT_TRUE(suite.cluster().Stop().ok());
  // Readiness follows the database.
  for (const std::string& service : ServiceNames()) {
    EXPECT_TRUE(suite.AwaitReadiness(service, false, absl::Seconds(10)))
        << service;
  }
  const absl::Duration to_not_serving = absl::Now() - stopped;
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE(suite.cluster().Restart().ok());
  const absl::Time restarted = absl::Now();
  for (const std::string& service : ServiceNames()) {
    EXPECT_TRUE(suite.AwaitReadiness(service, true, absl::Seconds(30)))
        << service;
  }
  const absl::Duration to_serving = absl::Now() - restarted;
  // Calls succeed again: every caller's next call is OK.
  const auto ok_before = tally.counts();
  absl::SleepFor(absl::Seconds(2));
  stop = true;
  for (std::thread& caller : callers) {
    caller.join();
  }
  const auto counts = tally.counts();
  for (const auto& [call, codes] : counts) {
    std::string line;
    for (const auto& [code, n] : codes) {
      absl::StrAppend(&line, " ", code, "=", n);
    }
    std::printf("%s:%s\n", call.c_str(), line.c_str());
    const int ok_then =
        ok_before.count(call) > 0 && ok_before.at(call).count("OK")
            ? ok_before.at(call).at("OK")
            : 0;
    EXPECT_GT(codes.count("OK") ? codes.at("OK") : 0, ok_then)
        << call << " did not succeed after the database came back";
  }
  EXPECT_THAT(tally.unexpected(), ::testing::IsEmpty());
  std::printf(
      "readiness NOT_SERVING everywhere %s after the stop, SERVING %s "
      "after the restart\n",
      absl::FormatDuration(to_not_serving).c_str(),
      absl::FormatDuration(to_serving).c_str());

  // No service was restarted.
  for (const std::string& service : ServiceNames()) {
    EXPECT_TRUE(suite.Process(service).running()) << service;
    EXPECT_EQ(suite.Pid(service), pids[service]) << service;
  }

  // Every write retried with its request id: one case each, and a retry of
  // a write that had succeeded answers the same case.
  int failed_writes = 0;
  for (auto& [request_id, name] : written) {
    cv1::Case opened;
    const grpc::Status status = cases->CreateCase(
        suite.ContextAs(auth::Role::kWardOfficer, kCity, areas).get(),
        NewCase(*city, request_id), &opened);
    ASSERT_TRUE(status.ok()) << request_id << ": " << status.error_message();
    if (name.empty()) {
      ++failed_writes;
    } else {
      EXPECT_EQ(opened.name(), name) << request_id;
    }
    name = opened.name();
  }
  std::set<std::string> distinct;
  for (const auto& [request_id, name] : written) {
    distinct.insert(name);
  }
  EXPECT_EQ(distinct.size(), written.size());
  std::printf("%zu case writes, %d of them failed and were retried\n",
              written.size(), failed_writes);
  auto after = Observe(suite, *city, absl::Minutes(2));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->events - before->events,
            static_cast<int64_t>(written.size()));
  // Target cases (column 2) grew by exactly the cases written.
  int64_t target_before = 0;
  int64_t target_after = 0;
  for (const auto& row : before->comparison.rows()) {
    if (row.kind() == reporting::v1::ROW_KIND_CITY_TOTAL &&
        row.fiscal_year() == FiscalYear(*city)) {
      target_before = row.cells(1).count();
    }
  }
  for (const auto& row : after->comparison.rows()) {
    if (row.kind() == reporting::v1::ROW_KIND_CITY_TOTAL &&
        row.fiscal_year() == FiscalYear(*city)) {
      target_after = row.cells(1).count();
    }
  }
  EXPECT_EQ(target_after - target_before, static_cast<int64_t>(written.size()));
}

}  // namespace
}  // namespace kosapo::resilience
