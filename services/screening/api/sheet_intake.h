// The one path every sheet write takes (single upsert, stream, CSV): check
// the caller's school and the sheet, score it, batch it, store batches, and
// keep an outcome per input row. A rejected row is recorded and skipped; it
// never blocks the others.
#ifndef KOSAPO_SERVICES_SCREENING_API_SHEET_INTAKE_H_
#define KOSAPO_SERVICES_SCREENING_API_SHEET_INTAKE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "common/server/call_context.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/store/sheet_store.h"

namespace kosapo::screening {

class SheetIntake {
 public:
  static constexpr size_t kBatchSize = 1000;

  SheetIntake(SheetStore& store, const RoundContext& round,
              const server::CallContext& call, absl::CivilDay today);

  // Checks and queues one row; stores a batch when it is full. An error is
  // a failure of the whole intake (round closed, database down); rows
  // stored by earlier batches stay stored, and a retry finds them UNCHANGED.
  absl::Status Add(int64_t line, v1::Sheet sheet);
  // Records a row rejected before it became a sheet (CSV parsing).
  void Reject(v1::SheetRowResult result);
  absl::Status Finish();

  // One result per row, by line.
  v1::ImportSheetsResponse Response() const;
  const std::vector<v1::SheetRowResult>& results() const { return results_; }

 private:
  absl::Status Flush();

  SheetStore& store_;
  const RoundContext& round_;
  const server::CallContext& call_;
  const absl::CivilDay today_;
  std::vector<v1::SheetRowResult> results_;
  std::map<std::pair<std::string, std::string>, int64_t> seen_;  // -> line
  std::vector<SheetWrite> pending_;
  std::vector<size_t> pending_results_;  // index into results_
};

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_API_SHEET_INTAKE_H_
