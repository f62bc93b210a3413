// The ward comparison of a large city, in one run: GetWardComparison over
// real gRPC (the reporting service in this process, exactly as its binary
// runs it) for a city of N cases over ten fiscal years, against the single
// best hand-written SQL query over the same projections (one statement
// counting the year's table per ward and every earlier year's city total
// from the cases and their changes), and against one SELECT of the year-end
// counts the service keeps (the floor of any report). Also the report as of
// a day inside the year, which counts case by case. Prints median and p99
// latencies and their ratios to the hand-written query.
//
//   ward_comparison_bench [--cases=1000000] [--calls=50] [--out=FILE]
//                         [--timeout=60] (statement timeout, seconds)
#include <grpcpp/client_context.h>

#include <cstdio>
#include <functional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// The whole table from the projections in one statement: the year's wards
// as of its end, and every earlier year's city total as of its own end.
constexpr char kHandWritten[] = R"sql(
WITH status AS (
  SELECT DISTINCT ON (a.case_name) a.case_name, a.status
    FROM approach_changes a JOIN cases c ON c.name = a.case_name
   WHERE c.municipality = $1 AND c.fiscal_year <= $2
     AND a.effective_date <= make_date(c.fiscal_year + 1, 3, 31)
   ORDER BY a.case_name, a.effective_date DESC, a.seq DESC),
outcome AS (
  SELECT DISTINCT ON (o.case_name) o.case_name, o.kind
    FROM outcome_changes o JOIN cases c ON c.name = o.case_name
   WHERE c.municipality = $1 AND c.fiscal_year <= $2
     AND o.effective_date <= make_date(c.fiscal_year + 1, 3, 31)
   ORDER BY o.case_name, o.effective_date DESC, o.seq DESC),
connected AS (
  SELECT DISTINCT k.case_name
    FROM connections k JOIN cases c ON c.name = k.case_name
   WHERE c.municipality = $1 AND c.fiscal_year <= $2 AND NOT k.revoked
     AND k.effective_date <= make_date(c.fiscal_year + 1, 3, 31)),
counts AS (
  SELECT c.fiscal_year,
         CASE WHEN c.fiscal_year = $2 THEN c.area_code END AS area,
         count(*) AS target,
         count(*) FILTER (WHERE s.status = 'outreach_done') AS done,
         count(*) FILTER (WHERE s.status = 'outreach_done'
                            AND k.case_name IS NOT NULL) AS connected,
         count(*) FILTER (WHERE s.status IS NULL
                             OR s.status = 'in_preparation') AS preparing,
         count(*) FILTER (WHERE s.status = 'not_possible') AS unable,
         count(*) FILTER (WHERE o.kind = 'improved_resolved') AS resolved
    FROM cases c
    LEFT JOIN status s ON s.case_name = c.name
    LEFT JOIN outcome o ON o.case_name = c.name
    LEFT JOIN connected k ON k.case_name = c.name
   WHERE c.municipality = $1 AND c.fiscal_year <= $2 AND NOT c.withdrawn
     AND c.opened_date <= make_date(c.fiscal_year + 1, 3, 31)
   GROUP BY 1, 2),
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

}  // namespace

int main(int argc, char** argv) {
  kosapo::bench::Flags flags(
      argc, argv,
      {{"cases", "1000000"}, {"calls", "50"}, {"out", ""}, {"timeout", "60"}});
  const int64_t case_count = flags.Int("cases");
  const int calls = flags.Int("calls");
  Check(case_count > 0 && calls > 0, "arguments");

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
    std::fprintf(stderr, "loaded %lld cases in %.1f s\n",
                 static_cast<long long>(case_count),
                 absl::ToDoubleSeconds(absl::Now() - load_start));

    auto stub = v1::ReportingService::NewStub((*service)->channel());
    kosapo::auth::Principal analyst;
    analyst.subject = "user:bench-analyst";
    analyst.role = kosapo::auth::Role::kAnalyst;
    analyst.municipality = kCity;
    const std::string token = (**tokens).Sign(analyst);
    auto report = [&](const kosapo::type::Date* as_of, int rows_expected) {
      return [&stub, &token, as_of, rows_expected] {
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
      };
    };
    // 24 wards, the year's city total and nine earlier years.
    const int rows = city.areas + 1 + (kYears - 1);

    pqxx::connection connection((*cluster)->ServiceUrl("reporting"));
    {
      pqxx::nontransaction setup(connection);
      setup.exec0(absl::StrCat("SET statement_timeout = '",
                               flags.Int("timeout"), "s'"));
    }
    auto query = [&](const char* sql) {
      return [&connection, sql] {
        pqxx::work tx(connection);
        const pqxx::result result = tx.exec_params(sql, kCity, kYear);
        Check(!result.empty(), "hand-written query rows");
      };
    };
    std::vector<Timing> timings;
    timings.push_back(
        Measure("hand-written SQL over the projections (baseline)", calls,
                query(kHandWritten)));
    timings.push_back(Measure("one SELECT of the year-end counts", calls,
                              query(kYearEndRead)));
    timings.push_back(Measure("GetWardComparison, as of the year end", calls,
                              report(nullptr, rows)));
    const kosapo::type::Date mid_year =
        kosapo::DateToProto(absl::CivilDay(kYear, 9, 30));
    timings.push_back(Measure("GetWardComparison, as of 30 September", calls,
                              report(&mid_year, rows)));

    table = absl::StrFormat(
        "%d cases over FY%d-FY%d in %d wards; report for FY%d, %d calls "
        "each.\n\n",
        case_count, kFirstYear, kYear, city.areas, kYear, calls);
    absl::StrAppend(&table,
                    "| query | median ms | p99 ms | ratio to baseline "
                    "(median, lower is faster) |\n|---|---:|---:|---:|\n");
    for (const Timing& t : timings) {
      absl::StrAppendFormat(&table, "| %s | %.2f | %.2f | %.3f |\n", t.what,
                            t.median_ms, t.p99_ms,
                            t.median_ms / timings[0].median_ms);
    }
  }
  kosapo::bench::Emit(flags.String("out"), table);
  return 0;
}
