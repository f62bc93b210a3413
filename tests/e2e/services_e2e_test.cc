// End to end: the four real service binaries on loopback ports against a real
// PostgreSQL. They start, migrate their own schemas, answer health checks and
// reflection, serve their event feeds to authenticated services only, export
// metrics, go NOT_SERVING while the database is down, and drain on SIGTERM.
#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/auth/jwt.h"
#include "common/crypto/field_cipher.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_pki.h"
#include "common/testing/test_tokens.h"
#include "common/tls/identity.h"
#include "common/tls/tls.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/screening/testing/seed.h"
#include "tests/e2e/service_process.h"

namespace kosapo {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::kosapo::testing::IsOk;
using ::kosapo::testing::PgCluster;
using ::kosapo::testing::ServiceProcess;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

struct ServiceUnderTest {
  std::string name;
  std::string grpc_service;
  std::string binary;
};

const std::vector<ServiceUnderTest>& Services() {
  static const auto* const kServices = new std::vector<ServiceUnderTest>{
      {"screening", "kosapo.screening.v1.ScreeningService",
       KOSAPO_SCREENING_BIN},
      {"case", "kosapo.cases.v1.CaseService", KOSAPO_CASE_BIN},
      {"referral", "kosapo.referral.v1.ReferralService", KOSAPO_REFERRAL_BIN},
      {"reporting", "kosapo.reporting.v1.ReportingService",
       KOSAPO_REPORTING_BIN},
  };
  return *kServices;
}

// One cluster, one key pair and the four services, shared by the suite.
class ServicesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = PgCluster::Start(
        "kosapo", {"screening", "case", "referral", "reporting"});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();

    work_dir_ = new std::string(cluster_->data_dir() + "-e2e");
    ASSERT_EQ(std::system(absl::StrCat("mkdir -p '", *work_dir_, "'").c_str()),
              0);
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    ASSERT_THAT(tokens_->WritePublicKey(*work_dir_ + "/jwt.pub"), IsOk());
    ASSERT_THAT(crypto::WriteRandomKeyFile(*work_dir_ + "/field-keys", "e2e"),
                IsOk());
    service_token_ =
        new std::string(tokens_->Sign(auth::Role::kService, "service:e2e"));
    std::ofstream(*work_dir_ + "/service.token") << *service_token_;
    // One CA for the suite: each service's certificate, a client's, and
    // service "e2e", whose certificate carries the service token above.
    auto pki = testing::TestPki::InDir(*work_dir_ + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new testing::TestPki(*std::move(pki));
    ASSERT_THAT(pki_->IssueService("e2e"), IsOk());

    processes_ = new std::map<std::string, std::unique_ptr<ServiceProcess>>();
    ports_ = new std::map<std::string, std::pair<int, int>>();
    health_ports_ = new std::map<std::string, int>();
    for (const auto& service_under_test : Services()) {
      auto process = StartService(service_under_test, "");
      ASSERT_TRUE(process.ok()) << process.status();
      auto serving = (*process)->WaitForLog("serving", absl::Seconds(60));
      ASSERT_TRUE(serving.ok()) << serving.status();
      (*ports_)[service_under_test.name] = {
          (*serving)["port"].get<int>(), (*serving)["metrics_port"].get<int>()};
      (*health_ports_)[service_under_test.name] =
          (*serving)["health_port"].get<int>();
      (*processes_)[service_under_test.name] = *std::move(process);
    }
  }

  static void TearDownTestSuite() {
    delete processes_;  // kills what is still running
    delete ports_;
    delete health_ports_;
    delete pki_;
    delete tokens_;
    delete service_token_;
    if (work_dir_ != nullptr) {
      std::system(absl::StrCat("rm -rf '", *work_dir_, "'").c_str());
      delete work_dir_;
    }
    delete cluster_;
  }

  static std::map<std::string, std::string> Environment(
      const ServiceUnderTest& service) {
    std::map<std::string, std::string> env = {
        {"PORT", "0"},
        {"KOSAPO_LISTEN_HOST", "127.0.0.1"},
        {"KOSAPO_METRICS_PORT", "0"},
        {"KOSAPO_DB_URL", cluster_->ServiceUrl(service.name)},
        {"KOSAPO_DB_MIGRATION_URL", cluster_->OwnerUrl(service.name)},
        {"KOSAPO_HEALTH_PORT", "0"},
        {"KOSAPO_REFLECTION", "true"},
        {"KOSAPO_TLS_CERT_FILE", pki_->Service(service.name).cert_file},
        {"KOSAPO_TLS_KEY_FILE", pki_->Service(service.name).key_file},
        {"KOSAPO_TLS_CA_FILE", pki_->ca_file()},
        {"KOSAPO_JWT_PUBLIC_KEY_FILE", *work_dir_ + "/jwt.pub"},
        {"KOSAPO_PEER_TOKEN_FILE", *work_dir_ + "/service.token"},
        {"KOSAPO_FIELD_KEYS_DIR", *work_dir_ + "/field-keys"},
        {"KOSAPO_FIELD_KEY_ID", "e2e"},
        {"KOSAPO_HEALTH_INTERVAL", "200ms"},
        {"KOSAPO_DRAIN_DELAY", "1s"},
        {"KOSAPO_SHUTDOWN_TIMEOUT", "5s"},
        {"KOSAPO_SCREENING_ADDRESS", "127.0.0.1:1"},
        {"KOSAPO_CASE_ADDRESS", "127.0.0.1:1"},
        {"KOSAPO_REFERRAL_ADDRESS", "127.0.0.1:1"},
    };
    // Services started after a peer call it and follow its feed.
    for (const char* peer : {"screening", "case", "referral"}) {
      if (ports_ != nullptr && ports_->count(peer) > 0) {
        env[absl::StrCat("KOSAPO_", absl::AsciiStrToUpper(peer), "_ADDRESS")] =
            absl::StrCat("127.0.0.1:", ports_->at(peer).first);
      }
    }
    return env;
  }

  static absl::StatusOr<std::unique_ptr<ServiceProcess>> StartService(
      const ServiceUnderTest& service, const std::string& suffix,
      std::map<std::string, std::string> overrides = {}) {
    testing::ProcessOptions options;
    options.binary = service.binary;
    options.env = Environment(service);
    for (auto& [key, value] : overrides) {
      options.env[key] = value;
    }
    options.log_path =
        absl::StrCat(*work_dir_, "/", service.name, suffix, ".log");
    return ServiceProcess::Start(std::move(options));
  }

  // A fresh channel to `address` with `credentials`, on a connection of its
  // own (gRPC would otherwise share one between channels alike).
  static std::shared_ptr<grpc::Channel> Dial(
      const std::string& address,
      const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(address, credentials, args);
  }

  static std::string Address(const std::string& name) {
    return absl::StrCat("127.0.0.1:", ports_->at(name).first);
  }

  // As a client (spiffe://kosapo/client/test).
  static std::shared_ptr<grpc::Channel> ChannelTo(const std::string& name) {
    return Dial(Address(name), tls::ChannelCredentials(pki_->Client("test")));
  }

  // As service "e2e", as the services call each other.
  static std::shared_ptr<grpc::Channel> ServiceChannelTo(
      const std::string& name) {
    return Dial(Address(name), tls::ChannelCredentials(pki_->Service("e2e")));
  }

  static HealthCheckResponse::ServingStatus Health(
      const std::shared_ptr<grpc::Channel>& channel, const std::string& name) {
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    if (!status.ok()) {
      return HealthCheckResponse::UNKNOWN;
    }
    return response.status();
  }

  // Polls until `name` reports `want`; health follows the database with a
  // delay of up to one health interval.
  static bool AwaitHealth(const std::shared_ptr<grpc::Channel>& channel,
                          const std::string& name,
                          HealthCheckResponse::ServingStatus want) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (Health(channel, name) == want) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  // Over a connection of service "e2e" unless `as_client`.
  static grpc::Status ListEvents(const std::string& service,
                                 const std::string& token,
                                 events::v1::ListEventsResponse* response,
                                 bool as_client = false) {
    auto stub = events::v1::EventFeed::NewStub(
        as_client ? ChannelTo(service) : ServiceChannelTo(service));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    if (!token.empty()) {
      context.AddMetadata("authorization", "Bearer " + token);
    }
    return stub->ListEvents(&context, events::v1::ListEventsRequest(),
                            response);
  }

  static PgCluster* cluster_;
  static std::string* work_dir_;
  static testing::TestTokens* tokens_;
  static testing::TestPki* pki_;
  static std::map<std::string, int>* health_ports_;
  static std::string* service_token_;
  static std::map<std::string, std::unique_ptr<ServiceProcess>>* processes_;
  static std::map<std::string, std::pair<int, int>>* ports_;
};

PgCluster* ServicesTest::cluster_ = nullptr;
std::string* ServicesTest::work_dir_ = nullptr;
testing::TestTokens* ServicesTest::tokens_ = nullptr;
testing::TestPki* ServicesTest::pki_ = nullptr;
std::map<std::string, int>* ServicesTest::health_ports_ = nullptr;
std::string* ServicesTest::service_token_ = nullptr;
std::map<std::string, std::unique_ptr<ServiceProcess>>*
    ServicesTest::processes_ = nullptr;
std::map<std::string, std::pair<int, int>>* ServicesTest::ports_ = nullptr;

TEST_F(ServicesTest, EveryServiceIsAliveAndReadyUnderItsOwnName) {
  for (const auto& service : Services()) {
    auto channel = ChannelTo(service.name);
    EXPECT_EQ(Health(channel, ""), HealthCheckResponse::SERVING)
        << service.name;
    EXPECT_EQ(Health(channel, service.grpc_service),
              HealthCheckResponse::SERVING)
        << service.name;
  }
}

TEST_F(ServicesTest, EveryServiceMigratedItsOwnSchemaAsItsOwner) {
  pqxx::connection admin(cluster_->AdminUrl());
  pqxx::nontransaction tx(admin);
  for (const auto& service : Services()) {
    const std::string schema = cluster_->Schema(service.name);
    const auto row = tx.exec_params1(
        "SELECT count(*) FROM " + tx.quote_name(schema) +
            ".schema_migrations WHERE component = $1 AND file = $2",
        "platform", "0001_outbox.sql");
    EXPECT_EQ(row[0].as<int>(), 1) << service.name;
    EXPECT_EQ(tx.exec_params1("SELECT tableowner FROM pg_tables WHERE "
                              "schemaname = $1 AND tablename = 'outbox_events'",
                              schema)[0]
                  .as<std::string>(),
              "kosapo_" + service.name + "_owner");
    EXPECT_TRUE(tx.exec_params1("SELECT has_table_privilege($1, $2, 'INSERT')",
                                "kosapo_" + service.name,
                                schema + ".outbox_events")[0]
                    .as<bool>())
        << service.name;
  }
}

TEST_F(ServicesTest, ReflectionListsTheServedServices) {
  for (const auto& service : Services()) {
    auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(
        ChannelTo(service.name));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    auto stream = stub->ServerReflectionInfo(&context);
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    request.set_list_services("");
    ASSERT_TRUE(stream->Write(request));
    grpc::reflection::v1alpha::ServerReflectionResponse response;
    ASSERT_TRUE(stream->Read(&response));
    std::vector<std::string> names;
    for (const auto& listed : response.list_services_response().service()) {
      names.push_back(listed.name());
    }
    EXPECT_THAT(names, Contains("kosapo.events.v1.EventFeed")) << service.name;
    EXPECT_THAT(names, Contains("grpc.health.v1.Health")) << service.name;

    // The file defining the feed is served too, so generic clients can call it.
    request.set_file_containing_symbol("kosapo.events.v1.EventFeed");
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(),
              0)
        << service.name;
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
}

TEST_F(ServicesTest, EventFeedIsForServicesByCertificateOrMatchingToken) {
  const std::string analyst_token =
      tokens_->Sign(auth::Role::kAnalyst, "user:analyst-1");
  for (const auto& service : Services()) {
    events::v1::ListEventsResponse response;
    // A client: no token, a bad one, a user's, or a service token it holds
    // without the service's certificate.
    EXPECT_EQ(ListEvents(service.name, "", &response, true).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << service.name;
    EXPECT_EQ(
        ListEvents(service.name, "not-a-token", &response, true).error_code(),
        grpc::StatusCode::UNAUTHENTICATED)
        << service.name;
    EXPECT_EQ(
        ListEvents(service.name, analyst_token, &response, true).error_code(),
        grpc::StatusCode::PERMISSION_DENIED)
        << service.name;
    EXPECT_EQ(
        ListEvents(service.name, *service_token_, &response, true).error_code(),
        grpc::StatusCode::UNAUTHENTICATED)
        << service.name;
    // A user's token forwarded by a service is still the user.
    EXPECT_EQ(ListEvents(service.name, analyst_token, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << service.name;
    // Service "e2e" by its certificate alone, or with its own token.
    grpc::Status ok = ListEvents(service.name, "", &response);
    EXPECT_TRUE(ok.ok()) << service.name << ": " << ok.error_message();
    ok = ListEvents(service.name, *service_token_, &response);
    EXPECT_TRUE(ok.ok()) << service.name << ": " << ok.error_message();
    EXPECT_EQ(response.head_sequence(), 0) << service.name;
  }
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ==
      0) {
    const std::string request =
        absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: localhost\r\n\r\n");
    if (write(fd, request.data(), request.size()) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
        response.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return response;
}

// The value of `series` (a metric name with its labels, as exposed) in a
// Prometheus text scrape, or -1 when it is not there.
double MetricValue(const std::string& scrape, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    double value = 0;
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ") &&
        absl::SimpleAtod(absl::StripAsciiWhitespace(line), &value)) {
      return value;
    }
  }
  return -1;
}

TEST_F(ServicesTest, MetricsCountHandledCallsAndPool) {
  events::v1::ListEventsResponse response;
  ASSERT_TRUE(ListEvents("case", *service_token_, &response).ok());
  const std::string metrics = HttpGet(ports_->at("case").second, "/metrics");
  EXPECT_THAT(metrics, HasSubstr("grpc_server_handled_total{"));
  EXPECT_THAT(metrics, HasSubstr("grpc_method=\"ListEvents\""));
  EXPECT_THAT(metrics, HasSubstr("grpc_code=\"OK\""));
  EXPECT_THAT(metrics, HasSubstr("grpc_server_handling_seconds_bucket"));
  EXPECT_THAT(metrics, HasSubstr("kosapo_db_pool_size 8"));

  // ImportSheets reads its messages as bytes through a handler gRPC
  // registers as bidirectional; its series still name the .proto's kind.
  auto screening =
      screening::v1::ScreeningService::NewStub(ChannelTo("screening"));
  grpc::ClientContext context;
  screening::v1::ImportSheetsResponse imported;
  auto writer = screening->ImportSheets(&context, &imported);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Counted as the call's interceptor goes, just after the answer.
  double counted = -1;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (counted != 1 && absl::Now() < deadline) {
    counted = MetricValue(
        HttpGet(ports_->at("screening").second, "/metrics"),
        "grpc_server_handled_total{grpc_code=\"UNAUTHENTICATED\","
        "grpc_method=\"ImportSheets\",grpc_service=\"kosapo.screening.v1."
        "ScreeningService\",grpc_type=\"client_stream\"}");
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(counted, 1);
}

TEST_F(ServicesTest, AccessLogHasRequestAndTraceIdsAndNoToken) {
  auto stub = events::v1::EventFeed::NewStub(ServiceChannelTo("referral"));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + *service_token_);
  context.AddMetadata("x-request-id", "e2e-request-1");
  context.AddMetadata(
      "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  events::v1::ListEventsResponse response;
  ASSERT_TRUE(
      stub->ListEvents(&context, events::v1::ListEventsRequest(), &response)
          .ok());
  // The request id comes back to the caller.
  const auto echoed = context.GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(echoed, context.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()),
            "e2e-request-1");

  auto& process = processes_->at("referral");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  nlohmann::json line;
  while (absl::Now() < deadline && line.is_null()) {
    for (auto& logged : process->Logs()) {
      if (logged.value("request_id", "") == "e2e-request-1") {
        line = logged;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_FALSE(line.is_null());
  EXPECT_EQ(line["message"], "rpc finished");
  EXPECT_EQ(line["service"], "referral");
  EXPECT_EQ(line["method"], "/kosapo.events.v1.EventFeed/ListEvents");
  EXPECT_EQ(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(line["grpc_code"], "OK");
  // Who held the connection: the certificate's identity.
  EXPECT_EQ(line["peer"], "service/e2e");
  EXPECT_EQ(line["subject"], "service:e2e");
  for (auto& logged : process->Logs()) {
    EXPECT_THAT(logged.dump(), ::testing::Not(HasSubstr(*service_token_)));
  }
}

TEST_F(ServicesTest, BadConfigurationStopsWithMessageNamingTheSetting) {
  auto process = StartService(Services()[0], "-badport", {{"PORT", "http"}});
  ASSERT_TRUE(process.ok()) << process.status();
  auto code = (*process)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2);
  EXPECT_THAT((*process)->Stderr(), HasSubstr("--port (env PORT)"));
  EXPECT_THAT((*process)->Stderr(), HasSubstr("'http'"));

  auto no_key = StartService(Services()[1], "-nokey",
                             {{"KOSAPO_JWT_PUBLIC_KEY_FILE", "/nonexistent"}});
  ASSERT_TRUE(no_key.ok());
  code = (*no_key)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 2);
}

TEST_F(ServicesTest, SecondServerOnABusyPortFailsInsteadOfSharingIt) {
  auto process =
      StartService(Services()[0], "-busy",
                   {{"PORT", absl::StrCat(ports_->at("screening").first)}});
  ASSERT_TRUE(process.ok());
  auto code = (*process)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1);
}

TEST_F(ServicesTest, AnExtractionInScreeningOpensACaseInTheCaseProcess) {
  constexpr char kCity[] = "27100";
  auto screening_stub =
      screening::v1::ScreeningService::NewStub(ChannelTo("screening"));
  auto meeting =
      screening::testing::SeedMeeting(*screening_stub, *tokens_, kCity);
  ASSERT_TRUE(meeting.ok()) << meeting.status();
  auto extraction = screening::testing::DecidePupil(
      *screening_stub, *tokens_, kCity, *meeting,
      screening::v1::DECISION_OUTCOME_EXTRACT);
  ASSERT_TRUE(extraction.ok()) << extraction.status();

  // The case process picks the event up from the screening process's feed.
  auto case_stub = cases::v1::CaseService::NewStub(ChannelTo("case"));
  cases::v1::ListCasesRequest request;
  request.set_parent(absl::StrCat("municipalities/", kCity));
  cases::v1::Case opened;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (opened.name().empty() && absl::Now() < deadline) {
    cases::v1::ListCasesResponse response;
    const grpc::Status status = case_stub->ListCases(
        screening::testing::ContextAs(*tokens_, auth::Role::kWardOfficer, kCity)
            .get(),
        request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& c : response.cases()) {
      if (c.extraction_id() == *extraction) {
        opened = c;
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(opened.name().empty()) << "no case opened within 30s";
  EXPECT_EQ(opened.source(), cases::v1::CASE_SOURCE_SCREENING);
  EXPECT_EQ(opened.area_code(), "A1");
  EXPECT_EQ(opened.child().kana(), screening::testing::kPupilKana);

  // And the reporting process counts it in the area's cohort.
  auto reporting_stub =
      reporting::v1::ReportingService::NewStub(ChannelTo("reporting"));
  reporting::v1::GetWardComparisonRequest report;
  report.set_parent(absl::StrCat("municipalities/", kCity));
  report.set_fiscal_year(opened.fiscal_year());
  int64_t counted = 0;
  const absl::Time report_deadline = absl::Now() + absl::Seconds(30);
  while (counted == 0 && absl::Now() < report_deadline) {
    reporting::v1::WardComparison comparison;
    const grpc::Status status = reporting_stub->GetWardComparison(
        screening::testing::ContextAs(*tokens_, auth::Role::kAnalyst, kCity)
            .get(),
        report, &comparison);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& row : comparison.rows()) {
      if (row.kind() == reporting::v1::ROW_KIND_AREA &&
          row.area_code() == "A1") {
        counted = row.cells(1).count();  // column 2: target cases
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(counted, 1);

  // The lag metrics the KosapoEventConsumerLag alert compares: once caught
  // up, each consumer's checkpoint equals its producer's last sequence.
  const double screening_last =
      MetricValue(HttpGet(ports_->at("screening").second, "/metrics"),
                  "kosapo_event_feed_last_sequence");
  EXPECT_GE(screening_last, 1);
  for (const char* consumer : {"case", "reporting"}) {
    double checkpoint = -1;
    const absl::Time caught_up = absl::Now() + absl::Seconds(30);
    while (checkpoint != screening_last && absl::Now() < caught_up) {
      checkpoint = MetricValue(
          HttpGet(ports_->at(consumer).second, "/metrics"),
          "kosapo_event_consumer_checkpoint_sequence{source=\"screening\"}");
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_EQ(checkpoint, screening_last) << consumer;
  }
  EXPECT_EQ(MetricValue(HttpGet(ports_->at("case").second, "/metrics"),
                        "kosapo_case_urgent_reports_overdue"),
            0);

  // The child's name, kana and birth date went through screening, the feed,
  // the case service and its reads: no process logged any of them.
  const std::string birth_date = absl::FormatCivilTime(
      screening::testing::PupilBirthDate(opened.fiscal_year()));
  for (const auto& [name, process] : *processes_) {
    std::string logged = process->Stderr();
    for (const nlohmann::json& line : process->Logs()) {
      logged += line.dump();
    }
    ASSERT_FALSE(logged.empty()) << name;  // the logs were read
    for (const std::string& personal :
         {std::string(screening::testing::kPupilName),
          std::string(screening::testing::kPupilKana), birth_date}) {
      EXPECT_THAT(logged, ::testing::Not(HasSubstr(personal)))
          << name << " logged " << personal;
    }
  }
}

TEST_F(ServicesTest, InitContainerMigratesAndTheServiceOnlyChecks) {
  // A schema nobody migrated yet, as on a first install.
  {
    pqxx::connection admin(cluster_->AdminUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("DROP SCHEMA IF EXISTS e2e_fresh CASCADE");
    tx.exec0("CREATE SCHEMA e2e_fresh AUTHORIZATION kosapo_case_owner");
  }
  const std::map<std::string, std::string> main_container = {
      {"KOSAPO_DB_SCHEMA", "e2e_fresh"},
      {"KOSAPO_MIGRATIONS", "check"},
      {"KOSAPO_DB_MIGRATION_URL", ""}};

  // The service container started before the init container: it refuses.
  auto early = StartService(Services()[1], "-check-early", main_container);
  ASSERT_TRUE(early.ok()) << early.status();
  auto code = (*early)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1);
  auto failed = (*early)->WaitForLog("start-up failed", absl::Seconds(1));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_THAT((*failed)["error"].get<std::string>(),
              AllOf(HasSubstr("--migrations=check"), HasSubstr("e2e_fresh")));

  // The init container: the owner migrates and grants, then it exits 0,
  // with neither TLS files nor token keys.
  auto init = StartService(Services()[1], "-migrate-only",
                           {{"KOSAPO_DB_SCHEMA", "e2e_fresh"},
                            {"KOSAPO_MIGRATE_ONLY", "true"},
                            {"KOSAPO_TLS_CERT_FILE", "/nonexistent"},
                            {"KOSAPO_JWT_PUBLIC_KEY_FILE", "/nonexistent"}});
  ASSERT_TRUE(init.ok()) << init.status();
  code = (*init)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << (*init)->Stderr();
  auto migrated = (*init)->WaitForLog("schema migrated", absl::Seconds(1));
  ASSERT_TRUE(migrated.ok()) << migrated.status();
  EXPECT_FALSE((*migrated)["applied"].empty());
  EXPECT_EQ((*migrated)["granted_to"], "kosapo_case");
  EXPECT_EQ((*migrated)["granted"], true);

  // Now the service container starts, changing nothing.
  auto checked = StartService(Services()[1], "-check", main_container);
  ASSERT_TRUE(checked.ok()) << checked.status();
  auto serving = (*checked)->WaitForLog("serving", absl::Seconds(60));
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_TRUE((*checked)
                  ->WaitForLog("schema checked: every migration is "
                               "applied",
                               absl::Seconds(1))
                  .ok());
  for (const nlohmann::json& line : (*checked)->Logs()) {
    EXPECT_FALSE(absl::StartsWith(line.value("message", ""), "INSECURE"))
        << line.dump();
  }
  ASSERT_THAT((*checked)->Signal(SIGTERM), IsOk());
  code = (*checked)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST_F(ServicesTest, ASingleRoleStartWarnsThatTheServiceOwnsItsSchema) {
  // One URL, the owner's, as a development setup without a runtime role.
  auto process = StartService(Services()[1], "-single-role",
                              {{"KOSAPO_DB_URL", cluster_->OwnerUrl("case")},
                               {"KOSAPO_DB_MIGRATION_URL", ""}});
  ASSERT_TRUE(process.ok()) << process.status();
  ASSERT_TRUE((*process)->WaitForLog("serving", absl::Seconds(60)).ok());
  int warnings = 0;
  for (const nlohmann::json& line : (*process)->Logs()) {
    if (absl::StartsWith(line.value("message", ""),
                         "INSECURE: the service runs as the role that "
                         "migrates its schema")) {
      EXPECT_EQ(line["severity"], "WARNING") << line.dump();
      ++warnings;
    }
  }
  EXPECT_EQ(warnings, 1);
  ASSERT_THAT((*process)->Signal(SIGTERM), IsOk());
  EXPECT_TRUE((*process)->Wait(absl::Seconds(30)).ok());
}

TEST_F(ServicesTest, SigtermDrainsOpenStreamsAndExitsCleanly) {
  // A second replica of the case service (its migrations are already applied:
  // it must start without applying any).
  auto process = StartService(Services()[1], "-replica");
  ASSERT_TRUE(process.ok());
  auto serving = (*process)->WaitForLog("serving", absl::Seconds(60));
  ASSERT_TRUE(serving.ok()) << serving.status();
  auto migrated = (*process)->WaitForLog("schema migrated", absl::Seconds(1));
  ASSERT_TRUE(migrated.ok());
  EXPECT_TRUE((*migrated)["applied"].empty());

  auto channel = Dial(absl::StrCat("127.0.0.1:", (*serving)["port"].get<int>()),
                      tls::ChannelCredentials(pki_->Service("e2e")));
  auto stub = events::v1::EventFeed::NewStub(channel);
  grpc::ClientContext watch_context;
  watch_context.AddMetadata("authorization", "Bearer " + *service_token_);
  auto watch =
      stub->WatchEvents(&watch_context, events::v1::WatchEventsRequest());
  ASSERT_EQ(Health(channel, "kosapo.cases.v1.CaseService"),
            HealthCheckResponse::SERVING);

  ASSERT_THAT((*process)->Signal(SIGTERM), IsOk());
  // During the drain delay the replica still answers, but not as ready.
  EXPECT_TRUE(AwaitHealth(channel, "kosapo.cases.v1.CaseService",
                          HealthCheckResponse::NOT_SERVING));
  // The open watch ends with UNAVAILABLE so the client reconnects elsewhere.
  events::v1::WatchEventsResponse batch;
  while (watch->Read(&batch)) {
  }
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  auto code = (*process)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(
      (*process)->WaitForLog("drained: server stopped", absl::Seconds(1)).ok());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The certificate (PEM) the server presented on a health check over
// `channel`; empty when the call failed.
std::string ServedCertificate(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  HealthCheckResponse response;
  if (!stub->Check(&context, HealthCheckRequest(), &response).ok()) {
    return "";
  }
  for (const grpc::string_ref& pem :
       context.auth_context()->FindPropertyValues("x509_pem_cert")) {
    return std::string(pem.data(), pem.size());
  }
  return "";
}

TEST_F(ServicesTest, GrpcPortRefusesClientsWithoutACertificateOfItsCa) {
  for (const auto& service : Services()) {
    // With the CA's client certificate: answered.
    EXPECT_EQ(Health(ChannelTo(service.name), service.grpc_service),
              HealthCheckResponse::SERVING)
        << service.name;
    // Plaintext against the TLS port.
    EXPECT_EQ(
        Health(Dial(Address(service.name), grpc::InsecureChannelCredentials()),
               ""),
        HealthCheckResponse::UNKNOWN)
        << service.name;
    // TLS that trusts the server but presents no certificate.
    grpc::SslCredentialsOptions no_certificate;
    no_certificate.pem_root_certs = ReadAll(pki_->ca_file());
    EXPECT_EQ(Health(Dial(Address(service.name),
                          grpc::SslCredentials(no_certificate)),
                     ""),
              HealthCheckResponse::UNKNOWN)
        << service.name;
  }
  // A client certificate of another CA, from a client that trusts the
  // server: the server refuses it.
  auto other = testing::TestPki::InDir(*work_dir_ + "/other-pki");
  ASSERT_TRUE(other.ok()) << other.status();
  tls::TlsFiles foreign = other->Client("test");
  foreign.ca_file = pki_->ca_file();
  EXPECT_EQ(Health(Dial(Address("case"), tls::ChannelCredentials(foreign)), ""),
            HealthCheckResponse::UNKNOWN);
  // The same client, trusting the right CA, with the right certificate.
  EXPECT_EQ(Health(Dial(Address("case"),
                        tls::ChannelCredentials(pki_->Client("test"))),
                   ""),
            HealthCheckResponse::SERVING);
}

TEST_F(ServicesTest, ServiceTokenFromAClientCertificateIsRefused) {
  // Even the case service's own token does not make a client the service.
  const std::string case_token =
      tokens_->Sign(auth::Role::kService, "service:case");
  events::v1::ListEventsResponse response;
  EXPECT_EQ(ListEvents("screening", case_token, &response, true).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // From service e2e's connection it names another service: refused too.
  EXPECT_EQ(ListEvents("screening", case_token, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Over the case service's own certificate it is accepted.
  auto as_case = events::v1::EventFeed::NewStub(Dial(
      Address("screening"), tls::ChannelCredentials(pki_->Service("case"))));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + case_token);
  EXPECT_TRUE(
      as_case->ListEvents(&context, events::v1::ListEventsRequest(), &response)
          .ok());
}

TEST_F(ServicesTest, HealthPortAnswersHealthChecksOnlyInPlaintext) {
  for (const auto& service : Services()) {
    const std::string address =
        absl::StrCat("127.0.0.1:", health_ports_->at(service.name));
    auto channel = Dial(address, grpc::InsecureChannelCredentials());
    EXPECT_EQ(Health(channel, ""), HealthCheckResponse::SERVING)
        << service.name;
    EXPECT_EQ(Health(channel, service.grpc_service),
              HealthCheckResponse::SERVING)
        << service.name;
    // Nothing else: not the feed, not reflection.
    auto feed = events::v1::EventFeed::NewStub(channel);
    grpc::ClientContext feed_context;
    feed_context.AddMetadata("authorization", "Bearer " + *service_token_);
    events::v1::ListEventsResponse response;
    EXPECT_EQ(feed->ListEvents(&feed_context, events::v1::ListEventsRequest(),
                               &response)
                  .error_code(),
              grpc::StatusCode::UNIMPLEMENTED)
        << service.name;
    auto reflection =
        grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
    grpc::ClientContext reflection_context;
    auto stream = reflection->ServerReflectionInfo(&reflection_context);
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    request.set_list_services("");
    stream->Write(request);
    stream->WritesDone();
    grpc::reflection::v1alpha::ServerReflectionResponse ignored;
    while (stream->Read(&ignored)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << service.name;
  }
}

TEST_F(ServicesTest, RotatedCertificateIsServedWithoutRestart) {
  // A replica of the screening service with certificate files of its own,
  // from the suite's CA, checked every second.
  const std::string dir = *work_dir_ + "/rotate-pki";
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p '", dir, "' && cp '",
                                     pki_->dir(), "/ca.crt' '", pki_->dir(),
                                     "/ca.key' '", dir, "/'")
                            .c_str()),
            0);
  const testing::TestPki rotating = [&] {
    auto pki = testing::TestPki::InDir(dir);
    EXPECT_TRUE(pki.ok()) << pki.status();
    return *std::move(pki);
  }();
  const tls::TlsFiles files = rotating.Service("screening");
  auto process = StartService(Services()[0], "-rotate",
                              {{"KOSAPO_TLS_CERT_FILE", files.cert_file},
                               {"KOSAPO_TLS_KEY_FILE", files.key_file},
                               {"KOSAPO_TLS_REFRESH_INTERVAL", "1s"}});
  ASSERT_TRUE(process.ok()) << process.status();
  auto serving = (*process)->WaitForLog("serving", absl::Seconds(60));
  ASSERT_TRUE(serving.ok()) << serving.status();
  const std::string address =
      absl::StrCat("127.0.0.1:", (*serving)["port"].get<int>());
  auto connect = [&] {
    return Dial(address, tls::ChannelCredentials(pki_->Client("test")));
  };
  const std::string before = ReadAll(files.cert_file);
  ASSERT_EQ(ServedCertificate(connect()), before);

  ASSERT_THAT(rotating.IssueService("screening", /*renew=*/true), IsOk());
  const std::string after = ReadAll(files.cert_file);
  ASSERT_NE(after, before);
  std::string served;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (served != after && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(250));
    served = ServedCertificate(connect());  // a new connection each time
  }
  EXPECT_EQ(served, after) << "the rotated certificate was not served";
  EXPECT_TRUE((*process)->running());
  ASSERT_THAT((*process)->Signal(SIGTERM), IsOk());
  EXPECT_TRUE((*process)->Wait(absl::Seconds(30)).ok());
}

TEST_F(ServicesTest, PlaintextOnlyWhenConfiguredAndThenLoudlyLogged) {
  // Without TLS files and without --insecure_plaintext: a configuration
  // error naming the settings.
  auto refused = StartService(Services()[1], "-notls",
                              {{"KOSAPO_TLS_CERT_FILE", ""},
                               {"KOSAPO_TLS_KEY_FILE", ""},
                               {"KOSAPO_TLS_CA_FILE", ""}});
  ASSERT_TRUE(refused.ok());
  auto code = (*refused)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2);
  EXPECT_THAT((*refused)->Stderr(),
              AllOf(HasSubstr("--tls_cert_file, --tls_key_file, --tls_ca_file"),
                    HasSubstr("--insecure_plaintext")));

  auto process = StartService(Services()[1], "-plaintext",
                              {{"KOSAPO_TLS_CERT_FILE", ""},
                               {"KOSAPO_TLS_KEY_FILE", ""},
                               {"KOSAPO_TLS_CA_FILE", ""},
                               {"KOSAPO_INSECURE_PLAINTEXT", "true"}});
  ASSERT_TRUE(process.ok());
  auto serving = (*process)->WaitForLog("serving", absl::Seconds(60));
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_EQ((*serving)["tls"], false);
  int warnings = 0;
  for (const nlohmann::json& line : (*process)->Logs()) {
    if (absl::StartsWith(line.value("message", ""), "INSECURE:")) {
      EXPECT_EQ(line["severity"], "WARNING") << line.dump();
      ++warnings;
    }
  }
  EXPECT_EQ(warnings, 1);
  // Plaintext clients are served, the token alone saying who calls.
  auto channel = Dial(absl::StrCat("127.0.0.1:", (*serving)["port"].get<int>()),
                      grpc::InsecureChannelCredentials());
  EXPECT_EQ(Health(channel, ""), HealthCheckResponse::SERVING);
  auto feed = events::v1::EventFeed::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + *service_token_);
  events::v1::ListEventsResponse response;
  EXPECT_TRUE(
      feed->ListEvents(&context, events::v1::ListEventsRequest(), &response)
          .ok());
  ASSERT_THAT((*process)->Signal(SIGTERM), IsOk());
  EXPECT_TRUE((*process)->Wait(absl::Seconds(30)).ok());
}

// Last: it takes the database away from every service.
TEST_F(ServicesTest, ZDatabaseOutageTurnsReadinessOffAndBackOn) {
  ASSERT_THAT(cluster_->Stop(), IsOk());
  for (const auto& service : Services()) {
    auto channel = ChannelTo(service.name);
    EXPECT_TRUE(AwaitHealth(channel, service.grpc_service,
                            HealthCheckResponse::NOT_SERVING))
        << service.name;
    // Liveness stays up: the process is fine, the pod must not restart.
    EXPECT_EQ(Health(channel, ""), HealthCheckResponse::SERVING)
        << service.name;
  }
  events::v1::ListEventsResponse response;
  EXPECT_EQ(ListEvents("screening", *service_token_, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ASSERT_THAT(cluster_->Restart(), IsOk());
  for (const auto& service : Services()) {
    EXPECT_TRUE(AwaitHealth(ChannelTo(service.name), service.grpc_service,
                            HealthCheckResponse::SERVING))
        << service.name;
  }
  EXPECT_TRUE(ListEvents("screening", *service_token_, &response).ok());
}

}  // namespace
}  // namespace kosapo
