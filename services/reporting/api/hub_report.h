// Assembles a hub's monthly report (GetHubMonthlyReport) from the facts the
// projections hold about the hub, its usages, visits and urgent reports.
// No I/O: the store reads the facts, this decides what counts.
//
// The rules: a visit counts in the month of its date; a child is a case
// (one child may have had two usages of the hub); the hub's capacity and
// contract of a day are those of the directory's last change made on or
// before that day (its first version for earlier days); an urgent report
// counts when it was raised in the month, in the municipality's time zone,
// on a day a usage of its case at the hub had started and not yet ended.
#ifndef KOSAPO_SERVICES_REPORTING_API_HUB_REPORT_H_
#define KOSAPO_SERVICES_REPORTING_API_HUB_REPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kosapo/reporting/v1/reporting.pb.h"

namespace kosapo::reporting {

// The hub as the directory described it after one change.
struct HubVersion {
  absl::Time change_time;
  std::string display_name;
  int daily_capacity = 0;
  // (code, display name), in the contract's order.
  std::vector<std::pair<std::string, std::string>> contract;
};

struct HubVisitFact {
  std::string visit;
  std::string usage;
  // "" when the usage was never seen (the visit then counts as its own
  // child, by usage).
  std::string case_name;
  absl::CivilDay date;
  std::vector<std::string> services;
  bool over_capacity = false;
  bool problem_noted = false;
};

struct HubUsageFact {
  std::string usage;
  std::string case_name;
  std::optional<absl::CivilDay> start_date;
  std::optional<absl::CivilDay> end_date;
  referral::v1::HubUsageEndReason end_reason =
      referral::v1::HUB_USAGE_END_REASON_UNSPECIFIED;
  bool was_started = false;
};

struct UrgentFact {
  std::string report;
  std::string case_name;
  cases::v1::UrgentCategory category = cases::v1::URGENT_CATEGORY_UNSPECIFIED;
  absl::Time raise_time;
};

// What the store reads for one hub and month.
struct HubMonthFacts {
  // Every version of the hub, oldest change first; empty: no such hub.
  std::vector<HubVersion> versions;
  // The month's visits, by date.
  std::vector<HubVisitFact> visits;
  // The usages that ran during the month (started on or before its last
  // day and not ended before its first) or ended in it.
  std::vector<HubUsageFact> usages;
  // Urgent reports raised in the month for cases with a usage of the hub.
  std::vector<UrgentFact> urgent;
};

struct HubReportInput {
  std::string municipality;
  std::string hub_code;
  absl::CivilMonth month;
  absl::TimeZone time_zone;
  HubMonthFacts facts;
  // False for callers who see aggregates only: counts without the lists
  // that name usages and cases.
  bool list_children = true;
};

// "2024-08" -> 2024-08; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text,
                                            absl::string_view field);

// The first day of `month` and the day after its last, as instants in
// `zone`: the range of urgent reports' raise times to read.
std::pair<absl::Time, absl::Time> MonthInstants(absl::CivilMonth month,
                                                absl::TimeZone zone);

// The report. `input.facts.versions` must not be empty.
v1::HubMonthlyReport BuildHubReport(const HubReportInput& input);

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_API_HUB_REPORT_H_
