// The enrollment sync: one attempt after commit, then a retry loop.
#include "services/referral/api/enrollment_sync.h"

#include <chrono>

#include "common/base/log.h"

namespace kosapo::referral {
namespace {

constexpr int kBatch = 100;

}  // namespace

EnrollmentSync::EnrollmentSync(HubStore& hubs, const CaseClient& cases,
                               absl::Duration interval)
    : hubs_(hubs), cases_(cases), interval_(interval) {}

EnrollmentSync::~EnrollmentSync() { Stop(); }

bool EnrollmentSync::SyncNow(const std::string& case_name,
                             const std::string& hub_code,
                             const server::CallContext* call) {
  absl::Status failure;
  const absl::StatusOr<bool> synced =
      hubs_.SyncEnrollment(case_name, hub_code, [&](bool enrolled) {
        failure = cases_.SetHubEnrollment(case_name, hub_code, enrolled, call);
        return failure;
      });
  if (!synced.ok()) {
    failure = synced.status();
  }
  if (!failure.ok()) {
    // Case and hub names only: no personal data.
    log::Warning("hub enrollment not yet recorded by the case service",
                 {{"case", case_name},
                  {"hub_code", hub_code},
                  {"code", absl::StatusCodeToString(failure.code())}});
  }
  return synced.ok() && *synced;
}

void EnrollmentSync::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!thread_.joinable() && !stopped_) {
    thread_ = std::thread([this] { Run(); });
  }
}

void EnrollmentSync::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  std::lock_guard<std::mutex> join_lock(join_mutex_);
  if (thread_.joinable()) {
    thread_.join();
  }
}

void EnrollmentSync::Run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                     [this] { return stopped_; });
      if (stopped_) {
        return;
      }
    }
    const auto pending = hubs_.PendingEnrollments(kBatch);
    if (!pending.ok()) {
      log::Warning(
          "cannot read pending hub enrollments",
          {{"code", absl::StatusCodeToString(pending.status().code())}});
      continue;
    }
    for (const auto& [case_name, hub_code] : *pending) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) {
          return;
        }
      }
      SyncNow(case_name, hub_code, nullptr);
    }
  }
}

}  // namespace kosapo::referral
