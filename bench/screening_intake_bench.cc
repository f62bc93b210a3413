// Bulk screening intake against the physical limit: the same pupils' sheets
// streamed through ScreeningService.ImportSheets (validation, scoring,
// batched writes with history, over real gRPC), and the same rows as stored
// COPY'd in one transaction (1) into a plain table with the same columns and
// (2) into a table with the real sheets definition (primary key, partial
// index, checks, foreign keys), in one run on one machine. Prints a Markdown
// table with rows/s and the intake's ratio to each baseline.
//
// Each figure is the median of --repeat runs of the four, interleaved.
//
//   screening_intake_bench [--rows=165000] [--repeat=3] [--out=FILE]
#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/stream_to>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/test_tokens.h"
#include "common/types/api_types.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/screening/api/sheet_intake.h"
#include "services/screening/domain/scoring.h"
#include "services/screening/domain/sheet_rules.h"
#include "services/screening/domain/template.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace {

using kosapo::screening::v1::ScreeningService;
namespace v1 = kosapo::screening::v1;

constexpr int kSchools = 430;  // about Osaka City's elementary + junior high

int CurrentFiscalYear() {
  return kosapo::FiscalYearOf(*kosapo::DayIn(absl::Now(), "Asia/Tokyo"));
}

std::unique_ptr<grpc::ClientContext> As(
    const kosapo::testing::TestTokens& tokens, kosapo::auth::Role role,
    std::vector<std::string> schools = {}) {
  kosapo::auth::Principal principal;
  principal.subject = "bench";
  principal.role = role;
  principal.municipality = "27100";
  principal.schools = std::move(schools);
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + tokens.Sign(principal));
  return context;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s failed\n", what);
    std::exit(1);
  }
}

// A deterministic pupil: a few answers, a realistic sheet.
v1::Sheet MakeSheet(int n, int fiscal_year) {
  v1::Sheet sheet;
  sheet.set_school_code(absl::StrCat("S", n % kSchools));
  sheet.set_pupil_id(absl::StrCat("P", n));
  sheet.set_grade(1 + n % 6);
  sheet.set_class_name(absl::StrCat(1 + n % 4, "組"));
  sheet.set_pupil_name("山田 太郎");
  sheet.set_pupil_kana("ヤマダ タロウ");
  sheet.mutable_birth_date()->set_year(fiscal_year - 7 - n % 6);
  sheet.mutable_birth_date()->set_month(1 + n % 12);
  sheet.mutable_birth_date()->set_day(1 + n % 28);
  sheet.set_sex(n % 2 ? v1::SEX_MALE : v1::SEX_FEMALE);
  if (n % 5 == 0) {
    auto* answer = sheet.add_answers();
    answer->set_item("school_absence");
    answer->set_level(1 + n % 3);
  }
  if (n % 11 == 0) {
    auto* answer = sheet.add_answers();
    answer->set_item("economic_unpaid_fees");
    answer->set_flag(true);
  }
  return sheet;
}

struct RoundIds {
  int64_t round_id = 0;
  kosapo::screening::Template tmpl;
};

// The round's id and template, as the service stored them.
RoundIds LoadRoundIds(const kosapo::testing::PgCluster& cluster,
                      const std::string& round_name) {
  RoundIds ids;
  ids.round_id =
      std::atoll(round_name.substr(round_name.rfind('/') + 1).c_str());
  pqxx::connection connection(cluster.ServiceUrl("screening"));
  pqxx::nontransaction tx(connection);
  tx.exec0("SET search_path TO " + tx.quote_name(cluster.Schema("screening")));
  const pqxx::row row = tx.exec_params1(
      "SELECT t.body::text FROM rounds r JOIN templates t"
      "  ON t.key = r.template_key AND t.version = r.template_version"
      " WHERE r.id = $1",
      ids.round_id);
  auto tmpl = kosapo::screening::ParseTemplateJson(row[0].as<std::string>());
  Check(tmpl.ok(), "template");
  ids.tmpl = *std::move(tmpl);
  return ids;
}

// A sheets row as the intake writes it.
struct StoredRow {
  const v1::Sheet* sheet = nullptr;
  std::string birth_date;
  std::string sex;
  std::string answers;
  double score = 0;
  std::string triggered;
  bool candidate = false;
  std::string content_hash;
};

StoredRow StoredRowOf(const v1::Sheet& sheet,
                      const kosapo::screening::Template& tmpl) {
  namespace s = kosapo::screening;
  const s::Score score = s::ComputeScore(tmpl, s::AnswersOf(sheet, tmpl));
  return StoredRow{&sheet,
                   kosapo::DateToSql(sheet.birth_date()),
                   std::string(s::SexToDb(sheet.sex())),
                   s::AnswersJson(sheet),
                   score.total,
                   s::TriggeredJson(score),
                   score.candidate,
                   s::SheetFingerprint(sheet)};
}

// Seconds to COPY `rows` in one transaction into copy_baseline, made fresh
// by `create`, as the owner role (the runtime role may not create tables).
double TimeCopy(const kosapo::testing::PgCluster& cluster, const RoundIds& ids,
                const std::vector<StoredRow>& rows, const std::string& create) {
  pqxx::connection connection(cluster.OwnerUrl("screening"));
  {
    pqxx::work setup(connection);
    setup.exec0("SET search_path TO " +
                setup.quote_name(cluster.Schema("screening")));
    setup.exec0("DROP TABLE IF EXISTS copy_baseline");
    setup.exec0(create);
    setup.commit();
  }
  const auto start = std::chrono::steady_clock::now();
  pqxx::work tx(connection);
  pqxx::stream_to copy(
      tx, "copy_baseline",
      std::vector<std::string>{"round_id", "municipality", "school_code",
                               "pupil_id", "grade", "class_name", "pupil_name",
                               "pupil_kana", "birth_date", "sex", "answers",
                               "note", "score", "triggered", "candidate",
                               "content_hash", "filled_by"});
  const std::string municipality = "27100";
  const std::string filled_by = "bench";
  for (const StoredRow& row : rows) {
    const v1::Sheet& sheet = *row.sheet;
    copy << std::forward_as_tuple(
        ids.round_id, municipality, sheet.school_code(), sheet.pupil_id(),
        sheet.grade(), sheet.class_name(), sheet.pupil_name(),
        sheet.pupil_kana(), row.birth_date, row.sex, row.answers, sheet.note(),
        row.score, row.triggered, row.candidate, row.content_hash, filled_by);
  }
  copy.complete();
  tx.commit();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 165000;
  int repeat = 3;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--rows=", 0) == 0) {
      rows = std::atoi(arg.c_str() + 7);
    } else if (arg.rfind("--repeat=", 0) == 0) {
      repeat = std::max(1, std::atoi(arg.c_str() + 9));
    } else if (arg.rfind("--out=", 0) == 0) {
      out = arg.substr(6);
    } else {
      std::fprintf(stderr, "usage: %s [--rows=N] [--repeat=N] [--out=FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  auto cluster = kosapo::testing::PgCluster::Start("kosapo", {"screening"});
  Check(cluster.ok(), "cluster start");
  auto tokens = kosapo::testing::TestTokens::Create();
  Check(tokens.ok(), "tokens");
  // Service logs (stdout) go to a file; the table goes to the original
  // stdout.
  const std::string log_path = (*cluster)->data_dir() + "-bench.log";
  std::fflush(stdout);
  const int results_fd = dup(STDOUT_FILENO);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Check(results_fd >= 0 && log_fd >= 0, "log redirect");
  dup2(log_fd, STDOUT_FILENO);
  close(log_fd);
  auto service = kosapo::testing::InProcessService::Start(
      kosapo::screening::Definition(), **cluster, **tokens,
      (*cluster)->data_dir());
  Check(service.ok(), "service start");
  auto stub = ScreeningService::NewStub((*service)->channel());
  const int year = CurrentFiscalYear();

  v1::UpsertMunicipalityRequest municipality;
  municipality.mutable_municipality()->set_code("27100");
  municipality.mutable_municipality()->set_display_name("大阪市");
  v1::Municipality m;
  Check(stub->UpsertMunicipality(
                As(**tokens, kosapo::auth::Role::kCityOperations).get(),
                municipality, &m)
            .ok(),
        "municipality");
  v1::UpsertAreaRequest area;
  area.set_parent("municipalities/27100");
  area.mutable_area()->set_code("A1");
  area.mutable_area()->set_display_name("北区");
  area.mutable_area()->set_display_order(1);
  v1::Area a;
  Check(
      stub->UpsertArea(As(**tokens, kosapo::auth::Role::kCityOperations).get(),
                       area, &a)
          .ok(),
      "area");
  std::vector<std::string> schools;
  for (int s = 0; s < kSchools; ++s) {
    v1::UpsertSchoolRequest school;
    school.set_parent("municipalities/27100");
    school.mutable_school()->set_code(absl::StrCat("S", s));
    school.mutable_school()->set_display_name(absl::StrCat("学校", s));
    school.mutable_school()->set_kind(v1::SCHOOL_KIND_ELEMENTARY);
    school.mutable_school()->set_area_code("A1");
    v1::School stored;
    Check(stub->UpsertSchool(
                  As(**tokens, kosapo::auth::Role::kCityOperations).get(),
                  school, &stored)
              .ok(),
          "school");
    schools.push_back(absl::StrCat("S", s));
  }
  std::vector<v1::Sheet> sheets;
  sheets.reserve(rows);
  for (int n = 0; n < rows; ++n) {
    sheets.push_back(MakeSheet(n, year));
  }
  // The stream's messages of 1000 sheets, built before any clock starts as
  // the COPY rows are (a school system has its sheets at hand; sending
  // them, with protobuf and TLS, is timed). Their round is set per run.
  std::vector<v1::ImportSheetsRequest> messages;
  for (const v1::Sheet& sheet : sheets) {
    if (messages.empty() || messages.back().sheets_size() == 1000) {
      messages.emplace_back();
    }
    *messages.back().add_sheets() = sheet;
  }

  // Each run takes a round of its own: every intake stores new sheets.
  auto create_round = [&](int run) {
    v1::Round created;
    Check(stub->CreateRound(
                  As(**tokens, kosapo::auth::Role::kCityOperations).get(),
                  kosapo::screening::testing::RoundRequest(
                      "municipalities/27100", absl::StrCat("bench-", run), year,
                      absl::StrCat("bench ", run)),
                  &created)
              .ok(),
          "round");
    return created.name();
  };
  // The service's streaming intake of every sheet into `round`.
  auto time_intake = [&](const std::string& round) {
    for (v1::ImportSheetsRequest& request : messages) {
      request.set_parent(round);
    }
    v1::ImportSheetsResponse response;
    const auto start = std::chrono::steady_clock::now();
    auto context = As(**tokens, kosapo::auth::Role::kSchoolManager, schools);
    auto writer = stub->ImportSheets(context.get(), &response);
    for (const v1::ImportSheetsRequest& request : messages) {
      Check(writer->Write(request), "stream write");
    }
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    if (!status.ok()) {
      std::fprintf(stderr, "intake failed: %s\n",
                   status.error_message().c_str());
      std::exit(1);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    Check(response.accepted() == rows, "every row accepted");
    return seconds;
  };

  // The rows exactly as the intake stores them (validated, scored, their
  // JSON and fingerprint computed), made before any clock starts: the
  // baselines time only the COPY.
  const std::string first_round = create_round(0);
  const RoundIds ids = LoadRoundIds(**cluster, first_round);
  std::vector<StoredRow> stored;
  stored.reserve(rows);
  for (const v1::Sheet& sheet : sheets) {
    stored.push_back(StoredRowOf(sheet, ids.tmpl));
  }
  auto copy_plain = [&] {
    return TimeCopy(
        **cluster, ids, stored,
        "CREATE TABLE copy_baseline (round_id bigint,"
        " municipality text, school_code text, pupil_id text,"
        " grade integer, class_name text, pupil_name text,"
        " pupil_kana text, birth_date date, sex text, answers jsonb,"
        " note text, score double precision, triggered jsonb,"
        " candidate boolean, content_hash text, filled_by text,"
        " revision integer DEFAULT 1,"
        " update_time timestamptz DEFAULT now())");
  };
  auto copy_sheets = [&] {
    return TimeCopy(**cluster, ids, stored,
                    "CREATE TABLE copy_baseline (LIKE sheets INCLUDING ALL);"
                    " ALTER TABLE copy_baseline"
                    "  ADD FOREIGN KEY (round_id) REFERENCES rounds (id),"
                    "  ADD FOREIGN KEY (municipality, school_code)"
                    "   REFERENCES schools (municipality, code)");
  };
  // For the reader: how much of baseline 2 its foreign keys cost.
  auto copy_no_keys = [&] {
    return TimeCopy(**cluster, ids, stored,
                    "CREATE TABLE copy_baseline (LIKE sheets INCLUDING ALL)");
  };

  // Runs of the four, interleaved: this machine's speed moves from minute
  // to minute (COPY into the sheets definition took 2.8 to 5.1 s on one
  // quiet day), so each figure is the median of its runs and each run's
  // ratio is listed too.
  //
  // Each measurement starts from the same state: sheets empty again, as
  // each baseline's table is new (the earlier runs' rows would make the
  // intake's indexes larger than theirs), no autovacuum due, and no
  // checkpoint owed (the runs write some 500 MB of WAL each, and a
  // checkpoint falling inside one measurement slowed whichever it was).
  auto settle = [&] {
    pqxx::connection admin((*cluster)->AdminUrl());
    pqxx::nontransaction tx(admin);
    const std::string sheets =
        tx.quote_name((*cluster)->Schema("screening")) + ".sheets";
    tx.exec0("DELETE FROM " + sheets);
    tx.exec0("VACUUM ANALYZE " + sheets);
    tx.exec0("CHECKPOINT");
  };
  std::vector<double> plain_runs, no_keys_runs, sheets_runs, intake_runs;
  for (int run = 0; run < repeat; ++run) {
    const std::string round = run == 0 ? first_round : create_round(run);
    settle();
    plain_runs.push_back(copy_plain());
    settle();
    no_keys_runs.push_back(copy_no_keys());
    settle();
    sheets_runs.push_back(copy_sheets());
    settle();
    intake_runs.push_back(time_intake(round));
  }
  std::string each_run;
  for (int run = 0; run < repeat; ++run) {
    absl::StrAppendFormat(&each_run, "%s%.2f", run == 0 ? "" : ", ",
                          sheets_runs[run] / intake_runs[run]);
  }
  // Quantile sorts: the runs' own ratios are taken first.
  const double plain_seconds = kosapo::bench::Quantile(plain_runs, 0.5);
  const double no_keys_seconds = kosapo::bench::Quantile(no_keys_runs, 0.5);
  const double sheets_seconds = kosapo::bench::Quantile(sheets_runs, 0.5);
  const double intake_seconds = kosapo::bench::Quantile(intake_runs, 0.5);

  std::fflush(stdout);
  const double plain_rate = rows / plain_seconds;
  const double no_keys_rate = rows / no_keys_seconds;
  const double sheets_rate = rows / sheets_seconds;
  const double intake_rate = rows / intake_seconds;
  auto goal = [](double ratio) { return ratio >= 0.5 ? "met" : "not met"; };
  const std::string table = absl::StrFormat(
      "| benchmark | rows | seconds | rows/s | ratio to plain COPY |"
      " ratio to COPY into sheets |\n"
      "|---|---:|---:|---:|---:|---:|\n"
      "| COPY into a plain table (baseline 1: same columns, no index,"
      " check or key) | %d | %.2f | %.0f | 1.00 | %.2f |\n"
      "| COPY into a table with the sheets definition but no foreign keys"
      " (for reference) | %d | %.2f | %.0f | %.2f | %.2f |\n"
      "| COPY into a table with the sheets definition (baseline 2: its"
      " primary key, partial index, checks and foreign keys) | %d | %.2f |"
      " %.0f | %.2f | 1.00 |\n"
      "| ImportSheets stream (validate, score, write in batches of %d,"
      " one transaction, history, audit) | %d | %.2f | %.0f | %.2f | %.2f |\n"
      "\nMedians of %d runs. Goal, intake at least half the speed of COPY:"
      " %s against baseline 1 (%.2f), %s against baseline 2 (%.2f; each"
      " run: %s).\n",
      rows, plain_seconds, plain_rate, plain_rate / sheets_rate, rows,
      no_keys_seconds, no_keys_rate, no_keys_rate / plain_rate,
      no_keys_rate / sheets_rate, rows, sheets_seconds, sheets_rate,
      sheets_rate / plain_rate,
      static_cast<int>(kosapo::screening::SheetIntake::kBatchSize), rows,
      intake_seconds, intake_rate, intake_rate / plain_rate,
      intake_rate / sheets_rate, repeat, goal(intake_rate / plain_rate),
      intake_rate / plain_rate, goal(intake_rate / sheets_rate),
      intake_rate / sheets_rate, each_run);
  Check(write(results_fd, table.data(), table.size()) ==
            static_cast<ssize_t>(table.size()),
        "print results");
  if (!out.empty()) {
    std::ofstream(out) << table;
  }
  return 0;
}
