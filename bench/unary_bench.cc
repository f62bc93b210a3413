// Unary calls of the case service against what they are built from, in one
// run: a typical read (GetCase) and a typical write (RecordContact, an
// outreach visit logged), each with 1, 8 and 32 concurrent callers, against
// (a) a minimal gRPC echo server built from the same packages (sync server,
// no interceptor, a payload the size of a case, mutual TLS as the service
// has) and (b) a one-row INSERT
// transaction on the same PostgreSQL. The case service runs as its real
// binary in its own process; every caller has its own connection and
// token, as separate staff would. Prints calls/s, p50 and p99 and the
// ratios (service calls/s over baseline calls/s at the same concurrency),
// and the case service's resident memory idle and under this load.
//
//   unary_bench [--seconds=10] [--warmup=2] [--cases=200] [--out=FILE]
//               [--callers=1,8,32]
//               [--workloads=echo,insert,get,record,store-get,store-record,
//                            verify]
//               [--case_env=KEY=VALUE,...] [--hold=0] (seconds to wait before
//               the loads, e.g. to attach perf to the case service: its pid is
//               printed)
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "common/types/api_types.h"
#include "kosapo/bench/v1/echo.grpc.pb.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "services/case/api/call_checks.h"
#include "services/case/store/case_store.h"
#include "services/case/store/work_store.h"

namespace {

namespace v1 = kosapo::cases::v1;
using kosapo::auth::Role;
using kosapo::bench::Check;
using kosapo::bench::LoadResult;

constexpr char kCity[] = "27100";
constexpr char kArea[] = "27127";

class EchoServiceImpl final : public kosapo::bench::v1::EchoService::Service {
  grpc::Status Echo(grpc::ServerContext*,
                    const kosapo::bench::v1::EchoMessage* request,
                    kosapo::bench::v1::EchoMessage* response) override {
    *response = *request;
    return grpc::Status::OK;
  }
};

std::string Officer(const kosapo::testing::TestTokens& tokens, int caller) {
  kosapo::auth::Principal principal;
  principal.subject = absl::StrCat("user:bench-officer-", caller);
  principal.role = Role::kWardOfficer;
  principal.municipality = kCity;
  principal.areas = {kArea};
  return tokens.Sign(principal);
}

std::string Failure(const grpc::Status& status) {
  return status.ok()
             ? ""
             : absl::StrCat(status.error_code(), " ", status.error_message());
}

struct Row {
  std::string workload;
  int callers;
  LoadResult result;
};

}  // namespace

int main(int argc, char** argv) {
  kosapo::bench::Flags flags(
      argc, argv,
      {{"seconds", "10"},
       {"warmup", "2"},
       {"cases", "200"},
       {"out", ""},
       {"callers", "1,8,32"},
       {"workloads", "echo,insert,get,record,store-get,store-record,verify"},
       {"hold", "0"},
       {"case_env", ""}});
  const absl::Duration duration = absl::Seconds(flags.Double("seconds"));
  const absl::Duration warmup = absl::Seconds(flags.Double("warmup"));
  const int case_count = flags.Int("cases");
  std::vector<int> concurrency;
  for (absl::string_view n : absl::StrSplit(flags.String("callers"), ',')) {
    concurrency.push_back(std::atoi(std::string(n).c_str()));
  }
  const std::set<std::string> workloads =
      absl::StrSplit(flags.String("workloads"), ',');

  auto suite = kosapo::bench::Suite::Create({"case"});
  kosapo::bench::CheckOk(suite.status(), "start the cluster");
  // --case_env=KEY=VALUE,... adds to the case service's environment.
  std::map<std::string, std::string> case_env = {
      {"KOSAPO_FOLLOW_SCREENING", "false"}};
  for (absl::string_view pair :
       absl::StrSplit(flags.String("case_env"), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    case_env[kv.first] = kv.second;
  }
  auto port = (*suite)->Start("case", case_env);
  kosapo::bench::CheckOk(port.status(), "start the case service");
  const auto& tokens = (*suite)->tokens();
  const std::string case_address = (*suite)->address("case");

  // Cases to read and write, opened through the API.
  std::vector<std::string> cases;
  std::string sample_case;
  {
    auto stub = v1::CaseService::NewStub((*suite)->OwnChannel(case_address));
    const absl::CivilDay today = *kosapo::DayIn(absl::Now(), "Asia/Tokyo");
    const std::string token = Officer(tokens, 0);
    for (int i = 0; i < case_count; ++i) {
      v1::CreateCaseRequest create;
      create.set_parent(absl::StrCat("municipalities/", kCity));
      create.set_request_id(absl::StrCat("bench-case-", i));
      v1::Case* c = create.mutable_case_();
      c->set_area_code(kArea);
      c->set_source(v1::CASE_SOURCE_SCHOOL);
      *c->mutable_opened_date() = kosapo::DateToProto(today - 30);
      c->mutable_child()->set_name(absl::StrCat("児童 ", i));
      c->mutable_child()->set_kana("じどう");
      *c->mutable_child()->mutable_birth_date() =
          kosapo::DateToProto(today - 3650 - i);
      c->mutable_household()->set_address("大阪市北区梅田1-1-1");
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      v1::Case created;
      const grpc::Status status = stub->CreateCase(&context, create, &created);
      Check(status.ok(), "create case: " + Failure(status));
      cases.push_back(created.name());
      if (i == 0) {
        sample_case = created.SerializeAsString();
      }
    }
  }
  const double idle_mib = kosapo::bench::ResidentMiB((*suite)->pid("case"));

  // Baseline (a): the echo server, in this process, with a payload the size
  // of a case as GetCase returns it, over mutual TLS like the case service
  // (each caller's connection makes its own handshake), so the ratio
  // compares like with like.
  EchoServiceImpl echo_service;
  grpc::ServerBuilder builder;
  int echo_port = 0;
  builder.AddListeningPort("127.0.0.1:0", (*suite)->BaselineServerCredentials(),
                           &echo_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&echo_service);
  std::unique_ptr<grpc::Server> echo_server = builder.BuildAndStart();
  Check(echo_server != nullptr && echo_port != 0, "start the echo server");
  const std::string echo_address = absl::StrCat("127.0.0.1:", echo_port);

  // Baseline (b): a one-row INSERT, one transaction each, as the case role
  // over the same kind of connection the service uses.
  const std::string db_url = (*suite)->cluster().ServiceUrl("case");
  {
    // Made by the owner, as a migration would be, and granted likewise.
    pqxx::connection connection((*suite)->cluster().OwnerUrl("case"));
    pqxx::nontransaction tx(connection);
    tx.exec0(
        "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, case_id bigint"
        " NOT NULL, summary text NOT NULL, create_time timestamptz NOT NULL"
        " DEFAULT now())");
    tx.exec0("GRANT INSERT ON bench_insert TO kosapo_case");
    tx.exec0("GRANT USAGE ON SEQUENCE bench_insert_id_seq TO kosapo_case");
  }

  if (flags.Double("hold") > 0) {
    std::fprintf(stderr, "case service pid %d; loads start in %.0f s\n",
                 static_cast<int>((*suite)->pid("case")), flags.Double("hold"));
    absl::SleepFor(absl::Seconds(flags.Double("hold")));
  }
  // Resident memory of the case service, sampled while the loads run.
  std::atomic<bool> sampling{true};
  std::atomic<double> peak_mib{idle_mib};
  std::thread sampler([&] {
    while (sampling) {
      const double mib = kosapo::bench::ResidentMiB((*suite)->pid("case"));
      if (mib > peak_mib) {
        peak_mib = mib;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });

  const kosapo::type::Date today =
      kosapo::DateToProto(*kosapo::DayIn(absl::Now(), "Asia/Tokyo"));
  const absl::CivilDay today_day = *kosapo::DayIn(absl::Now(), "Asia/Tokyo");

  // Where the time goes: the case service's own store code (the same
  // transactions GetCase and RecordContact run, audit and outbox included)
  // called in this process without gRPC, the interceptor or the access log;
  // and the bearer token check every call makes.
  kosapo::pg::PoolOptions pool_options;
  pool_options.url = db_url;
  pool_options.schema = (*suite)->cluster().Schema("case");
  pool_options.size = 64;
  kosapo::pg::Pool pool(pool_options);
  // The case service's field key (bench_support), so these stores seal and
  // open text as the service does.
  auto cipher = kosapo::crypto::FieldCipher::FromDir(
      (*suite)->work_dir() + "/field-keys", (*suite)->field_key_id());
  kosapo::bench::CheckOk(cipher.status(), "field keys of the bench suite");
  kosapo::cases::CaseStore case_store(pool, **cipher);
  kosapo::cases::WorkStore work_store(pool, **cipher);
  kosapo::auth::Principal officer;
  officer.subject = "user:bench-officer-0";
  officer.role = Role::kWardOfficer;
  officer.municipality = kCity;
  officer.areas = {kArea};
  std::vector<int64_t> case_ids;
  for (const std::string& name : cases) {
    case_ids.push_back(std::atoll(name.substr(name.find('/') + 1).c_str()));
  }
  const std::unique_ptr<kosapo::auth::TokenVerifier> verifier =
      tokens.Verifier();
  const std::string verify_token = Officer(tokens, 0);

  std::vector<Row> rows;
  for (const int callers : concurrency) {
    // Each workload gets fresh per-caller channels, tokens and connections.
    std::vector<std::unique_ptr<kosapo::bench::v1::EchoService::Stub>> echo;
    std::vector<std::unique_ptr<v1::CaseService::Stub>> stubs;
    std::vector<std::string> tokens_by_caller;
    std::vector<std::unique_ptr<pqxx::connection>> connections;
    for (int c = 0; c < callers; ++c) {
      echo.push_back(kosapo::bench::v1::EchoService::NewStub(
          (*suite)->OwnChannel(echo_address)));
      stubs.push_back(
          v1::CaseService::NewStub((*suite)->OwnChannel(case_address)));
      tokens_by_caller.push_back(Officer(tokens, c));
      connections.push_back(std::make_unique<pqxx::connection>(db_url));
    }
    kosapo::bench::v1::EchoMessage payload;
    payload.set_payload(sample_case);

    const size_t before = rows.size();
    auto run = [&](const std::string& key, const std::string& name,
                   const kosapo::bench::Call& call) {
      if (workloads.count(key) > 0) {
        rows.push_back(
            {name, callers,
             kosapo::bench::ClosedLoop(callers, warmup, duration, call)});
      }
    };
    run("echo", "echo (baseline a)", [&](int c, int64_t) {
      grpc::ClientContext context;
      kosapo::bench::v1::EchoMessage response;
      return Failure(echo[c]->Echo(&context, payload, &response));
    });
    run("insert", "one-row INSERT transaction (baseline b)",
        [&](int c, int64_t i) -> std::string {
          try {
            pqxx::work tx(*connections[c]);
            tx.exec_params0(
                "INSERT INTO bench_insert (case_id, summary)"
                " VALUES ($1, $2)",
                c, absl::StrCat("電話で保護者と話した ", i));
            tx.commit();
            return "";
          } catch (const std::exception& error) {
            return error.what();
          }
        });
    run("get", "GetCase", [&](int c, int64_t i) {
      v1::GetCaseRequest request;
      request.set_name(cases[(c * 7919 + i) % cases.size()]);
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + tokens_by_caller[c]);
      v1::Case response;
      return Failure(stubs[c]->GetCase(&context, request, &response));
    });
    run("record", "RecordContact", [&](int c, int64_t i) {
      v1::RecordContactRequest request;
      request.set_parent(cases[(c * 7919 + i) % cases.size()]);
      request.set_request_id(absl::StrCat("bench-", callers, "-", c, "-", i));
      v1::Contact* contact = request.mutable_contact();
      contact->set_kind(v1::CONTACT_KIND_HOME_VISIT);
      *contact->mutable_contact_date() = today;
      contact->set_summary("家庭訪問。保護者と面談した");
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + tokens_by_caller[c]);
      v1::Contact response;
      return Failure(stubs[c]->RecordContact(&context, request, &response));
    });
    run("store-get", "GetCase's store code alone (no gRPC)",
        [&](int c, int64_t i) -> std::string {
          kosapo::cases::Caller caller{officer.subject,
                                       "ward_officer",
                                       "GetCase",
                                       absl::StrCat("b", c, i),
                                       "",
                                       ""};
          auto got =
              case_store.Get(case_ids[(c * 7919 + i) % cases.size()], caller,
                             kosapo::cases::AllowChildAccess(officer));
          return got.ok() ? "" : got.status().ToString();
        });
    run("store-record", "RecordContact's store code alone (no gRPC)",
        [&](int c, int64_t i) -> std::string {
          v1::RecordContactRequest request;
          request.set_request_id(
              absl::StrCat("store-", callers, "-", c, "-", i));
          v1::Contact* contact = request.mutable_contact();
          contact->set_kind(v1::CONTACT_KIND_HOME_VISIT);
          *contact->mutable_contact_date() = today;
          contact->set_summary("家庭訪問。保護者と面談した");
          kosapo::cases::Caller caller{officer.subject,
                                       "ward_officer",
                                       "RecordContact",
                                       request.request_id(),
                                       "",
                                       ""};
          auto recorded = work_store.RecordContact(
              case_ids[(c * 7919 + i) % cases.size()], request, today_day,
              caller, kosapo::cases::RequireFullAccess(officer));
          return recorded.ok() ? "" : recorded.status().ToString();
        });
    run("verify", "bearer token check alone (ES256)",
        [&](int, int64_t) -> std::string {
          auto principal = verifier->Verify(verify_token, absl::Now());
          return principal.ok() ? "" : principal.status().ToString();
        });
    for (size_t r = before; r < rows.size(); ++r) {
      std::fprintf(stderr, "  %s x%d: %.0f calls/s, %lld errors%s%s\n",
                   rows[r].workload.c_str(), callers,
                   rows[r].result.PerSecond(),
                   static_cast<long long>(rows[r].result.errors),
                   rows[r].result.errors > 0 ? ", first: " : "",
                   rows[r].result.first_error.c_str());
    }
  }
  sampling = false;
  sampler.join();
  echo_server->Shutdown();

  // The table, and a failure exit when any call failed: calls beyond the
  // pool must queue, not be refused.
  std::string table =
      "| workload | callers | calls/s | p50 ms | p99 ms | errors |"
      " ratio to echo | ratio to INSERT |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  int64_t errors = 0;
  for (Row& row : rows) {
    double echo_rate = 0;
    double insert_rate = 0;
    for (const Row& base : rows) {
      if (base.callers == row.callers && base.workload.rfind("echo", 0) == 0) {
        echo_rate = base.result.PerSecond();
      }
      if (base.callers == row.callers &&
          base.workload.rfind("one-row", 0) == 0) {
        insert_rate = base.result.PerSecond();
      }
    }
    const double rate = row.result.PerSecond();
    absl::StrAppendFormat(
        &table, "| %s | %d | %.0f | %.2f | %.2f | %d | %.2f | %.2f |\n",
        row.workload, row.callers, rate, row.result.Millis(0.5),
        row.result.Millis(0.99), row.result.errors,
        echo_rate > 0 ? rate / echo_rate : 0,
        insert_rate > 0 ? rate / insert_rate : 0);
    errors += row.result.errors;
  }
  absl::StrAppendFormat(
      &table,
      "\nCase service resident memory (VmRSS): %.1f MiB idle with %d cases, "
      "%.1f MiB at most under these loads.\n",
      idle_mib, case_count, peak_mib.load());
  kosapo::bench::Emit(flags.String("out"), table);
  Check(errors == 0, absl::StrCat(errors, " calls failed"));
  return 0;
}
