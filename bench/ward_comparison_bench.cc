// The ward comparison of a large city, in one run: GetWardComparison over
// real gRPC (the reporting service in this process, exactly as its binary
// runs it, over mutual TLS) for a city of N cases over ten fiscal years,
// against the single best hand-written SQL query over the same projections
// (one statement counting the year's table per ward and every earlier
// year's city total from the cases and their changes), as of the year end
// and as of 30 September; and against one SELECT of the year-end counts
// the service keeps (the floor of any year-end report). Checks first that
// the service's cells equal the hand-written query's on both days. Prints
// median and p99 latencies and their ratios to the hand-written query.
//
//   ward_comparison_bench [--cases=1000000] [--calls=50] [--out=FILE]
//                         [--baseline_calls=5] (of each hand-written query,
//                         which takes seconds at full size)
//                         [--timeout=60] (statement timeout, seconds)
//                         [--hold=0] (seconds to wait after loading, e.g.
//                         for EXPLAIN ANALYZE in psql: the database URL is
//                         printed)
#include <grpcpp/client_context.h>

#include <cstdio>
#include <functional>
#include <map>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "common/service/in_process.h"
#include "common/testing/stdout_capture.h"
#include "common/types/api_types.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/reporting/reporting_server.h"
#include "services/reporting/testing/synthetic_city.h"

namespace {

namespace v1 = kosapo::reporting::v1;
using kosapo::bench::Check;

constexpr char kCity[] = "27100";
constexpr int kFirstYear = 2014;
constexpr int kYears = 10;
constexpr int kYear = kFirstYear + kYears - 1;

// The whole table from the projections in one statement, as an expert
// would write it with the indexes the projections have: the cohort from
// cases_cohort, and for each case its latest approach status and outcome
// by the day (one backward step of approach_changes_case and
// outcome_changes_case) and whether a connection started by then
// (connections_case). The year's wards as of $3, and every earlier year's
// city total as of its own end.
constexpr char kHandWritten[] = R"sql(
WITH counted AS (
  SELECT c.fiscal_year,
         CASE WHEN c.fiscal_year = $2 THEN c.area_code END AS area,
         s.status, o.resolved, k.connected
    FROM cases c
   CROSS JOIN LATERAL (
     SELECT CASE WHEN c.fiscal_year = $2 THEN $3::date
                 ELSE make_date(c.fiscal_year + 1, 3, 31) END AS day) d
    LEFT JOIN LATERAL (
     SELECT a.status FROM approach_changes a
      WHERE a.case_name = c.name AND a.effective_date <= d.day
      ORDER BY a.effective_date DESC, a.seq DESC LIMIT 1) s ON true
    LEFT JOIN LATERAL (
     SELECT o.kind = 'improved_resolved' AS resolved FROM outcome_changes o
      WHERE o.case_name = c.name AND o.effective_date <= d.day
      ORDER BY o.effective_date DESC, o.seq DESC LIMIT 1) o ON true
   CROSS JOIN LATERAL (
     SELECT EXISTS (
       SELECT 1 FROM connections k
        WHERE k.case_name = c.name AND NOT k.revoked
          AND k.effective_date <= d.day) AS connected) k
   WHERE c.municipality = $1 AND c.fiscal_year <= $2 AND NOT c.withdrawn
     AND c.opened_date <= d.day),
counts AS (
  SELECT fiscal_year, area, count(*) AS target,
         count(*) FILTER (WHERE status = 'outreach_done') AS done,
         count(*) FILTER (WHERE status = 'outreach_done' AND connected)
           AS connected,
         count(*) FILTER (WHERE status IS NULL
                             OR status = 'in_preparation') AS preparing,
         count(*) FILTER (WHERE status = 'not_possible') AS unable,
         count(*) FILTER (WHERE resolved) AS resolved
    FROM counted GROUP BY 1, 2),
pupils AS (
  SELECT fiscal_year, CASE WHEN fiscal_year = $2 THEN area_code END AS area,
         sum(pupils) AS pupils
    FROM enrollment WHERE municipality = $1 AND fiscal_year <= $2
   GROUP BY 1, 2)
SELECT coalesce(c.fiscal_year, p.fiscal_year), coalesce(c.area, p.area),
       p.pupils, c.target, c.done, c.connected, c.preparing, c.unable,
       c.resolved
  FROM counts c FULL JOIN pupils p
    ON p.fiscal_year = c.fiscal_year AND p.area IS NOT DISTINCT FROM c.area
)sql";

// The year-end counts as the service keeps them, in one statement.
constexpr char kYearEndRead[] = R"sql(
SELECT fiscal_year, CASE WHEN fiscal_year = $2 THEN area_code END,
       sum(target), sum(outreach_done), sum(connected), sum(preparing),
       sum(unable), sum(resolved)
  FROM year_end_counts WHERE municipality = $1 AND fiscal_year <= $2
 GROUP BY 1, 2
)sql";

struct Timing {
  std::string what;
  double median_ms;
  double p99_ms;
};

// A call that throws took too long (the statement timeout): recorded as
// that long, and the rest of the calls skipped.
Timing Measure(const std::string& what, int calls,
               const std::function<void()>& call) {
  std::vector<double> seconds;
  for (int i = 0; i <= calls; ++i) {
    const absl::Time start = absl::Now();
    bool timed_out = false;
    try {
      call();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "  %s: %s\n", what.c_str(), error.what());
      timed_out = true;
    }
    if (i > 0 || timed_out) {  // the first call warms the caches
      seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start));
    }
    if (timed_out) {
      std::vector<double> once = seconds;
      const double ms = kosapo::bench::Quantile(once, 1.0) * 1000;
      return {what + " (stopped by the statement timeout)", ms, ms};
    }
  }
  const double median = kosapo::bench::Quantile(seconds, 0.5) * 1000;
  const double p99 = kosapo::bench::Quantile(seconds, 0.99) * 1000;
  std::fprintf(stderr, "  %s: median %.2f ms, p99 %.2f ms\n", what.c_str(),
               median, p99);
  return {what, median, p99};
}

// The count cells of a report by "fiscal year/area" ("" for a city total
// of an earlier year): pupils, target, outreach done, connected, in
// preparation, not possible, resolved.
using Cells = std::map<std::string, std::vector<int64_t>>;

Cells CellsOf(const pqxx::result& result) {
  Cells cells;
  for (const pqxx::row& row : result) {
    std::vector<int64_t>& counts =
        cells[absl::StrCat(row[0].as<int>(), "/", row[1].as<std::string>(""))];
    for (int column = 2; column <= 8; ++column) {
      counts.push_back(row[column].as<int64_t>(0));
    }
  }
  return cells;
}

Cells CellsOf(const v1::WardComparison& report) {
  Cells cells;
  for (const v1::WardRow& row : report.rows()) {
    std::string key;
    if (row.kind() == v1::ROW_KIND_AREA) {
      key = absl::StrCat(row.fiscal_year(), "/", row.area_code());
    } else if (row.kind() == v1::ROW_KIND_EARLIER_CITY_TOTAL) {
      key = absl::StrCat(row.fiscal_year(), "/");
    } else {
      continue;  // the year's city total: the sum of its wards
    }
    for (int column : {1, 2, 4, 6, 11, 13, 15}) {
      cells[key].push_back(row.cells(column - 1).count());
    }
  }
  return cells;
}

std::string Describe(const Cells& cells) {
  std::string out;
  for (const auto& [key, counts] : cells) {
    absl::StrAppend(&out, key, ": ", absl::StrJoin(counts, " "), "\n");
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  kosapo::bench::Flags flags(argc, argv,
                             {{"cases", "1000000"},
                              {"calls", "50"},
                              {"out", ""},
                              {"timeout", "60"},
                              {"baseline_calls", "5"},
                              {"hold", "0"}});
  const int64_t case_count = flags.Int("cases");
  const int calls = flags.Int("calls");
  const int baseline_calls = flags.Int("baseline_calls");
  Check(case_count > 0 && calls > 0 && baseline_calls > 0, "arguments");

  auto cluster = kosapo::testing::PgCluster::Start("kosapo", {"reporting"});
  kosapo::bench::CheckOk(cluster.status(), "cluster start");
  auto tokens = kosapo::testing::TestTokens::Create();
  kosapo::bench::CheckOk(tokens.status(), "tokens");
  std::string table;
  {
    kosapo::testing::StdoutCapture logs((*cluster)->data_dir() + "-bench.log");
    auto service = kosapo::testing::InProcessService::Start(
        kosapo::reporting::Definition(), **cluster, **tokens,
        (*cluster)->data_dir());
    kosapo::bench::CheckOk(service.status(), "reporting service start");

    kosapo::reporting::testing::SyntheticCity city;
    city.municipality = kCity;
    city.cases = case_count;
    city.first_year = kFirstYear;
    city.years = kYears;
    const absl::Time load_start = absl::Now();
    kosapo::bench::CheckOk(
        kosapo::reporting::testing::LoadSyntheticCity(
            (*cluster)->AdminUrl(), (*cluster)->Schema("reporting"), city),
        "load the synthetic city");
    const double load_seconds = absl::ToDoubleSeconds(absl::Now() - load_start);
    std::fprintf(stderr, "loaded %lld cases in %.1f s\n",
                 static_cast<long long>(case_count), load_seconds);
    if (flags.Int("hold") > 0) {
      std::fprintf(stderr, "database %s (schema %s); measuring in %d s\n",
                   (*cluster)->AdminUrl().c_str(),
                   (*cluster)->Schema("reporting").c_str(), flags.Int("hold"));
      absl::SleepFor(absl::Seconds(flags.Int("hold")));
    }

    auto stub = v1::ReportingService::NewStub((*service)->channel());
    kosapo::auth::Principal analyst;
    analyst.subject = "user:bench-analyst";
    analyst.role = kosapo::auth::Role::kAnalyst;
    analyst.municipality = kCity;
    const std::string token = (**tokens).Sign(analyst);
    // 24 wards, the year's city total and nine earlier years.
    const int rows_expected = city.areas + 1 + (kYears - 1);
    auto call_report = [&](const kosapo::type::Date* as_of) {
      v1::GetWardComparisonRequest request;
      request.set_parent(absl::StrCat("municipalities/", kCity));
      request.set_fiscal_year(kYear);
      if (as_of != nullptr) {
        *request.mutable_as_of() = *as_of;
      }
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      v1::WardComparison response;
      const grpc::Status status =
          stub->GetWardComparison(&context, request, &response);
      Check(status.ok(), "GetWardComparison: " + status.error_message());
      Check(response.rows_size() == rows_expected,
            absl::StrCat("rows: ", response.rows_size()));
      return response;
    };
    auto report = [&](const kosapo::type::Date* as_of) {
      return [&call_report, as_of] { call_report(as_of); };
    };

    pqxx::connection connection((*cluster)->ServiceUrl("reporting"));
    {
      pqxx::nontransaction setup(connection);
      setup.exec0(absl::StrCat("SET statement_timeout = '",
                               flags.Int("timeout"), "s'"));
    }
    auto run_query = [&](const char* sql, absl::CivilDay as_of) {
      pqxx::work tx(connection);
      const pqxx::result result =
          tx.exec_params(sql, kCity, kYear, kosapo::DayToSql(as_of));
      Check(!result.empty(), "hand-written query rows");
      return result;
    };
    auto query = [&](const char* sql, absl::CivilDay as_of) {
      return [&run_query, sql, as_of] { run_query(sql, as_of); };
    };
    auto read_year_end = [&] {
      pqxx::work tx(connection);
      Check(!tx.exec_params(kYearEndRead, kCity, kYear).empty(),
            "year-end counts rows");
    };
    const absl::CivilDay year_end(kYear + 1, 3, 31);
    const absl::CivilDay mid_day(kYear, 9, 30);
    const kosapo::type::Date mid_year = kosapo::DateToProto(mid_day);

    // The service answers what the hand-written query answers, cell for
    // cell, on both days: the figures below time the same report.
    std::string checked;
    for (const auto& [day, as_of] :
         std::vector<std::pair<absl::CivilDay, const kosapo::type::Date*>>{
             {year_end, nullptr}, {mid_day, &mid_year}}) {
      try {
        const std::string want =
            Describe(CellsOf(run_query(kHandWritten, day)));
        const std::string got = Describe(CellsOf(call_report(as_of)));
        Check(
            got == want,
            absl::StrCat("GetWardComparison as of ", absl::FormatCivilTime(day),
                         " differs from the hand-written query:\nservice:\n",
                         got, "hand-written:\n", want));
        absl::StrAppend(&checked, checked.empty() ? "" : " and ",
                        absl::FormatCivilTime(day));
      } catch (const pqxx::sql_error& error) {
        std::fprintf(stderr, "  not compared as of %s: %s\n",
                     absl::FormatCivilTime(day).c_str(), error.what());
      }
    }

    // Each report's ratio is to the hand-written query for the same day.
    struct Row {
      Timing timing;
      int baseline;  // index of its baseline row
    };
    std::vector<Row> timings;
    timings.push_back(
        {Measure("hand-written SQL over the projections, as of the year end "
                 "(baseline 1)",
                 baseline_calls, query(kHandWritten, year_end)),
         0});
    timings.push_back(
        {Measure("one SELECT of the year-end counts", calls, read_year_end),
         0});
    timings.push_back({Measure("GetWardComparison, as of the year end", calls,
                               report(nullptr)),
                       0});
    timings.push_back(
        {Measure("hand-written SQL over the projections, as of 30 September "
                 "(baseline 2)",
                 baseline_calls, query(kHandWritten, mid_day)),
         3});
    timings.push_back({Measure("GetWardComparison, as of 30 September", calls,
                               report(&mid_year)),
                       3});

    table = absl::StrFormat(
        "%d cases over FY%d-FY%d in %d wards (loaded in %.0f s); report for "
        "FY%d, %d calls of each hand-written query and %d of the others; "
        "GetWardComparison's cells equal the hand-written query's as of "
        "%s.\n\n",
        case_count, kFirstYear, kYear, city.areas, load_seconds, kYear,
        baseline_calls, calls,
        checked.empty() ? "neither day (it timed out)" : checked);
    absl::StrAppend(&table,
                    "| query | median ms | p99 ms | ratio to its baseline "
                    "(median, lower is faster) |\n|---|---:|---:|---:|\n");
    for (const Row& row : timings) {
      absl::StrAppendFormat(
          &table, "| %s | %.2f | %.2f | %.5f |\n", row.timing.what,
          row.timing.median_ms, row.timing.p99_ms,
          row.timing.median_ms / timings[row.baseline].timing.median_ms);
    }
    const Timing& mid = timings[4].timing;
    absl::StrAppendFormat(
        &table,
        "\nGoal, under 200 ms for a city-year at 1 million cases (any as-of "
        "date): as of 30 September median %.0f ms, p99 %.0f ms; as of the "
        "year end median %.0f ms, p99 %.0f ms.\n",
        mid.median_ms, mid.p99_ms, timings[2].timing.median_ms,
        timings[2].timing.p99_ms);
  }
  kosapo::bench::Emit(flags.String("out"), table);
  return 0;
}
