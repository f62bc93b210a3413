// What the benchmarks share: a closed-loop load generator, percentiles,
// Markdown tables, the resident memory of a process, and the real service
// binaries started as child processes against one throwaway cluster (so
// each has its own resident memory to measure).
#ifndef KOSAPO_BENCH_BENCH_SUPPORT_H_
#define KOSAPO_BENCH_BENCH_SUPPORT_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/server_credentials.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/test_pki.h"
#include "common/testing/test_tokens.h"
#include "tests/e2e/service_process.h"

namespace kosapo::bench {

// Exits with a message when `ok` is false: a benchmark that cannot run
// its workload has nothing to report.
void Check(bool ok, const std::string& what);
void CheckOk(const absl::Status& status, const std::string& what);

// The value at quantile `q` (0..1) of `values` (sorted in place).
double Quantile(std::vector<double>& values, double q);

// What a closed-loop run measured.
struct LoadResult {
  int64_t calls = 0;   // successful calls
  int64_t errors = 0;  // failed calls
  std::string first_error;
  double seconds = 0;
  std::vector<double> latencies;  // seconds, successful calls only

  double PerSecond() const { return seconds > 0 ? calls / seconds : 0; }
  // Milliseconds at quantile q.
  double Millis(double q);
};

// A call made by caller `caller` (0..callers-1); returns an empty string on
// success, else what failed.
using Call = std::function<std::string(int caller, int64_t iteration)>;

// Runs `callers` threads, each calling `call` back to back, for `warmup`
// (not measured) and then `duration`.
LoadResult ClosedLoop(int callers, absl::Duration warmup,
                      absl::Duration duration, const Call& call);

// VmRSS of process `pid` in MiB (0 if it cannot be read).
double ResidentMiB(pid_t pid);

// "key=value" command-line flags with defaults; unknown flags exit with
// usage.
class Flags {
 public:
  Flags(int argc, char** argv, std::map<std::string, std::string> defaults);
  int Int(const std::string& name) const;
  double Double(const std::string& name) const;
  std::string String(const std::string& name) const;

 private:
  std::map<std::string, std::string> values_;
};

// Writes `text` to `path` (nothing when `path` is empty) and to stdout.
void Emit(const std::string& path, const std::string& text);

// A line of the machine the figures came from.
std::string MachineLine();

// The service binaries (built beside the benchmarks).
struct ServiceBinary {
  std::string name;          // "case"
  std::string grpc_service;  // "kosapo.cases.v1.CaseService"
  std::string path;
};
const ServiceBinary& Binary(const std::string& name);

// A throwaway cluster, a key pair and service processes started on it, as
// deployed: mutual TLS with certificates of the development CA
// (scripts/dev-ca.sh), field-encryption keys from scripts/dev-field-keys.sh,
// no peer tokens. The benchmark's callers present certificates too.
class Suite {
 public:
  // `services` are the services that get a role and schema.
  static absl::StatusOr<std::unique_ptr<Suite>> Create(
      const std::vector<std::string>& services);
  ~Suite();

  // Starts service `name`'s binary; peers already started are its peers.
  // Returns its port.
  absl::StatusOr<int> Start(const std::string& name,
                            std::map<std::string, std::string> env = {});

  testing::PgCluster& cluster() { return *cluster_; }
  const testing::TestTokens& tokens() const { return *tokens_; }
  // The services' field-encryption key id (in work_dir()/field-keys).
  const std::string& field_key_id() const { return field_key_id_; }

  // A channel on a connection of its own (not shared with other callers'
  // channels) to `address`, as client "bench" (calls carry a user's token)
  // or, with `as_service`, as service "bench" (a service token naming
  // "service:bench", for the feeds).
  std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address,
                                            bool as_service = false) const;
  // Server credentials as the services have them (mutual TLS, client
  // certificates of the same CA required), for a baseline server.
  std::shared_ptr<grpc::ServerCredentials> BaselineServerCredentials() const;
  int port(const std::string& name) const { return ports_.at(name); }
  pid_t pid(const std::string& name) const;
  std::string address(const std::string& name) const;
  std::string work_dir() const { return work_dir_; }

  // Empty while every started service runs; otherwise, for each one that
  // exited, its exit code and the end of its log and stderr, so a failed
  // run says which process went away and why.
  std::string Postmortem() const;

 private:
  Suite() = default;

  std::unique_ptr<testing::PgCluster> cluster_;
  std::unique_ptr<testing::TestTokens> tokens_;
  std::unique_ptr<testing::TestPki> pki_;
  std::string field_key_id_;
  std::string work_dir_;
  std::map<std::string, int> ports_;
  std::map<std::string, std::unique_ptr<testing::ServiceProcess>> processes_;
};

}  // namespace kosapo::bench

#endif  // KOSAPO_BENCH_BENCH_SUPPORT_H_
