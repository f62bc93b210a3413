// The hub usage flow step by step: the lead's hearing, the decision, the
// interview before the first visit, plans and their review, visits within
// opening hours and capacity, and the end.
#include "services/referral/domain/hub_rules.h"

#include <string>

#include "absl/time/civil_time.h"
#include "common/testing/status_matchers.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::referral {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Matches an OK absl::StatusOr holding `expected`.
MATCHER_P(HoldsValue, expected, "is OK and holds the value") {
  return arg.ok() && *arg == expected;
}

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kPrecondition =
    absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;
// A Tuesday in term time.
constexpr absl::CivilDay kToday(2024, 6, 11);

v1::HubUsage Applied() {
  v1::HubUsage usage;
  usage.set_name("hubUsages/5");
  usage.set_hub_code("H-BB");
  usage.set_case_("cases/9");
  usage.set_state(v1::HUB_USAGE_STATE_APPLIED);
  v1::HubApplication* application = usage.mutable_application();
  application->set_applicant(v1::APPLICANT_SCHOOL);
  *application->mutable_application_date() = DateToProto(kToday - 30);
  return usage;
}

v1::HubUsage Assessed() {
  v1::HubUsage usage = Applied();
  usage.set_state(v1::HUB_USAGE_STATE_ASSESSED);
  *usage.mutable_assessment()->mutable_hearing_date() =
      DateToProto(kToday - 25);
  return usage;
}

v1::HubUsage Approved(bool interviewed = true) {
  v1::HubUsage usage = Assessed();
  usage.set_state(v1::HUB_USAGE_STATE_APPROVED);
  usage.mutable_decision()->set_approved(true);
  *usage.mutable_decision()->mutable_decision_date() = DateToProto(kToday - 20);
  *usage.mutable_decision()->mutable_start_date() = DateToProto(kToday - 14);
  if (interviewed) {
    *usage.mutable_interview()->mutable_interview_date() =
        DateToProto(kToday - 15);
  }
  return usage;
}

v1::Support Hub() {
  v1::Support hub;
  hub.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  v1::OpeningHours* hours = hub.add_weekly_schedule();
  hours->set_weekday(v1::WEEKDAY_TUESDAY);
  hours->set_opens("16:00");
  hours->set_closes("21:00");
  hub.mutable_hub()->set_hub_code("H-BB");
  hub.mutable_hub()->set_daily_capacity(25);
  for (const char* code : {"meal", "learning"}) {
    v1::ContractService* service = hub.mutable_hub()->add_contract_services();
    service->set_code(code);
    service->set_display_name(code);
  }
  return hub;
}

v1::HubVisit Visit(absl::CivilDay day = kToday) {
  v1::HubVisit visit;
  *visit.mutable_visit_date() = DateToProto(day);
  visit.set_arrival_time("16:30");
  visit.set_departure_time("19:00");
  visit.add_services_delivered("meal");
  return visit;
}

TEST(ValidateNewApplication, NamesTheField) {
  v1::HubUsage usage = Applied();
  EXPECT_OK(ValidateNewApplication(usage, kToday));
  usage.mutable_application()->set_applicant(v1::APPLICANT_UNSPECIFIED);
  EXPECT_THAT(ValidateNewApplication(usage, kToday),
              StatusIs(kInvalid, StartsWith("usage.application.applicant: ")));
  usage = Applied();
  usage.set_case_("");
  EXPECT_THAT(ValidateNewApplication(usage, kToday),
              StatusIs(kInvalid, StartsWith("usage.case: ")));
  usage = Applied();
  *usage.mutable_application()->mutable_application_date() =
      DateToProto(kToday + 1);
  EXPECT_THAT(
      ValidateNewApplication(usage, kToday),
      StatusIs(kInvalid, StartsWith("usage.application.application_date: ")));
}

TEST(CheckAssessment, LedByTheCasesLeadOnly) {
  v1::HubAssessment assessment;
  *assessment.mutable_hearing_date() = DateToProto(kToday - 25);
  assessment.set_summary("放課後一人で過ごす時間が長い");
  EXPECT_THAT(CheckAssessment(Applied(), assessment, kCaseWorkerRole,
                              kConsultationDeskRole, kToday),
              StatusIs(kDenied, HasSubstr("led by the case worker")));
  EXPECT_THAT(CheckAssessment(Applied(), assessment, kConsultationDeskRole,
                              "ward_officer", kToday),
              StatusIs(kDenied, HasSubstr("led by the consultation desk")));
  EXPECT_THAT(CheckAssessment(Applied(), assessment, kCaseWorkerRole,
                              kCaseWorkerRole, kToday),
              HoldsValue(kToday - 25));
  EXPECT_THAT(CheckAssessment(Assessed(), assessment, kCaseWorkerRole,
                              kCaseWorkerRole, kToday),
              StatusIs(kPrecondition, StartsWith("hubUsages/5 is assessed")));
  *assessment.mutable_hearing_date() = DateToProto(kToday - 31);
  EXPECT_THAT(CheckAssessment(Applied(), assessment, kCaseWorkerRole,
                              kCaseWorkerRole, kToday),
              StatusIs(kInvalid, HasSubstr("before the application")));
}

TEST(CheckDecision, ApproveWithStartOrRejectWithReason) {
  v1::HubDecision decision;
  decision.set_approved(true);
  *decision.mutable_decision_date() = DateToProto(kToday - 20);
  EXPECT_THAT(CheckDecision(Applied(), decision, kToday),
              StatusIs(kPrecondition,
                       "hubUsages/5 is applied: record the hearing and "
                       "assessment first"));
  EXPECT_THAT(CheckDecision(Assessed(), decision, kToday),
              StatusIs(kInvalid, StartsWith("decision.start_date: ")));
  *decision.mutable_start_date() = DateToProto(kToday + 7);  // may be ahead
  EXPECT_OK(CheckDecision(Assessed(), decision, kToday));
  *decision.mutable_start_date() = DateToProto(kToday - 21);
  EXPECT_THAT(CheckDecision(Assessed(), decision, kToday),
              StatusIs(kInvalid, HasSubstr("before decision.decision_date")));
  decision.set_approved(false);
  decision.clear_start_date();
  EXPECT_THAT(CheckDecision(Assessed(), decision, kToday),
              StatusIs(kInvalid, "decision.reason: required"));
  decision.set_reason("定員超過のため");
  EXPECT_OK(CheckDecision(Assessed(), decision, kToday));
  EXPECT_THAT(CheckDecision(Approved(), decision, kToday),
              StatusIs(kPrecondition, HasSubstr("already decided")));
}

TEST(CheckInterview, OnceAfterApproval) {
  v1::PreUseInterview interview;
  *interview.mutable_interview_date() = DateToProto(kToday - 15);
  interview.set_notes("母と面談。夕食の準備が難しい日がある。");
  EXPECT_OK(CheckInterview(Approved(false), interview, kToday));
  EXPECT_THAT(CheckInterview(Approved(true), interview, kToday),
              StatusIs(kPrecondition, HasSubstr("already recorded")));
  EXPECT_THAT(CheckInterview(Assessed(), interview, kToday),
              StatusIs(kPrecondition, StartsWith("hubUsages/5 is assessed")));
  interview.clear_notes();
  EXPECT_THAT(CheckInterview(Approved(false), interview, kToday),
              StatusIs(kInvalid, "interview.notes: required"));
}

TEST(CheckPlan, GoalsWhileApprovedOrInUse) {
  v1::HubSupportPlan plan;
  *plan.mutable_plan_date() = DateToProto(kToday - 10);
  EXPECT_THAT(CheckPlan(Approved(), plan, kToday),
              StatusIs(kInvalid, "plan.goals: 1-20 goals"));
  plan.add_goals("宿題を毎日終える");
  plan.set_child_wishes("友だちと遊びたい");
  EXPECT_OK(CheckPlan(Approved(), plan, kToday));
  EXPECT_THAT(CheckPlan(Assessed(), plan, kToday),
              StatusIs(kPrecondition, HasSubstr("is assessed")));
}

TEST(CheckPlanReview, OncePerExistingVersion) {
  v1::HubUsage usage = Approved();
  v1::HubSupportPlan* plan = usage.add_plans();
  plan->set_version(1);
  *plan->mutable_plan_date() = DateToProto(kToday - 10);
  v1::HubPlanReview review;
  *review.mutable_review_date() = DateToProto(kToday - 5);
  EXPECT_OK(CheckPlanReview(usage, 1, review, kToday));
  EXPECT_THAT(CheckPlanReview(usage, 2, review, kToday),
              StatusIs(kInvalid, "version: hubUsages/5 has no plan version 2"));
  *review.mutable_review_date() = DateToProto(kToday - 11);
  EXPECT_THAT(CheckPlanReview(usage, 1, review, kToday),
              StatusIs(kInvalid, HasSubstr("before the plan")));
  *plan->mutable_review()->mutable_review_date() = DateToProto(kToday - 5);
  EXPECT_THAT(CheckPlanReview(usage, 1, review, kToday),
              StatusIs(kPrecondition, HasSubstr("already reviewed")));
}

TEST(CheckVisit, NeedsTheInterviewAndTheStartDate) {
  EXPECT_THAT(CheckVisit(Approved(false), Hub(), Visit(), kToday),
              StatusIs(kPrecondition, HasSubstr("pre-use interview")));
  EXPECT_THAT(CheckVisit(Assessed(), Hub(), Visit(), kToday),
              StatusIs(kPrecondition, HasSubstr("is assessed")));
  // A Tuesday before the approved start date.
  EXPECT_THAT(CheckVisit(Approved(), Hub(), Visit(kToday - 21), kToday),
              StatusIs(kInvalid, HasSubstr("before the approved start date")));
  auto times = CheckVisit(Approved(), Hub(), Visit(), kToday);
  ASSERT_OK(times);
  EXPECT_EQ(times->day, kToday);
  EXPECT_EQ(times->arrival, 16 * 60 + 30);
  EXPECT_EQ(times->departure, 19 * 60);
}

TEST(CheckVisit, WithinOpeningHoursAndContractServices) {
  v1::HubVisit visit = Visit();
  visit.set_arrival_time("15:00");
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid, StartsWith("visit.arrival_time: 15:00")));
  visit = Visit(kToday - 1);  // a Monday: closed
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid, StartsWith("visit.visit_date: the hub is "
                                            "closed")));
  visit = Visit();
  visit.add_services_delivered("karaoke");
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid,
                       "visit.services_delivered[1]: \"karaoke\" is not a "
                       "contract service of hub H-BB"));
  visit = Visit();
  visit.add_services_delivered("meal");
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid, "visit.services_delivered[1]: listed twice"));
  visit = Visit();
  visit.set_departure_time("7pm");
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid, StartsWith("visit.departure_time: ")));
}

TEST(CheckVisit, AProblemNoteNeedsTheFlag) {
  v1::HubVisit visit = Visit();
  visit.set_problem_note("腕にあざがあった");
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid, StartsWith("visit.problem_note: ")));
  visit.set_problem_noted(true);
  EXPECT_OK(CheckVisit(Approved(), Hub(), visit, kToday));
  visit.set_problem_note(std::string(2001, 'x'));
  EXPECT_THAT(CheckVisit(Approved(), Hub(), visit, kToday),
              StatusIs(kInvalid, StartsWith("visit.problem_note: ")));
  // The flag alone is enough: the operator may tell the city in person.
  visit.clear_problem_note();
  EXPECT_OK(CheckVisit(Approved(), Hub(), visit, kToday));
}

TEST(CheckCapacity, RefusesAFullDayUnlessOverridden) {
  EXPECT_THAT(CheckCapacity(kToday, 24, 25, ""), HoldsValue(false));
  EXPECT_THAT(CheckCapacity(kToday, 25, 25, ""),
              StatusIs(kPrecondition,
                       "visit.visit_date: the hub is full on 2024-06-11: 25 "
                       "children already came and the daily capacity is 25; "
                       "give visit.over_capacity_reason to let this child in"));
  EXPECT_THAT(CheckCapacity(kToday, 25, 25, "\u3000"), StatusIs(kPrecondition));
  EXPECT_THAT(CheckCapacity(kToday, 25, 25, "緊急の預かり"), HoldsValue(true));
}

TEST(CheckEnd, ReasonAndNotBeforeTheLastVisit) {
  v1::HubUsage usage = Approved();
  usage.set_state(v1::HUB_USAGE_STATE_IN_USE);
  v1::HubUsageEnd end;
  *end.mutable_end_date() = DateToProto(kToday);
  EXPECT_THAT(CheckEnd(usage, end, kToday - 2, kToday),
              StatusIs(kInvalid, StartsWith("end.reason: ")));
  end.set_reason(v1::HUB_USAGE_END_REASON_OTHER);
  EXPECT_THAT(CheckEnd(usage, end, kToday - 2, kToday),
              StatusIs(kInvalid, "end.note: required"));
  end.set_reason(v1::HUB_USAGE_END_REASON_GOALS_REACHED);
  EXPECT_OK(CheckEnd(usage, end, kToday - 2, kToday));
  *end.mutable_end_date() = DateToProto(kToday - 3);
  EXPECT_THAT(CheckEnd(usage, end, kToday - 2, kToday),
              StatusIs(kInvalid, HasSubstr("before the last visit")));
  // Ending before the first visit is allowed (the family declined).
  EXPECT_OK(CheckEnd(Approved(), end, std::nullopt, kToday));
  usage.set_state(v1::HUB_USAGE_STATE_ENDED);
  EXPECT_THAT(CheckEnd(usage, end, std::nullopt, kToday),
              StatusIs(kPrecondition, HasSubstr("is ended")));
}

}  // namespace
}  // namespace kosapo::referral
