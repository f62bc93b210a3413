#include "common/server/runtime.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/auth/permissions.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/server/interceptor.h"
#include "common/tls/tls.h"

namespace kosapo::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view what) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " file '", path, "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The public keys of `dir` by key id: each `<kid>.pem` file (Kubernetes
// mounts a Secret's keys this way). Other files are ignored.
absl::StatusOr<std::map<std::string, std::string>> ReadKeysById(
    const std::string& dir) {
  std::error_code error;
  std::filesystem::directory_iterator entries(dir, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read --jwt_public_keys_dir '", dir, "': ", error.message()));
  }
  std::map<std::string, std::string> keys;
  for (const std::filesystem::directory_entry& entry : entries) {
    const std::filesystem::path& path = entry.path();
    // Kubernetes' atomic-writer links (..data) start with a dot.
    if (path.extension() != ".pem" || path.filename().string()[0] == '.') {
      continue;
    }
    KOSAPO_ASSIGN_OR_RETURN(
        keys[path.stem().string()],
        ReadFile(path.string(), "--jwt_public_keys_dir key"));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--jwt_public_keys_dir '", dir, "' has no <key id>.pem file"));
  }
  return keys;
}

int ToMillis(absl::Duration duration) {
  return static_cast<int>(absl::ToInt64Milliseconds(duration));
}

ChannelOptions PeerChannelOptions(const ServiceConfig& config) {
  ChannelOptions options;
  options.max_message_bytes = config.max_message_bytes;
  if (!config.insecure_plaintext) {
    options.tls = config.tls;
  }
  return options;
}

// Drops every server builder plugin (reflection registers itself on every
// server of the process), so the health port serves grpc.health.v1 alone.
class WithoutPlugins : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

// Drops the reflection plugin, for a gRPC port configured without it.
class WithoutReflection : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                         return p->name() == "proto_server_reflection";
                       }),
        plugins->end());
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Create(
    ServiceDescriptor descriptor, ServiceConfig config) {
  auth::VerifierOptions options{config.jwt_algorithm, "", config.jwt_issuer,
                                config.jwt_audience};
  if (config.jwt_public_key_file.empty() &&
      config.jwt_public_keys_dir.empty()) {
    return absl::InvalidArgumentError(
        "--jwt_public_key_file (KOSAPO_JWT_PUBLIC_KEY_FILE) or "
        "--jwt_public_keys_dir (KOSAPO_JWT_PUBLIC_KEYS_DIR) is required");
  }
  if (!config.jwt_public_key_file.empty()) {
    KOSAPO_ASSIGN_OR_RETURN(
        options.public_key_pem,
        ReadFile(config.jwt_public_key_file, "--jwt_public_key_file"));
  }
  if (!config.jwt_public_keys_dir.empty()) {
    KOSAPO_ASSIGN_OR_RETURN(options.keys_by_id,
                            ReadKeysById(config.jwt_public_keys_dir));
  }
  auto verifier = auth::TokenVerifier::Create(options);
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value for --jwt_public_key_file or "
                     "--jwt_public_keys_dir: ",
                     verifier.status().message()));
  }
  return std::unique_ptr<ServiceRuntime>(new ServiceRuntime(
      std::move(descriptor), std::move(config), *std::move(verifier)));
}

ServiceRuntime::ServiceRuntime(ServiceDescriptor descriptor,
                               ServiceConfig config,
                               std::unique_ptr<auth::TokenVerifier> verifier)
    : descriptor_(std::move(descriptor)),
      config_(std::move(config)),
      verifier_(std::move(verifier)),
      pool_(std::make_unique<pg::Pool>(config_.db)),
      peers_(std::make_unique<PeerChannels>(
          config_.peers, config_.peer_token_file, config_.peer_timeout,
          PeerChannelOptions(config_))) {}

ServiceRuntime::~ServiceRuntime() {
  if (server_ != nullptr) {
    Drain();
  }
}

void ServiceRuntime::AddService(std::shared_ptr<grpc::Service> service) {
  services_.push_back(std::move(service));
}

void ServiceRuntime::OnDrain(std::function<void()> hook) {
  drain_hooks_.push_back(std::move(hook));
}

namespace {

// Every method of the service (and of the event feed it serves) has its row
// in the permission matrix; a method without one would refuse every caller.
absl::Status CheckPermissionMatrix(const std::string& grpc_service_name) {
  std::vector<std::string> missing;
  for (const std::string& name :
       {grpc_service_name, std::string("kosapo.events.v1.EventFeed")}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) {
      continue;
    }
    for (int m = 0; m < service->method_count(); ++m) {
      const std::string method =
          absl::StrCat(name, "/", service->method(m)->name());
      if (!auth::PermissionMatrix::Embedded().Contains(method)) {
        missing.push_back(method);
      }
    }
  }
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no row in the permission matrix "
                     "(common/auth/permissions.tsv) for ",
                     absl::StrJoin(missing, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ServiceRuntime::Start() {
  KOSAPO_RETURN_IF_ERROR(CheckPermissionMatrix(descriptor_.grpc_service_name));
  grpc::EnableDefaultHealthCheckService(true);
  // Reflection is a process-wide builder plugin, registered as soon as the
  // library is loaded; a server without it drops the plugin.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!config_.reflection) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  const std::string address =
      absl::StrCat(config_.listen_host, ":", config_.port);
  if (config_.insecure_plaintext_fields) {
    log::Warning(
        "INSECURE: --insecure_plaintext_fields is set: new notes, contact "
        "summaries and urgent report details are stored unencrypted; for "
        "local development only, never in a deployment");
  } else if (config_.field_cipher != nullptr) {
    log::Info("field encryption",
              {{"active_key_id", config_.field_cipher->active_key_id()}});
  }
  if (config_.insecure_plaintext) {
    log::Warning(
        "INSECURE: --insecure_plaintext is set: gRPC without TLS, callers "
        "unauthenticated by certificate and peers called in plaintext; for "
        "local development only, never in a deployment",
        {{"port", config_.port}});
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                             &port_);
  } else {
    log::Info("mutual TLS", {{"cert_file", config_.tls.cert_file},
                             {"ca_file", config_.tls.ca_file},
                             {"refresh_interval_ms",
                              ToMillis(config_.tls.refresh_interval)}});
    if (!config_.peer_token_file.empty()) {
      log::Info(
          "--peer_token_file is not used over TLS: this service's "
          "certificate is its identity on calls to peers");
    }
    builder.AddListeningPort(address, tls::ServerCredentials(config_.tls),
                             &port_);
  }
  // A second server on a busy port must fail, not share it (PLATFORM.md).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(config_.max_message_bytes);
  builder.SetMaxSendMessageSize(config_.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             ToMillis(config_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             ToMillis(config_.keepalive_timeout));
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  if (config_.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               ToMillis(config_.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               ToMillis(config_.shutdown_timeout));
  }
  // The sync server runs each call on a thread of its own and refuses a
  // call (RESOURCE_EXHAUSTED) when it cannot take another thread, so the
  // cap is well above the pool: calls wait for a connection in the pool,
  // and the cap only bounds memory.
  grpc::ResourceQuota quota(absl::StrCat("kosapo-", descriptor_.name));
  quota.SetMaxThreads(config_.max_threads);
  builder.SetResourceQuota(quota);
  for (const auto& service : services_) {
    builder.RegisterService(service.get());
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<CallInterceptorFactory>(
      &calls_, &metrics_, verifier_.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address, " (port in use or not permitted)"));
  }

  grpc::ServerBuilder health_builder;
  const std::string health_address =
      absl::StrCat(config_.listen_host, ":", config_.health_port);
  health_builder.AddListeningPort(
      health_address, grpc::InsecureServerCredentials(), &health_port_);
  health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  health_builder.SetOption(std::make_unique<WithoutPlugins>());
  // Its own Health service, not gRPC's default one (which needs another
  // service beside it on a sync server).
  health_builder.SetOption(
      std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  health_builder.RegisterService(&health_port_service_);
  grpc::ResourceQuota health_quota(
      absl::StrCat("kosapo-", descriptor_.name, "-health"));
  health_quota.SetMaxThreads(4);
  health_builder.SetResourceQuota(health_quota);
  health_server_ = health_builder.BuildAndStart();
  if (health_server_ == nullptr || health_port_ == 0) {
    health_server_.reset();
    server_->Shutdown();
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", health_address,
                     " (--health_port in use or not permitted)"));
  }
  SetServing("", true);
  SetServing(descriptor_.grpc_service_name, pool_->Ping().ok());

  metrics_.AddPool(*pool_);
  auto metrics_port = metrics_.Serve(
      absl::StrCat(config_.listen_host, ":", config_.metrics_port));
  if (!metrics_port.ok()) {
    server_->Shutdown();
    server_.reset();
    health_server_->Shutdown();
    health_server_.reset();
    return metrics_port.status();
  }
  metrics_port_ = *metrics_port;
  health_thread_ = std::thread([this] { HealthLoop(); });
  return absl::OkStatus();
}

void ServiceRuntime::HealthLoop() {
  bool serving = true;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!draining_) {
    lock.unlock();
    const absl::Status ping = pool_->Ping();
    // A busy pool is a loaded database, not an unreachable one.
    const bool now_serving =
        ping.ok() || ping.code() == absl::StatusCode::kResourceExhausted;
    lock.lock();
    if (draining_) {
      break;
    }
    if (now_serving != serving) {
      serving = now_serving;
      SetServing(descriptor_.grpc_service_name, serving);
      if (serving) {
        log::Info("database reachable again: SERVING");
      } else {
        log::Warning("database unreachable: NOT_SERVING",
                     {{"error", std::string(ping.message())}});
      }
    }
    wake_.wait_for(lock, absl::ToChronoMilliseconds(config_.health_interval),
                   [this] { return draining_; });
  }
}

void ServiceRuntime::Drain() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (draining_ || server_ == nullptr) {
      return;
    }
    draining_ = true;
    SetServing(descriptor_.grpc_service_name, false);
  }
  wake_.notify_all();
  if (health_thread_.joinable()) {
    health_thread_.join();
  }
  log::Info("draining: NOT_SERVING announced",
            {{"drain_delay_ms", ToMillis(config_.drain_delay)}});
  absl::SleepFor(config_.drain_delay);
  for (const auto& hook : drain_hooks_) {
    hook();
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + config_.shutdown_timeout));
  server_->Wait();
  health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
  health_server_->Wait();
  log::Info("drained: server stopped");
}

void ServiceRuntime::SetServing(const std::string& name, bool serving) {
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(name, serving);
  }
  health_port_service_.Set(name, serving);
}

namespace {

absl::StatusOr<pg::MigrationReport> PrepareSchemaOnce(
    const ServiceConfig& config, const std::vector<pg::MigrationSet>& sets) {
  if (config.migrations == MigrationMode::kCheck) {
    auto report = pg::CheckMigrated(config.db.url, config.db.schema, sets);
    if (report.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(
          absl::StrCat("--migrations=check: ", report.status().message(),
                       "; apply the migrations first (--migrate_only with "
                       "--db_migration_url, the schema owner's URL)"));
    }
    return report;
  }
  if (config.db_migration_url.empty()) {
    return pg::Migrate(config.db.url, config.db.schema, sets);
  }
  return pg::Migrate(config.db_migration_url, config.db.schema, sets,
                     {config.db_runtime_role});
}

}  // namespace

absl::Status PrepareSchema(const ServiceConfig& config,
                           const std::vector<pg::MigrationSet>& sets) {
  const bool check = config.migrations == MigrationMode::kCheck;
  const absl::Time give_up = absl::Now() + config.db_startup_timeout;
  absl::Duration backoff = absl::Milliseconds(200);
  while (true) {
    auto report = PrepareSchemaOnce(config, sets);
    if (report.ok()) {
      if (check) {
        log::Info("schema checked: every migration is applied",
                  {{"schema", config.db.schema}});
      } else {
        log::Info("schema migrated", {{"schema", config.db.schema},
                                      {"applied", report->applied},
                                      {"granted_to", config.db_runtime_role},
                                      {"granted", report->granted}});
      }
      if (!check && !report->granted) {
        log::Warning(
            "INSECURE: the service runs as the role that migrates its schema "
            "(no --db_migration_url, KOSAPO_DB_MIGRATION_URL, or one with "
            "the --db_url role): it owns the schema and may alter or drop "
            "any table, audit tables included; for local development only, "
            "never in a deployment",
            {{"schema", config.db.schema}});
      }
      if (!report->unknown.empty()) {
        log::Warning(
            "database has migrations this binary does not know; "
            "a newer version ran here",
            {{"unknown", report->unknown}});
      }
      return absl::OkStatus();
    }
    if (report.status().code() != absl::StatusCode::kUnavailable ||
        absl::Now() + backoff > give_up) {
      return report.status();
    }
    log::Warning("database not reachable yet; retrying migrations",
                 {{"error", std::string(report.status().message())}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

absl::StatusOr<std::unique_ptr<ServiceRuntime>> StartService(
    const ServiceDefinition& service, const ServiceConfig& config) {
  auto runtime = ServiceRuntime::Create(service.descriptor, config);
  if (!runtime.ok()) {
    return runtime.status();
  }
  absl::Status status = PrepareSchema(config, service.migrations);
  if (status.ok() && service.setup) {
    status = service.setup(**runtime);
  }
  if (status.ok()) {
    status = (*runtime)->Start();
  }
  if (!status.ok()) {
    // Past Create the configuration is good: INVALID_ARGUMENT is kept for
    // configuration errors (exit code 2), so report other failures apart.
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      return absl::InternalError(status.message());
    }
    return status;
  }
  return runtime;
}

int RunService(int argc, char** argv, const ServiceDefinition& service) {
  const ServiceDescriptor& descriptor = service.descriptor;
  // Termination signals are taken synchronously by this thread (sigwait), so
  // block them before any other thread starts and inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  log::Init(descriptor.name);
  const ConfigSpec spec = ServiceConfigSpec(descriptor);
  auto config = spec.Parse(argc, argv, ProcessEnv());
  absl::StatusOr<ServiceConfig> service_config =
      config.ok() ? LoadServiceConfig(descriptor, *config) : config.status();
  if (config.ok() && config->help_requested()) {
    std::fputs(spec.Usage(argv[0]).c_str(), stdout);
    return 0;
  }
  if (!service_config.ok()) {
    const std::string message(service_config.status().message());
    std::fprintf(stderr, "%s: %s\n", descriptor.name.c_str(), message.c_str());
    log::Error("invalid configuration", {{"error", message}});
    return 2;
  }
  log::Init(descriptor.name, service_config->log_level);
  log::Info("starting", {{"config", config->Describe()}});

  if (service_config->migrate_only) {
    const absl::Status prepared =
        PrepareSchema(*service_config, service.migrations);
    if (!prepared.ok()) {
      log::Error("migration step failed",
                 {{"error", std::string(prepared.message())}});
      return 1;
    }
    log::Info("--migrate_only: done");
    return 0;
  }

  auto runtime = StartService(service, *service_config);
  if (!runtime.ok()) {
    const bool bad_config =
        runtime.status().code() == absl::StatusCode::kInvalidArgument;
    log::Error(bad_config ? "invalid configuration" : "start-up failed",
               {{"error", std::string(runtime.status().message())}});
    return bad_config ? 2 : 1;
  }
  log::Info("serving", {{"port", (*runtime)->port()},
                        {"metrics_port", (*runtime)->metrics_port()},
                        {"health_port", (*runtime)->health_port()},
                        {"tls", !service_config->insecure_plaintext},
                        {"grpc_service", descriptor.grpc_service_name}});
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log::Info("signal received",
            {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*runtime)->Drain();
  return 0;
}

}  // namespace kosapo::server
