// The configuration every kosapo service shares, declared once so that all
// four services take the same flags and variables (see README).
#ifndef KOSAPO_COMMON_SERVER_SERVICE_CONFIG_H_
#define KOSAPO_COMMON_SERVER_SERVICE_CONFIG_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "common/tls/tls.h"

namespace kosapo::server {

// A service this one calls, e.g. the case service for the referral service.
struct PeerSpec {
  std::string name;  // "case"; flag --case_address, env KOSAPO_CASE_ADDRESS
  std::string default_address;
};

// What distinguishes one service binary from another.
struct ServiceDescriptor {
  std::string name;               // "screening"
  std::string grpc_service_name;  // "kosapo.screening.v1.ScreeningService"
  std::string default_schema;     // "screening"
  int default_port = 0;
  int default_metrics_port = 0;
  int default_health_port = 0;
  std::vector<PeerSpec> peers;
  // Keeps free text about children encrypted at rest: takes
  // --field_keys_dir, --field_key_id and --insecure_plaintext_fields, and
  // refuses to start without keys unless the last is set.
  bool field_keys = false;
  // Declares the service's own options (besides the shared ones); setup
  // reads them from ServiceConfig::options.
  std::function<void(ConfigSpec&)> add_options;
};

// What a start does to the schema before serving.
enum class MigrationMode {
  // Apply pending migrations, then grant the runtime role its privileges.
  kApply,
  // Change nothing; refuse to start unless every migration is applied.
  kCheck,
};

struct ServiceConfig {
  std::string listen_host;
  int port = 0;
  int metrics_port = 0;
  // Plaintext port serving grpc.health.v1 only, for kubelet's gRPC probes
  // (which cannot present a client certificate).
  int health_port = 0;
  // Mutual TLS on the gRPC port and every channel to peers; empty files only
  // with insecure_plaintext.
  tls::TlsFiles tls;
  bool insecure_plaintext = false;
  // grpc.reflection on the gRPC port (off by default).
  bool reflection = false;
  // Seals and opens free-text fields (services with field_keys only):
  // keyed, or Plaintext() with insecure_plaintext_fields.
  std::shared_ptr<const crypto::FieldCipher> field_cipher;
  bool insecure_plaintext_fields = false;
  pg::PoolOptions db;
  // URL of the role that owns the schema and migrates it; empty: db.url
  // migrates (a single-role development setup).
  std::string db_migration_url;
  // The user db.url logs in as: the role granted its privileges after
  // migrating. Empty unless db_migration_url is set.
  std::string db_runtime_role;
  MigrationMode migrations = MigrationMode::kApply;
  // Exit after the migration step instead of serving (an init container).
  bool migrate_only = false;
  absl::Duration db_startup_timeout;
  int max_threads = 0;
  int max_message_bytes = 0;
  absl::Duration keepalive_time;
  absl::Duration keepalive_timeout;
  absl::Duration max_connection_age;
  absl::Duration health_interval;
  absl::Duration drain_delay;
  absl::Duration shutdown_timeout;
  std::string jwt_public_key_file;
  std::string jwt_public_keys_dir;
  auth::Algorithm jwt_algorithm = auth::Algorithm::kEs256;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string peer_token_file;
  absl::Duration peer_timeout;
  std::map<std::string, std::string> peers;  // name -> host:port
  log::Severity log_level = log::Severity::kInfo;
  // Every parsed option, the service's own among them.
  Config options;
};

// The options of `service`, with its defaults.
ConfigSpec ServiceConfigSpec(const ServiceDescriptor& service);

// Typed, cross-checked settings. INVALID_ARGUMENT names the flag.
absl::StatusOr<ServiceConfig> LoadServiceConfig(
    const ServiceDescriptor& service, const Config& config);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_SERVICE_CONFIG_H_
