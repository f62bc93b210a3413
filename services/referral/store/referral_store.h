// Referrals in PostgreSQL: a proposal linking a case to a support, its
// consents and its steps (append-only, with effective dates and who
// recorded them), the answer due date of a sent referral, revocation, and
// the lists that close the loop. Every change is audited and appends its
// event to the outbox in the same transaction. Who may act on the referral's
// case is decided before these calls (by the case service).
#ifndef KOSAPO_SERVICES_REFERRAL_STORE_REFERRAL_STORE_H_
#define KOSAPO_SERVICES_REFERRAL_STORE_REFERRAL_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/pg/pool.h"
#include "kosapo/referral/v1/referral.pb.h"
#include "services/referral/store/records.h"

namespace kosapo::referral {

// Where a referral belongs, without reading (or auditing) the rest.
struct ReferralScope {
  std::string municipality;
  std::string case_name;
};

struct ReferralFilter {
  std::string municipality;
  // The referrals of this case when set, else those `referred_by` proposed.
  std::string case_name;
  std::string referred_by;
  v1::ReferralState state = v1::REFERRAL_STATE_UNSPECIFIED;
  CreatedAfter after;
  int limit = 100;
};

struct OverdueFilter {
  std::string municipality;
  // Sent by this subject, or (for ward officers) of these areas.
  std::string referred_by;
  std::vector<std::string> areas;
  absl::CivilDay today;
  // Keyset: after (answer due date, id).
  absl::CivilDay after_due = absl::CivilDay(1, 1, 1);
  int64_t after_id = 0;
  int limit = 100;
};

class ReferralStore {
 public:
  // Purposes, step reasons and notes, and consent notes are sealed with
  // `cipher`.
  ReferralStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // A proposed referral of `input.case` (whose area is `area_code`) to
  // `input.support`, which must be a support of `municipality`.
  // ALREADY_EXISTS names an open referral of the case to the same support;
  // FAILED_PRECONDITION unless `case_open`. A retry with the caller's
  // request id returns the first answer, also once the case has closed.
  absl::StatusOr<v1::Referral> Create(const std::string& municipality,
                                      const v1::Referral& input,
                                      const std::string& area_code,
                                      bool case_open, const Caller& caller);
  absl::StatusOr<ReferralScope> ScopeOf(int64_t id);
  absl::StatusOr<v1::Referral> Get(int64_t id, const Caller& caller);

  // Writes are idempotent on the request's request_id (a retry returns the
  // referral as it is) and check its etag when given.
  absl::StatusOr<v1::Referral> RecordConsent(
      int64_t id, const v1::RecordReferralConsentRequest& request,
      absl::CivilDay today, const Caller& caller);
  absl::StatusOr<v1::Referral> ChangeState(
      int64_t id, const v1::ChangeReferralStateRequest& request,
      absl::CivilDay today, int answer_days, const Caller& caller);
  absl::StatusOr<v1::Referral> Revoke(int64_t id,
                                      const v1::RevokeReferralRequest& request,
                                      absl::CivilDay today,
                                      const Caller& caller);

  // Up to filter.limit + 1, oldest first; the first filter.limit audited.
  absl::StatusOr<std::vector<v1::Referral>> List(const ReferralFilter& filter,
                                                 const Caller& caller);
  // Up to filter.limit + 1, most overdue first.
  absl::StatusOr<std::vector<v1::OverdueReferral>> ListOverdue(
      const OverdueFilter& filter);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_STORE_REFERRAL_STORE_H_
