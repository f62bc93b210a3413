// The rules of a child's use of a drop-in hub, apart from gRPC and SQL: each
// step of the Toyonaka flow in order, who leads or decides it, its dates,
// the visit's opening hours, contract services and the daily capacity.
//
//   applied ─▶ assessed ─▶ approved ─(first visit)─▶ in use ─▶ ended
//                    └───▶ rejected      └───────────────────────▲
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_HUB_RULES_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_HUB_RULES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "kosapo/referral/v1/referral.pb.h"

namespace kosapo::referral {

// The role wire names that lead a hearing: the case worker for children on
// the 要対協 register, the consultation desk otherwise.
inline constexpr char kCaseWorkerRole[] = "case_worker";
inline constexpr char kConsultationDeskRole[] = "consultation_desk";

// A new application: hub code, case name and the application itself.
absl::Status ValidateNewApplication(const v1::HubUsage& usage,
                                    absl::CivilDay today);

// The hearing and assessment, led by `lead_role` (the case's lead now) and
// recorded by a caller of `caller_role`: PERMISSION_DENIED for anyone but
// the lead's role; the usage must be applied. Returns the hearing date.
absl::StatusOr<absl::CivilDay> CheckAssessment(
    const v1::HubUsage& usage, const v1::HubAssessment& assessment,
    absl::string_view lead_role, absl::string_view caller_role,
    absl::CivilDay today);

// The centre director's decision on an assessed usage.
absl::Status CheckDecision(const v1::HubUsage& usage,
                           const v1::HubDecision& decision,
                           absl::CivilDay today);

// The pre-use interview: once, after approval, before the first visit.
absl::Status CheckInterview(const v1::HubUsage& usage,
                            const v1::PreUseInterview& interview,
                            absl::CivilDay today);

// A new plan version while the usage is approved or in use.
absl::Status CheckPlan(const v1::HubUsage& usage,
                       const v1::HubSupportPlan& plan, absl::CivilDay today);

// The city's review of plan `version`, once per version.
absl::Status CheckPlanReview(const v1::HubUsage& usage, int version,
                             const v1::HubPlanReview& review,
                             absl::CivilDay today);

// A visit's day and times, in minutes since local midnight.
struct VisitTimes {
  absl::CivilDay day;
  int arrival = 0;
  int departure = 0;
};

// A visit of an approved (interviewed) or in-use usage at `hub`: its day
// from the start date to today, within the hub's opening hours of that
// day, contract services only; a problem note only with the problem flag.
absl::StatusOr<VisitTimes> CheckVisit(const v1::HubUsage& usage,
                                      const v1::Support& hub,
                                      const v1::HubVisit& visit,
                                      absl::CivilDay today);

// Whether the visit takes the day over the hub's capacity, given how many
// other children came that day: FAILED_PRECONDITION with the count and the
// capacity unless `over_capacity_reason` says why the child was let in.
absl::StatusOr<bool> CheckCapacity(absl::CivilDay day, int other_children,
                                   int capacity,
                                   absl::string_view over_capacity_reason);

// The end of an approved or in-use usage, on or after the decision and
// `last_visit` (when there was one).
absl::Status CheckEnd(const v1::HubUsage& usage, const v1::HubUsageEnd& end,
                      std::optional<absl::CivilDay> last_visit,
                      absl::CivilDay today);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_HUB_RULES_H_
