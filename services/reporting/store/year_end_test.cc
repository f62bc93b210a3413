// The year-end counts (migrations/0003_year_end_counts.sql) and the day
// counts (0005_day_counts.sql) give exactly the counts of the case-by-case
// scan, for every year and area, as of the year end and as of days in and
// after the year, however the events of a city's history arrive: the case
// and referral feeds applied concurrently in batches, cases moving ward,
// withdrawn and back, statuses and outcomes dated after the year end,
// connections revoked or moved earlier.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <pqxx/nontransaction>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/status.h"
#include "common/pg/migrations.h"
#include "common/pg/pool.h"
#include "common/pg/transaction.h"
#include "common/service/service_main.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/events.pb.h"
#include "kosapo/referral/v1/events.pb.h"
#include "services/reporting/reporting_server.h"
#include "services/reporting/store/projection_store.h"

namespace kosapo::reporting {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
using ::kosapo::testing::SharedPgCluster;

constexpr char kCity[] = "27999";
constexpr int kFirstYear = 2019;
constexpr int kLastYear = 2023;

std::string Describe(const std::map<std::string, WardCounts>& counts) {
  std::string out;
  for (const auto& [area, c] : counts) {
    absl::StrAppend(&out, area, ": pupils ", c.pupils, " target ", c.target,
                    " done ", c.outreach_done, " connected ", c.connected,
                    " preparing ", c.preparing, " unable ", c.unable,
                    " resolved ", c.resolved, "\n");
  }
  return out;
}

// Areas whose counts are all zero are the same as absent ones.
std::map<std::string, WardCounts> WithoutZeros(
    std::map<std::string, WardCounts> counts) {
  for (auto it = counts.begin(); it != counts.end();) {
    const WardCounts& c = it->second;
    if (c.pupils == 0 && c.target == 0 && c.outreach_done == 0 &&
        c.connected == 0 && c.preparing == 0 && c.unable == 0 &&
        c.resolved == 0) {
      it = counts.erase(it);
    } else {
      ++it;
    }
  }
  return counts;
}

// A random history of `cases` cases over kFirstYear..kLastYear as the case
// and referral feeds would send it, each feed's events in order.
struct History {
  std::vector<events::v1::Event> case_feed;
  std::vector<events::v1::Event> referral_feed;
};

History RandomHistory(int cases, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  History history;
  auto add = [&](std::vector<events::v1::Event>& feed,
                 const google::protobuf::Message& payload) {
    events::v1::Event event;
    event.set_sequence(static_cast<int64_t>(feed.size()) + 1);
    event.mutable_payload()->PackFrom(payload);
    feed.push_back(event);
  };
  const std::vector<std::string> areas = {"A1", "A2", "A3"};
  for (int i = 0; i < cases; ++i) {
    const std::string name = absl::StrCat("cases/", i + 1);
    const int year = kFirstYear + pick(kLastYear - kFirstYear + 1);
    const absl::CivilDay start(year, 4, 1);
    const absl::CivilDay year_end(year + 1, 3, 31);
    // A day in the year, or now and then up to 60 days after its end.
    auto day = [&](absl::CivilDay from) {
      const int span = static_cast<int>(year_end - from) + 1;
      if (span <= 0) {
        return from + pick(60);
      }
      return from + (pick(10) == 0 ? span + pick(60) : pick(span));
    };
    cv1::CaseOpened opened;
    opened.set_case_(name);
    opened.set_municipality_code(kCity);
    opened.set_area_code(areas[pick(3)]);
    opened.set_fiscal_year(year);
    const absl::CivilDay opened_on = pick(20) == 0 ? year_end + 1 : day(start);
    *opened.mutable_opened_date() = DateToProto(opened_on);
    add(history.case_feed, opened);
    for (int step = pick(6); step > 0; --step) {
      switch (pick(7)) {
        case 0:
        case 1: {
          cv1::ApproachStatusChanged approach;
          approach.set_case_(name);
          approach.set_status(static_cast<cv1::ApproachStatus>(1 + pick(3)));
          *approach.mutable_effective_date() = DateToProto(day(opened_on));
          add(history.case_feed, approach);
          break;
        }
        case 2: {
          cv1::OutcomeRecorded outcome;
          outcome.set_case_(name);
          outcome.set_outcome(pick(2) == 0 ? cv1::OUTCOME_IMPROVED_RESOLVED
                                           : cv1::OUTCOME_MOVED_AWAY);
          *outcome.mutable_effective_date() = DateToProto(day(opened_on));
          add(history.case_feed, outcome);
          if (pick(3) == 0) {
            cv1::CaseReopened reopened;
            reopened.set_case_(name);
            *reopened.mutable_effective_date() = DateToProto(day(opened_on));
            add(history.case_feed, reopened);
          }
          break;
        }
        case 3: {
          cv1::CaseDetailsChanged moved;
          moved.set_case_(name);
          moved.set_area_code(areas[pick(3)]);
          add(history.case_feed, moved);
          break;
        }
        case 4: {
          cv1::CaseWithdrawn withdrawn;
          withdrawn.set_case_(name);
          add(history.case_feed, withdrawn);
          if (pick(2) == 0) {
            add(history.case_feed, opened);  // extracted again
          }
          break;
        }
        case 5: {
          rv1::ReferralConnected connected;
          const std::string referral = absl::StrCat("referrals/", i, "-", step);
          connected.set_referral(referral);
          connected.set_case_(name);
          *connected.mutable_effective_date() = DateToProto(day(opened_on));
          add(history.referral_feed, connected);
          if (pick(4) == 0) {
            rv1::ReferralRevoked revoked;
            revoked.set_referral(referral);
            add(history.referral_feed, revoked);
          }
          break;
        }
        case 6: {
          rv1::HubUsageStarted started;
          started.set_usage(absl::StrCat("hubUsages/", i));
          started.set_case_(name);
          started.set_municipality_code(kCity);
          started.set_hub_code("H1");
          *started.mutable_start_date() = DateToProto(day(opened_on));
          add(history.referral_feed, started);
          break;
        }
      }
    }
  }
  return history;
}

class YearEndTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgCluster_ = &SharedPgCluster();
    auto migrated = pg::Migrate(
        PgCluster_->OwnerUrl("reporting"), PgCluster_->Schema("reporting"),
        WithPlatform(Definition()).migrations, {"kosapo_reporting"});
    ASSERT_TRUE(migrated.ok()) << migrated.status();
    pg::PoolOptions options;
    options.url = PgCluster_->ServiceUrl("reporting");
    options.schema = PgCluster_->Schema("reporting");
    options.size = 4;
    pool_ = new pg::Pool(options);
    store_ = new ProjectionStore(*pool_);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete pool_;
  }

  // Applies `feed` in batches of `batch` events, one transaction each, as
  // the consumer does.
  static absl::Status ApplyFeed(const std::vector<events::v1::Event>& feed,
                                int batch,
                                absl::Status (ProjectionStore::*apply)(
                                    pqxx::work&, const events::v1::Event&)) {
    for (size_t first = 0; first < feed.size(); first += batch) {
      KOSAPO_RETURN_IF_ERROR(pg::InTransaction(
          *pool_, "apply", [&](pqxx::work& tx) -> absl::Status {
            for (size_t i = first; i < std::min(feed.size(), first + batch);
                 ++i) {
              KOSAPO_RETURN_IF_ERROR((store_->*apply)(tx, feed[i]));
            }
            return absl::OkStatus();
          }));
    }
    return absl::OkStatus();
  }

  static void ExpectSameAsScan() {
    for (int year = kFirstYear; year <= kLastYear; ++year) {
      const absl::CivilDay year_end(year + 1, 3, 31);
      auto aggregated = store_->Counts(kCity, year, year_end);
      auto scanned = store_->ScanCounts(kCity, year, year_end);
      ASSERT_TRUE(aggregated.ok()) << aggregated.status();
      ASSERT_TRUE(scanned.ok()) << scanned.status();
      EXPECT_EQ(Describe(WithoutZeros(*aggregated)),
                Describe(WithoutZeros(*scanned)))
          << "FY" << year;
      // As of any other day (the year's first, then every 9 days to two
      // months after its end, which lands on days with and without facts)
      // the day counts are the scan's.
      for (absl::CivilDay day(year, 4, 1); day <= year_end + 60; day += 9) {
        auto day_counts = store_->Counts(kCity, year, day);
        auto day_scan = store_->ScanCounts(kCity, year, day);
        ASSERT_TRUE(day_counts.ok()) << day_counts.status();
        ASSERT_TRUE(day_scan.ok()) << day_scan.status();
        EXPECT_EQ(Describe(WithoutZeros(*day_counts)),
                  Describe(WithoutZeros(*day_scan)))
            << "FY" << year << " as of " << day;
      }
    }
    auto earlier = store_->EarlierYearTotals(kCity, kLastYear + 1);
    ASSERT_TRUE(earlier.ok()) << earlier.status();
    for (int year = kFirstYear; year <= kLastYear; ++year) {
      auto scanned =
          store_->ScanCounts(kCity, year, absl::CivilDay(year + 1, 3, 31));
      ASSERT_TRUE(scanned.ok());
      ASSERT_EQ(earlier->count(year), 1u) << "FY" << year;
      EXPECT_EQ(Describe({{"city", earlier->at(year)}}),
                Describe({{"city", Sum(*scanned)}}))
          << "FY" << year;
    }
  }

  static testing::PgCluster* PgCluster_;
  static pg::Pool* pool_;
  static ProjectionStore* store_;
};

testing::PgCluster* YearEndTest::PgCluster_ = nullptr;
pg::Pool* YearEndTest::pool_ = nullptr;
ProjectionStore* YearEndTest::store_ = nullptr;

TEST_F(YearEndTest, SameCountsAsTheScanWhenFeedsApplyConcurrently) {
  const History history = RandomHistory(400, 20240401);
  ASSERT_GT(history.referral_feed.size(), 50u);
  absl::Status case_feed;
  absl::Status referral_feed;
  std::thread cases([&] {
    case_feed = ApplyFeed(history.case_feed, 7, &ProjectionStore::ApplyCase);
  });
  std::thread referrals([&] {
    referral_feed =
        ApplyFeed(history.referral_feed, 3, &ProjectionStore::ApplyReferral);
  });
  cases.join();
  referrals.join();
  ASSERT_TRUE(case_feed.ok()) << case_feed;
  ASSERT_TRUE(referral_feed.ok()) << referral_feed;
  ExpectSameAsScan();

  // Rebuilt from scratch (after a bulk load), they are the same again.
  {
    pqxx::connection connection(PgCluster_->ServiceUrl("reporting"));
    pqxx::nontransaction tx(connection);
    tx.exec("SELECT rebuild_year_end()");
  }
  ExpectSameAsScan();
}

}  // namespace
}  // namespace kosapo::reporting
