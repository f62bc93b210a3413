#include "tests/resilience/suite.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <limits>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/server/authenticate.h"
#include "common/tls/tls.h"
#include "common/types/api_types.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"

namespace kosapo::resilience {
namespace {

// The identity of the test's own service-role calls.
constexpr char kServiceIdentity[] = "resilience";

std::string Binary(const std::string& service) {
  if (service == "screening") {
    return KOSAPO_SCREENING_BIN;
  }
  if (service == "case") {
    return KOSAPO_CASE_BIN;
  }
  if (service == "referral") {
    return KOSAPO_REFERRAL_BIN;
  }
  return KOSAPO_REPORTING_BIN;
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace

const std::vector<std::string>& ServiceNames() {
  static const auto* const kNames = new std::vector<std::string>{
      "screening", "case", "referral", "reporting"};
  return *kNames;
}

std::string GrpcServiceName(const std::string& service) {
  if (service == "screening") {
    return "kosapo.screening.v1.ScreeningService";
  }
  if (service == "case") {
    return "kosapo.cases.v1.CaseService";
  }
  if (service == "referral") {
    return "kosapo.referral.v1.ReferralService";
  }
  return "kosapo.reporting.v1.ReportingService";
}

std::shared_ptr<grpc::Channel> DialTls(const std::string& address,
                                       const tls::TlsFiles& files) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: despite its name, gRPC C++ uses
  // it as the minimum time a connection attempt (TCP connect and TLS
  // handshake) may take, each attempt's deadline being the later of it and
  // the next backoff (src/core/ext/filters/client_channel/subchannel.cc,
  // StartConnectingLocked). Set to 100 ms it gave attempts 0.1-1.2 s: a
  // handshake over a 1.5 s link never finished ("Handshake read failed"),
  // a new channel's first handshake under CPU load sometimes did not
  // ("failed to connect to all addresses"), and after a restart an
  // attempt's I/O, driven only by gRPC's backup poller every 5 s while no
  // call waits, timed out every time ("Handshake timed out"). Its default
  // is 20 s.
  return grpc::CreateCustomChannel(address, tls::ChannelCredentials(files),
                                   args);
}

bool HealthServing(const std::shared_ptr<grpc::Channel>& channel,
                   const std::string& grpc_service, absl::Duration deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  // A call that fails at once (the channel in TRANSIENT_FAILURE, calls not
  // waiting for ready) does not poll, and in a process with no server
  // nothing else polls: the channel's connection attempt then advances
  // only when the backup poller runs (every 5 s). Waiting for ready, the
  // call polls, so the attempt completes as soon as the server answers.
  context.set_wait_for_ready(true);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(grpc_service);
  grpc::health::v1::HealthCheckResponse response;
  auto stub = grpc::health::v1::Health::NewStub(channel);
  return stub->Check(&context, request, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

absl::StatusOr<std::unique_ptr<Suite>> Suite::Start(const std::string& label,
                                                    EnvOverrides overrides,
                                                    EnvHook hook) {
  std::unique_ptr<Suite> suite(new Suite());
  suite->label_ = label;
  suite->overrides_ = std::move(overrides);
  suite->hook_ = std::move(hook);
  auto cluster = testing::PgCluster::Start("kosapo", ServiceNames());
  if (!cluster.ok()) {
    return cluster.status();
  }
  suite->cluster_ = std::move(*cluster);
  suite->work_dir_ = suite->cluster_->data_dir() + "-" + label;
  if (std::system(absl::StrCat("mkdir -p '", suite->work_dir_, "'").c_str()) !=
      0) {
    return absl::InternalError("cannot create " + suite->work_dir_);
  }
  auto tokens = testing::TestTokens::Create();
  if (!tokens.ok()) {
    return tokens.status();
  }
  suite->tokens_ = std::move(*tokens);
  if (absl::Status s =
          suite->tokens_->WritePublicKey(suite->work_dir_ + "/jwt.pub");
      !s.ok()) {
    return s;
  }
  auto pki = testing::TestPki::InDir(suite->work_dir_ + "/pki");
  if (!pki.ok()) {
    return pki.status();
  }
  suite->pki_ = std::make_unique<testing::TestPki>(*std::move(pki));
  if (absl::Status s = suite->pki_->IssueService(kServiceIdentity); !s.ok()) {
    return s;
  }
  auto field_key_id = testing::DevFieldKeys(suite->work_dir_ + "/field-keys");
  if (!field_key_id.ok()) {
    return field_key_id.status();
  }
  suite->field_key_id_ = *std::move(field_key_id);
  for (const std::string& service : ServiceNames()) {
    if (absl::Status s = suite->StartService(service); !s.ok()) {
      return s;
    }
  }
  return suite;
}

Suite::~Suite() {
  // Reporting first: it follows the others.
  for (auto it = ServiceNames().rbegin(); it != ServiceNames().rend(); ++it) {
    processes_.erase(*it);  // kills what is still running
  }
  channels_.clear();
  service_channels_.clear();
  if (!work_dir_.empty()) {
    std::system(absl::StrCat("rm -rf '", work_dir_, "'").c_str());
  }
}

std::map<std::string, std::string> Suite::Environment(
    const std::string& service) {
  std::map<std::string, std::string> env = {
      {"PORT", "0"},
      {"KOSAPO_LISTEN_HOST", "127.0.0.1"},
      {"KOSAPO_METRICS_PORT", "0"},
      {"KOSAPO_DB_URL", cluster_->ServiceUrl(service)},
      {"KOSAPO_DB_MIGRATION_URL", cluster_->OwnerUrl(service)},
      {"KOSAPO_JWT_PUBLIC_KEY_FILE", work_dir_ + "/jwt.pub"},
      {"KOSAPO_TLS_CERT_FILE", pki_->Service(service).cert_file},
      {"KOSAPO_TLS_KEY_FILE", pki_->Service(service).key_file},
      {"KOSAPO_TLS_CA_FILE", pki_->ca_file()},
      {"KOSAPO_FIELD_KEYS_DIR", work_dir_ + "/field-keys"},
      {"KOSAPO_FIELD_KEY_ID", field_key_id_},
      {"KOSAPO_HEALTH_PORT", "0"},
      {"KOSAPO_HEALTH_INTERVAL", "200ms"},
      {"KOSAPO_DRAIN_DELAY", "500ms"},
      {"KOSAPO_SHUTDOWN_TIMEOUT", "5s"},
      {"KOSAPO_DB_POOL_SIZE", "4"},
      {"KOSAPO_SCREENING_ADDRESS", "127.0.0.1:1"},
      {"KOSAPO_CASE_ADDRESS", "127.0.0.1:1"},
      {"KOSAPO_REFERRAL_ADDRESS", "127.0.0.1:1"},
  };
  for (const char* peer : {"screening", "case", "referral"}) {
    if (ports_.count(peer) > 0) {
      env[absl::StrCat("KOSAPO_", absl::AsciiStrToUpper(peer), "_ADDRESS")] =
          absl::StrCat("127.0.0.1:", ports_.at(peer).first);
    }
  }
  // A restart keeps the ports, so peers and clients find it again.
  if (ports_.count(service) > 0) {
    env["PORT"] = absl::StrCat(ports_.at(service).first);
    env["KOSAPO_METRICS_PORT"] = absl::StrCat(ports_.at(service).second);
  }
  if (overrides_.count(service) > 0) {
    for (const auto& [key, value] : overrides_.at(service)) {
      env[key] = value;
    }
  }
  if (hook_) {
    hook_(service, *this, env);
  }
  return env;
}

absl::Status Suite::StartService(const std::string& service, bool wait) {
  testing::ProcessOptions options;
  options.binary = Binary(service);
  options.env = Environment(service);
  options.log_path =
      absl::StrCat(work_dir_, "/", service, "-", starts_[service]++, ".log");
  auto process = testing::ServiceProcess::Start(std::move(options));
  if (!process.ok()) {
    return process.status();
  }
  processes_[service] = std::move(*process);
  return wait ? AwaitServing(service) : absl::OkStatus();
}

absl::Status Suite::AwaitServing(const std::string& service) {
  auto serving =
      processes_.at(service)->WaitForLog("serving", absl::Seconds(90));
  if (!serving.ok()) {
    return serving.status();
  }
  ports_[service] = {(*serving)["port"].get<int>(),
                     (*serving)["metrics_port"].get<int>()};
  if (!AwaitReadiness(service, true, absl::Seconds(30))) {
    std::string logs;
    const std::vector<nlohmann::json> lines = processes_.at(service)->Logs();
    for (size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size();
         ++i) {
      absl::StrAppend(&logs, "\n  ", lines[i].dump());
    }
    return absl::DeadlineExceededError(absl::StrCat(
        service, " did not become ready; its last log lines:", logs));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> Suite::Channel(const std::string& service) {
  auto& channel = channels_[service];
  if (channel == nullptr) {
    channel = Dial(Address(service));
  }
  return channel;
}

std::shared_ptr<grpc::Channel> Suite::ServiceChannel(
    const std::string& service) {
  auto& channel = service_channels_[service];
  if (channel == nullptr) {
    channel = Dial(Address(service), /*as_service=*/true);
  }
  return channel;
}

std::shared_ptr<grpc::Channel> Suite::Dial(const std::string& address,
                                           bool as_service) const {
  // The server's certificate must name the host dialled: 127.0.0.1 is one
  // of its IP SANs, also when a proxy on 127.0.0.1 forwards the bytes.
  return DialTls(address, as_service ? pki_->Service(kServiceIdentity)
                                     : pki_->Client("test"));
}

std::string Suite::Address(const std::string& service) const {
  return absl::StrCat("127.0.0.1:", ports_.at(service).first);
}

int Suite::Port(const std::string& service) const {
  return ports_.at(service).first;
}

int Suite::MetricsPort(const std::string& service) const {
  return ports_.at(service).second;
}

pid_t Suite::Pid(const std::string& service) const {
  return processes_.at(service)->pid();
}

testing::ServiceProcess& Suite::Process(const std::string& service) {
  return *processes_.at(service);
}

absl::Status Suite::Kill(const std::string& service) {
  testing::ServiceProcess& process = *processes_.at(service);
  if (absl::Status s = process.Signal(SIGKILL); !s.ok()) {
    return s;
  }
  auto code = process.Wait(absl::Seconds(30));
  if (!code.ok()) {
    return code.status();
  }
  if (*code != 128 + SIGKILL) {
    return absl::InternalError(
        absl::StrCat(service, " exited with ", *code, ", not by SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status Suite::Restart(const std::string& service, bool wait) {
  if (processes_.at(service)->running()) {
    return absl::FailedPreconditionError(service + " is still running");
  }
  return StartService(service, wait);
}

absl::Status Suite::Signal(const std::string& service, int signal_number) {
  return processes_.at(service)->Signal(signal_number);
}

std::string Suite::Sign(const auth::Principal& principal) const {
  return tokens_->Sign(principal);
}

std::unique_ptr<grpc::ClientContext> Suite::ContextAs(
    auth::Role role, const std::string& municipality,
    std::vector<std::string> areas, std::vector<std::string> schools,
    absl::Duration deadline) const {
  auth::Principal principal;
  principal.subject =
      role == auth::Role::kService
          ? server::ServiceSubject(kServiceIdentity)
          : absl::StrCat("resilience:", std::string(auth::RoleName(role)));
  principal.role = role;
  principal.municipality = municipality;
  principal.areas = std::move(areas);
  principal.schools = std::move(schools);
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

sample::LoadTargets Suite::Targets() {
  sample::LoadTargets targets;
  targets.screening = Channel("screening");
  targets.cases = Channel("case");
  targets.referral = Channel("referral");
  targets.sign = [this](const auth::Principal& principal) {
    return tokens_->Sign(principal);
  };
  targets.concurrency = 4;
  targets.case_feed_timeout = absl::Minutes(2);
  return targets;
}

sample::FeedSources Suite::Sources(const std::string& municipality) {
  sample::FeedSources sources;
  // The feeds' heads are read as a service, with that service's token.
  sources.producers = {{"screening", ServiceChannel("screening")},
                       {"case", ServiceChannel("case")},
                       {"referral", ServiceChannel("referral")}};
  sources.reporting = ServiceChannel("reporting");
  sources.sign = [this](const auth::Principal& principal) {
    return tokens_->Sign(principal);
  };
  sources.municipality = municipality;
  sources.service_name = kServiceIdentity;
  return sources;
}

bool Suite::Ready(const std::string& service) {
  return HealthServing(Channel(service), GrpcServiceName(service),
                       absl::Seconds(2));
}

bool Suite::AwaitReadiness(const std::string& service, bool serving,
                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Ready(service) == serving) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

absl::StatusOr<reporting::v1::WardComparison> Suite::Comparison(
    const std::string& municipality, int fiscal_year) {
  reporting::v1::GetWardComparisonRequest request;
  request.set_parent(absl::StrCat("municipalities/", municipality));
  request.set_fiscal_year(fiscal_year);
  reporting::v1::WardComparison comparison;
  const grpc::Status status =
      reporting::v1::ReportingService::NewStub(Channel("reporting"))
          ->GetWardComparison(
              ContextAs(auth::Role::kAnalyst, municipality).get(), request,
              &comparison);
  if (absl::Status s = FromGrpc(status, "ward comparison"); !s.ok()) {
    return s;
  }
  return comparison;
}

absl::StatusOr<std::map<std::string, int64_t>> Suite::EventCensus(
    const std::string& producer) {
  auto stub = events::v1::EventFeed::NewStub(ServiceChannel(producer));
  std::map<std::string, int64_t> census;
  int64_t after = 0;
  while (true) {
    events::v1::ListEventsRequest request;
    request.set_after_sequence(after);
    request.set_page_size(1000);
    events::v1::ListEventsResponse response;
    const grpc::Status status = stub->ListEvents(
        ContextAs(auth::Role::kService, "").get(), request, &response);
    if (absl::Status s = FromGrpc(status, producer + " feed"); !s.ok()) {
      return s;
    }
    for (const events::v1::Event& event : response.events()) {
      ++census[event.payload().type_url()];
      after = event.sequence();
    }
    if (response.events().empty() || after >= response.head_sequence()) {
      return census;
    }
  }
}

absl::StatusOr<int64_t> Suite::Head(const std::string& producer) {
  events::v1::ListEventsRequest request;
  request.set_after_sequence(std::numeric_limits<int64_t>::max() / 2);
  request.set_page_size(1);
  events::v1::ListEventsResponse response;
  const grpc::Status status =
      events::v1::EventFeed::NewStub(ServiceChannel(producer))
          ->ListEvents(ContextAs(auth::Role::kService, "").get(), request,
                       &response);
  if (absl::Status s = FromGrpc(status, producer + " feed head"); !s.ok()) {
    return s;
  }
  return response.head_sequence();
}

absl::StatusOr<int64_t> Suite::Checkpoint(const std::string& consumer,
                                          const std::string& source) {
  try {
    pqxx::connection admin(cluster_->AdminUrl());
    pqxx::nontransaction tx(admin);
    const pqxx::result rows =
        tx.exec_params("SELECT last_sequence FROM " +
                           tx.quote_name(cluster_->Schema(consumer)) +
                           ".consumer_checkpoints WHERE source = $1",
                       source);
    return rows.empty() ? 0 : rows[0][0].as<int64_t>();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("checkpoint: ", e.what()));
  }
}

absl::StatusOr<int> LoadUntilDone(Suite& suite, const sample::SampleCity& city,
                                  absl::Duration timeout,
                                  sample::LoadProgress* progress) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  for (int attempt = 1; absl::Now() < deadline; ++attempt) {
    sample::LoadProgress ignored;
    last = sample::LoadCity(
        city, suite.Targets(),
        attempt == 1 && progress != nullptr ? progress : &ignored);
    if (last.ok()) {
      return attempt;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the city did not load within ", absl::FormatDuration(timeout),
      "; last error: ", last.ToString()));
}

absl::StatusOr<sample::SampleCity> SmallCity(const std::string& municipality,
                                             int64_t pupils) {
  auto today = DayIn(absl::Now(), "Asia/Tokyo");
  if (!today.ok()) {
    return today.status();
  }
  return sample::CityOfSize(pupils, 3, *today, 7, municipality);
}

int FiscalYear(const sample::SampleCity& city) {
  // A city of a given size is screened once, in the current fiscal year.
  return city.screenings.empty() ? 0 : city.screenings.back().fiscal_year;
}

absl::StatusOr<Outcome> Observe(Suite& suite, const sample::SampleCity& city,
                                absl::Duration catch_up_timeout) {
  if (absl::Status s = sample::WaitForReporting(
          suite.Sources(city.municipality), catch_up_timeout);
      !s.ok()) {
    return s;
  }
  Outcome outcome;
  auto comparison = suite.Comparison(city.municipality, FiscalYear(city));
  if (!comparison.ok()) {
    return comparison.status();
  }
  outcome.comparison = *std::move(comparison);
  for (const char* producer : {"screening", "case", "referral"}) {
    auto census = suite.EventCensus(producer);
    if (!census.ok()) {
      return census.status();
    }
    for (const auto& [type, count] : *census) {
      outcome.events += count;
    }
    outcome.census[producer] = *std::move(census);
  }
  return outcome;
}

std::string CompareWithGenerator(const reporting::v1::WardComparison& got,
                                 const sample::SampleCity& city) {
  auto today = DayIn(absl::Now(), "Asia/Tokyo");
  if (!today.ok()) {
    return today.status().ToString();
  }
  const reporting::WardCounts want =
      sample::CountAsOf(city, FiscalYear(city), *today, "");
  for (const reporting::v1::WardRow& row : got.rows()) {
    if (row.kind() != reporting::v1::ROW_KIND_CITY_TOTAL ||
        row.fiscal_year() != FiscalYear(city) || row.cells_size() != 18) {
      continue;
    }
    std::string differences;
    const std::vector<std::pair<int, int64_t>> cells = {
        {1, want.pupils},    {2, want.target},     {4, want.outreach_done},
        {6, want.connected}, {11, want.preparing}, {13, want.unable},
        {15, want.resolved}};
    for (const auto& [column, count] : cells) {
      if (row.cells(column - 1).count() != count) {
        absl::StrAppend(&differences, "column ", column, ": ",
                        row.cells(column - 1).count(), " != ", count, "\n");
      }
    }
    return differences;
  }
  return "no city-total row for the fiscal year";
}

}  // namespace kosapo::resilience
