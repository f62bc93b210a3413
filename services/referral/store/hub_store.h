// Hub usages in PostgreSQL: the application, the hearing and assessment,
// the centre director's decision, the pre-use interview, versioned support
// plans and their review, visits against the hub's opening hours and daily
// capacity, and the end of use. Every step is audited and appends its event
// to the outbox in the same transaction.
//
// The case service shows a child to a hub's operators once the child is
// enrolled there. A decision or an end records, in its own transaction,
// what the enrollment should be (hub_enrollments, not yet synced);
// SyncEnrollment then tells the case service and marks it synced, so a
// decision is never lost to an outage of the case service (see
// api/enrollment_sync.h for who calls it and when).
#ifndef KOSAPO_SERVICES_REFERRAL_STORE_HUB_STORE_H_
#define KOSAPO_SERVICES_REFERRAL_STORE_HUB_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/pg/pool.h"
#include "kosapo/referral/v1/referral.pb.h"
#include "services/referral/store/records.h"

namespace kosapo::referral {

// Where a usage belongs, without reading (or auditing) the rest.
struct UsageScope {
  std::string municipality;
  std::string case_name;
  std::string hub_code;
};

// PERMISSION_DENIED (or another error) unless the caller may do what they
// ask with `usage`; run on the usage as loaded (and locked for a write).
using UsageCheck = std::function<absl::Status(const v1::HubUsage& usage)>;

struct UsageFilter {
  std::string municipality;
  // Either or both.
  std::string hub_code;
  std::string case_name;
  v1::HubUsageState state = v1::HUB_USAGE_STATE_UNSPECIFIED;
  CreatedAfter after;
  int limit = 100;
};

class HubStore {
 public:
  // The free text of applications, assessments, decisions, interviews,
  // plans, reviews, ends and visits' problem notes is sealed with `cipher`.
  HubStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // A new application for `input.case` (whose area is `area_code`) at the
  // hub `input.hub_code` of `municipality`. ALREADY_EXISTS names the
  // child's application or usage at that hub that has not ended. A retry
  // with the caller's request id returns the first answer.
  absl::StatusOr<v1::HubUsage> CreateApplication(
      const std::string& municipality, const v1::HubUsage& input,
      const std::string& area_code, const Caller& caller);
  absl::StatusOr<UsageScope> ScopeOf(int64_t id);
  // The municipality of the hub with this code, or NOT_FOUND.
  absl::StatusOr<std::string> HubMunicipality(const std::string& hub_code);
  absl::StatusOr<v1::HubUsage> Get(int64_t id, const Caller& caller,
                                   const UsageCheck& may_read);

  // Each step checks `may_write` on the usage, is idempotent on the
  // request's request_id (a retry returns the usage as it is), checks the
  // etag when given, and applies the rules of domain/hub_rules.h.
  // `lead_role` is the role that leads the case's hearing now.
  absl::StatusOr<v1::HubUsage> RecordAssessment(
      int64_t id, const v1::RecordHubAssessmentRequest& request,
      const std::string& lead_role, absl::CivilDay today, const Caller& caller,
      const UsageCheck& may_write);
  absl::StatusOr<v1::HubUsage> Decide(int64_t id,
                                      const v1::DecideHubUsageRequest& request,
                                      absl::CivilDay today,
                                      const Caller& caller,
                                      const UsageCheck& may_write);
  absl::StatusOr<v1::HubUsage> RecordInterview(
      int64_t id, const v1::RecordPreUseInterviewRequest& request,
      absl::CivilDay today, const Caller& caller, const UsageCheck& may_write);
  absl::StatusOr<v1::HubUsage> RecordPlan(
      int64_t id, const v1::RecordHubSupportPlanRequest& request,
      absl::CivilDay today, const Caller& caller, const UsageCheck& may_write);
  absl::StatusOr<v1::HubUsage> ReviewPlan(
      int64_t id, const v1::ReviewHubSupportPlanRequest& request,
      absl::CivilDay today, const Caller& caller, const UsageCheck& may_write);
  // A retry with the same request id returns the visit first recorded.
  absl::StatusOr<v1::HubVisit> RecordVisit(
      int64_t id, const v1::RecordHubVisitRequest& request,
      absl::CivilDay today, const Caller& caller, const UsageCheck& may_write);
  absl::StatusOr<v1::HubUsage> End(int64_t id,
                                   const v1::EndHubUsageRequest& request,
                                   absl::CivilDay today, const Caller& caller,
                                   const UsageCheck& may_write);

  // Up to filter.limit + 1, oldest first; the first filter.limit audited.
  absl::StatusOr<std::vector<v1::HubUsage>> List(const UsageFilter& filter,
                                                 const Caller& caller);
  // The hub's visits from `from` to `to`, by date and arrival; audited as
  // a read of each usage whose visits are listed (they carry the notes of
  // problems seen on a child).
  absl::StatusOr<std::vector<v1::HubVisit>> ListVisits(
      const std::string& hub_code, absl::CivilDay from, absl::CivilDay to,
      const Caller& caller);

  // (case, hub) pairs whose enrollment the case service has not yet
  // recorded, longest waiting first.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  PendingEnrollments(int limit);
  // Tells the case service (through `send`, given whether the child should
  // be enrolled) about one pending pair while holding its row, so two
  // replicas never send out of order. True when the pair is in sync
  // afterwards; false when `send` failed (recorded for the next try) or
  // another replica is sending it now.
  absl::StatusOr<bool> SyncEnrollment(
      const std::string& case_name, const std::string& hub_code,
      const std::function<absl::Status(bool enrolled)>& send);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_STORE_HUB_STORE_H_
