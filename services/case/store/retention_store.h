// Retention: a case's personal data is kept for a configured period after
// the case ended (closed with an outcome, or withdrawn), then erased. The
// erasure blanks the child, the household and every free text of the case
// (notes, contact summaries, conference, assessment and plan bodies, urgent
// report details and acknowledgement notes, the reason in its withdrawal
// event) and sets erase_time; what stays is what the reports and histories
// need (area, school, grade, source, dates, approach status, outcome) and
// the audit trail, which records the erasure itself.
#ifndef KOSAPO_SERVICES_CASE_STORE_RETENTION_STORE_H_
#define KOSAPO_SERVICES_CASE_STORE_RETENTION_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/periodic.h"
#include "common/pg/pool.h"

namespace kosapo::cases {

class RetentionStore {
 public:
  explicit RetentionStore(pg::Pool& pool) : pool_(pool) {}

  // Erases, in one transaction, up to `limit` cases that ended before
  // `cutoff` (a closed case on its outcome date, a withdrawn one on the day
  // of its withdrawal in `time_zone`) and are not erased yet; returns how
  // many. Cases another transaction holds are left for the next batch.
  absl::StatusOr<int64_t> EraseEndedBefore(absl::CivilDay cutoff,
                                           const std::string& time_zone,
                                           int limit);

 private:
  pg::Pool& pool_;
};

struct RetentionSettings {
  // Kept this long after a case ended; zero keeps everything forever.
  absl::Duration period;
  // How often the sweep looks for cases due; the first look is one
  // interval after Start.
  absl::Duration interval;
  std::string time_zone;
  std::shared_ptr<const Clock> clock;
  int batch = 200;
};

// Runs the erasure every interval on a thread of its own, in batches until
// nothing is due; a failed sweep (the database away) is logged and tried
// again at the next interval.
class RetentionSweeper {
 public:
  RetentionSweeper(RetentionStore& store, RetentionSettings settings);

  void Start();
  // Returns once the thread has finished its current batch.
  void Stop() { periodic_.Stop(); }

  // One sweep now, on the caller's thread: the cases erased.
  absl::StatusOr<int64_t> SweepOnce();

 private:
  RetentionStore& store_;
  const RetentionSettings settings_;
  Periodic periodic_;
};

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_STORE_RETENTION_STORE_H_
