// The escalation list of urgent reports must stay fast when reports pile
// up (they rise in long school holidays, and acknowledged ones accumulate
// for years). Measures CaseService.ListUrgentReports over real gRPC in one
// run: with a few open reports and no history (the baseline), then with a
// large history of acknowledged reports, then with a holiday surge of open
// ones. Prints a Markdown table of median latencies and their ratio to the
// baseline (1.00 = as fast as with an empty table).
//
//   urgent_list_bench [--history=200000] [--surge=5000] [--calls=300]
//                     [--out=FILE]
#include <grpcpp/client_context.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "common/testing/test_tokens.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "services/case/case_server.h"

namespace {

namespace v1 = kosapo::cases::v1;
using kosapo::auth::Role;

constexpr char kCity[] = "27100";
constexpr char kArea[] = "27127";

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s failed\n", what.c_str());
    std::exit(1);
  }
}

std::unique_ptr<grpc::ClientContext> As(
    const kosapo::testing::TestTokens& tokens, Role role) {
  kosapo::auth::Principal principal;
  principal.subject = "bench";
  principal.role = role;
  principal.municipality = kCity;
  principal.areas = {kArea};
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + tokens.Sign(principal));
  return context;
}

// Median seconds of `calls` first pages of the area's open reports.
double MedianListSeconds(v1::CaseService::Stub& stub,
                         const kosapo::testing::TestTokens& tokens, int calls) {
  v1::ListUrgentReportsRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  request.set_page_size(100);
  std::vector<double> seconds;
  for (int i = 0; i < calls; ++i) {
    auto context = As(tokens, Role::kWardOfficer);
    v1::ListUrgentReportsResponse response;
    const absl::Time start = absl::Now();
    Check(stub.ListUrgentReports(context.get(), request, &response).ok(),
          "list urgent reports");
    seconds.push_back(absl::ToDoubleSeconds(absl::Now() - start));
    Check(response.reports_size() > 0, "open reports listed");
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int history = 200000;
  int surge = 5000;
  int calls = 300;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--history=", 0) == 0) {
      history = std::atoi(arg.c_str() + 10);
    } else if (arg.rfind("--surge=", 0) == 0) {
      surge = std::atoi(arg.c_str() + 8);
    } else if (arg.rfind("--calls=", 0) == 0) {
      calls = std::atoi(arg.c_str() + 8);
    } else if (arg.rfind("--out=", 0) == 0) {
      out = arg.substr(6);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--history=N] [--surge=N] [--calls=N] "
                   "[--out=FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  Check(history > 0 && surge > 0 && calls > 0, "arguments");
  auto cluster = kosapo::testing::PgCluster::Start("kosapo", {"case"});
  Check(cluster.ok(), "cluster start");
  auto tokens = kosapo::testing::TestTokens::Create();
  Check(tokens.ok(), "tokens");
  std::vector<std::string> lines;
  {
    // Service logs (stdout) go to a file while the service runs.
    kosapo::testing::StdoutCapture logs((*cluster)->data_dir() + "-bench.log");
    auto service = kosapo::testing::InProcessService::Start(
        kosapo::cases::Definition(), **cluster, **tokens,
        (*cluster)->data_dir(), {{"KOSAPO_FOLLOW_SCREENING", "false"}});
    Check(service.ok(), "service start");
    auto stub = v1::CaseService::NewStub((*service)->channel());

    // 50 children with a case each and one open report: the baseline.
    const absl::CivilDay today = *kosapo::DayIn(absl::Now(), "Asia/Tokyo");
    std::vector<std::string> cases;
    for (int i = 0; i < 50; ++i) {
      v1::CreateCaseRequest create;
      create.set_parent(absl::StrCat("municipalities/", kCity));
      create.set_request_id(absl::StrCat("bench-case-", i));
      v1::Case* c = create.mutable_case_();
      c->set_area_code(kArea);
      c->set_source(v1::CASE_SOURCE_SCHOOL);
      *c->mutable_opened_date() = kosapo::DateToProto(today - 30);
      c->mutable_child()->set_name(absl::StrCat("児童 ", i));
      c->mutable_child()->set_kana("じどう");  // birth dates differ
      *c->mutable_child()->mutable_birth_date() =
          kosapo::DateToProto(today - 3650 - i);
      v1::Case created;
      Check(stub->CreateCase(As(**tokens, Role::kWardOfficer).get(), create,
                             &created)
                .ok(),
            "create case");
      cases.push_back(created.name());
      v1::RaiseUrgentReportRequest raise;
      raise.set_parent(created.name());
      raise.set_request_id("bench-open");
      raise.mutable_report()->set_category(v1::URGENT_CATEGORY_OTHER);
      raise.mutable_report()->set_description("夏休み中の相談");
      v1::UrgentReport report;
      Check(stub->RaiseUrgentReport(As(**tokens, Role::kWardOfficer).get(),
                                    raise, &report)
                .ok(),
            "raise report");
    }
    const double baseline = MedianListSeconds(*stub, **tokens, calls);

    // Years of acknowledged reports, written straight into the table (the
    // volume is the point, not how it got there), then statistics.
    pqxx::connection admin((*cluster)->AdminUrl());
    pqxx::nontransaction tx(admin);
    const std::string table =
        absl::StrCat((*cluster)->Schema("case"), ".urgent_reports");
    const auto add_reports = [&](int count, bool acknowledged,
                                 const std::string& tag) {
      tx.exec(absl::StrCat(
          "INSERT INTO ", table,
          " (case_id, municipality, area_code, category, description,"
          "  raised_by, raised_by_role, raise_time, due_time, routed_lead,"
          "  ack_time, ack_by, request_id)"
          " SELECT (SELECT array_agg(id ORDER BY id) FROM ",
          (*cluster)->Schema("case"), ".cases)[1 + g % 50], '", kCity, "', '",
          kArea,
          "', 'other', 'x', 'bench', 'hub_operator',"
          " now() - g * interval '1 minute',"
          " now() - g * interval '1 minute' + interval '2 hours',"
          " 'consultation_desk', ",
          acknowledged ? "now() - g * interval '1 minute' + interval '1 hour'"
                       : "NULL",
          ", 'bench', '", tag, "-' || g FROM generate_series(1, ", count,
          ") g"));
      tx.exec(absl::StrCat("ANALYZE ", table));
    };
    add_reports(history, true, "history");
    const double with_history = MedianListSeconds(*stub, **tokens, calls);
    add_reports(surge, false, "surge");
    const double with_surge = MedianListSeconds(*stub, **tokens, calls);

    const auto line = [&](const std::string& what, int open, int acked,
                          double seconds) {
      lines.push_back(absl::StrFormat("| %s | %d | %d | %.2f | %.2f |", what,
                                      open, acked, seconds * 1000,
                                      baseline / seconds));
    };
    line("few open, no history (baseline)", 50, 0, baseline);
    line("few open, years of acknowledged reports", 50, history, with_history);
    line("holiday surge of open reports", 50 + surge, history, with_surge);
  }
  std::string table =
      "| listing the first page of open reports | open | acknowledged | "
      "median ms | ratio to baseline |\n|---|---:|---:|---:|---:|\n";
  for (const std::string& line : lines) {
    table += line + "\n";
  }
  std::fputs(table.c_str(), stdout);
  if (!out.empty()) {
    std::ofstream(out) << table;
  }
  return 0;
}
