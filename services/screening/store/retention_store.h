// Retention: a round's personal data is kept for a configured period after
// its fiscal year ended (31 March of the next year, in the municipality's
// time zone), then erased (migrations/0009_retention.sql lists the fields).
// The erasure blanks the sheets, the decisions' reasons, the history of both
// (through the owner's erase_round_history function, the one way past the
// append-only trigger), and the pupil's data in the round's PupilExtracted
// events (the feed keeps the events, so a consumer that reads it again
// counts the same). It is recorded in screening_audit as
// service:screening-retention.
#ifndef KOSAPO_SERVICES_SCREENING_STORE_RETENTION_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_RETENTION_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/periodic.h"
#include "common/pg/pool.h"

namespace kosapo::screening {

// What one erasure did.
struct ErasedRound {
  std::string round;  // its name
  int64_t sheets = 0;
  int64_t history_rows = 0;
  int64_t events = 0;
};

class RetentionStore {
 public:
  explicit RetentionStore(pg::Pool& pool) : pool_(pool) {}

  // Erases, in one transaction, one round not erased yet whose fiscal year
  // ended before the day `horizon` falls on in its municipality's time zone;
  // nullopt when none is due. A round another transaction holds is left
  // for the next sweep.
  absl::StatusOr<std::optional<ErasedRound>> EraseOneRoundEndedBefore(
      absl::Time horizon);

 private:
  pg::Pool& pool_;
};

struct RetentionSettings {
  // Kept this long after the round's fiscal year ended; zero keeps
  // everything forever.
  absl::Duration period;
  // How often the sweep looks for rounds due; the first look is one
  // interval after Start.
  absl::Duration interval;
  std::shared_ptr<const Clock> clock;
};

// Runs the erasure every interval on a thread of its own, one round per
// transaction until nothing is due; a failed sweep (the database away) is
// logged and tried again at the next interval.
class RetentionSweeper {
 public:
  RetentionSweeper(RetentionStore& store, RetentionSettings settings);

  void Start();
  // Returns once the thread has finished its current round.
  void Stop() { periodic_.Stop(); }

  // One sweep now, on the caller's thread: the rounds erased.
  absl::StatusOr<int64_t> SweepOnce();

 private:
  RetentionStore& store_;
  const RetentionSettings settings_;
  Periodic periodic_;
};

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_STORE_RETENTION_STORE_H_
