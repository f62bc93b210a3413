// Runs a service in the test process exactly as its binary would (same
// runtime, migrations, interceptor and handlers) against a test cluster, on a
// free loopback port, with test tokens and mutual TLS from a test CA
// (test_pki.h). For service tests that need a real gRPC channel but not a
// separate process.
#ifndef KOSAPO_COMMON_SERVICE_IN_PROCESS_H_
#define KOSAPO_COMMON_SERVICE_IN_PROCESS_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/runtime.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/test_pki.h"
#include "common/testing/test_tokens.h"
#include "kosapo/events/v1/events.pb.h"

namespace kosapo::testing {

class InProcessService {
 public:
  // Starts WithPlatform(definition) against `cluster`'s roles for
  // `definition.descriptor.name`: migrated by the owner role, serving as the
  // runtime role. `work_dir` receives the public key file.
  // `env` adds to or overrides the test environment (peer addresses,
  // KOSAPO_PEER_TOKEN_FILE, the service's own options). The service serves
  // mutual TLS with its certificate from the test CA in `work_dir`/pki
  // (shared by every service started with the same `work_dir`), unless
  // `env` sets KOSAPO_INSECURE_PLAINTEXT. Case and referral encrypt free
  // text with the field key "test" in `work_dir`/field-keys (made once per
  // directory); `env` may point them elsewhere.
  static absl::StatusOr<std::unique_ptr<InProcessService>> Start(
      server::ServiceDefinition definition, const PgCluster& cluster,
      const TestTokens& tokens, const std::string& work_dir,
      const std::map<std::string, std::string>& env = {});
  ~InProcessService();

  // A channel as a client (certificate spiffe://kosapo/client/test).
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // A channel holding the certificate of service `name` (issued from the
  // test CA if it has none yet), as that service calls this one.
  std::shared_ptr<grpc::Channel> service_channel(const std::string& name) const;
  // A channel presenting `files` (any certificate, from any CA).
  std::shared_ptr<grpc::Channel> ChannelAs(const tls::TlsFiles& files) const;
  server::ServiceRuntime& runtime() { return *runtime_; }
  // "127.0.0.1:<port>" of the gRPC port.
  std::string address() const;
  bool tls() const { return tls_; }
  const TestPki& pki() const { return *pki_; }

 private:
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::optional<TestPki> pki_;
  bool tls_ = true;
  std::shared_ptr<grpc::Channel> channel_;
};

// The environment of a service started after `peers` (by service name,
// "screening"; null entries skipped): each peer's address, the token file it
// calls them with, and a database pool of `pool_size`.
std::map<std::string, std::string> PeerEnv(
    const std::map<std::string, InProcessService*>& peers,
    const std::string& peer_token_file, int pool_size = 4);
std::map<std::string, std::string> PeerEnv(
    const std::map<std::string, std::unique_ptr<InProcessService>>& peers,
    const std::string& peer_token_file, int pool_size = 4);

// A client context carrying a bearer token for `principal`.
std::unique_ptr<grpc::ClientContext> ContextAs(
    const TestTokens& tokens, const auth::Principal& principal);

// The events on `service`'s feed whose subject is `subject`, read with a
// service token; an empty subject gives every event.
std::vector<events::v1::Event> FeedEvents(const InProcessService& service,
                                          const TestTokens& tokens,
                                          const std::string& subject);

// Waits until `consumer_service` ("reporting") has applied the feed of
// `producer`, which it follows as `source` ("case"), up to the feed's head
// as it is now: until its row in the consumer's consumer_checkpoints, read
// through the cluster's admin URL, reaches the head. DEADLINE_EXCEEDED
// saying how far it got when `timeout` passes first (the checkpoint is read
// at least once).
absl::Status WaitForConsumer(const PgCluster& cluster,
                             const std::string& consumer_service,
                             const std::string& source,
                             const InProcessService& producer,
                             const TestTokens& tokens, absl::Duration timeout);

}  // namespace kosapo::testing

#endif  // KOSAPO_COMMON_SERVICE_IN_PROCESS_H_
