// The hub usage flow: each step's preconditions, dates and limits.
#include "services/referral/domain/hub_rules.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/types/api_types.h"
#include "services/referral/domain/enum_text.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/schedule.h"

namespace kosapo::referral {
namespace {

// FAILED_PRECONDITION naming the usage's state and what comes first.
absl::Status NotNow(const v1::HubUsage& usage, absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat(usage.name(), " is ", ToText(usage.state()), ": ", what));
}

// Stored by an earlier step from a validated date.
absl::CivilDay Day(const kosapo::type::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

bool IsOpen(const v1::HubUsage& usage) {
  return usage.state() == v1::HUB_USAGE_STATE_APPROVED ||
         usage.state() == v1::HUB_USAGE_STATE_IN_USE;
}

}  // namespace

absl::Status ValidateNewApplication(const v1::HubUsage& usage,
                                    absl::CivilDay today) {
  if (absl::Status s = ValidateCode(usage.hub_code(), 40, "usage.hub_code");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ParseResourceName(usage.case_(), kCases, "usage.case").status();
      !s.ok()) {
    return s;
  }
  const v1::HubApplication& application = usage.application();
  if (application.applicant() == v1::APPLICANT_UNSPECIFIED ||
      !v1::Applicant_IsValid(application.applicant())) {
    return Invalid("usage.application.applicant",
                   "required: school, city, local group or agency");
  }
  if (absl::Status s = ValidateText(application.applicant_detail(), 200, false,
                                    "usage.application.applicant_detail");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          EffectiveDate(application.application_date(),
                        "usage.application.application_date", today)
              .status();
      !s.ok()) {
    return s;
  }
  return ValidateText(application.reason(), 2000, false,
                      "usage.application.reason");
}

absl::StatusOr<absl::CivilDay> CheckAssessment(
    const v1::HubUsage& usage, const v1::HubAssessment& assessment,
    absl::string_view lead_role, absl::string_view caller_role,
    absl::CivilDay today) {
  if (caller_role != lead_role) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the hearing and assessment for this child is led by the ",
        lead_role == kCaseWorkerRole
            ? "case worker (the child is on the 要対協 register)"
            : "consultation desk (the child is not on the 要対協 register)"));
  }
  if (usage.state() != v1::HUB_USAGE_STATE_APPLIED) {
    return NotNow(usage,
                  "the hearing and assessment is recorded once, "
                  "right after the application");
  }
  auto hearing = EffectiveDate(
      assessment.hearing_date(), "assessment.hearing_date", today,
      Day(usage.application().application_date()), "the application");
  if (!hearing.ok()) {
    return hearing.status();
  }
  if (absl::Status s =
          ValidateText(assessment.summary(), 4000, true, "assessment.summary");
      !s.ok()) {
    return s;
  }
  return *hearing;
}

absl::Status CheckDecision(const v1::HubUsage& usage,
                           const v1::HubDecision& decision,
                           absl::CivilDay today) {
  if (usage.state() == v1::HUB_USAGE_STATE_APPLIED) {
    return NotNow(usage, "record the hearing and assessment first");
  }
  if (usage.state() != v1::HUB_USAGE_STATE_ASSESSED) {
    return NotNow(usage, "the usage was already decided");
  }
  auto decided =
      EffectiveDate(decision.decision_date(), "decision.decision_date", today,
                    Day(usage.assessment().hearing_date()), "the hearing");
  if (!decided.ok()) {
    return decided.status();
  }
  if (decision.approved()) {
    auto start = DateFromProto(decision.start_date(), "decision.start_date");
    if (!start.ok()) {
      return start.status();
    }
    if (*start < *decided) {
      return Invalid("decision.start_date",
                     "must not be before decision.decision_date");
    }
    if (*start > *decided + 366) {
      return Invalid("decision.start_date",
                     "at most a year after decision.decision_date");
    }
    if (!decision.reason().empty()) {
      return Invalid("decision.reason", "only for a rejection");
    }
    return absl::OkStatus();
  }
  if (decision.has_start_date()) {
    return Invalid("decision.start_date", "only for an approval");
  }
  return ValidateText(decision.reason(), 1000, true, "decision.reason");
}

absl::Status CheckInterview(const v1::HubUsage& usage,
                            const v1::PreUseInterview& interview,
                            absl::CivilDay today) {
  if (usage.state() != v1::HUB_USAGE_STATE_APPROVED) {
    return NotNow(usage,
                  "the interview with the guardian comes after the "
                  "approval and before the first visit");
  }
  if (usage.has_interview()) {
    return NotNow(usage, "the pre-use interview is already recorded");
  }
  if (absl::Status s =
          EffectiveDate(interview.interview_date(), "interview.interview_date",
                        today, Day(usage.decision().decision_date()),
                        "the decision")
              .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateText(interview.notes(), 4000, true, "interview.notes");
      !s.ok()) {
    return s;
  }
  return ValidateText(interview.troubles_beyond_hub(), 4000, false,
                      "interview.troubles_beyond_hub");
}

absl::Status CheckPlan(const v1::HubUsage& usage,
                       const v1::HubSupportPlan& plan, absl::CivilDay today) {
  if (!IsOpen(usage)) {
    return NotNow(usage, "a support plan is for an approved or in-use usage");
  }
  if (absl::Status s =
          EffectiveDate(plan.plan_date(), "plan.plan_date", today,
                        Day(usage.decision().decision_date()), "the decision")
              .status();
      !s.ok()) {
    return s;
  }
  if (plan.goals().empty() || plan.goals_size() > 20) {
    return Invalid("plan.goals", "1-20 goals");
  }
  for (int i = 0; i < plan.goals_size(); ++i) {
    if (absl::Status s = ValidateText(plan.goals(i), 500, true,
                                      absl::StrCat("plan.goals[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          ValidateText(plan.child_wishes(), 2000, false, "plan.child_wishes");
      !s.ok()) {
    return s;
  }
  return ValidateText(plan.guardian_wishes(), 2000, false,
                      "plan.guardian_wishes");
}

absl::Status CheckPlanReview(const v1::HubUsage& usage, int version,
                             const v1::HubPlanReview& review,
                             absl::CivilDay today) {
  const v1::HubSupportPlan* plan = nullptr;
  for (const v1::HubSupportPlan& candidate : usage.plans()) {
    if (candidate.version() == version) {
      plan = &candidate;
    }
  }
  if (plan == nullptr) {
    return Invalid("version", absl::StrCat(usage.name(),
                                           " has no plan version ", version));
  }
  if (plan->has_review()) {
    return absl::FailedPreconditionError(absl::StrCat("plan version ", version,
                                                      " of ", usage.name(),
                                                      " is already reviewed"));
  }
  if (absl::Status s = EffectiveDate(review.review_date(), "review.review_date",
                                     today, Day(plan->plan_date()), "the plan")
                           .status();
      !s.ok()) {
    return s;
  }
  return ValidateText(review.advice(), 2000, false, "review.advice");
}

absl::StatusOr<VisitTimes> CheckVisit(const v1::HubUsage& usage,
                                      const v1::Support& hub,
                                      const v1::HubVisit& visit,
                                      absl::CivilDay today) {
  if (!IsOpen(usage)) {
    return NotNow(usage, "visits are recorded for an approved usage");
  }
  if (!usage.has_interview()) {
    return NotNow(usage,
                  "record the pre-use interview with the guardian before the "
                  "first visit");
  }
  VisitTimes times;
  auto day = EffectiveDate(visit.visit_date(), "visit.visit_date", today,
                           Day(usage.decision().start_date()),
                           "the approved start date");
  if (!day.ok()) {
    return day.status();
  }
  times.day = *day;
  auto arrival = ParseClock(visit.arrival_time(), false, "visit.arrival_time");
  if (!arrival.ok()) {
    return arrival.status();
  }
  auto departure =
      ParseClock(visit.departure_time(), true, "visit.departure_time");
  if (!departure.ok()) {
    return departure.status();
  }
  times.arrival = *arrival;
  times.departure = *departure;
  if (absl::Status s = CheckWithinOpeningHours(hub, times.day, times.arrival,
                                               times.departure, "visit.");
      !s.ok()) {
    return s;
  }
  std::set<std::string> contract;
  for (const v1::ContractService& service : hub.hub().contract_services()) {
    contract.insert(service.code());
  }
  std::set<std::string> delivered;
  for (int i = 0; i < visit.services_delivered_size(); ++i) {
    const std::string f = absl::StrCat("visit.services_delivered[", i, "]");
    if (contract.count(visit.services_delivered(i)) == 0) {
      return Invalid(f, absl::StrCat("\"", visit.services_delivered(i),
                                     "\" is not a contract service of hub ",
                                     hub.hub().hub_code()));
    }
    if (!delivered.insert(visit.services_delivered(i)).second) {
      return Invalid(f, "listed twice");
    }
  }
  if (absl::Status s = ValidateText(visit.over_capacity_reason(), 500, false,
                                    "visit.over_capacity_reason");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateText(visit.problem_note(), 2000, false, "visit.problem_note");
      !s.ok()) {
    return s;
  }
  // A note without the flag would be a problem the monthly report never
  // shows.
  if (!visit.problem_noted() && !visit.problem_note().empty()) {
    return Invalid("visit.problem_note",
                   "set visit.problem_noted to record what the problem was");
  }
  return times;
}

absl::StatusOr<bool> CheckCapacity(absl::CivilDay day, int other_children,
                                   int capacity,
                                   absl::string_view over_capacity_reason) {
  if (other_children < capacity) {
    return false;
  }
  if (ValidateText(over_capacity_reason, 500, true, "").ok()) {
    return true;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "visit.visit_date: the hub is full on ", absl::FormatCivilTime(day), ": ",
      other_children, " children already came and the daily capacity is ",
      capacity, "; give visit.over_capacity_reason to let this child in"));
}

absl::Status CheckEnd(const v1::HubUsage& usage, const v1::HubUsageEnd& end,
                      std::optional<absl::CivilDay> last_visit,
                      absl::CivilDay today) {
  if (!IsOpen(usage)) {
    return NotNow(usage, "only an approved or in-use usage ends");
  }
  if (end.reason() == v1::HUB_USAGE_END_REASON_UNSPECIFIED ||
      !v1::HubUsageEndReason_IsValid(end.reason())) {
    return Invalid("end.reason",
                   "required: goals reached, moved away, family declined, "
                   "transferred or other");
  }
  if (absl::Status s = ValidateText(
          end.note(), 1000, end.reason() == v1::HUB_USAGE_END_REASON_OTHER,
          "end.note");
      !s.ok()) {
    return s;
  }
  absl::CivilDay not_before = Day(usage.decision().decision_date());
  absl::string_view what = "the decision";
  if (last_visit.has_value() && *last_visit > not_before) {
    not_before = *last_visit;
    what = "the last visit";
  }
  return EffectiveDate(end.end_date(), "end.end_date", today, not_before, what)
      .status();
}

}  // namespace kosapo::referral
