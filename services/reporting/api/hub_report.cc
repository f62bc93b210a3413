#include "services/reporting/api/hub_report.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/types/api_types.h"

namespace kosapo::reporting {
namespace {

// The version in force on `day`: the last change made on or before it,
// else (a day before the hub was entered) the first.
const HubVersion& VersionOn(const std::vector<HubVersion>& versions,
                            absl::CivilDay day, absl::TimeZone zone) {
  const HubVersion* found = &versions.front();
  for (const HubVersion& version : versions) {
    if (absl::ToCivilDay(version.change_time, zone) <= day) {
      found = &version;
    }
  }
  return *found;
}

// Who a visit counts as: the case, or the usage when the case is unknown.
const std::string& ChildOf(const HubVisitFact& visit) {
  return visit.case_name.empty() ? visit.usage : visit.case_name;
}

// Resource names of one collection in the order of their ids
// ("hubUsages/9" before "hubUsages/10"): a stable tie-break, not creation
// order (ids are a keyed permutation, services/referral/migrations/0005).
bool NameLess(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

bool Within(const std::optional<absl::CivilDay>& day, absl::CivilDay first,
            absl::CivilDay last) {
  return day.has_value() && first <= *day && *day <= last;
}

// The usage of `case_name` running on `day` (started on or before it, not
// ended before it), if any.
const HubUsageFact* RunningOn(const std::vector<HubUsageFact>& usages,
                              const std::string& case_name,
                              absl::CivilDay day) {
  for (const HubUsageFact& usage : usages) {
    if (usage.case_name == case_name && usage.start_date.has_value() &&
        *usage.start_date <= day &&
        (!usage.end_date.has_value() || day <= *usage.end_date)) {
      return &usage;
    }
  }
  return nullptr;
}

struct ServiceTally {
  int64_t visits = 0;
  std::set<std::string> children;
};

struct DayTally {
  std::set<std::string> children;
  int64_t over_capacity = 0;
};

void AddVisits(const HubReportInput& input, absl::CivilDay last,
               v1::HubMonthlyReport& out) {
  std::set<std::string> children;
  std::map<absl::CivilDay, DayTally> days;
  std::map<std::string, ServiceTally> services;
  for (const HubVisitFact& visit : input.facts.visits) {
    children.insert(ChildOf(visit));
    DayTally& day = days[visit.date];
    day.children.insert(ChildOf(visit));
    day.over_capacity += visit.over_capacity ? 1 : 0;
    for (const std::string& code : visit.services) {
      ServiceTally& tally = services[code];
      ++tally.visits;
      tally.children.insert(ChildOf(visit));
    }
  }
  out.set_visits(static_cast<int64_t>(input.facts.visits.size()));
  out.set_children(static_cast<int64_t>(children.size()));
  out.set_visit_days(static_cast<int64_t>(days.size()));

  // The contract in force at the month's end, in its order, then anything
  // else delivered during the month (a service the contract dropped).
  const HubVersion& at_end =
      VersionOn(input.facts.versions, last, input.time_zone);
  std::set<std::string> listed;
  auto add_service = [&](const std::string& code, const std::string& name,
                         bool in_contract) {
    v1::HubServiceDelivered* service = out.add_services();
    service->set_code(code);
    service->set_display_name(name);
    service->set_in_contract(in_contract);
    const auto found = services.find(code);
    if (found != services.end()) {
      service->set_visits(found->second.visits);
      service->set_children(
          static_cast<int64_t>(found->second.children.size()));
    }
    listed.insert(code);
  };
  for (const auto& [code, name] : at_end.contract) {
    add_service(code, name, true);
  }
  for (const auto& [code, tally] : services) {
    if (listed.count(code) == 0) {
      add_service(code, "", false);
    }
  }

  for (const auto& [date, tally] : days) {
    const int capacity =
        VersionOn(input.facts.versions, date, input.time_zone).daily_capacity;
    const auto count = static_cast<int64_t>(tally.children.size());
    if (count < capacity) {
      continue;
    }
    v1::HubFullDay* full = out.add_full_days();
    *full->mutable_date() = DateToProto(date);
    full->set_children(count);
    full->set_daily_capacity(capacity);
    full->set_over_capacity_visits(tally.over_capacity);
  }
  out.set_days_at_or_over_capacity(out.full_days_size());
}

void AddUsages(const HubReportInput& input, absl::CivilDay first,
               absl::CivilDay last, v1::HubMonthlyReport& out) {
  std::vector<const HubUsageFact*> started;
  std::vector<const HubUsageFact*> ended;
  std::set<std::string> registered;
  std::map<int, int64_t> reasons;
  for (const HubUsageFact& usage : input.facts.usages) {
    if (Within(usage.start_date, first, last)) {
      started.push_back(&usage);
    }
    if (Within(usage.end_date, first, last)) {
      ended.push_back(&usage);
      ++reasons[usage.end_reason];
    }
    if (usage.start_date.has_value() && *usage.start_date <= last &&
        (!usage.end_date.has_value() || *usage.end_date > last)) {
      registered.insert(usage.case_name);
    }
  }
  out.set_registered_children(static_cast<int64_t>(registered.size()));
  out.set_registration_count(static_cast<int64_t>(started.size()));
  out.set_end_count(static_cast<int64_t>(ended.size()));
  for (const auto& [reason, count] : reasons) {
    v1::HubEndReasonCount* entry = out.add_end_reasons();
    entry->set_reason(static_cast<referral::v1::HubUsageEndReason>(reason));
    entry->set_count(count);
  }
  if (!input.list_children) {
    return;
  }
  auto by = [](const std::optional<absl::CivilDay> HubUsageFact::*day) {
    return [day](const HubUsageFact* a, const HubUsageFact* b) {
      return *(a->*day) != *(b->*day) ? *(a->*day) < *(b->*day)
                                      : NameLess(a->usage, b->usage);
    };
  };
  std::sort(started.begin(), started.end(), by(&HubUsageFact::start_date));
  std::sort(ended.begin(), ended.end(), by(&HubUsageFact::end_date));
  for (const HubUsageFact* usage : started) {
    v1::HubRegistration* entry = out.add_registrations();
    entry->set_usage(usage->usage);
    entry->set_case_(usage->case_name);
    *entry->mutable_start_date() = DateToProto(*usage->start_date);
  }
  for (const HubUsageFact* usage : ended) {
    v1::HubUsageEnding* entry = out.add_ends();
    entry->set_usage(usage->usage);
    entry->set_case_(usage->case_name);
    *entry->mutable_end_date() = DateToProto(*usage->end_date);
    entry->set_reason(usage->end_reason);
    entry->set_was_started(usage->was_started);
  }
}

// The urgent reports that count; returns how many each case had.
std::map<std::string, int64_t> AddUrgentReports(const HubReportInput& input,
                                                absl::CivilDay first,
                                                absl::CivilDay last,
                                                v1::HubMonthlyReport& out) {
  std::vector<const UrgentFact*> counted;
  std::map<int, int64_t> categories;
  std::map<std::string, int64_t> per_case;
  for (const UrgentFact& report : input.facts.urgent) {
    const absl::CivilDay day =
        absl::ToCivilDay(report.raise_time, input.time_zone);
    if (day < first || last < day ||
        RunningOn(input.facts.usages, report.case_name, day) == nullptr) {
      continue;
    }
    counted.push_back(&report);
    ++categories[report.category];
    ++per_case[report.case_name];
  }
  std::sort(counted.begin(), counted.end(),
            [](const UrgentFact* a, const UrgentFact* b) {
              return a->raise_time != b->raise_time
                         ? a->raise_time < b->raise_time
                         : NameLess(a->report, b->report);
            });
  out.set_urgent_report_count(static_cast<int64_t>(counted.size()));
  for (const auto& [category, count] : categories) {
    v1::HubUrgentCategoryCount* entry = out.add_urgent_categories();
    entry->set_category(static_cast<cases::v1::UrgentCategory>(category));
    entry->set_count(count);
  }
  if (input.list_children) {
    for (const UrgentFact* report : counted) {
      const absl::CivilDay day =
          absl::ToCivilDay(report->raise_time, input.time_zone);
      v1::HubUrgentReport* entry = out.add_urgent_reports();
      entry->set_report(report->report);
      entry->set_case_(report->case_name);
      entry->set_usage(
          RunningOn(input.facts.usages, report->case_name, day)->usage);
      entry->set_category(report->category);
      *entry->mutable_raise_date() = DateToProto(day);
    }
  }
  return per_case;
}

void AddFlaggedChildren(const HubReportInput& input,
                        const std::map<std::string, int64_t>& urgent_per_case,
                        v1::HubMonthlyReport& out) {
  struct Flagged {
    std::string case_name;
    std::vector<absl::CivilDay> dates;
    int64_t visits = 0;
  };
  std::map<std::string, int64_t> visits_per_usage;
  std::map<std::string, Flagged> flagged;  // by usage
  for (const HubVisitFact& visit : input.facts.visits) {
    ++visits_per_usage[visit.usage];
    if (visit.problem_noted) {
      Flagged& child = flagged[visit.usage];
      child.case_name = visit.case_name;
      child.dates.push_back(visit.date);
    }
  }
  out.set_flagged_child_count(static_cast<int64_t>(flagged.size()));
  if (!input.list_children) {
    return;
  }
  std::vector<std::pair<std::string, Flagged*>> order;
  for (auto& [usage, child] : flagged) {
    std::sort(child.dates.begin(), child.dates.end());
    child.visits = visits_per_usage[usage];
    order.emplace_back(usage, &child);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const absl::CivilDay a_first = a.second->dates.front();
    const absl::CivilDay b_first = b.second->dates.front();
    return a_first != b_first ? a_first < b_first : NameLess(a.first, b.first);
  });
  for (const auto& [usage, child] : order) {
    v1::HubFlaggedChild* entry = out.add_flagged_children();
    entry->set_usage(usage);
    entry->set_case_(child->case_name);
    for (absl::CivilDay date : child->dates) {
      *entry->add_problem_dates() = DateToProto(date);
    }
    entry->set_visits(child->visits);
    const auto urgent = urgent_per_case.find(child->case_name);
    entry->set_urgent_reports(urgent == urgent_per_case.end() ? 0
                                                              : urgent->second);
  }
}

}  // namespace

absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text,
                                            absl::string_view field) {
  int year = 0;
  int month = 0;
  const bool shaped =
      text.size() == 7 && text[4] == '-' &&
      std::all_of(text.begin(), text.begin() + 4, absl::ascii_isdigit) &&
      absl::ascii_isdigit(text[5]) && absl::ascii_isdigit(text[6]) &&
      absl::SimpleAtoi(text.substr(0, 4), &year) &&
      absl::SimpleAtoi(text.substr(5, 2), &month);
  if (!shaped || year < 2000 || month < 1 || month > 12) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text,
                     "\" is not a month as YYYY-MM from 2000, e.g. 2024-08"));
  }
  return absl::CivilMonth(year, month);
}

std::pair<absl::Time, absl::Time> MonthInstants(absl::CivilMonth month,
                                                absl::TimeZone zone) {
  return {absl::FromCivil(absl::CivilDay(month), zone),
          absl::FromCivil(absl::CivilDay(month + 1), zone)};
}

v1::HubMonthlyReport BuildHubReport(const HubReportInput& input) {
  const absl::CivilDay first(input.month);
  const absl::CivilDay last = absl::CivilDay(input.month + 1) - 1;
  v1::HubMonthlyReport out;
  out.set_municipality_code(input.municipality);
  out.set_hub_code(input.hub_code);
  out.set_month(
      absl::StrFormat("%04d-%02d", input.month.year(), input.month.month()));
  *out.mutable_first_day() = DateToProto(first);
  *out.mutable_last_day() = DateToProto(last);
  const HubVersion& at_end =
      VersionOn(input.facts.versions, last, input.time_zone);
  out.set_hub_display_name(at_end.display_name);
  out.set_daily_capacity(at_end.daily_capacity);
  out.set_children_listed(input.list_children);
  AddVisits(input, last, out);
  AddUsages(input, first, last, out);
  const std::map<std::string, int64_t> urgent_per_case =
      AddUrgentReports(input, first, last, out);
  AddFlaggedChildren(input, urgent_per_case, out);
  return out;
}

}  // namespace kosapo::reporting
