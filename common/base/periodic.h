// A task run on a thread of its own at a fixed interval: the services'
// background sweeps (retention) share its start, stop and failure handling.
#ifndef KOSAPO_COMMON_BASE_PERIODIC_H_
#define KOSAPO_COMMON_BASE_PERIODIC_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kosapo {

// Runs `task` every `interval`, the first run one interval after Start,
// until Stop. A run that fails is logged as a warning naming `what` and
// tried again at the next interval. A task of many steps checks stopping()
// between them, so that Stop returns soon.
class Periodic {
 public:
  Periodic(std::string what, absl::Duration interval,
           std::function<absl::Status()> task);
  ~Periodic();  // Stop()

  void Start();
  // Start() when `enabled`, else logs `off_warning` and never runs the task
  // (a sweep turned off in configuration).
  void StartIf(bool enabled, absl::string_view off_warning);
  // Returns once the task has finished the run it was in, if any.
  void Stop();
  bool stopping() const;

 private:
  void Run();

  const std::string what_;
  const absl::Duration interval_;
  const std::function<absl::Status()> task_;
  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace kosapo

#endif  // KOSAPO_COMMON_BASE_PERIODIC_H_
