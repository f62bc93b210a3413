// The hub monthly report's rules on facts made up here: which month a visit
// and an urgent report count in (the municipality's days, not UTC's), the
// capacity and contract of each day when the directory changed during the
// month, children counted once however often they came, registrations and
// ends, urgent reports only while the child used the hub, and analysts
// seeing counts without the lists that name children.
#include "services/reporting/api/hub_report.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::reporting {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::StartsWith;
namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;

absl::TimeZone Tokyo() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Tokyo", &zone));
  return zone;
}

absl::Time At(absl::CivilSecond local) {
  return absl::FromCivil(local, Tokyo());
}

std::string Day(const kosapo::type::Date& date) { return DateToSql(date); }

HubVisitFact Visit(const std::string& usage, const std::string& case_name,
                   absl::CivilDay date, std::vector<std::string> services,
                   bool over_capacity = false, bool problem = false) {
  HubVisitFact visit;
  visit.visit = absl::StrCat(usage, "/visits/", date.day());
  visit.usage = usage;
  visit.case_name = case_name;
  visit.date = date;
  visit.services = std::move(services);
  visit.over_capacity = over_capacity;
  visit.problem_noted = problem;
  return visit;
}

HubUsageFact Usage(
    const std::string& usage, const std::string& case_name,
    std::optional<absl::CivilDay> start,
    std::optional<absl::CivilDay> end = std::nullopt,
    rv1::HubUsageEndReason reason = rv1::HUB_USAGE_END_REASON_UNSPECIFIED) {
  HubUsageFact fact;
  fact.usage = usage;
  fact.case_name = case_name;
  fact.start_date = start;
  fact.end_date = end;
  fact.end_reason = reason;
  fact.was_started = end.has_value() && start.has_value();
  return fact;
}

UrgentFact Urgent(const std::string& report, const std::string& case_name,
                  absl::CivilSecond local, cv1::UrgentCategory category) {
  return {report, case_name, category, At(local)};
}

// August 2024 at a hub of two places; on 15 August the city raised it to
// three and swapped a contract service.
HubReportInput August() {
  HubReportInput input;
  input.municipality = "27203";
  input.hub_code = "H-BB";
  input.month = absl::CivilMonth(2024, 8);
  input.time_zone = Tokyo();
  HubVersion first;
  first.change_time = At(absl::CivilSecond(2024, 4, 1, 9, 0, 0));
  first.display_name = "BBハウス";
  first.daily_capacity = 2;
  first.contract = {{"meal", "食事の提供"},
                    {"learning", "学習支援"},
                    {"outreach", "家庭訪問"}};
  HubVersion second = first;
  second.change_time = At(absl::CivilSecond(2024, 8, 15, 0, 30, 0));
  second.daily_capacity = 3;
  second.contract = {{"meal", "食事の提供"},
                     {"learning", "学習支援"},
                     {"consultation", "個別相談"}};
  input.facts.versions = {first, second};
  const absl::CivilDay d6(2024, 8, 6);
  const absl::CivilDay d7(2024, 8, 7);
  const absl::CivilDay d20(2024, 8, 20);
  input.facts.visits = {
      Visit("hubUsages/1", "cases/1", d6, {"meal", "learning"}),
      Visit("hubUsages/2", "cases/2", d6, {"meal", "outreach"}),
      Visit("hubUsages/1", "cases/1", d7, {"meal"}, false, true),
      Visit("hubUsages/2", "cases/2", d7, {"learning"}),
      Visit("hubUsages/3", "cases/3", d7, {"meal"}, true, true),
      // Three children on a day of three places (after the change).
      Visit("hubUsages/1", "cases/1", d20, {}),
      Visit("hubUsages/2", "cases/2", d20, {"consultation"}),
      Visit("hubUsages/3", "cases/3", d20, {"meal"}, false, true),
  };
  input.facts.usages = {
      Usage("hubUsages/1", "cases/1", absl::CivilDay(2024, 7, 30)),
      Usage("hubUsages/2", "cases/2", d6, absl::CivilDay(2024, 8, 21),
            rv1::HUB_USAGE_END_REASON_MOVED_AWAY),
      Usage("hubUsages/3", "cases/3", d7),
      Usage("hubUsages/4", "cases/4", std::nullopt, absl::CivilDay(2024, 8, 10),
            rv1::HUB_USAGE_END_REASON_FAMILY_DECLINED),
  };
  input.facts.urgent = {
      Urgent("cases/3/urgentReports/1", "cases/3",
             absl::CivilSecond(2024, 8, 7, 19, 0, 0),
             cv1::URGENT_CATEGORY_SIGNS_OF_ABUSE),
      // 23:30 on the last day in Tokyo is still August.
      Urgent("cases/1/urgentReports/1", "cases/1",
             absl::CivilSecond(2024, 8, 31, 23, 30, 0),
             cv1::URGENT_CATEGORY_URGENT_MEDICAL),
      // After the child's usage ended: not the hub's.
      Urgent("cases/2/urgentReports/1", "cases/2",
             absl::CivilSecond(2024, 8, 25, 12, 0, 0),
             cv1::URGENT_CATEGORY_OTHER),
      // The child never came.
      Urgent("cases/4/urgentReports/1", "cases/4",
             absl::CivilSecond(2024, 8, 9, 12, 0, 0),
             cv1::URGENT_CATEGORY_OTHER),
  };
  return input;
}

TEST(ParseMonth, TakesYyyyMmOnly) {
  auto month = ParseMonth("2024-08", "month");
  ASSERT_OK(month);
  EXPECT_EQ(*month, absl::CivilMonth(2024, 8));
  for (const char* bad :
       {"", "2024-8", "2024-13", "2024-00", "24-08", "2024/08", "2024-08-01",
        "1999-12", "２０２４-08", "+024-08"}) {
    EXPECT_THAT(
        ParseMonth(bad, "month"),
        StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("month: ")))
        << bad;
  }
}

TEST(MonthInstants, AreTheMunicipalitysMidnights) {
  const auto [from, to] = MonthInstants(absl::CivilMonth(2024, 8), Tokyo());
  EXPECT_EQ(from, absl::FromCivil(absl::CivilSecond(2024, 7, 31, 15, 0, 0),
                                  absl::UTCTimeZone()));
  EXPECT_EQ(to, absl::FromCivil(absl::CivilSecond(2024, 8, 31, 15, 0, 0),
                                absl::UTCTimeZone()));
}

TEST(BuildHubReport, CountsVisitsChildrenAndServices) {
  const v1::HubMonthlyReport report = BuildHubReport(August());
  EXPECT_EQ(report.month(), "2024-08");
  EXPECT_EQ(Day(report.first_day()), "2024-08-01");
  EXPECT_EQ(Day(report.last_day()), "2024-08-31");
  EXPECT_EQ(report.hub_display_name(), "BBハウス");
  EXPECT_EQ(report.daily_capacity(), 3);  // at the month's end
  EXPECT_EQ(report.visits(), 8);
  EXPECT_EQ(report.children(), 3);
  EXPECT_EQ(report.visit_days(), 3);
  // The contract at the month's end in its order, then what it dropped.
  std::vector<std::string> rows;
  for (const v1::HubServiceDelivered& service : report.services()) {
    rows.push_back(absl::StrCat(service.code(), " ", service.display_name(),
                                " ", service.visits(), "/", service.children(),
                                service.in_contract() ? "" : " dropped"));
  }
  EXPECT_THAT(
      rows, ElementsAre("meal 食事の提供 5/3", "learning 学習支援 2/2",
                        "consultation 個別相談 1/1", "outreach  1/1 dropped"));
}

TEST(BuildHubReport, FullDaysUseThatDaysCapacity) {
  const v1::HubMonthlyReport report = BuildHubReport(August());
  // 6 August: two of two places; 7 August: three of two (one let in over
  // capacity); 20 August: three of three, after the change.
  ASSERT_EQ(report.days_at_or_over_capacity(), 3);
  ASSERT_EQ(report.full_days_size(), 3);
  EXPECT_EQ(Day(report.full_days(0).date()), "2024-08-06");
  EXPECT_EQ(report.full_days(0).children(), 2);
  EXPECT_EQ(report.full_days(0).daily_capacity(), 2);
  EXPECT_EQ(report.full_days(0).over_capacity_visits(), 0);
  EXPECT_EQ(report.full_days(1).children(), 3);
  EXPECT_EQ(report.full_days(1).over_capacity_visits(), 1);
  EXPECT_EQ(Day(report.full_days(2).date()), "2024-08-20");
  EXPECT_EQ(report.full_days(2).daily_capacity(), 3);

  // With the capacity raised the evening before the month began, two
  // children no longer fill 6 August.
  HubReportInput input = August();
  input.facts.versions[1].change_time =
      At(absl::CivilSecond(2024, 7, 31, 23, 0, 0));
  const v1::HubMonthlyReport raised = BuildHubReport(input);
  ASSERT_EQ(raised.full_days_size(), 2);
  EXPECT_EQ(Day(raised.full_days(0).date()), "2024-08-07");
  EXPECT_EQ(raised.full_days(0).daily_capacity(), 3);
}

TEST(BuildHubReport, RegistrationsEndsAndRegisteredChildren) {
  const v1::HubMonthlyReport report = BuildHubReport(August());
  EXPECT_EQ(report.registration_count(), 2);
  ASSERT_EQ(report.registrations_size(), 2);
  EXPECT_EQ(report.registrations(0).usage(), "hubUsages/2");
  EXPECT_EQ(Day(report.registrations(0).start_date()), "2024-08-06");
  EXPECT_EQ(report.registrations(1).case_(), "cases/3");
  EXPECT_EQ(report.end_count(), 2);
  ASSERT_EQ(report.ends_size(), 2);
  EXPECT_EQ(report.ends(0).usage(), "hubUsages/4");
  EXPECT_EQ(report.ends(0).reason(), rv1::HUB_USAGE_END_REASON_FAMILY_DECLINED);
  EXPECT_FALSE(report.ends(0).was_started());
  EXPECT_EQ(report.ends(1).reason(), rv1::HUB_USAGE_END_REASON_MOVED_AWAY);
  EXPECT_TRUE(report.ends(1).was_started());
  ASSERT_EQ(report.end_reasons_size(), 2);
  EXPECT_EQ(report.end_reasons(0).reason(),
            rv1::HUB_USAGE_END_REASON_MOVED_AWAY);
  EXPECT_EQ(report.end_reasons(0).count(), 1);
  // Children 1 and 3 at the month's end; 2 left, 4 never came.
  EXPECT_EQ(report.registered_children(), 2);
}

TEST(BuildHubReport, UrgentReportsWhileTheChildUsedTheHub) {
  const v1::HubMonthlyReport report = BuildHubReport(August());
  EXPECT_EQ(report.urgent_report_count(), 2);
  ASSERT_EQ(report.urgent_reports_size(), 2);
  EXPECT_EQ(report.urgent_reports(0).report(), "cases/3/urgentReports/1");
  EXPECT_EQ(report.urgent_reports(0).usage(), "hubUsages/3");
  EXPECT_EQ(report.urgent_reports(1).report(), "cases/1/urgentReports/1");
  EXPECT_EQ(Day(report.urgent_reports(1).raise_date()), "2024-08-31");
  ASSERT_EQ(report.urgent_categories_size(), 2);
  EXPECT_EQ(report.urgent_categories(0).category(),
            cv1::URGENT_CATEGORY_SIGNS_OF_ABUSE);
  EXPECT_EQ(report.urgent_categories(1).category(),
            cv1::URGENT_CATEGORY_URGENT_MEDICAL);

  // Half an hour later it is September in Tokyo (still August in UTC).
  HubReportInput input = August();
  input.facts.urgent[1].raise_time = At(absl::CivilSecond(2024, 9, 1, 0, 0, 0));
  EXPECT_EQ(BuildHubReport(input).urgent_report_count(), 1);
}

TEST(BuildHubReport, FlaggedChildrenAsTheOperatorPresentsThem) {
  const v1::HubMonthlyReport report = BuildHubReport(August());
  EXPECT_EQ(report.flagged_child_count(), 2);
  ASSERT_EQ(report.flagged_children_size(), 2);
  const v1::HubFlaggedChild& first = report.flagged_children(0);
  EXPECT_EQ(first.usage(), "hubUsages/1");
  EXPECT_EQ(first.case_(), "cases/1");
  ASSERT_EQ(first.problem_dates_size(), 1);
  EXPECT_EQ(Day(first.problem_dates(0)), "2024-08-07");
  EXPECT_EQ(first.visits(), 3);
  EXPECT_EQ(first.urgent_reports(), 1);
  const v1::HubFlaggedChild& second = report.flagged_children(1);
  EXPECT_EQ(second.case_(), "cases/3");
  EXPECT_EQ(second.problem_dates_size(), 2);
  EXPECT_EQ(second.visits(), 2);
  EXPECT_EQ(second.urgent_reports(), 1);
}

TEST(BuildHubReport, AggregatesOnlyNameNoChild) {
  HubReportInput input = August();
  input.list_children = false;
  const v1::HubMonthlyReport counts = BuildHubReport(input);
  const v1::HubMonthlyReport full = BuildHubReport(August());
  EXPECT_FALSE(counts.children_listed());
  EXPECT_TRUE(full.children_listed());
  EXPECT_EQ(counts.registrations_size(), 0);
  EXPECT_EQ(counts.ends_size(), 0);
  EXPECT_EQ(counts.urgent_reports_size(), 0);
  EXPECT_EQ(counts.flagged_children_size(), 0);
  EXPECT_EQ(counts.registration_count(), full.registration_count());
  EXPECT_EQ(counts.end_count(), full.end_count());
  EXPECT_EQ(counts.urgent_report_count(), full.urgent_report_count());
  EXPECT_EQ(counts.flagged_child_count(), full.flagged_child_count());
  EXPECT_EQ(counts.services_size(), full.services_size());
  EXPECT_EQ(counts.DebugString().find("cases/"), std::string::npos);
}

}  // namespace
}  // namespace kosapo::reporting
