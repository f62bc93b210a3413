// A service binary started as a child process for end-to-end tests: its own
// environment, stdout (one JSON log line per line) and stderr captured to
// files, and helpers to wait for a log line, signal it and reap it. The
// destructor kills a process that is still running, so a failing test leaves
// nothing behind.
#ifndef KOSAPO_TESTS_E2E_SERVICE_PROCESS_H_
#define KOSAPO_TESTS_E2E_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kosapo::testing {

struct ProcessOptions {
  std::string binary;
  std::vector<std::string> args;
  // The child's whole environment (PATH is added).
  std::map<std::string, std::string> env;
  // stdout goes here, stderr to log_path + ".stderr".
  std::string log_path;
};

class ServiceProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      ProcessOptions options);
  ~ServiceProcess();

  // The first JSON log line whose "message" equals `message`. Fails early if
  // the process exits first.
  absl::StatusOr<nlohmann::json> WaitForLog(absl::string_view message,
                                            absl::Duration timeout);
  // Every JSON line logged so far.
  std::vector<nlohmann::json> Logs() const;
  std::string Stderr() const;

  absl::Status Signal(int signal_number);
  // Exit code, or 128 + signal when killed by one; DEADLINE_EXCEEDED if it
  // is still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  bool running();
  pid_t pid() const { return pid_; }

 private:
  ServiceProcess(ProcessOptions options, pid_t pid)
      : options_(std::move(options)), pid_(pid) {}

  const ProcessOptions options_;
  pid_t pid_;
  bool reaped_ = false;
  int exit_code_ = 0;
};

}  // namespace kosapo::testing

#endif  // KOSAPO_TESTS_E2E_SERVICE_PROCESS_H_
