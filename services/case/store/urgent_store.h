// Urgent reports (緊急・随時報告): raised about a case, routed to its lead,
// due for acknowledgement within the configured time. The open ones sit in
// partial indexes, so escalation lists stay fast however many acknowledged
// reports accumulate.
#ifndef KOSAPO_SERVICES_CASE_STORE_URGENT_STORE_H_
#define KOSAPO_SERVICES_CASE_STORE_URGENT_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "services/case/store/case_tx.h"

namespace kosapo::cases {

struct UrgentFilter {
  std::string municipality;
  // Reports of cases in these areas...
  std::vector<std::string> areas;
  // ...or routed to this subject, and the unassigned ones of `areas` for
  // this lead ("case_worker" / "consultation_desk").
  std::string routed_to;
  std::string lead;
  // Only those past due at `now`.
  bool overdue_only = false;
  absl::Time now;
  // Keyset: after (due time, id).
  int64_t after_due_us = 0;
  int64_t after_id = 0;
  int limit = 100;
};

class UrgentStore {
 public:
  // Descriptions and acknowledgement notes are sealed with `cipher`.
  UrgentStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // `may_raise` decides from the case's scope; `now` and `ack_within` set
  // raise and due time.
  absl::StatusOr<v1::UrgentReport> Raise(
      int64_t case_id, const v1::RaiseUrgentReportRequest& request,
      absl::Time now, absl::Duration ack_within, const Caller& caller,
      const Authorize& may_raise);
  // Acknowledging an acknowledged report returns it unchanged.
  // `may_acknowledge` gets the case scope and the report's routing.
  absl::StatusOr<v1::UrgentReport> Acknowledge(
      int64_t case_id, int64_t report_id, const std::string& note,
      absl::Time now, const Caller& caller,
      const std::function<absl::Status(
          const CaseScope&, const v1::UrgentReport&)>& may_acknowledge);
  // Up to filter.limit open reports with their due time in microseconds.
  // Descriptions are personal data: the cases of the first `audited` rows
  // are audited as read by `caller`.
  absl::StatusOr<std::vector<std::pair<int64_t, v1::UrgentReport>>> ListOpen(
      const UrgentFilter& filter, int audited, const Caller& caller);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_STORE_URGENT_STORE_H_
