#ifndef KOSAPO_COMMON_TESTING_PG_CLUSTER_H_
#define KOSAPO_COMMON_TESTING_PG_CLUSTER_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kosapo::testing {

// The schema a service's tables live in: "case" -> "cases" (CASE is an SQL
// keyword); every other name maps to itself.
std::string ServiceSchema(std::string_view service);

// A throwaway PostgreSQL 15 cluster for one test binary, run through
// scripts/pg-local.sh: initdb into a fresh temporary directory, a free port
// on 127.0.0.1, and per service two login roles: `kosapo_<service>_owner`,
// which owns the service's schema and migrates it, and `kosapo_<service>`,
// which the service runs as and which has no privileges in the schema until
// a migration run grants them (pg::Migrate with MigrateOptions). Durability
// is off (KOSAPO_PG_FAST=1).
//
// The destructor stops the server and removes its directory. If the process
// dies first (a crash, a signal, even SIGKILL) a small guardian process that
// Start() leaves behind notices and does the same.
//
// Temporary directories go under $KOSAPO_TEST_TMPDIR if set, else under
// <build dir>/test-tmp, else /tmp. As root, the server runs as the
// `postgres` system user.
class PgCluster {
 public:
  // Starts a cluster with database `db_name` and a role and schema for each
  // of `services` (see ServiceSchema). Names are lower-case SQL identifiers.
  static absl::StatusOr<std::unique_ptr<PgCluster>> Start(
      std::string db_name, std::vector<std::string> services);

  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Stops the server and removes its directory.
  ~PgCluster();

  // A libpq URL that logs in as the service's role; its default search_path
  // is the service's schema. Fails the current test for a service that was
  // not passed to Start() and returns a URL nothing listens on.
  std::string ServiceUrl(std::string_view service) const;
  // A libpq URL that logs in as the service's owner role, which owns its
  // schema and runs its migrations. Fails the current test like ServiceUrl.
  std::string OwnerUrl(std::string_view service) const;
  // The schema of a service, as ServiceSchema().
  std::string Schema(std::string_view service) const;
  // A libpq URL that logs in as the superuser over the unix socket, for tests
  // that need to inspect or break things.
  std::string AdminUrl() const;
  int port() const { return port_; }
  std::string data_dir() const { return data_dir_; }

  // Stops the server the way a crash would (pg_ctl stop -m immediate), to
  // simulate a database outage; the data stays.
  absl::Status Stop();
  // Starts the server again on the same port, after Stop().
  absl::Status Restart();

 private:
  PgCluster(std::string script, std::string data_dir, std::string db_name);

  // Leaves a process behind that destroys the cluster once this process
  // exits without the destructor having done so.
  absl::Status StartGuardian();
  absl::Status StartServer();

  const std::string script_;
  const std::string data_dir_;
  const std::string db_name_;
  int port_ = 0;
  std::string admin_url_;
  std::map<std::string, std::string, std::less<>> service_urls_;
  std::map<std::string, std::string, std::less<>> owner_urls_;
  int guardian_socket_ = -1;
  pid_t guardian_pid_ = -1;
};

// The database and services of SharedPgCluster().
inline constexpr char kSharedPgDatabase[] = "kosapo";

// One cluster shared by all tests of a test binary, with database
// kSharedPgDatabase and the services screening, case, referral and
// reporting. Started on first use; a GoogleTest Environment destroys it when
// RUN_ALL_TESTS() ends, so it outlives each test and, unless
// --gtest_recreate_environments_when_repeating, each --gtest_repeat round:
// tests must tolerate what earlier ones left in it. Aborts the binary,
// saying why, when it cannot start.
PgCluster& SharedPgCluster();

}  // namespace kosapo::testing

#endif  // KOSAPO_COMMON_TESTING_PG_CLUSTER_H_
