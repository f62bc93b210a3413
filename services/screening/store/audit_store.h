// The audit trail of pupils' personal data (table screening_audit, see
// migrations/0007_audit.sql): rows appended by the stores inside the
// transaction of the access they record, and the trail read back for staff.
#ifndef KOSAPO_SERVICES_SCREENING_STORE_AUDIT_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_AUDIT_STORE_H_

#include <cstdint>
#include <optional>
#include <pqxx/transaction>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pg/pool.h"
#include "common/server/caller.h"
#include "kosapo/screening/v1/screening.pb.h"

namespace kosapo::screening {

// Who reads or writes pupils' personal data, as the audit records it: the
// caller (subject, role, method, request id, trace) with the purpose the
// call stated.
using Accessor = server::Caller;

// What of a pupil's was accessed (screening_audit.record).
enum class RecordKind { kSheet, kDecision, kExtraction, kAudit };

// A pupil of a school, as the audit names them.
struct PupilKey {
  std::string school_code;
  std::string pupil_id;
};

// Where an access happened: the municipality and, unless it spans rounds,
// the round.
struct AuditScope {
  std::string municipality;
  std::optional<int64_t> round_id;
};

// One row per pupil of `pupils` (none: nothing is written).
void AuditEach(pqxx::work& tx, const AuditScope& scope, RecordKind record,
               const std::vector<PupilKey>& pupils, const Accessor& who,
               absl::string_view access);

// One row per school of `pupils`, holding all its pupils: for bulk intake.
void AuditBatch(pqxx::work& tx, const AuditScope& scope, RecordKind record,
                const std::vector<PupilKey>& pupils, const Accessor& who,
                absl::string_view access);

// Whose trail to read: a pupil of a school, in one round or in all.
struct TrailQuery {
  AuditScope scope;
  PupilKey pupil;
  // Newest first (by access time, then id), after the row of access time
  // `before_us` (microseconds) and id `before_id`; before_id 0: from the
  // newest.
  int64_t before_us = 0;
  int64_t before_id = 0;
  int limit = 0;
};

// One entry of a trail with its row id (for the next page token).
using TrailEntry = std::pair<int64_t, v1::AuditRecord>;

class AuditStore {
 public:
  explicit AuditStore(pg::Pool& pool) : pool_(pool) {}

  // The pupil's audit rows, newest first. When it returns any, the read is
  // itself audited (record "audit"), after the page was taken, so the page
  // shows the trail as it was before this call.
  absl::StatusOr<std::vector<TrailEntry>> Trail(const TrailQuery& query,
                                                const Accessor& who);

 private:
  pg::Pool& pool_;
};

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_STORE_AUDIT_STORE_H_
