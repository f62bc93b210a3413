#include "common/base/periodic.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"

namespace kosapo {

Periodic::Periodic(std::string what, absl::Duration interval,
                   std::function<absl::Status()> task)
    : what_(std::move(what)), interval_(interval), task_(std::move(task)) {}

Periodic::~Periodic() { Stop(); }

void Periodic::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Periodic::StartIf(bool enabled, absl::string_view off_warning) {
  if (!enabled) {
    log::Warning(off_warning);
    return;
  }
  Start();
}

void Periodic::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool Periodic::stopping() const {
  absl::MutexLock lock(&mutex_);
  return stopping_;
}

void Periodic::Run() {
  absl::MutexLock lock(&mutex_);
  while (!mutex_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) {
    mutex_.Unlock();
    const absl::Status done = task_();
    if (!done.ok()) {
      log::Warning(
          absl::StrCat(what_, " failed; trying again at the next interval"),
          {{"error", std::string(done.message())}});
    }
    mutex_.Lock();
  }
}

}  // namespace kosapo
