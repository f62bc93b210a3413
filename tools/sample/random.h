// The sample generator's source of randomness and the small helpers its
// parts share. SplitMix64 gives the same numbers on every machine and
// standard library, which std:: distributions do not.
#ifndef KOSAPO_TOOLS_SAMPLE_RANDOM_H_
#define KOSAPO_TOOLS_SAMPLE_RANDOM_H_

#include <cstdint>

#include "absl/time/civil_time.h"

namespace kosapo::sample {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n > 0 (the bias of % is negligible here).
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % n); }
  // True with probability percent/100.
  bool Percent(int percent) { return Below(100) < percent; }

 private:
  uint64_t state_;
};

// A day in [from, to]; `from` when the range is empty.
inline absl::CivilDay DayBetween(Random& random, absl::CivilDay from,
                                 absl::CivilDay to) {
  return to <= from ? from : from + random.Below(to - from + 1);
}

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_RANDOM_H_
