#include "common/server/service_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/pg/migrations.h"

namespace kosapo::server {
namespace {

std::string PeerFlag(const PeerSpec& peer) {
  return absl::StrCat(peer.name, "_address");
}

std::string PeerEnv(const PeerSpec& peer) {
  return absl::StrCat("KOSAPO_", absl::AsciiStrToUpper(peer.name), "_ADDRESS");
}

// The keys of a service with field_keys; INVALID_ARGUMENT names the setting
// or the key file.
absl::StatusOr<std::shared_ptr<const crypto::FieldCipher>> LoadFieldCipher(
    const Config& config) {
  const std::string& dir = config.GetString("field_keys_dir");
  const std::string& key_id = config.GetString("field_key_id");
  const bool plaintext = config.GetBool("insecure_plaintext_fields");
  if (plaintext) {
    if (!dir.empty() || !key_id.empty()) {
      return absl::InvalidArgumentError(
          "--insecure_plaintext_fields (env KOSAPO_INSECURE_PLAINTEXT_FIELDS) "
          "contradicts --field_keys_dir and --field_key_id: set either");
    }
    return crypto::FieldCipher::Plaintext();
  }
  if (dir.empty() || key_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "missing required setting --",
        dir.empty() ? "field_keys_dir (env KOSAPO_FIELD_KEYS_DIR)"
                    : "field_key_id (env KOSAPO_FIELD_KEY_ID)",
        ": free text about children is encrypted at rest with keys from files "
        "(scripts/dev-field-keys.sh makes a development set) unless "
        "--insecure_plaintext_fields (KOSAPO_INSECURE_PLAINTEXT_FIELDS) is set "
        "for local development"));
  }
  auto cipher = crypto::FieldCipher::FromDir(dir, key_id);
  if (!cipher.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cipher.status().message(),
                     " (--field_keys_dir, --field_key_id; env "
                     "KOSAPO_FIELD_KEYS_DIR, KOSAPO_FIELD_KEY_ID)"));
  }
  return *std::move(cipher);
}

}  // namespace

ConfigSpec ServiceConfigSpec(const ServiceDescriptor& service) {
  ConfigSpec spec;
  spec.AddString("listen_host", "KOSAPO_LISTEN_HOST", "0.0.0.0",
                 "Address the gRPC and metrics ports bind to.")
      .AddInt("port", "PORT", service.default_port, 0, 65535,
              "gRPC port (0 picks a free one and logs it).")
      .AddInt("metrics_port", "KOSAPO_METRICS_PORT",
              service.default_metrics_port, 0, 65535,
              "Prometheus /metrics port (0 picks a free one).")
      .AddInt("health_port", "KOSAPO_HEALTH_PORT", service.default_health_port,
              0, 65535,
              "Plaintext port serving only grpc.health.v1, for Kubernetes' "
              "gRPC probes (0 picks a free one).")
      .AddString("tls_cert_file", "KOSAPO_TLS_CERT_FILE", "",
                 "PEM certificate chain this service presents, to its "
                 "callers and to peers; its URI SAN "
                 "spiffe://kosapo/service/<name> is its identity. Re-read "
                 "when it changes. Required unless --insecure_plaintext.")
      .AddString("tls_key_file", "KOSAPO_TLS_KEY_FILE", "",
                 "PEM private key of --tls_cert_file. Required unless "
                 "--insecure_plaintext.")
      .AddString("tls_ca_file", "KOSAPO_TLS_CA_FILE", "",
                 "PEM CA certificate(s) that callers' and peers' certificates "
                 "must chain to. Required unless --insecure_plaintext.")
      .AddDuration("tls_refresh_interval", "KOSAPO_TLS_REFRESH_INTERVAL",
                   absl::Minutes(1), absl::Seconds(1),
                   "How often the TLS files are checked for a rotated "
                   "certificate, key or CA.")
      .AddBool("insecure_plaintext", "KOSAPO_INSECURE_PLAINTEXT", false,
               "Serve and call peers without TLS: local development only "
               "(logged as a warning at every start).")
      .AddBool("reflection", "KOSAPO_REFLECTION", false,
               "Serve gRPC server reflection on the gRPC port, so generic "
               "clients (grpcurl) can discover the APIs without the protos; "
               "off unless set, as a production port should not describe "
               "itself.")
      .AddString("db_url", "KOSAPO_DB_URL", "",
                 "PostgreSQL URL of the role this service runs as, e.g. "
                 "postgresql://kosapo_case:secret@db:5432/kosapo"
                 "?connect_timeout=5; with --db_migration_url it is granted "
                 "its privileges in the schema after migrating.",
                 ConfigSpec::StringOptions().Required().Secret())
      .AddString("db_migration_url", "KOSAPO_DB_MIGRATION_URL", "",
                 "PostgreSQL URL of the role that owns the schema "
                 "(kosapo_<service>_owner): migrations run with it, then it "
                 "grants the --db_url role its privileges, and its "
                 "connection is closed before serving. Unset: --db_url "
                 "migrates, so the service runs as its schema's owner "
                 "(development only; logged as a warning).",
                 ConfigSpec::StringOptions().Secret())
      .AddString("migrations", "KOSAPO_MIGRATIONS", "apply",
                 "apply: apply pending migrations and grant the runtime role "
                 "at start. check: change nothing and refuse to start unless "
                 "every migration this binary knows is applied (when an init "
                 "container or a Job migrates).",
                 ConfigSpec::StringOptions().OneOf({"apply", "check"}))
      .AddBool("migrate_only", "KOSAPO_MIGRATE_ONLY", false,
               "Run the migration step (--migrations) and exit: 0 when done, "
               "1 when it failed. Needs no TLS or token keys (for a "
               "Kubernetes init container or Job).")
      .AddString("db_schema", "KOSAPO_DB_SCHEMA", service.default_schema,
                 "The schema this service uses; its owner role migrates it.")
      .AddInt("db_pool_size", "KOSAPO_DB_POOL_SIZE", 8, 1, 256,
              "Database connections in the pool.")
      .AddDuration("db_statement_timeout", "KOSAPO_DB_STATEMENT_TIMEOUT",
                   absl::Seconds(5), absl::Milliseconds(10),
                   "Longest a single SQL statement may run.")
      .AddDuration("db_acquire_timeout", "KOSAPO_DB_ACQUIRE_TIMEOUT",
                   absl::Seconds(2), absl::Milliseconds(1),
                   "Longest a call waits for a free connection.")
      .AddDuration("db_startup_timeout", "KOSAPO_DB_STARTUP_TIMEOUT",
                   absl::Seconds(60), absl::ZeroDuration(),
                   "How long start-up waits for the database to be reachable "
                   "before giving up.")
      .AddInt("max_threads", "KOSAPO_MAX_THREADS", 0, 0, 4096,
              "Cap on gRPC server threads, which bounds memory; 0 = 32 x "
              "pool size. Calls beyond the pool wait for a connection (up to "
              "--db_acquire_timeout); calls beyond this cap are refused "
              "with RESOURCE_EXHAUSTED (event streams hold a thread each).")
      .AddInt("max_message_bytes", "KOSAPO_MAX_MESSAGE_BYTES", 4 << 20, 1024,
              64 << 20, "Largest gRPC message accepted or sent.")
      .AddDuration("keepalive_time", "KOSAPO_KEEPALIVE_TIME", absl::Minutes(1),
                   absl::Seconds(10),
                   "Interval of server keepalive pings; clients may ping no "
                   "more often than every 10s.")
      .AddDuration("keepalive_timeout", "KOSAPO_KEEPALIVE_TIMEOUT",
                   absl::Seconds(20), absl::Seconds(1),
                   "Wait for a keepalive ack before closing the connection.")
      .AddDuration("max_connection_age", "KOSAPO_MAX_CONNECTION_AGE",
                   absl::Minutes(30), absl::ZeroDuration(),
                   "Clients reconnect after this, so load spreads over new "
                   "replicas; 0 = unlimited.")
      .AddDuration("health_interval", "KOSAPO_HEALTH_INTERVAL",
                   absl::Seconds(2), absl::Milliseconds(100),
                   "How often the database is checked for the health status.")
      .AddDuration("drain_delay", "KOSAPO_DRAIN_DELAY", absl::Seconds(5),
                   absl::ZeroDuration(),
                   "On SIGTERM, time NOT_SERVING is announced before the "
                   "server stops accepting calls (about one readiness period).")
      .AddDuration("shutdown_timeout", "KOSAPO_SHUTDOWN_TIMEOUT",
                   absl::Seconds(20), absl::ZeroDuration(),
                   "Time in-flight calls get to finish; keep drain_delay + "
                   "this below the pod's termination grace period.")
      .AddString("jwt_public_key_file", "KOSAPO_JWT_PUBLIC_KEY_FILE", "",
                 "PEM public key that verifies callers' bearer tokens without "
                 "a key id (kid). This or --jwt_public_keys_dir is required.")
      .AddString("jwt_public_keys_dir", "KOSAPO_JWT_PUBLIC_KEYS_DIR", "",
                 "Directory of <kid>.pem public keys: a token naming a key id "
                 "is verified with that key only, so keys rotate by adding "
                 "the new one before tokens are signed with it.")
      .AddString("jwt_algorithm", "KOSAPO_JWT_ALGORITHM", "ES256",
                 "The only token algorithm accepted.",
                 ConfigSpec::StringOptions().OneOf({"ES256", "RS256"}))
      .AddString("jwt_issuer", "KOSAPO_JWT_ISSUER", "kosapo-dev",
                 "Required token issuer (iss).")
      .AddString("jwt_audience", "KOSAPO_JWT_AUDIENCE", "kosapo",
                 "Required token audience (aud).")
      .AddString("peer_token_file", "KOSAPO_PEER_TOKEN_FILE", "",
                 "File holding this service's own bearer token for calls to "
                 "other services; re-read when it changes.")
      .AddDuration("peer_timeout", "KOSAPO_PEER_TIMEOUT", absl::Seconds(5),
                   absl::Milliseconds(10),
                   "Deadline of unary calls to other services.")
      .AddString("log_level", "KOSAPO_LOG_LEVEL", "info",
                 "Lowest severity logged.",
                 ConfigSpec::StringOptions().OneOf(
                     {"debug", "info", "warning", "error"}));
  if (service.field_keys) {
    spec.AddString("field_keys_dir", "KOSAPO_FIELD_KEYS_DIR", "",
                   "Directory of <key id>.key files (32 random bytes in "
                   "base64) encrypting free text about children at rest; "
                   "keys no longer active stay for reading. Required unless "
                   "--insecure_plaintext_fields.")
        .AddString("field_key_id", "KOSAPO_FIELD_KEY_ID", "",
                   "The key new values are encrypted with. Rotate by adding "
                   "the new key file to every replica and restarting them, "
                   "then setting this to its id; keys are read at start.")
        .AddBool("insecure_plaintext_fields",
                 "KOSAPO_INSECURE_PLAINTEXT_FIELDS", false,
                 "Store new free text unencrypted: local development only "
                 "(logged as a warning at every start).");
  }
  for (const PeerSpec& peer : service.peers) {
    spec.AddString(PeerFlag(peer), PeerEnv(peer), peer.default_address,
                   absl::StrCat("host:port of the ", peer.name, " service."));
  }
  if (service.add_options) {
    service.add_options(spec);
  }
  return spec;
}

absl::StatusOr<ServiceConfig> LoadServiceConfig(
    const ServiceDescriptor& service, const Config& config) {
  ServiceConfig out;
  out.options = config;
  out.listen_host = config.GetString("listen_host");
  out.port = static_cast<int>(config.GetInt("port"));
  out.metrics_port = static_cast<int>(config.GetInt("metrics_port"));
  out.health_port = static_cast<int>(config.GetInt("health_port"));
  out.insecure_plaintext = config.GetBool("insecure_plaintext");
  out.migrate_only = config.GetBool("migrate_only");
  out.reflection = config.GetBool("reflection");
  out.tls.cert_file = config.GetString("tls_cert_file");
  out.tls.key_file = config.GetString("tls_key_file");
  out.tls.ca_file = config.GetString("tls_ca_file");
  out.tls.refresh_interval = config.GetDuration("tls_refresh_interval");
  // Migrating serves nothing: an init container needs no certificate.
  if (!out.insecure_plaintext && !out.migrate_only) {
    if (absl::Status files = tls::CheckTlsFiles(out.tls); !files.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          files.message(),
          " (env KOSAPO_TLS_CERT_FILE, KOSAPO_TLS_KEY_FILE, "
          "KOSAPO_TLS_CA_FILE); mutual TLS is required unless "
          "--insecure_plaintext (KOSAPO_INSECURE_PLAINTEXT) is set for local "
          "development"));
    }
  }
  // Migrating reads and writes no free text: the init container that runs
  // it gets neither the keys nor a certificate.
  if (service.field_keys && !out.migrate_only) {
    auto cipher = LoadFieldCipher(config);
    if (!cipher.ok()) {
      return cipher.status();
    }
    out.field_cipher = *std::move(cipher);
    out.insecure_plaintext_fields = !out.field_cipher->encrypts();
  }
  out.db.url = config.GetString("db_url");
  out.db.schema = config.GetString("db_schema");
  out.db.size = static_cast<int>(config.GetInt("db_pool_size"));
  out.db.statement_timeout = config.GetDuration("db_statement_timeout");
  out.db.acquire_timeout = config.GetDuration("db_acquire_timeout");
  out.db.application_name = absl::StrCat("kosapo-", service.name);
  out.db_migration_url = config.GetString("db_migration_url");
  out.migrations = config.GetString("migrations") == "check"
                       ? MigrationMode::kCheck
                       : MigrationMode::kApply;
  if (out.migrations == MigrationMode::kCheck &&
      !out.db_migration_url.empty()) {
    return absl::InvalidArgumentError(
        "--db_migration_url (KOSAPO_DB_MIGRATION_URL) is set, but "
        "--migrations=check never migrates: give the owner role's URL only "
        "to the process that migrates");
  }
  if (!out.db_migration_url.empty()) {
    if (absl::Status parsed = pg::ConnectionUser(out.db_migration_url).status();
        !parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid value for --db_migration_url "
                       "(KOSAPO_DB_MIGRATION_URL): ",
                       parsed.message()));
    }
    absl::StatusOr<std::string> user = pg::ConnectionUser(out.db.url);
    if (!user.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid value for --db_url (KOSAPO_DB_URL): ",
                       user.status().message()));
    }
    if (user->empty()) {
      return absl::InvalidArgumentError(
          "--db_url (KOSAPO_DB_URL) names no user: with --db_migration_url "
          "it must name the runtime role, which is granted its privileges "
          "after migrating");
    }
    out.db_runtime_role = *user;
  }
  out.db_startup_timeout = config.GetDuration("db_startup_timeout");
  out.max_threads = static_cast<int>(config.GetInt("max_threads"));
  if (out.max_threads == 0) {
    // The sync server refuses a call outright when it cannot take another
    // thread (bench/RESULTS.md: 32 callers against 2 x 8 + 16 threads): a
    // cap near the pool turns a burst into errors instead of a queue.
    out.max_threads = 32 * out.db.size;
  }
  out.max_message_bytes = static_cast<int>(config.GetInt("max_message_bytes"));
  out.keepalive_time = config.GetDuration("keepalive_time");
  out.keepalive_timeout = config.GetDuration("keepalive_timeout");
  out.max_connection_age = config.GetDuration("max_connection_age");
  out.health_interval = config.GetDuration("health_interval");
  out.drain_delay = config.GetDuration("drain_delay");
  out.shutdown_timeout = config.GetDuration("shutdown_timeout");
  out.jwt_public_key_file = config.GetString("jwt_public_key_file");
  out.jwt_public_keys_dir = config.GetString("jwt_public_keys_dir");
  auto algorithm = auth::ParseAlgorithm(config.GetString("jwt_algorithm"));
  if (!algorithm.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value for --jwt_algorithm: ", algorithm.status().message()));
  }
  out.jwt_algorithm = *algorithm;
  out.jwt_issuer = config.GetString("jwt_issuer");
  out.jwt_audience = config.GetString("jwt_audience");
  out.peer_token_file = config.GetString("peer_token_file");
  out.peer_timeout = config.GetDuration("peer_timeout");
  for (const PeerSpec& peer : service.peers) {
    const std::string& address = config.GetString(PeerFlag(peer));
    if (address.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing required setting --", PeerFlag(peer), " (env ",
          PeerEnv(peer), "): host:port of the ", peer.name, " service"));
    }
    if (address.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid value for --", PeerFlag(peer), " (env ",
                       PeerEnv(peer), "): '", address, "' is not host:port"));
    }
    out.peers[peer.name] = address;
  }
  if (!log::ParseSeverity(config.GetString("log_level"), &out.log_level)) {
    return absl::InvalidArgumentError("invalid value for --log_level");
  }
  return out;
}

}  // namespace kosapo::server
