// The whole suite for fault tests: a throwaway PostgreSQL cluster and the
// four real service binaries as child processes on loopback ports, started
// in dependency order (screening, case, referral, reporting). A service can
// be killed, paused and restarted on the same ports, so its peers and
// clients find it again. Everything a fault test compares goes through the
// public APIs: the sample city's loader, the reporting service's ward
// comparison and the producers' event feeds.
//
// The services run as deployed: mutual TLS with certificates from the
// development CA (scripts/dev-ca.sh), field-encryption keys from
// scripts/dev-field-keys.sh, and no peer tokens (they call each other with
// their certificates). The test's own calls present certificates too:
// client "test" with a user's bearer token, or service "resilience" for
// what only services may call (the feeds).
//
// All process starting is here (with tests/e2e/service_process.h), so a
// change to how services start is made in one place.
#ifndef KOSAPO_TESTS_RESILIENCE_SUITE_H_
#define KOSAPO_TESTS_RESILIENCE_SUITE_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/test_pki.h"
#include "common/testing/test_tokens.h"
#include "common/tls/tls.h"
#include "kosapo/reporting/v1/reporting.pb.h"
#include "tests/e2e/service_process.h"
#include "tools/sample/generator.h"
#include "tools/sample/loader.h"
#include "tools/sample/wait.h"

namespace kosapo::resilience {

// The services in start order.
const std::vector<std::string>& ServiceNames();
// "case" -> "kosapo.cases.v1.CaseService" (the readiness name).
std::string GrpcServiceName(const std::string& service);

// Per-service environment additions, e.g. {"referral", {{"KOSAPO_CASE_ADDRESS",
// "127.0.0.1:4000"}}}.
using EnvOverrides = std::map<std::string, std::map<std::string, std::string>>;

// A new channel on a connection of its own (its own subchannel pool) to
// `address`, over mutual TLS presenting `files`, as the suite dials: the
// reconnect backoff is at most a second, and each connection attempt (TCP
// connect and TLS handshake) keeps gRPC's own timeout of 20 s.
std::shared_ptr<grpc::Channel> DialTls(const std::string& address,
                                       const tls::TlsFiles& files);

// Whether the health service behind `channel` says `grpc_service` is
// SERVING, asked within `deadline`. The call waits for the channel to
// connect (wait for ready) instead of failing at once while it is in
// TRANSIENT_FAILURE: in a process that is only a client, a call waiting is
// what drives a connection attempt's I/O (see DialTls in suite.cc).
bool HealthServing(const std::shared_ptr<grpc::Channel>& channel,
                   const std::string& grpc_service, absl::Duration deadline);

class Suite;
// Changes a service's environment just before it starts (after the
// services before it have started, so their ports are known): e.g. to put a
// proxy between it and a peer.
using EnvHook = std::function<void(const std::string& service, Suite& suite,
                                   std::map<std::string, std::string>& env)>;

class Suite {
 public:
  // Starts a cluster and the four services, waiting until each is SERVING.
  // `label` names the work directory and log files.
  static absl::StatusOr<std::unique_ptr<Suite>> Start(
      const std::string& label, EnvOverrides overrides = {},
      EnvHook hook = nullptr);
  ~Suite();

  testing::PgCluster& cluster() { return *cluster_; }
  const testing::TestTokens& tokens() const { return *tokens_; }
  const std::string& work_dir() const { return work_dir_; }

  // A channel to the service as client "test" (calls carry a user's
  // token) made by DialTls, shared by calls; kept when the service is
  // killed and restarted.
  std::shared_ptr<grpc::Channel> Channel(const std::string& service);
  // The same as service "resilience" (for the feeds; calls carry no token
  // or a service token from ContextAs(kService)).
  std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& service);
  // A new channel on a connection of its own to `address` (a service's, or
  // a proxy's in front of it), as client "test" or service "resilience".
  std::shared_ptr<grpc::Channel> Dial(const std::string& address,
                                      bool as_service = false) const;
  std::string Address(const std::string& service) const;
  int Port(const std::string& service) const;
  int MetricsPort(const std::string& service) const;
  pid_t Pid(const std::string& service) const;
  testing::ServiceProcess& Process(const std::string& service);

  // kill -9 and reap.
  absl::Status Kill(const std::string& service);
  // Starts a killed (or exited) service again on its ports and, unless
  // `wait` is false, waits until it is SERVING.
  absl::Status Restart(const std::string& service, bool wait = true);
  // After Restart(service, false): waits until it is SERVING.
  absl::Status AwaitServing(const std::string& service);
  absl::Status Signal(const std::string& service, int signal_number);

  // A bearer token for `principal`; a service token for `role` kService.
  std::string Sign(const auth::Principal& principal) const;
  // A client context with a token for `role` in `municipality` (every area
  // of `areas`, every school of `schools`) and a deadline. A kService token
  // names service "resilience", and is accepted only over ServiceChannel.
  std::unique_ptr<grpc::ClientContext> ContextAs(
      auth::Role role, const std::string& municipality,
      std::vector<std::string> areas = {},
      std::vector<std::string> schools = {},
      absl::Duration deadline = absl::Seconds(30)) const;

  // Where the sample loader and the catch-up wait send their calls.
  sample::LoadTargets Targets();
  sample::FeedSources Sources(const std::string& municipality);

  // Readiness of a service as its health service says (HealthServing on
  // Channel(service), within 2 s; false when the call fails), and polling
  // until it says `serving` or `timeout` passes.
  bool Ready(const std::string& service);
  bool AwaitReadiness(const std::string& service, bool serving,
                      absl::Duration timeout);

  // The ward comparison of `fiscal_year` as an analyst of `municipality`
  // sees it.
  absl::StatusOr<reporting::v1::WardComparison> Comparison(
      const std::string& municipality, int fiscal_year);
  // The number of events of each payload type on a producer's feed, read
  // page by page with a service token: equal for two runs that wrote the
  // same things, whatever the order.
  absl::StatusOr<std::map<std::string, int64_t>> EventCensus(
      const std::string& producer);
  // The feed's head sequence.
  absl::StatusOr<int64_t> Head(const std::string& producer);
  // A consumer's checkpoint in a producer's feed, read from its
  // consumer_checkpoints table (0 before the first batch).
  absl::StatusOr<int64_t> Checkpoint(const std::string& consumer,
                                     const std::string& source);

 private:
  Suite() = default;
  std::map<std::string, std::string> Environment(const std::string& service);
  absl::Status StartService(const std::string& service, bool wait = true);

  std::unique_ptr<testing::PgCluster> cluster_;
  std::unique_ptr<testing::TestTokens> tokens_;
  std::unique_ptr<testing::TestPki> pki_;
  std::string field_key_id_;
  std::string work_dir_;
  std::string label_;
  EnvOverrides overrides_;
  EnvHook hook_;
  std::map<std::string, std::unique_ptr<testing::ServiceProcess>> processes_;
  std::map<std::string, std::pair<int, int>> ports_;
  std::map<std::string, int> starts_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> service_channels_;
};

// Loads `city` until it is all in: a failed load (a service killed under
// it, a database outage) is retried from the start, with the same request
// ids, until `timeout`. Returns how many attempts it took.
absl::StatusOr<int> LoadUntilDone(Suite& suite, const sample::SampleCity& city,
                                  absl::Duration timeout,
                                  sample::LoadProgress* progress = nullptr);

// The small deterministic city the fault tests load: `pupils` pupils
// screened this fiscal year, its cases opened from the screening feed.
absl::StatusOr<sample::SampleCity> SmallCity(const std::string& municipality,
                                             int64_t pupils = 600);

// The fiscal year of `city`'s screening.
int FiscalYear(const sample::SampleCity& city);

// What a fault test compares with an undisturbed run: the city's ward
// comparison once reporting has applied every feed, and each producer's
// event census.
struct Outcome {
  reporting::v1::WardComparison comparison;
  std::map<std::string, std::map<std::string, int64_t>> census;
  int64_t events = 0;
};
absl::StatusOr<Outcome> Observe(Suite& suite, const sample::SampleCity& city,
                                absl::Duration catch_up_timeout);
// The city-total counts of a comparison against what the generator says
// the city holds; empty when they agree, else one line per difference.
std::string CompareWithGenerator(const reporting::v1::WardComparison& got,
                                 const sample::SampleCity& city);

}  // namespace kosapo::resilience

#endif  // KOSAPO_TESTS_RESILIENCE_SUITE_H_
