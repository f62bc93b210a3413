// The one path every sheet write takes (single upsert, stream, CSV): check
// the caller's school and the sheet, score it, batch it, write the batches
// in one transaction (SheetImport) committed at the end, and keep an
// outcome per input row. A rejected row is recorded and skipped; it never
// blocks the others. An intake that fails or is abandoned stores nothing.
// One batch at a time is written by a writer thread while the caller checks
// and scores the next one.
#ifndef KOSAPO_SERVICES_SCREENING_API_SHEET_INTAKE_H_
#define KOSAPO_SERVICES_SCREENING_API_SHEET_INTAKE_H_

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/server/call_context.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/store/sheet_store.h"

namespace kosapo::screening {

class SheetIntake {
 public:
  static constexpr size_t kBatchSize = 1000;

  SheetIntake(SheetStore& store, const RoundContext& round,
              const server::CallContext& call, Accessor who,
              absl::CivilDay today);
  // An intake destroyed before Finish stores nothing: waits for the batch
  // still being written, then rolls back.
  ~SheetIntake();
  SheetIntake(const SheetIntake&) = delete;
  SheetIntake& operator=(const SheetIntake&) = delete;

  // Checks and queues one row; writes a batch when it is full. An error is
  // a failure of the whole intake (round closed, database down), which
  // then stores nothing. An error of a batch written in the background is
  // returned by a later Add or by Finish; no batch is written after it.
  absl::Status Add(int64_t line, v1::Sheet sheet);
  // Records a row rejected before it became a sheet (CSV parsing).
  void Reject(v1::SheetRowResult result);
  // Writes what is queued and commits the intake.
  absl::Status Finish();

  // One result per row, by line. Moves the results out: call once, last.
  v1::ImportSheetsResponse Response();
  const std::vector<v1::SheetRowResult>& results() const { return results_; }

 private:
  // Hands the queued batch to the writer once the previous one is done.
  absl::Status Flush();
  // Waits for the batch being written and records its outcomes.
  absl::Status Collect();

  SheetStore& store_;
  const RoundContext& round_;
  const server::CallContext& call_;
  const absl::CivilDay today_;
  const Accessor who_;
  std::vector<v1::SheetRowResult> results_;
  absl::flat_hash_map<std::pair<std::string, std::string>, int64_t>
      seen_;  // -> line
  using Outcomes = absl::StatusOr<std::vector<v1::RowOutcome>>;

  std::vector<SheetWrite> pending_;
  std::vector<size_t> pending_results_;  // index into results_
  // The batch being written, owned by the writer until Collect.
  std::vector<SheetWrite> writing_;
  std::vector<size_t> writing_results_;
  std::future<Outcomes> written_;
  std::unique_ptr<SheetImport> import_;  // from the first batch written
};

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_API_SHEET_INTAKE_H_
