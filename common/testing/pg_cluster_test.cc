#include "common/testing/pg_cluster.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"

namespace kosapo::testing {
namespace {

using ::testing::HasSubstr;

// Runs one statement in a transaction of its own, as the role `url` names.
void Exec(const std::string& url, const std::string& sql) {
  pqxx::connection connection(url);
  pqxx::work work(connection);
  work.exec(sql);
  work.commit();
}

// Runs a query and returns the first column of its only row as text.
std::string QueryValue(const std::string& url, const std::string& sql) {
  pqxx::connection connection(url);
  pqxx::work work(connection);
  const pqxx::row row = work.exec1(sql);
  return row[0].c_str();
}

bool WaitUntilGone(const std::string& path, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

TEST(ServiceSchema, MapsCaseToCasesAndOtherNamesToThemselves) {
  EXPECT_EQ(ServiceSchema("case"), "cases");
  EXPECT_EQ(ServiceSchema("screening"), "screening");
  EXPECT_EQ(ServiceSchema("referral"), "referral");
  EXPECT_EQ(ServiceSchema("reporting"), "reporting");
  EXPECT_EQ(ServiceSchema("audit"), "audit");
}

TEST(PgClusterStart, RejectsNamesThatAreNotLowerCaseIdentifiers) {
  EXPECT_THAT(
      PgCluster::Start("Bad-Name", {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("db_name")));
  EXPECT_THAT(PgCluster::Start("kosapo", {"Case"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Case")));
  EXPECT_THAT(PgCluster::Start("kosapo", {"case", "case"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
}

TEST(SharedPgCluster, OwnerRoleCreatesTablesInItsOwnSchema) {
  PgCluster& cluster = SharedPgCluster();
  const std::string url = cluster.OwnerUrl("case");
  EXPECT_EQ(cluster.Schema("case"), "cases");

  // The shared cluster outlives a test (and --gtest_repeat iterations).
  Exec(url,
       "DROP TABLE IF EXISTS own_schema_probe;"
       "CREATE TABLE own_schema_probe (id int PRIMARY KEY)");
  Exec(url, "INSERT INTO own_schema_probe VALUES (1)");

  EXPECT_EQ(QueryValue(url, "SELECT current_user"), "kosapo_case_owner");
  EXPECT_EQ(QueryValue(url,
                       "SELECT table_schema FROM information_schema.tables"
                       " WHERE table_name = 'own_schema_probe'"),
            "cases");
  EXPECT_EQ(QueryValue(url, "SELECT count(*) FROM cases.own_schema_probe"),
            "1");
  EXPECT_EQ(QueryValue(url,
                       "SELECT nspowner::regrole::text FROM pg_namespace"
                       " WHERE nspname = 'cases'"),
            "kosapo_case_owner");
}

TEST(SharedPgCluster, RuntimeRoleCannotCreateInItsOwnSchema) {
  PgCluster& cluster = SharedPgCluster();
  const std::string url = cluster.ServiceUrl("case");
  EXPECT_EQ(QueryValue(url, "SELECT current_user"), "kosapo_case");
  // Its schema is on its path, but it may not use it until a migration run
  // grants it (current_schema() skips a schema it has no USAGE on).
  EXPECT_EQ(QueryValue(url, "SHOW search_path"), "cases");
  EXPECT_THROW(Exec(url, "CREATE TABLE cases.runtime_probe (id int)"),
               pqxx::insufficient_privilege);
}

TEST(SharedPgCluster, ServiceRolesCannotUseAnotherServicesSchema) {
  PgCluster& cluster = SharedPgCluster();
  Exec(cluster.OwnerUrl("screening"),
       "CREATE TABLE IF NOT EXISTS screening_private (id int)");
  for (const std::string& referral :
       {cluster.ServiceUrl("referral"), cluster.OwnerUrl("referral")}) {
    EXPECT_THROW(Exec(referral, "SELECT * FROM screening.screening_private"),
                 pqxx::insufficient_privilege);
    EXPECT_THROW(Exec(referral, "CREATE TABLE screening.intruder (id int)"),
                 pqxx::insufficient_privilege);
    EXPECT_THROW(Exec(referral, "CREATE TABLE cases.intruder (id int)"),
                 pqxx::insufficient_privilege);
  }
  // Only the other schemas are closed to it.
  EXPECT_NO_THROW(Exec(cluster.OwnerUrl("referral"),
                       "CREATE TABLE IF NOT EXISTS referral_own (id int)"));
}

TEST(SharedPgCluster, ServiceRoleCannotCreateInPublic) {
  const std::string url = SharedPgCluster().ServiceUrl("reporting");
  EXPECT_THROW(Exec(url, "CREATE TABLE public.intruder (id int)"),
               pqxx::insufficient_privilege);
  // Session-private temporary tables are allowed: the bulk intake stages
  // rows in one (COPY, then one set-based upsert).
  EXPECT_NO_THROW(Exec(url, "CREATE TEMPORARY TABLE scratch (id int)"));
}

TEST(SharedPgCluster, AdminUrlLogsInAsSuperuser) {
  const std::string url = SharedPgCluster().AdminUrl();
  EXPECT_EQ(QueryValue(url,
                       "SELECT rolsuper FROM pg_roles"
                       " WHERE rolname = current_user"),
            "t");
  EXPECT_EQ(QueryValue(url, "SELECT current_database()"), kSharedPgDatabase);
}

TEST(SharedPgCluster, FailsTheTestForAServiceItWasNotStartedWith) {
  EXPECT_NONFATAL_FAILURE(SharedPgCluster().ServiceUrl("billing"),
                          "no service 'billing'");
  EXPECT_NONFATAL_FAILURE(SharedPgCluster().OwnerUrl("billing"),
                          "no service 'billing'");
}

TEST(PgCluster, StopFailsConnectionsAndRestartBringsTheDataBack) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgCluster> cluster,
                       PgCluster::Start("outage", {"case"}));
  const std::string url = cluster->OwnerUrl("case");
  Exec(url, "CREATE TABLE survivor (id int)");
  Exec(url, "INSERT INTO survivor VALUES (42)");
  pqxx::connection open_during_outage(url);
  const int port = cluster->port();

  ASSERT_OK(cluster->Stop());

  EXPECT_THROW(pqxx::connection{url}, pqxx::broken_connection);
  EXPECT_THROW(pqxx::connection{cluster->AdminUrl()}, pqxx::broken_connection);
  EXPECT_THROW(
      {
        pqxx::work work(open_during_outage);
        work.exec("SELECT 1");
      },
      pqxx::failure);

  ASSERT_OK(cluster->Restart());

  EXPECT_EQ(cluster->port(), port);
  EXPECT_EQ(QueryValue(url, "SELECT id FROM survivor"), "42");
}

TEST(PgCluster, DestructionRemovesTheDataDirectoryAndTheServer) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgCluster> cluster,
                       PgCluster::Start("doomed", {"case"}));
  const std::string data_dir = cluster->data_dir();
  const std::string url = cluster->OwnerUrl("case");
  ASSERT_TRUE(std::filesystem::exists(data_dir));
  Exec(url, "CREATE TABLE doomed (id int)");

  cluster.reset();

  EXPECT_FALSE(std::filesystem::exists(data_dir));
  EXPECT_THROW(pqxx::connection{url}, pqxx::broken_connection);
}

TEST(PgCluster, CrashOfTheOwningProcessStillDestroysTheCluster) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<PgCluster>> cluster =
        PgCluster::Start("crash", {"case"});
    if (!cluster.ok()) {
      _exit(1);
    }
    const std::string line =
        (*cluster)->data_dir() + "\n" + (*cluster)->ServiceUrl("case") + "\n";
    if (write(fds[1], line.data(), line.size()) !=
        static_cast<ssize_t>(line.size())) {
      _exit(2);
    }
    // No destructor, no atexit handler: as hard a crash as there is.
    raise(SIGKILL);
  }
  close(fds[1]);
  std::string output;
  char buffer[512];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) {
    output.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child failed to start a cluster";
  const std::vector<std::string> lines =
      absl::StrSplit(output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << output;
  const std::string& data_dir = lines[0];
  const std::string& url = lines[1];

  EXPECT_TRUE(WaitUntilGone(data_dir, std::chrono::seconds(60)))
      << data_dir << " still exists";
  EXPECT_THROW(pqxx::connection{url}, pqxx::broken_connection);
}

}  // namespace
}  // namespace kosapo::testing
