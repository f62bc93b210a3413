// kill -9 of each service in the middle of a bulk intake and of an event
// feed catch-up, then a restart: nothing lost, nothing doubled. The final
// ward comparison and every producer's event census must equal those of an
// undisturbed load of the same city (and the comparison what the generator
// says the city holds), after the client retried its whole load with the
// same request ids.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/resilience/suite.h"

namespace kosapo::resilience {
namespace {

constexpr char kCity[] = "90001";

class CrashTest : public ::testing::Test {
 protected:
  // The undisturbed expectation: the same city loaded into a fresh suite
  // with no fault.
  static void SetUpTestSuite() {
    auto city = SmallCity(kCity, 3000);
    ASSERT_TRUE(city.ok()) << city.status();
    city_ = new sample::SampleCity(*std::move(city));
    auto suite = Suite::Start("reference");
    ASSERT_TRUE(suite.ok()) << suite.status();
    const absl::Time start = absl::Now();
    auto attempts = LoadUntilDone(**suite, *city_, absl::Minutes(3));
    ASSERT_TRUE(attempts.ok()) << attempts.status();
    ASSERT_EQ(*attempts, 1);
    auto outcome = Observe(**suite, *city_, absl::Minutes(2));
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    std::printf(
        "reference: %zu pupils, %zu cases, %lld events, loaded and applied "
        "in %s\n",
        city_->screenings.back().pupils.size(), city_->cases.size(),
        static_cast<long long>(outcome->events),
        absl::FormatDuration(absl::Now() - start).c_str());
    ASSERT_EQ(CompareWithGenerator(outcome->comparison, *city_), "");
    reference_ = new Outcome(*std::move(outcome));
  }

  static void TearDownTestSuite() {
    delete reference_;
    delete city_;
  }

  void SetUp() override {
    ASSERT_NE(reference_, nullptr) << "the reference load failed";
  }

  static void ExpectSameAsReference(const Outcome& got) {
    EXPECT_EQ(got.comparison.DebugString(),
              reference_->comparison.DebugString());
    EXPECT_EQ(got.census, reference_->census);
    EXPECT_EQ(got.events, reference_->events);
    EXPECT_EQ(CompareWithGenerator(got.comparison, *city_), "");
  }

  // Loads the city; once `due` says so (polled every 2 ms on the load's
  // progress), kills `victim`, lets the load fail, restarts the victim and
  // loads the city again from the start with the same request ids.
  void KillDuringLoad(
      const std::string& victim,
      const std::function<bool(const sample::LoadProgress&)>& due) {
    auto suite = Suite::Start("kill-" + victim);
    ASSERT_TRUE(suite.ok()) << suite.status();
    const absl::Time start = absl::Now();
    sample::LoadProgress progress;
    absl::Status first;
    std::atomic<bool> done{false};
    std::thread load([&] {
      first = sample::LoadCity(*city_, (*suite)->Targets(), &progress);
      done = true;
    });
    while (!done && !due(progress)) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    const bool killed_in_time = !done;
    const std::string at = absl::StrCat(
        "sheets ", progress.sheets.load(), ", cases ", progress.cases.load(),
        " of ", progress.cases_total, ", referrals ", progress.referrals.load(),
        " of ", progress.referrals_total);
    ASSERT_TRUE((*suite)->Kill(victim).ok());
    load.join();
    ASSERT_TRUE(killed_in_time) << "the load ended before the kill";
    // The client saw the fault (and must retry); what it saw is reported.
    EXPECT_FALSE(first.ok());
    std::printf("killed %s at %s; the load failed with %s\n", victim.c_str(),
                at.c_str(), first.ToString().substr(0, 200).c_str());

    const absl::Status restarted = (*suite)->Restart(victim);
    ASSERT_TRUE(restarted.ok()) << restarted << "\n"
                                << (*suite)->Process(victim).Stderr();
    auto attempts = LoadUntilDone(**suite, *city_, absl::Minutes(3));
    ASSERT_TRUE(attempts.ok()) << attempts.status();
    auto outcome = Observe(**suite, *city_, absl::Minutes(2));
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    std::printf("%s: reloaded in %d attempt(s), all applied after %s\n",
                victim.c_str(), *attempts,
                absl::FormatDuration(absl::Now() - start).c_str());
    ExpectSameAsReference(*outcome);
  }

  static sample::SampleCity* city_;
  static Outcome* reference_;
};

sample::SampleCity* CrashTest::city_ = nullptr;
Outcome* CrashTest::reference_ = nullptr;

TEST_F(CrashTest, ScreeningKilledDuringSheetIntake) {
  // One school's stream finished, the others in flight.
  KillDuringLoad("screening", [](const sample::LoadProgress& progress) {
    return progress.sheets > 0;
  });
}

TEST_F(CrashTest, CaseKilledDuringCaseIntake) {
  KillDuringLoad("case", [](const sample::LoadProgress& progress) {
    return progress.cases_total > 0 &&
           progress.cases * 3 >= progress.cases_total;
  });
}

TEST_F(CrashTest, ReferralKilledDuringReferralIntake) {
  KillDuringLoad("referral", [](const sample::LoadProgress& progress) {
    return progress.referrals_total > 0 &&
           progress.referrals * 3 >= progress.referrals_total;
  });
}

// Empties reporting's projections and checkpoints (it must be stopped), so
// on its next start it catches up every feed from the beginning.
absl::Status ForgetProjections(Suite& suite) {
  try {
    pqxx::connection admin(suite.cluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    const std::string schema = suite.cluster().Schema("reporting");
    std::vector<std::string> tables;
    for (const auto& row : tx.exec_params(
             "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND "
             "tablename <> 'schema_migrations'",
             schema)) {
      tables.push_back(tx.quote_name(schema) + "." +
                       tx.quote_name(row[0].as<std::string>()));
    }
    tx.exec0("TRUNCATE " + absl::StrJoin(tables, ", "));
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

// The events reporting has applied from each feed, as its checkpoints are
// committed. One connection, so it can be polled quickly.
class AppliedEvents {
 public:
  explicit AppliedEvents(Suite& suite)
      : connection_(suite.cluster().AdminUrl()),
        query_("SELECT source, last_sequence FROM " +
               connection_.quote_name(suite.cluster().Schema("reporting")) +
               ".consumer_checkpoints") {}
  std::map<std::string, int64_t> Feeds() {
    pqxx::nontransaction tx(connection_);
    std::map<std::string, int64_t> feeds;
    for (const auto& row : tx.exec(query_)) {
      feeds[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    return feeds;
  }
  int64_t Now() {
    int64_t total = 0;
    for (const auto& [source, applied] : Feeds()) {
      total += applied;
    }
    return total;
  }

 private:
  pqxx::connection connection_;
  const std::string query_;
};

TEST_F(CrashTest, EachServiceKilledDuringReportingsCatchUp) {
  auto suite = Suite::Start("kill-catch-up");
  ASSERT_TRUE(suite.ok()) << suite.status();
  Suite& s = **suite;
  auto attempts = LoadUntilDone(s, *city_, absl::Minutes(3));
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  auto loaded = Observe(s, *city_, absl::Minutes(2));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameAsReference(*loaded);
  int64_t heads = 0;
  std::map<std::string, int64_t> head_of;
  for (const char* producer : {"screening", "case", "referral"}) {
    auto head = s.Head(producer);
    ASSERT_TRUE(head.ok()) << head.status();
    heads += *head;
    head_of[producer] = *head;
  }

  // For each service: reporting starts over from empty projections, and the
  // service (reporting itself, or a producer serving its feed) is killed
  // once reporting has applied part of the feeds. A producer is killed while
  // reporting is held (SIGSTOP) part way, so the kill cannot come after the
  // catch-up; reporting then goes on (SIGCONT) without it until it is back.
  for (const std::string victim :
       {"reporting", "screening", "case", "referral"}) {
    SCOPED_TRACE(victim);
    const absl::Time start = absl::Now();
    int64_t applied = 0;
    std::string feeds;
    bool part_way = false;
    for (int attempt = 0; attempt < 10 && !part_way; ++attempt) {
      if (s.Process("reporting").running()) {
        ASSERT_TRUE(s.Kill("reporting").ok());
      }
      ASSERT_TRUE(ForgetProjections(s).ok());
      AppliedEvents progress(s);
      ASSERT_TRUE(s.Restart("reporting", /*wait=*/false).ok());
      const absl::Time until = absl::Now() + absl::Minutes(1);
      while (progress.Now() == 0 && absl::Now() < until) {
      }
      const auto describe = [&] {
        feeds.clear();
        const std::map<std::string, int64_t> at = progress.Feeds();
        for (const auto& [producer, head] : head_of) {
          absl::StrAppend(&feeds, feeds.empty() ? "" : ", ", producer, " ",
                          at.count(producer) ? at.at(producer) : 0, "/", head);
        }
      };
      if (victim == "reporting") {
        ASSERT_TRUE(s.Kill("reporting").ok());
        applied = progress.Now();
        describe();
        part_way = applied > 0 && applied < heads;
        continue;
      }
      ASSERT_TRUE(s.Signal("reporting", SIGSTOP).ok());
      applied = progress.Now();
      describe();
      part_way = applied > 0 && applied < heads;
      if (part_way) {
        ASSERT_TRUE(s.Kill(victim).ok());
      }
      ASSERT_TRUE(s.Signal("reporting", SIGCONT).ok());
    }
    std::printf("killed %s with reporting at %lld of %lld events (%s)\n",
                victim.c_str(), static_cast<long long>(applied),
                static_cast<long long>(heads), feeds.c_str());
    ASSERT_TRUE(part_way) << "every catch-up ended before the kill";
    ASSERT_TRUE(s.Restart(victim).ok());
    if (victim != "reporting") {
      ASSERT_TRUE(s.AwaitServing("reporting").ok());
    }
    auto outcome = Observe(s, *city_, absl::Minutes(2));
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    std::printf("%s: reporting caught up %s after it started over\n",
                victim.c_str(),
                absl::FormatDuration(absl::Now() - start).c_str());
    ExpectSameAsReference(*outcome);
  }
}

}  // namespace
}  // namespace kosapo::resilience
