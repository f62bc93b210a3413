// The audit trail of a case's referrals and hub usages (table access_audit,
// appended by the other stores inside the transaction of each access), read
// back for the staff of the case.
#ifndef KOSAPO_SERVICES_REFERRAL_STORE_AUDIT_STORE_H_
#define KOSAPO_SERVICES_REFERRAL_STORE_AUDIT_STORE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/pg/pool.h"
#include "kosapo/referral/v1/referral.pb.h"
#include "services/referral/store/records.h"

namespace kosapo::referral {

// Whose trail to read: the referrals and hub usages of a case.
struct TrailQuery {
  std::string municipality;
  std::string case_name;  // "cases/{id}"
  int64_t before_id = 0;  // 0: from the newest
  int limit = 100;
};

// One entry of a trail with its row id (for the next page token).
using TrailEntry = std::pair<int64_t, v1::ReferralAuditEntry>;

class AuditStore {
 public:
  explicit AuditStore(pg::Pool& pool) : pool_(pool) {}

  // The audit rows of the case's referrals and hub usages, newest first: at
  // most `limit` + 1 (one more says another page follows). The read is
  // itself audited on the resources of the first `limit`, after the page
  // was taken, so the page shows the trail as it was before this call.
  absl::StatusOr<std::vector<TrailEntry>> Trail(const TrailQuery& query,
                                                const Caller& caller);

 private:
  pg::Pool& pool_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_STORE_AUDIT_STORE_H_
