#include "common/service/in_process.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <map>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/config.h"
#include "common/crypto/field_cipher.h"
#include "common/service/service_main.h"
#include "common/tls/tls.h"
#include "gtest/gtest.h"
#include "kosapo/events/v1/events.grpc.pb.h"

namespace kosapo::testing {

absl::StatusOr<std::unique_ptr<InProcessService>> InProcessService::Start(
    server::ServiceDefinition definition, const PgCluster& cluster,
    const TestTokens& tokens, const std::string& work_dir,
    const std::map<std::string, std::string>& extra_env) {
  const server::ServiceDescriptor& descriptor = definition.descriptor;
  const std::string key_file =
      absl::StrCat(work_dir, "/", descriptor.name, "-jwt.pub");
  if (absl::Status written = tokens.WritePublicKey(key_file); !written.ok()) {
    return written;
  }
  auto pki = TestPki::InDir(work_dir + "/pki");
  if (!pki.ok()) {
    return pki.status();
  }
  const tls::TlsFiles files = pki->Service(descriptor.name);
  // Services started with the same `work_dir` share the key, as replicas
  // do; a test restarting a service on the same directory reads its rows.
  const std::string field_keys_dir = work_dir + "/field-keys";
  if (!std::filesystem::exists(field_keys_dir + "/test.key")) {
    if (absl::Status written =
            crypto::WriteRandomKeyFile(field_keys_dir, "test");
        !written.ok()) {
      return written;
    }
  }
  // The same option parsing as the binary, from a test environment.
  std::map<std::string, std::string> env = {
      {"KOSAPO_HEALTH_PORT", "0"},
      {"KOSAPO_TLS_CERT_FILE", files.cert_file},
      {"KOSAPO_TLS_KEY_FILE", files.key_file},
      {"KOSAPO_TLS_CA_FILE", files.ca_file},
      {"PORT", "0"},
      {"KOSAPO_METRICS_PORT", "0"},
      {"KOSAPO_LISTEN_HOST", "127.0.0.1"},
      {"KOSAPO_DB_URL", cluster.ServiceUrl(descriptor.name)},
      {"KOSAPO_DB_MIGRATION_URL", cluster.OwnerUrl(descriptor.name)},
      {"KOSAPO_DB_SCHEMA", cluster.Schema(descriptor.name)},
      {"KOSAPO_JWT_PUBLIC_KEY_FILE", key_file},
      {"KOSAPO_HEALTH_INTERVAL", "500ms"},
      {"KOSAPO_DRAIN_DELAY", "0s"},
      {"KOSAPO_SHUTDOWN_TIMEOUT", "2s"},
      {"KOSAPO_FIELD_KEYS_DIR", field_keys_dir},
      {"KOSAPO_FIELD_KEY_ID", "test"},
  };
  for (const auto& [name, value] : extra_env) {
    env[name] = value;
  }
  EnvLookup lookup =
      [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it != env.end()) {
      return it->second;
    }
    // Peers default to unreachable addresses unless a test sets them.
    if (name.rfind("KOSAPO_", 0) == 0 && name.size() > 8 &&
        name.substr(name.size() - 8) == "_ADDRESS") {
      return std::string("127.0.0.1:1");
    }
    return std::nullopt;
  };
  auto config = server::ServiceConfigSpec(descriptor).Parse({}, lookup);
  if (!config.ok()) {
    return config.status();
  }
  auto service_config = server::LoadServiceConfig(descriptor, *config);
  if (!service_config.ok()) {
    return service_config.status();
  }
  auto runtime = server::StartService(WithPlatform(std::move(definition)),
                                      *service_config);
  if (!runtime.ok()) {
    return runtime.status();
  }
  auto out = std::unique_ptr<InProcessService>(new InProcessService());
  out->runtime_ = *std::move(runtime);
  out->pki_ = *std::move(pki);
  out->tls_ = !service_config->insecure_plaintext;
  out->channel_ = out->ChannelAs(out->pki_->Client("test"));
  return out;
}

std::string InProcessService::address() const {
  return absl::StrCat("127.0.0.1:", runtime_->port());
}

std::shared_ptr<grpc::Channel> InProcessService::ChannelAs(
    const tls::TlsFiles& files) const {
  if (!tls_) {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }
  // A fresh channel of its own: a test's certificate never rides on another
  // test's connection.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address(), tls::ChannelCredentials(files),
                                   args);
}

std::shared_ptr<grpc::Channel> InProcessService::service_channel(
    const std::string& name) const {
  if (absl::Status issued = pki_->IssueService(name); !issued.ok()) {
    ADD_FAILURE() << issued;
  }
  return ChannelAs(pki_->Service(name));
}

InProcessService::~InProcessService() {
  if (runtime_ != nullptr) {
    runtime_->Drain();
  }
}

std::map<std::string, std::string> PeerEnv(
    const std::map<std::string, InProcessService*>& peers,
    const std::string& peer_token_file, int pool_size) {
  std::map<std::string, std::string> env = {
      {"KOSAPO_PEER_TOKEN_FILE", peer_token_file},
      {"KOSAPO_DB_POOL_SIZE", absl::StrCat(pool_size)}};
  for (const auto& [name, peer] : peers) {
    if (peer != nullptr) {
      env[absl::StrCat("KOSAPO_", absl::AsciiStrToUpper(name), "_ADDRESS")] =
          absl::StrCat("127.0.0.1:", peer->runtime().port());
    }
  }
  return env;
}

std::map<std::string, std::string> PeerEnv(
    const std::map<std::string, std::unique_ptr<InProcessService>>& peers,
    const std::string& peer_token_file, int pool_size) {
  std::map<std::string, InProcessService*> started;
  for (const auto& [name, peer] : peers) {
    started[name] = peer.get();
  }
  return PeerEnv(started, peer_token_file, pool_size);
}

std::unique_ptr<grpc::ClientContext> ContextAs(
    const TestTokens& tokens, const auth::Principal& principal) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + tokens.Sign(principal));
  return context;
}

std::vector<events::v1::Event> FeedEvents(const InProcessService& service,
                                          const TestTokens& tokens,
                                          const std::string& subject) {
  // The feed is for services: read it as the reporting service would.
  auto feed =
      events::v1::EventFeed::NewStub(service.service_channel("reporting"));
  std::vector<events::v1::Event> out;
  int64_t after = 0;
  while (true) {
    grpc::ClientContext context;
    context.AddMetadata(
        "authorization",
        "Bearer " + tokens.Sign(auth::Role::kService, "service:reporting"));
    events::v1::ListEventsRequest request;
    request.set_after_sequence(after);
    request.set_page_size(1000);
    events::v1::ListEventsResponse response;
    if (!feed->ListEvents(&context, request, &response).ok() ||
        response.events_size() == 0) {
      return out;
    }
    for (const auto& event : response.events()) {
      if (subject.empty() || event.subject() == subject) {
        out.push_back(event);
      }
      after = event.sequence();
    }
  }
}

absl::Status WaitForConsumer(const PgCluster& cluster,
                             const std::string& consumer_service,
                             const std::string& source,
                             const InProcessService& producer,
                             const TestTokens& tokens, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::vector<events::v1::Event> events =
      FeedEvents(producer, tokens, "");
  const int64_t head = events.empty() ? 0 : events.back().sequence();
  const std::string sql = absl::StrCat(
      "SELECT last_sequence FROM ", cluster.Schema(consumer_service),
      ".consumer_checkpoints WHERE source = $1");
  while (true) {
    int64_t applied = 0;
    {
      pqxx::connection connection(cluster.AdminUrl());
      pqxx::nontransaction tx(connection);
      const pqxx::result rows = tx.exec_params(sql, source);
      applied = rows.empty() ? 0 : rows[0][0].as<int64_t>();
    }
    if (applied >= head) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          consumer_service, " has applied the ", source, " feed up to ",
          applied, " of ", head, " after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace kosapo::testing
