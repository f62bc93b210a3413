// The records of the work on a case: conferences (and the persons in charge
// they choose), versioned assessments and support plans, the contact log.
#ifndef KOSAPO_SERVICES_CASE_STORE_WORK_STORE_H_
#define KOSAPO_SERVICES_CASE_STORE_WORK_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "services/case/store/case_tx.h"

namespace kosapo::cases {

struct OverdueFilter {
  std::string municipality;
  // Cases of these areas, or (when set) assigned to this subject.
  std::vector<std::string> areas;
  std::string assigned_to;
  absl::CivilDay today;
  // Keyset: after (review date, case id).
  std::string after_review;  // "" or "2024-03-31"
  int64_t after_id = 0;
  int limit = 100;
};

class WorkStore {
 public:
  // The free text of conferences, assessments, plans and contacts is
  // sealed with `cipher`.
  WorkStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // Each write is idempotent on the request's request_id and checks the
  // case's etag when one is given. Dates are checked against `today` and
  // the case's opening date.
  absl::StatusOr<v1::Conference> RecordConference(
      int64_t id, const v1::RecordConferenceRequest& request,
      absl::CivilDay today, const Caller& caller, const Authorize& authorize);
  absl::StatusOr<std::vector<v1::Conference>> ListConferences(
      int64_t id, const Caller& caller, const Authorize& authorize);

  absl::StatusOr<v1::Assessment> RecordAssessment(
      int64_t id, const v1::RecordAssessmentRequest& request,
      absl::CivilDay today, const Caller& caller, const Authorize& authorize);
  absl::StatusOr<std::vector<v1::Assessment>> ListAssessments(
      int64_t id, const Caller& caller, const Authorize& authorize);

  absl::StatusOr<v1::SupportPlan> RecordSupportPlan(
      int64_t id, const v1::RecordSupportPlanRequest& request,
      absl::CivilDay today, const Caller& caller, const Authorize& authorize);
  absl::StatusOr<std::vector<v1::SupportPlan>> ListSupportPlans(
      int64_t id, const Caller& caller, const Authorize& authorize);
  absl::StatusOr<std::vector<v1::OverdueReview>> ListOverdueReviews(
      const OverdueFilter& filter);

  absl::StatusOr<v1::Contact> RecordContact(
      int64_t id, const v1::RecordContactRequest& request, absl::CivilDay today,
      const Caller& caller, const Authorize& authorize);
  // Newest first, by creation time (ids do not follow it): those created
  // before the contact created at `before_us` (microseconds since the
  // epoch) with id `before_id`; `before_id` 0 for the first page.
  absl::StatusOr<std::vector<v1::Contact>> ListContacts(
      int64_t id, int64_t before_us, int64_t before_id, int limit,
      const Caller& caller, const Authorize& authorize);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_STORE_WORK_STORE_H_
