// Cases and their histories in PostgreSQL: opening (from extractions or by
// staff), details, withdrawal, search, lists, approach status, outcomes,
// hub enrollment and the audit trail. Every change appends its event to the
// outbox in the same transaction.
#ifndef KOSAPO_SERVICES_CASE_STORE_CASE_STORE_H_
#define KOSAPO_SERVICES_CASE_STORE_CASE_STORE_H_

#include <cstdint>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "kosapo/screening/v1/events.pb.h"
#include "services/case/store/case_tx.h"

namespace kosapo::cases {

struct CaseFilter {
  std::string municipality;
  // Cases assigned to this subject (when set), else cases of `areas`.
  std::string assigned_to;
  std::vector<std::string> areas;
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;
  v1::ApproachStatus approach_status = v1::APPROACH_STATUS_UNSPECIFIED;
  // The page after the case created at `after_us` (microseconds since the
  // epoch) with id `after_id`; 0: the first page.
  int64_t after_us = 0;
  int64_t after_id = 0;
  int limit = 100;
};

class CaseStore {
 public:
  // Approach and outcome notes are sealed with `cipher`.
  CaseStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // Feed intake, inside the consumer's transaction. One case per
  // extraction: a re-delivered event changes nothing; a pupil extracted
  // again after a withdrawal gets the same case back.
  absl::Status ApplyExtraction(pqxx::work& tx, int64_t sequence,
                               const screening::v1::PupilExtracted& event);
  absl::Status ApplyExtractionWithdrawn(
      pqxx::work& tx, int64_t sequence,
      const screening::v1::ExtractionWithdrawn& event);

  // A case opened by staff. ALREADY_EXISTS names the open cases of the same
  // child (kana key and birth date) unless `duplicate_override` is given.
  // A retry with the same request id returns the first answer.
  absl::StatusOr<v1::Case> Create(const std::string& municipality,
                                  const v1::Case& c,
                                  const std::string& duplicate_override,
                                  const Caller& caller, bool assign_caller);
  absl::StatusOr<v1::Case> Get(int64_t id, const Caller& caller,
                               const Authorize& authorize);
  absl::StatusOr<v1::Case> Update(int64_t id, const v1::Case& changes,
                                  const std::vector<std::string>& mask,
                                  absl::CivilDay today, const Caller& caller,
                                  const Authorize& authorize);
  absl::StatusOr<v1::Case> Withdraw(int64_t id, const std::string& etag,
                                    const std::string& reason,
                                    const Caller& caller,
                                    const Authorize& authorize);

  // Cases (any state but withdrawn) of the child, oldest first.
  absl::StatusOr<std::vector<CaseRecord>> Search(
      const std::string& municipality, const std::string& kana_key,
      absl::CivilDay birth_date);

  // Up to filter.limit + 1 cases (the last one only tells that another
  // page follows), with assignees and hubs, household included: redact.
  // Audits the first filter.limit as read by `caller`.
  absl::StatusOr<std::vector<CaseRecord>> List(const CaseFilter& filter,
                                               const Caller& caller);

  absl::StatusOr<v1::Case> ChangeApproach(
      int64_t id, const v1::ChangeApproachStatusRequest& request,
      absl::CivilDay today, const Caller& caller, const Authorize& authorize);
  absl::StatusOr<v1::ApproachHistory> ApproachHistory(
      int64_t id, absl::CivilDay as_of, absl::Time known_at,
      const Caller& caller, const Authorize& authorize);
  absl::StatusOr<v1::Case> RecordOutcome(
      int64_t id, const v1::RecordOutcomeRequest& request, absl::CivilDay today,
      const Caller& caller, const Authorize& authorize);
  absl::StatusOr<v1::Case> Reopen(int64_t id,
                                  const v1::ReopenCaseRequest& request,
                                  absl::CivilDay today, const Caller& caller,
                                  const Authorize& authorize);

  absl::StatusOr<v1::Case> SetHubEnrollment(int64_t id,
                                            const std::string& hub_code,
                                            bool enrolled, const Caller& caller,
                                            const Authorize& authorize);

  // The case's scope and state, unaudited: no personal data leaves.
  absl::StatusOr<CaseRecord> Scope(int64_t id);

  // Audit rows of a case, newest first (by access time, then id), after the
  // row of access time `before_us` (microseconds) and id `before_id`
  // (before_id 0: from the newest).
  absl::StatusOr<std::vector<std::pair<int64_t, v1::AuditEntry>>> AuditTrail(
      int64_t id, int64_t before_us, int64_t before_id, int limit,
      const Caller& caller, const Authorize& authorize);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_STORE_CASE_STORE_H_
