// Runs one kosapo service: the database pool, migrations, the gRPC server
// with health checking, reflection, the call interceptor and metrics, and a
// graceful drain. Services register their gRPC handlers and drain hooks; the
// runtime owns everything they share.
//
// Transport: mutual TLS (common/tls) unless --insecure_plaintext; a second,
// plaintext port serves only grpc.health.v1 for kubelet's probes.
//
// Health: the empty service name reports that the process is alive (for
// liveness probes); the service's own name (e.g.
// "kosapo.cases.v1.CaseService") is SERVING only while the database answers,
// so readiness probes take a replica out of rotation during an outage.
#ifndef KOSAPO_COMMON_SERVER_RUNTIME_H_
#define KOSAPO_COMMON_SERVER_RUNTIME_H_

#include <grpcpp/server.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/jwt.h"
#include "common/pg/migrations.h"
#include "common/pg/pool.h"
#include "common/server/call_context.h"
#include "common/server/health_port.h"
#include "common/server/metrics.h"
#include "common/server/peer.h"
#include "common/server/service_config.h"

namespace kosapo::server {

class ServiceRuntime {
 public:
  // Reads the token key and prepares (but does not open) the pool.
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Create(
      ServiceDescriptor descriptor, ServiceConfig config);
  ~ServiceRuntime();

  // Registers a handler; call before Start(). The runtime keeps it alive
  // for as long as its server runs.
  void AddService(std::shared_ptr<grpc::Service> service);
  // Keeps a component (store, domain, worker) alive as long as the runtime.
  template <typename T>
  T* Keep(std::shared_ptr<T> component) {
    owned_.push_back(component);
    return component.get();
  }
  // Runs when draining begins, before in-flight calls are waited for: stop
  // background workers and end long-lived streams here.
  void OnDrain(std::function<void()> hook);

  // Binds the gRPC and metrics ports and starts serving.
  absl::Status Start();

  // NOT_SERVING, wait drain_delay, run drain hooks, then stop the server,
  // giving in-flight calls up to shutdown_timeout. Idempotent.
  void Drain();

  const ServiceDescriptor& descriptor() const { return descriptor_; }
  const ServiceConfig& config() const { return config_; }
  pg::Pool& pool() { return *pool_; }
  const CallRegistry& calls() const { return calls_; }
  Metrics& metrics() { return metrics_; }
  // Verifies callers' bearer tokens, from --jwt_public_key_file and
  // --jwt_public_keys_dir.
  const auth::TokenVerifier& verifier() const { return *verifier_; }
  PeerChannels& peers() { return *peers_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  // The plaintext port serving grpc.health.v1 only.
  int health_port() const { return health_port_; }

 private:
  ServiceRuntime(ServiceDescriptor descriptor, ServiceConfig config,
                 std::unique_ptr<auth::TokenVerifier> verifier);
  void HealthLoop();
  // Sets `name`'s health on the gRPC port and on the health port.
  void SetServing(const std::string& name, bool serving);

  const ServiceDescriptor descriptor_;
  const ServiceConfig config_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PeerChannels> peers_;
  Metrics metrics_;
  CallRegistry calls_;
  std::vector<std::shared_ptr<void>> owned_;
  std::vector<std::shared_ptr<grpc::Service>> services_;
  std::vector<std::function<void()>> drain_hooks_;
  std::unique_ptr<grpc::Server> server_;
  HealthPortService health_port_service_;
  std::unique_ptr<grpc::Server> health_server_;
  int port_ = 0;
  int health_port_ = 0;
  int metrics_port_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool draining_ = false;  // guarded by mutex_
  std::thread health_thread_;
};

// What a service binary is: its identity, its migrations in order, and how
// it builds its components and registers its handlers on the runtime.
struct ServiceDefinition {
  ServiceDescriptor descriptor;
  std::vector<pg::MigrationSet> migrations;
  std::function<absl::Status(ServiceRuntime&)> setup;
};

// The migration step of a start, as config.migrations says: apply the
// migrations with the owner's URL (or, without one, the runtime URL, with a
// warning) and grant the runtime role, or only check that they are applied.
// Retries while the database is unreachable, for up to db_startup_timeout;
// each connection it makes is closed when it returns.
absl::Status PrepareSchema(const ServiceConfig& config,
                           const std::vector<pg::MigrationSet>& sets);

// Creates the runtime, runs PrepareSchema, runs `service.setup` and starts
// serving:
// everything between configuration and the first call. Tests use it to run a
// service in-process exactly as its binary does.
absl::StatusOr<std::unique_ptr<ServiceRuntime>> StartService(
    const ServiceDefinition& service, const ServiceConfig& config);

// The whole life of a service binary: parse flags and environment, start
// logging, create the runtime, migrate, run `setup`, serve until SIGTERM or
// SIGINT, drain, exit. Returns the process exit code: 0 after a clean drain,
// 2 on bad configuration, 1 otherwise. With --migrate_only it exits after
// PrepareSchema: 0 when it succeeded. (Services call kosapo::ServiceMain in
// common/service_main.h, which adds what every service has.)
int RunService(int argc, char** argv, const ServiceDefinition& service);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_RUNTIME_H_
