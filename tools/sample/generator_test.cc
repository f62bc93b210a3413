#include "tools/sample/generator.h"

#include <algorithm>
#include <map>
#include <set>

#include "gtest/gtest.h"
#include "kosapo/referral/v1/referral.pb.h"
#include "services/referral/domain/schedule.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::sample {
namespace {

WardSpec Published() {
  auto spec = ReadWardSpec(KOSAPO_WARD_TABLE_TSV);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

void ExpectCounts(const reporting::WardCounts& got, const SpecRow& want) {
  EXPECT_EQ(got.pupils, want.pupils);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.outreach_done, want.outreach_done);
  EXPECT_EQ(got.connected, want.connected);
  EXPECT_EQ(got.preparing, want.preparing);
  EXPECT_EQ(got.unable, want.unable);
  EXPECT_EQ(got.resolved, want.resolved);
}

TEST(WardSpecTest, ReadsThePublishedTable) {
  const WardSpec spec = Published();
  EXPECT_EQ(spec.municipality, "27100");
  EXPECT_EQ(spec.area_year, 2023);
  EXPECT_EQ(spec.rows.size(), 28u);
}

TEST(WardSpecTest, BadTablesNameTheLineAndColumn) {
  const std::string header =
      "row_kind\tfiscal_year\tas_of\tarea_code\tlabel\tdisplay_order\t"
      "c01_pupils\tc02_target_cases\tc04_outreach_done\tc06_connected\t"
      "c11_preparing\tc13_unable\tc15_resolved\n";
  auto bad = ParseWardSpec(header +
                           "ward\t2023\t2024-03-31\t1\t北区\t1\t100\t10\t5\t6\t"
                           "3\t2\t0\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  bad = ParseWardSpec(
      header + "ward\t2023\t2024-03-31\t1\t北区\t1\t100\tx\t5\t4\t3\t2\t0\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("c02_target_cases"), std::string::npos);
  EXPECT_FALSE(ParseWardSpec("row_kind\n").ok());
}

TEST(GeneratorTest, ReproducesEveryRowOfThePublishedTable) {
  const WardSpec spec = Published();
  auto city = CityFromSpec(spec, 42);
  ASSERT_TRUE(city.ok()) << city.status();
  EXPECT_EQ(city->areas.size(), 24u);
  for (const SpecRow& row : spec.rows) {
    SCOPED_TRACE(row.label);
    ExpectCounts(CountAsOf(*city, row.fiscal_year, row.as_of,
                           row.city_total ? "" : row.area_code),
                 row);
  }
}

TEST(GeneratorTest, SameSeedSameCityOtherSeedOtherCity) {
  const WardSpec spec = Published();
  const SampleCity a = *CityFromSpec(spec, 7);
  const SampleCity b = *CityFromSpec(spec, 7);
  const SampleCity c = *CityFromSpec(spec, 8);
  ASSERT_EQ(a.cases.size(), b.cases.size());
  bool all_same = true;
  bool any_other = false;
  for (size_t i = 0; i < a.cases.size(); ++i) {
    all_same = all_same && a.cases[i].child.kana == b.cases[i].child.kana &&
               a.cases[i].opened == b.cases[i].opened &&
               a.cases[i].approach_date == b.cases[i].approach_date;
    any_other = any_other || a.cases[i].child.kana != c.cases[i].child.kana;
  }
  EXPECT_TRUE(all_same);
  EXPECT_TRUE(any_other);
}

TEST(GeneratorTest, DatesFollowEachOtherWithinTheYear) {
  const SampleCity city = *CityFromSpec(Published(), 1);
  std::set<std::pair<std::string, absl::CivilDay>> children;
  for (const SampleCase& c : city.cases) {
    const absl::CivilDay start(c.fiscal_year, 4, 1);
    const absl::CivilDay end(c.fiscal_year + 1, 3, 31);
    EXPECT_GE(c.opened, start);
    EXPECT_LE(c.opened, end);
    if (c.approach != Approach::kInPreparation) {
      EXPECT_GE(c.approach_date, c.opened);
      EXPECT_LE(c.approach_date, end);
    }
    if (c.connected) {
      EXPECT_EQ(c.approach, Approach::kOutreachDone);
      EXPECT_GE(*c.connected, c.approach_date);
    }
    if (c.resolved) {
      EXPECT_EQ(c.approach, Approach::kOutreachDone);
      EXPECT_GE(*c.resolved, c.connected.value_or(c.approach_date));
    }
    EXPECT_TRUE(children.insert({c.child.kana, c.child.birth_date}).second)
        << "two children share a kana name and birth date";
  }
}

TEST(GeneratorTest, EveryCaseOfEveryYearComesFromAnExtraction) {
  const WardSpec spec = Published();
  const SampleCity city = *CityFromSpec(spec, 3);
  // One screening per fiscal year of the table, in order.
  std::vector<int> years;
  for (const SampleScreening& screening : city.screenings) {
    years.push_back(screening.fiscal_year);
  }
  EXPECT_EQ(years, (std::vector<int>{2020, 2021, 2022, 2023}));
  std::map<std::pair<int, std::string>, int64_t> enrolled;
  for (const SampleEnrollment& e : city.enrollment) {
    enrolled[{e.fiscal_year, e.school_code}] += e.pupils;
  }
  std::set<std::pair<size_t, size_t>> extracted;
  std::map<int, int64_t> cases_of_year;
  for (const SampleCase& c : city.cases) {
    SCOPED_TRACE(c.child.kana);
    ASSERT_GE(c.screening, 0);
    ASSERT_GE(c.pupil, 0);
    const SampleScreening& screening =
        city.screenings[static_cast<size_t>(c.screening)];
    EXPECT_EQ(screening.fiscal_year, c.fiscal_year);
    const SamplePupil& pupil = screening.pupils[static_cast<size_t>(c.pupil)];
    EXPECT_EQ(pupil.concern, 2);
    EXPECT_EQ(pupil.child.kana, c.child.kana);
    ASSERT_GE(pupil.meeting, 0);
    const SampleMeeting& meeting =
        screening.meetings[static_cast<size_t>(pupil.meeting)];
    EXPECT_EQ(meeting.school_code, c.child.school_code);
    // Opened by the meeting's extraction, in the year, with 30 days to go.
    EXPECT_EQ(c.opened, meeting.date);
    EXPECT_GE(c.opened, absl::CivilDay(c.fiscal_year, 4, 1));
    EXPECT_LE(c.opened, absl::CivilDay(c.fiscal_year + 1, 3, 1));
    EXPECT_TRUE(extracted
                    .insert({static_cast<size_t>(c.screening),
                             static_cast<size_t>(c.pupil)})
                    .second)
        << "one pupil opens one case";
    ++cases_of_year[c.fiscal_year];
  }
  for (const SpecRow& row : spec.rows) {
    if (row.city_total) {
      EXPECT_EQ(cases_of_year[row.fiscal_year], row.target) << row.label;
    }
  }
  for (size_t s = 0; s < city.screenings.size(); ++s) {
    const SampleScreening& screening = city.screenings[s];
    SCOPED_TRACE(screening.fiscal_year);
    // Every school meets about every two months from May, within the year.
    std::map<std::string, std::vector<absl::CivilDay>> meetings;
    for (const SampleMeeting& meeting : screening.meetings) {
      EXPECT_GE(meeting.date, absl::CivilDay(screening.fiscal_year, 4, 1));
      EXPECT_LE(meeting.date, absl::CivilDay(screening.fiscal_year + 1, 3, 31));
      meetings[meeting.school_code].push_back(meeting.date);
    }
    EXPECT_EQ(meetings.size(), city.schools.size());
    for (const auto& [school, days] : meetings) {
      EXPECT_GE(days.size(), 5u) << school;
      EXPECT_LE(days.size(), 7u) << school;
    }
    // Sheets: unique pupil ids per school, candidates decided at a meeting
    // of their school, and (beyond the extracted) no more than enrolled.
    std::set<std::string> ids;
    std::map<std::string, int64_t> sheets;
    int watched = 0;
    for (size_t p = 0; p < screening.pupils.size(); ++p) {
      const SamplePupil& pupil = screening.pupils[p];
      EXPECT_TRUE(ids.insert(pupil.pupil_id).second) << pupil.pupil_id;
      ++sheets[pupil.child.school_code];
      EXPECT_GE(pupil.concern, 1);
      if (pupil.concern == 2) {
        ASSERT_GE(pupil.meeting, 0);
        EXPECT_EQ(
            screening.meetings[static_cast<size_t>(pupil.meeting)].school_code,
            pupil.child.school_code);
        watched += extracted.count({s, p}) == 0 ? 1 : 0;
      } else {
        EXPECT_EQ(pupil.meeting, -1);
      }
    }
    EXPECT_GT(watched, 0);
    for (const auto& [school, count] : sheets) {
      const int64_t pupils = enrolled[{screening.fiscal_year, school}];
      EXPECT_LE(count, pupils) << school;
    }
  }
}

// The hub as the referral service will store it, to check the visits with
// the service's own rules.
referral::v1::Support HubProto(const SampleSupport& support) {
  referral::v1::Support proto;
  proto.set_category(referral::v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  auto add_hours = [](const SampleHours& h, referral::v1::OpeningHours* out) {
    out->set_weekday(static_cast<referral::v1::Weekday>(h.weekday));
    out->set_opens(referral::FormatClock(h.opens));
    out->set_closes(referral::FormatClock(h.closes));
  };
  for (const SampleHours& h : support.weekly) {
    add_hours(h, proto.add_weekly_schedule());
  }
  referral::v1::HubDetails* hub = proto.mutable_hub();
  hub->set_hub_code(support.hub->hub_code);
  hub->set_daily_capacity(support.hub->daily_capacity);
  for (const SampleHours& h : support.hub->holiday_hours) {
    add_hours(h, hub->add_school_holiday_schedule());
  }
  for (const SampleHoliday& period : support.hub->holidays) {
    referral::v1::HolidayPeriod* out = hub->add_school_holidays();
    out->set_holiday(static_cast<referral::v1::SchoolHoliday>(period.kind));
    out->mutable_start_date()->set_year(static_cast<int>(period.start.year()));
    out->mutable_start_date()->set_month(period.start.month());
    out->mutable_start_date()->set_day(period.start.day());
    out->mutable_end_date()->set_year(static_cast<int>(period.end.year()));
    out->mutable_end_date()->set_month(period.end.month());
    out->mutable_end_date()->set_day(period.end.day());
  }
  return proto;
}

// The extras' invariants, for any city: referrals go to a support of the
// case's area; each hub usage's steps follow each other, start on or after
// its case's connection, visit within the hub's hours of the day with
// contract services only, and no hub day goes over its capacity, with a
// few days exactly at it.
void ExpectPlausibleExtras(const SampleCity& city, absl::CivilDay horizon) {
  int hubs = 0;
  for (const SampleSupport& support : city.supports) {
    hubs += support.hub.has_value() ? 1 : 0;
  }
  EXPECT_GE(hubs * 4, static_cast<int>(city.areas.size()));
  for (const SampleCase& c : city.cases) {
    if (!c.connected.has_value()) {
      EXPECT_EQ(c.support, -1);
      continue;
    }
    ASSERT_GE(c.support, 0);
    const SampleSupport& support =
        city.supports[static_cast<size_t>(c.support)];
    EXPECT_FALSE(support.hub.has_value());
    EXPECT_TRUE(support.area_codes.empty() ||
                std::count(support.area_codes.begin(), support.area_codes.end(),
                           c.area_code) == 1)
        << support.name << " does not serve " << c.area_code;
  }
  ASSERT_FALSE(city.hub_usages.empty());
  std::set<size_t> cases_at_hubs;
  for (const SampleHubUsage& usage : city.hub_usages) {
    const SampleCase& c = city.cases[usage.case_index];
    const SampleSupport& hub =
        city.supports[static_cast<size_t>(usage.support)];
    ASSERT_TRUE(hub.hub.has_value());
    EXPECT_TRUE(cases_at_hubs.insert(usage.case_index).second);
    ASSERT_TRUE(c.connected.has_value());
    EXPECT_FALSE(c.resolved.has_value());
    EXPECT_TRUE(c.work.has_value()) << "no conference names the desk";
    EXPECT_LE(*c.connected, usage.applied);
    EXPECT_LT(usage.applied, usage.hearing);
    EXPECT_LT(usage.hearing, usage.decided);
    EXPECT_LE(usage.decided, usage.interview);
    EXPECT_LE(usage.interview, usage.planned);
    EXPECT_LT(usage.planned, usage.start);
    const referral::v1::Support proto = HubProto(hub);
    std::set<std::string> contract;
    for (const SampleContractService& s : hub.hub->services) {
      contract.insert(s.code);
    }
    absl::CivilDay previous = usage.start - 1;
    for (const SampleVisit& visit : usage.visits) {
      EXPECT_GT(visit.day, previous);
      previous = visit.day;
      EXPECT_LE(visit.day, usage.ended.value_or(horizon));
      EXPECT_TRUE(referral::CheckWithinOpeningHours(
                      proto, visit.day, visit.arrival, visit.departure, "")
                      .ok())
          << absl::FormatCivilTime(visit.day) << " "
          << referral::FormatClock(visit.arrival) << "-"
          << referral::FormatClock(visit.departure);
      EXPECT_FALSE(visit.services.empty());
      for (const std::string& service : visit.services) {
        EXPECT_EQ(contract.count(service), 1u) << service;
      }
    }
    if (usage.ended.has_value()) {
      EXPECT_FALSE(usage.visits.empty());
      EXPECT_GE(*usage.ended, usage.visits.back().day);
      EXPECT_LE(*usage.ended, horizon);
    }
  }
  for (size_t s = 0; s < city.supports.size(); ++s) {
    if (!city.supports[s].hub.has_value()) {
      continue;
    }
    const int capacity = city.supports[s].hub->daily_capacity;
    int full = 0;
    for (const auto& [day, count] : HubDayCounts(city, static_cast<int>(s))) {
      EXPECT_LE(count, capacity) << absl::FormatCivilTime(day);
      full += count == capacity ? 1 : 0;
    }
    int usages = 0;
    for (const SampleHubUsage& usage : city.hub_usages) {
      usages += usage.support == static_cast<int>(s) ? 1 : 0;
    }
    if (usages >= 2) {
      EXPECT_GE(full, 1) << city.supports[s].name;
    }
  }
  ASSERT_FALSE(city.urgent_reports.empty());
  for (const SampleUrgentReport& report : city.urgent_reports) {
    const SampleHubUsage& usage = city.hub_usages[report.usage];
    EXPECT_FALSE(usage.visits.empty());
    EXPECT_FALSE(usage.ended.has_value());
  }
}

TEST(GeneratorTest, ExtrasArePlausibleAndLeaveTheTableAsItIs) {
  const WardSpec spec = Published();
  const SampleCity city = *CityFromSpec(spec, 2024);
  ExpectPlausibleExtras(city, absl::CivilDay(2024, 3, 31));
  // A small fraction of the load: the acceptance test's run time.
  size_t visits = 0;
  for (const SampleHubUsage& usage : city.hub_usages) {
    visits += usage.visits.size();
  }
  EXPECT_LT(visits + city.hub_usages.size() * 8, city.cases.size() / 2);
  // Six hubs for 24 wards; 定員 25 where 30 children are registered,
  // fewer where the hub's wards have fewer children to send.
  int hubs = 0;
  int with_full_capacity = 0;
  for (size_t s = 0; s < city.supports.size(); ++s) {
    if (!city.supports[s].hub.has_value()) {
      continue;
    }
    ++hubs;
    int registered = 0;
    for (const SampleHubUsage& usage : city.hub_usages) {
      registered += usage.support == static_cast<int>(s) ? 1 : 0;
    }
    EXPECT_LE(registered, 30);
    EXPECT_EQ(city.supports[s].hub->daily_capacity,
              std::clamp(registered * 5 / 6, 1, 25));
    with_full_capacity += city.supports[s].hub->daily_capacity == 25 ? 1 : 0;
  }
  EXPECT_EQ(hubs, 6);
  EXPECT_GE(with_full_capacity, 4);
}

TEST(GeneratorTest, CityOfSizeIsScreenedInTheCurrentYearBeforeToday) {
  const absl::CivilDay today(2026, 11, 23);
  auto made = CityOfSize(3000, 0, today, 5, "99999");
  ASSERT_TRUE(made.ok()) << made.status();
  const SampleCity& city = *made;
  ASSERT_EQ(city.screenings.size(), 1u);
  const SampleScreening& screening = city.screenings[0];
  EXPECT_EQ(screening.fiscal_year, 2026);
  EXPECT_EQ(screening.pupils.size(), 3000u);
  int64_t enrolled = 0;
  for (const SampleEnrollment& e : city.enrollment) {
    EXPECT_EQ(e.fiscal_year, 2026);
    enrolled += e.pupils;
  }
  EXPECT_EQ(enrolled, 3000);
  std::set<std::string> pupil_ids;
  for (const SamplePupil& pupil : screening.pupils) {
    EXPECT_TRUE(pupil_ids.insert(pupil.pupil_id).second);
  }
  // About 1.3% extracted; every case from a pupil's extraction on its
  // meeting's day, at its school, and every step on or before yesterday.
  EXPECT_GT(city.cases.size(), 15u);
  EXPECT_LT(city.cases.size(), 90u);
  int connected = 0;
  for (const SampleCase& c : city.cases) {
    ASSERT_EQ(c.screening, 0);
    ASSERT_GE(c.pupil, 0);
    const SamplePupil& pupil = screening.pupils[static_cast<size_t>(c.pupil)];
    EXPECT_EQ(pupil.concern, 2);
    const SampleMeeting& meeting =
        screening.meetings[static_cast<size_t>(pupil.meeting)];
    EXPECT_EQ(meeting.school_code, c.child.school_code);
    EXPECT_EQ(c.opened, meeting.date);
    EXPECT_GE(c.opened, absl::CivilDay(2026, 4, 1));
    EXPECT_LT(c.opened, today);
    for (const auto& day : {c.connected, c.resolved}) {
      if (day.has_value()) {
        EXPECT_LT(*day, today);
      }
    }
    connected += c.connected.has_value() ? 1 : 0;
  }
  EXPECT_GT(connected, 0);
  ExpectPlausibleExtras(city, today - 1);
  // Same inputs, same city.
  const SampleCity again = *CityOfSize(3000, 0, today, 5, "99999");
  ASSERT_EQ(again.cases.size(), city.cases.size());
  EXPECT_EQ(again.hub_usages.size(), city.hub_usages.size());
  EXPECT_EQ(again.cases.back().child.kana, city.cases.back().child.kana);
  EXPECT_FALSE(CityOfSize(5, 0, today, 5).ok());
  EXPECT_FALSE(CityOfSize(3000, 0, today, 5, "123").ok());
}

TEST(GeneratorTest, DrawnAnswersMakeCandidatesOfConcernTwoOnly) {
  std::vector<TemplateItemShape> items;
  for (int i = 0; i < 20; ++i) {
    items.push_back({absl::StrCat("item", i), i % 2 == 0, i % 2 == 0 ? 1 : 3,
                     1.0 + (i % 3), i == 7});
  }
  for (uint64_t seed = 0; seed < 200; ++seed) {
    EXPECT_TRUE(DrawAnswers(items, 4.0, 0, seed).empty());
    for (int concern : {1, 2}) {
      double total = 0;
      bool always = false;
      for (const SheetAnswer& answer : DrawAnswers(items, 4.0, concern, seed)) {
        const TemplateItemShape* item = nullptr;
        for (const TemplateItemShape& candidate : items) {
          if (candidate.code == answer.item) {
            item = &candidate;
          }
        }
        ASSERT_NE(item, nullptr);
        ASSERT_GE(answer.value, 1);
        ASSERT_LE(answer.value, item->max_level);
        total += item->weight * answer.value / item->max_level;
        always = always || item->always_review;
      }
      if (concern == 1) {
        EXPECT_LT(total, 4.0);
        EXPECT_FALSE(always);
      } else {
        EXPECT_GE(total, 4.0);
      }
    }
  }
}

}  // namespace
}  // namespace kosapo::sample
