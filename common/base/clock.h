// The time source of code whose behaviour depends on "now" (deadlines, "not
// after today"), so tests can move time instead of waiting for it.
#ifndef KOSAPO_COMMON_BASE_CLOCK_H_
#define KOSAPO_COMMON_BASE_CLOCK_H_

#include <atomic>
#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kosapo {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process's real clock.
  static std::shared_ptr<const Clock> Real();
};

// A clock that stands still until told to move. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_ns_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override { return absl::FromUnixNanos(now_ns_); }
  void Set(absl::Time now) { now_ns_ = absl::ToUnixNanos(now); }
  void Advance(absl::Duration by) { now_ns_ += absl::ToInt64Nanoseconds(by); }

 private:
  std::atomic<int64_t> now_ns_;
};

namespace internal {
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};
}  // namespace internal

inline std::shared_ptr<const Clock> Clock::Real() {
  static const auto* const clock =
      new std::shared_ptr<const Clock>(std::make_shared<internal::RealClock>());
  return *clock;
}

}  // namespace kosapo

#endif  // KOSAPO_COMMON_BASE_CLOCK_H_
