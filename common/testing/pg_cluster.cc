#include "common/testing/pg_cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

#ifndef KOSAPO_SOURCE_DIR
#error "KOSAPO_SOURCE_DIR must name the source tree (see CMakeLists.txt)"
#endif

extern char** environ;

namespace kosapo::testing {
namespace {

constexpr char kScript[] = KOSAPO_SOURCE_DIR "/scripts/pg-local.sh";
constexpr char kBash[] = "/bin/bash";
// Longest stderr of the script quoted in an error.
constexpr size_t kMaxErrorOutput = 4000;

// The guardian's stdin is a socket to the test process. A line on it means
// "cleaned up already, exit"; end of file without one means the test process
// died: destroy the cluster. It ignores the signals that end a test run so
// that the cleanup still happens.
constexpr char kGuardianScript[] =
    "trap '' INT TERM HUP QUIT\n"
    "if read -r _; then exit 0; fi\n"
    "exec /bin/bash \"$1\" destroy \"$2\" >/dev/null\n";

// Debian builds Abseil with its own absl::string_view, which does not mix
// with std::string_view: text passed to absl functions here is absl's.

absl::Status ErrnoError(absl::string_view what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

// Closes a file descriptor when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

absl::Status MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return ErrnoError("pipe2", errno);
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return absl::OkStatus();
}

// Owns the argument and environment vectors of a child process.
class SpawnArgs {
 public:
  explicit SpawnArgs(std::vector<std::string> args) : args_(std::move(args)) {
    for (char** env = environ; *env != nullptr; ++env) {
      if (!absl::StartsWith(*env, "KOSAPO_PG_FAST=")) {
        env_.emplace_back(*env);
      }
    }
    // Test clusters trade durability for speed.
    env_.emplace_back("KOSAPO_PG_FAST=1");
  }

  char* const* argv() { return Pointers(args_, argv_); }
  char* const* envp() { return Pointers(env_, envp_); }

 private:
  static char* const* Pointers(std::vector<std::string>& strings,
                               std::vector<char*>& pointers) {
    pointers.clear();
    for (std::string& s : strings) {
      pointers.push_back(s.data());
    }
    pointers.push_back(nullptr);
    return pointers.data();
  }

  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
};

// posix_spawn_file_actions_t that destroys itself.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

absl::StatusOr<int> WaitForExit(pid_t pid) {
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      return ErrnoError("waitpid", errno);
    }
  }
  if (WIFEXITED(wstatus)) {
    return WEXITSTATUS(wstatus);
  }
  return 128 + WTERMSIG(wstatus);
}

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// Runs a command with stdin from /dev/null and collects its output.
absl::StatusOr<CommandResult> RunCommand(std::vector<std::string> args) {
  UniqueFd out_read, out_write, err_read, err_write;
  if (absl::Status s = MakePipe(out_read, out_write); !s.ok()) {
    return s;
  }
  if (absl::Status s = MakePipe(err_read, err_write); !s.ok()) {
    return s;
  }
  FileActions actions;
  posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out_write.get(),
                                   STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(actions.get(), err_write.get(),
                                   STDERR_FILENO);
  SpawnArgs spawn_args(std::move(args));
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, kBash, actions.get(), nullptr,
                             spawn_args.argv(), spawn_args.envp());
  out_write.reset();
  err_write.reset();
  if (rc != 0) {
    return ErrnoError("posix_spawn /bin/bash", rc);
  }

  CommandResult result;
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      kill(pid, SIGKILL);
      (void)WaitForExit(pid);
      return ErrnoError("poll", error);
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_count;
      }
    }
  }
  absl::StatusOr<int> exit_code = WaitForExit(pid);
  if (!exit_code.ok()) {
    return exit_code.status();
  }
  result.exit_code = *exit_code;
  return result;
}

// Runs `pg-local.sh <args>` and returns its stdout.
absl::StatusOr<std::string> RunScript(const std::string& script,
                                      std::vector<std::string> args) {
  const std::string command = absl::StrCat("pg-local.sh ", args.front());
  args.insert(args.begin(), {kBash, script});
  absl::StatusOr<CommandResult> result = RunCommand(std::move(args));
  if (!result.ok()) {
    return result.status();
  }
  if (result->exit_code != 0) {
    absl::string_view err = result->err;
    if (err.size() > kMaxErrorOutput) {
      err.remove_prefix(err.size() - kMaxErrorOutput);
    }
    return absl::InternalError(
        absl::StrCat(command, " failed (exit ", result->exit_code, "): ", err));
  }
  return std::move(result->out);
}

absl::StatusOr<int> ParsePort(absl::string_view out) {
  int port = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(out), &port) || port <= 0 ||
      port > 65535) {
    return absl::InternalError(
        absl::StrCat("pg-local.sh start printed no port: '", out, "'"));
  }
  return port;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 56 || absl::ascii_isdigit(name[0])) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

// Makes a fresh directory for one cluster.
absl::StatusOr<std::string> MakeTempDir() {
  std::vector<std::string> roots;
  const char* env_root = std::getenv("KOSAPO_TEST_TMPDIR");
  const bool explicit_root = env_root != nullptr && *env_root != '\0';
  if (explicit_root) {
    roots.emplace_back(env_root);
  } else {
#ifdef KOSAPO_BINARY_DIR
    roots.emplace_back(KOSAPO_BINARY_DIR "/test-tmp");
#endif
    roots.emplace_back("/tmp");
  }
  absl::Status last_error;
  for (const std::string& root : roots) {
    std::error_code error;
    std::filesystem::create_directories(root, error);
    std::string path = absl::StrCat(root, "/pg.XXXXXX");
    if (!error && mkdtemp(path.data()) != nullptr) {
      return path;
    }
    last_error = ErrnoError(absl::StrCat("making a directory under ", root),
                            error ? error.value() : errno);
  }
  return last_error;
}

}  // namespace

std::string ServiceSchema(std::string_view service) {
  if (service == "case") {
    return "cases";
  }
  return std::string(service);
}

PgCluster::PgCluster(std::string script, std::string data_dir,
                     std::string db_name)
    : script_(std::move(script)),
      data_dir_(std::move(data_dir)),
      db_name_(std::move(db_name)) {}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::Start(
    std::string db_name, std::vector<std::string> services) {
  if (!IsValidName(db_name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "db_name '", db_name, "' is not a lower-case SQL identifier"));
  }
  std::set<std::string, std::less<>> seen;
  for (const std::string& service : services) {
    if (!IsValidName(service)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "service '", service, "' is not a lower-case SQL identifier"));
    }
    if (!seen.insert(service).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("service '", service, "' given twice"));
    }
  }
  std::error_code error;
  if (!std::filesystem::exists(kScript, error)) {
    return absl::FailedPreconditionError(absl::StrCat(kScript, " not found"));
  }
  absl::StatusOr<std::string> data_dir = MakeTempDir();
  if (!data_dir.ok()) {
    return data_dir.status();
  }

  // From here on the destructor cleans up whatever fails.
  std::unique_ptr<PgCluster> cluster(
      new PgCluster(kScript, *std::move(data_dir), std::move(db_name)));
  if (absl::Status s = cluster->StartGuardian(); !s.ok()) {
    return s;
  }
  if (absl::Status s = cluster->StartServer(); !s.ok()) {
    return s;
  }

  std::vector<std::string> args = {"provision", cluster->data_dir_,
                                   cluster->db_name_};
  for (const std::string& service : services) {
    args.push_back(absl::StrCat(service, ":", ServiceSchema(service)));
  }
  absl::StatusOr<std::string> out = RunScript(cluster->script_, args);
  if (!out.ok()) {
    return out.status();
  }
  for (absl::string_view line :
       absl::StrSplit(*out, '\n', absl::SkipWhitespace())) {
    // "service=url" for the runtime role, "service.owner=url" for the owner.
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (absl::EndsWith(kv.first, ".owner")) {
      kv.first.resize(kv.first.size() - 6);
      cluster->owner_urls_.insert(std::move(kv));
    } else {
      cluster->service_urls_.insert(std::move(kv));
    }
  }
  for (const std::string& service : services) {
    if (!cluster->service_urls_.count(service) ||
        !cluster->owner_urls_.count(service)) {
      return absl::InternalError(
          absl::StrCat("pg-local.sh provision printed no URL for ", service,
                       " or its owner"));
    }
  }

  out = RunScript(cluster->script_,
                  {"admin-url", cluster->data_dir_, cluster->db_name_});
  if (!out.ok()) {
    return out.status();
  }
  cluster->admin_url_ = std::string(absl::StripAsciiWhitespace(*out));
  return cluster;
}

PgCluster::~PgCluster() {
  absl::StatusOr<std::string> out = RunScript(script_, {"destroy", data_dir_});
  if (!out.ok()) {
    // The guardian tries again below, when it gets no "done" line.
    std::fprintf(stderr, "PgCluster: %s\n", out.status().ToString().c_str());
  }
  if (guardian_socket_ >= 0) {
    if (out.ok()) {
      static constexpr char kDone[] = "done\n";
      // MSG_NOSIGNAL: a guardian that died must not kill us with SIGPIPE.
      (void)send(guardian_socket_, kDone, sizeof(kDone) - 1, MSG_NOSIGNAL);
    }
    close(guardian_socket_);
  }
  if (guardian_pid_ > 0) {
    (void)WaitForExit(guardian_pid_);
  }
}

absl::Status PgCluster::StartGuardian() {
  // A socket rather than a pipe, so that writing to a dead guardian can
  // avoid SIGPIPE. Both ends are close-on-exec: nothing else we spawn holds
  // ours, which would keep the guardian from seeing end of file.
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoError("socketpair", errno);
  }
  UniqueFd guardian_end(fds[0]);
  guardian_socket_ = fds[1];

  FileActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), guardian_end.get(),
                                   STDIN_FILENO);
  posix_spawn_file_actions_addopen(actions.get(), STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own session: Ctrl-C or a test runner killing our process group must
  // not take the guardian with it.
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  SpawnArgs args(
      {kBash, "-c", kGuardianScript, "kosapo-pg-guardian", script_, data_dir_});
  const int rc = posix_spawn(&guardian_pid_, kBash, actions.get(), &attr,
                             args.argv(), args.envp());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    guardian_pid_ = -1;
    return ErrnoError("posix_spawn guardian", rc);
  }
  return absl::OkStatus();
}

absl::Status PgCluster::StartServer() {
  std::vector<std::string> args = {"start", data_dir_};
  if (port_ != 0) {
    args.push_back(absl::StrCat(port_));
  }
  absl::StatusOr<std::string> out = RunScript(script_, std::move(args));
  if (!out.ok()) {
    return out.status();
  }
  absl::StatusOr<int> port = ParsePort(*out);
  if (!port.ok()) {
    return port.status();
  }
  port_ = *port;
  return absl::OkStatus();
}

std::string PgCluster::ServiceUrl(std::string_view service) const {
  auto it = service_urls_.find(service);
  if (it == service_urls_.end()) {
    ADD_FAILURE() << "PgCluster has no service '" << service << "'";
    // Port 1 on loopback: connecting fails at once with "refused".
    return absl::StrCat("postgresql://kosapo_unknown@127.0.0.1:1/", db_name_);
  }
  return it->second;
}

std::string PgCluster::OwnerUrl(std::string_view service) const {
  auto it = owner_urls_.find(service);
  if (it == owner_urls_.end()) {
    ADD_FAILURE() << "PgCluster has no service '" << service << "'";
    return absl::StrCat("postgresql://kosapo_unknown@127.0.0.1:1/", db_name_);
  }
  return it->second;
}

std::string PgCluster::Schema(std::string_view service) const {
  return ServiceSchema(service);
}

std::string PgCluster::AdminUrl() const { return admin_url_; }

absl::Status PgCluster::Stop() {
  absl::StatusOr<std::string> out =
      RunScript(script_, {"stop", data_dir_, "immediate"});
  return out.status();
}

absl::Status PgCluster::Restart() { return StartServer(); }

namespace {

constexpr const char* kSharedServices[] = {"screening", "case", "referral",
                                           "reporting"};

// Owns the shared cluster; GoogleTest calls TearDown when the run ends.
class SharedPgClusterEnvironment : public ::testing::Environment {
 public:
  PgCluster& Get() {
    absl::MutexLock lock(&mu_);
    if (cluster_ == nullptr) {
      absl::StatusOr<std::unique_ptr<PgCluster>> cluster =
          PgCluster::Start(kSharedPgDatabase,
                           std::vector<std::string>(std::begin(kSharedServices),
                                                    std::end(kSharedServices)));
      if (!cluster.ok()) {
        std::fprintf(stderr, "SharedPgCluster: cannot start PostgreSQL: %s\n",
                     cluster.status().ToString().c_str());
        std::abort();
      }
      cluster_ = *std::move(cluster);
    }
    return *cluster_;
  }

  void TearDown() override {
    absl::MutexLock lock(&mu_);
    cluster_.reset();
  }

 private:
  absl::Mutex mu_;
  std::unique_ptr<PgCluster> cluster_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

PgCluster& SharedPgCluster() {
  // Registered on first use; GoogleTest owns it from then on and tears it
  // down after the last test, even one registered mid-run.
  static SharedPgClusterEnvironment* const environment = [] {
    auto* env = new SharedPgClusterEnvironment();
    ::testing::AddGlobalTestEnvironment(env);
    return env;
  }();
  return environment->Get();
}

}  // namespace kosapo::testing
