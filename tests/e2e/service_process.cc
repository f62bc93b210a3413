#include "tests/e2e/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kosapo::testing {

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    ProcessOptions options) {
  std::vector<std::string> argv_storage = {options.binary};
  argv_storage.insert(argv_storage.end(), options.args.begin(),
                      options.args.end());
  std::vector<std::string> env_storage;
  const char* path = std::getenv("PATH");
  env_storage.push_back(absl::StrCat("PATH=", path ? path : "/usr/bin:/bin"));
  for (const auto& [key, value] : options.env) {
    env_storage.push_back(absl::StrCat(key, "=", value));
  }
  std::vector<char*> argv;
  for (auto& arg : argv_storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_storage) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  const int out = open(options.log_path.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err = open((options.log_path + ".stderr").c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0 || err < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create log file ", options.log_path));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    // The test runner may block signals; the service must see SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out);
  close(err);
  return std::unique_ptr<ServiceProcess>(
      new ServiceProcess(std::move(options), pid));
}

ServiceProcess::~ServiceProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::vector<nlohmann::json> ServiceProcess::Logs() const {
  std::vector<nlohmann::json> lines;
  std::ifstream in(options_.log_path);
  std::string line;
  while (std::getline(in, line)) {
    auto json =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!json.is_discarded()) {
      lines.push_back(std::move(json));
    }
  }
  return lines;
}

std::string ServiceProcess::Stderr() const {
  std::ifstream in(options_.log_path + ".stderr");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<nlohmann::json> ServiceProcess::WaitForLog(
    absl::string_view message, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    for (auto& line : Logs()) {
      if (line.value("message", "") == message) {
        return line;
      }
    }
    if (!running()) {
      return absl::FailedPreconditionError(
          absl::StrCat(options_.binary, " exited with ", exit_code_,
                       " before logging '", message, "'; stderr: ", Stderr()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(options_.binary, " did not log '", message, "'"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::Status ServiceProcess::Signal(int signal_number) {
  if (reaped_ || kill(pid_, signal_number) != 0) {
    return absl::FailedPreconditionError("process is not running");
  }
  return absl::OkStatus();
}

bool ServiceProcess::running() {
  if (reaped_) {
    return false;
  }
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    reaped_ = true;
    exit_code_ =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

absl::StatusOr<int> ServiceProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("process still running");
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return exit_code_;
}

}  // namespace kosapo::testing
