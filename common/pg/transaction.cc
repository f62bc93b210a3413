#include "common/pg/transaction.h"

#include <random>
#include <thread>

namespace kosapo::pg::internal {

void SleepBeforeRetry(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int base_ms = 10 << std::min(attempt, 6);
  std::uniform_int_distribution<int> jitter(base_ms / 2, base_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
}

}  // namespace kosapo::pg::internal
