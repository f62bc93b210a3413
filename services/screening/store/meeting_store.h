// SQL for screening meeting I: meetings, decisions per pupil with history,
// and the extraction events they publish through the outbox. Reads and
// writes of decisions and extractions are audited in their transaction.
#ifndef KOSAPO_SERVICES_SCREENING_STORE_MEETING_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_MEETING_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/store/audit_store.h"
#include "services/screening/store/registry_store.h"
#include "services/screening/store/sheet_store.h"

namespace kosapo::screening {

struct MeetingRef {
  int64_t id = 0;
  std::string school_code;
  kosapo::type::Date date;
};

struct DecisionResult {
  v1::Decision decision;
  bool changed = false;
};

// A decision's reason is stored sealed with `cipher` (DecisionReasonContext),
// in decisions and in the decision_history rows it is copied to; a reason
// stored before encryption was configured reads as it is.
class MeetingStore {
 public:
  MeetingStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // Records the meeting, or returns the one recorded earlier with the same
  // request id.
  absl::StatusOr<v1::Meeting> RecordMeeting(const RoundContext& round,
                                            const v1::Meeting& meeting,
                                            absl::string_view request_id,
                                            const Actor& actor);
  // NOT_FOUND when the meeting is not of this round and school.
  absl::StatusOr<MeetingRef> GetMeeting(const RoundContext& round,
                                        absl::string_view school_code,
                                        int64_t meeting_id);
  // Records the decision as `who`'s (decided_by). FAILED_PRECONDITION when
  // the pupil has no sheet in the round or the round was erased after its
  // retention period.
  absl::StatusOr<DecisionResult> RecordDecision(const RoundContext& round,
                                                const MeetingRef& meeting,
                                                absl::string_view pupil_id,
                                                v1::DecisionOutcome outcome,
                                                absl::string_view reason,
                                                const Accessor& who);
  // The school's decisions, read by `who`.
  absl::StatusOr<std::vector<v1::Decision>> ListDecisions(
      const RoundContext& round, absl::string_view school_code,
      const Accessor& who);
  // The area's extracted pupils, read by `who`.
  absl::StatusOr<std::vector<v1::Extraction>> ListExtractions(
      const RoundContext& round, absl::string_view area_code,
      const Accessor& who);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

std::string MeetingName(const RoundContext& round, absl::string_view school,
                        int64_t id);
std::string DecisionName(const RoundContext& round, absl::string_view school,
                         absl::string_view pupil_id);
// The associated data of a decision's sealed reason: the column and the
// decision (round, school, pupil).
std::string DecisionReasonContext(const RoundContext& round,
                                  absl::string_view school,
                                  absl::string_view pupil_id);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_STORE_MEETING_STORE_H_
