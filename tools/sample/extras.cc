// What surrounds the cases of a sample city: the directory of supports, the
// targets of the connecting referrals, hub usage with its attendance,
// urgent reports and case work. Nothing here changes a count of the ward
// table: referrals only name the support of a connection the case already
// has, and a hub usage starts (its first visit) on or after the day its
// case was connected.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/sample/generator.h"
#include "tools/sample/random.h"

namespace kosapo::sample {
namespace {

// kosapo.referral.v1 numbers (see SampleOrganization).
constexpr int kPublic = 1;
constexpr int kAgency = 2;
constexpr int kLocal = 3;
constexpr int kPublicAssistance = 1;
constexpr int kSchoolExpenseAid = 2;
constexpr int kChildAllowance = 3;
constexpr int kSingleParent = 4;
constexpr int kConsultationCentre = 5;
constexpr int kWelfareCouncil = 6;
constexpr int kCafeteria = 9;
constexpr int kLearning = 10;
constexpr int kDropInHub = 13;

// Areas per drop-in hub.
constexpr size_t kAreasPerHub = 4;
// Children registered at a hub (BB House: about 30) and its places a day.
constexpr size_t kRegisteredPerHub = 30;
constexpr int kCapacity = 25;
// Days at capacity per hub.
constexpr int kFullDays = 3;

int Minutes(int hours, int minutes = 0) { return hours * 60 + minutes; }

// Weekday 1 Monday .. 7 Sunday.
int WeekdayOf(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
    case absl::Weekday::sunday:
      return 7;
  }
  return 0;
}

std::vector<SampleHours> Hours(std::initializer_list<int> weekdays, int opens,
                               int closes) {
  std::vector<SampleHours> hours;
  for (int weekday : weekdays) {
    hours.push_back({weekday, opens, closes});
  }
  return hours;
}

// Summer, winter and spring school holidays of fiscal years
// [first, last].
std::vector<SampleHoliday> Holidays(int first, int last) {
  std::vector<SampleHoliday> holidays;
  for (int y = first; y <= last; ++y) {
    holidays.push_back({1, absl::CivilDay(y, 7, 20), absl::CivilDay(y, 8, 31)});
    holidays.push_back(
        {2, absl::CivilDay(y, 12, 23), absl::CivilDay(y + 1, 1, 7)});
    holidays.push_back(
        {3, absl::CivilDay(y + 1, 3, 25), absl::CivilDay(y + 1, 4, 7)});
  }
  return holidays;
}

size_t AddOrganization(SampleCity& city, SampleOrganization organization) {
  city.organizations.push_back(std::move(organization));
  return city.organizations.size() - 1;
}

void AddSupport(SampleCity& city, SampleSupport support) {
  city.supports.push_back(std::move(support));
}

// Public systems and agencies for the whole city, a children's cafeteria
// and a learning support in every area, and a drop-in hub for every few
// areas, with the Toyonaka BB House's hours and contract.
void BuildDirectory(SampleCity& city, int fiscal_year) {
  const std::vector<SampleHours> office =
      Hours({1, 2, 3, 4, 5}, Minutes(9), Minutes(17, 30));
  const size_t city_office = AddOrganization(
      city, {"city", absl::StrCat(city.display_name, " こども青少年局"),
             kPublic, "", ""});
  const struct {
    const char* key;
    const char* name;
    int category;
    const char* description;
  } kSystems[] = {
      {"public-assistance", "生活保護", kPublicAssistance,
       "生活に困窮する世帯への保護費の支給と自立の支援"},
      {"school-expense-aid", "就学援助", kSchoolExpenseAid,
       "学用品費・給食費・修学旅行費などの援助"},
      {"child-allowance", "児童手当・児童扶養手当", kChildAllowance,
       "児童を養育する世帯への手当の支給"},
      {"single-parent", "ひとり親家庭等自立支援", kSingleParent,
       "ひとり親家庭の就業・生活の相談と給付金"},
  };
  for (const auto& system : kSystems) {
    AddSupport(city, {system.key,
                      static_cast<int>(city_office),
                      system.name,
                      system.category,
                      system.description,
                      {},
                      office,
                      {}});
  }
  const size_t centre =
      AddOrganization(city, {"consultation-centre", "こども相談センター",
                             kPublic, city.areas.front().code, "中央1-1-1"});
  AddSupport(city, {"consultation-centre",
                    static_cast<int>(centre),
                    "こども相談センター 相談・支援",
                    kConsultationCentre,
                    "児童虐待・養育・発達などの専門相談",
                    {},
                    office,
                    {}});
  const size_t council = AddOrganization(
      city, {"welfare-council", "社会福祉協議会", kAgency, "", ""});
  AddSupport(city, {"welfare-council",
                    static_cast<int>(council),
                    "社会福祉協議会 生活支援・見守り",
                    kWelfareCouncil,
                    "生活福祉資金の貸付、地域の見守り活動へのつなぎ",
                    {},
                    office,
                    {}});
  for (const SampleArea& area : city.areas) {
    const size_t cafeteria = AddOrganization(
        city, {absl::StrCat("cafeteria-", area.code),
               absl::StrCat(area.name, "みんなのこども食堂"), kLocal, area.code,
               absl::StrCat(area.name, "本町2-3")});
    SampleSupport meals{absl::StrCat("cafeteria-", area.code),
                        static_cast<int>(cafeteria),
                        absl::StrCat(area.name, "こども食堂"),
                        kCafeteria,
                        "月2回の夕食と居場所",
                        {area.code},
                        Hours({3}, Minutes(17), Minutes(19, 30)),
                        {}};
    meals.weekly.push_back({6, Minutes(11, 30), Minutes(13, 30)});
    AddSupport(city, std::move(meals));
    const size_t tutoring =
        AddOrganization(city, {absl::StrCat("learning-", area.code),
                               absl::StrCat(area.name, "学習支援の会"), kLocal,
                               area.code, absl::StrCat(area.name, "公民館")});
    AddSupport(city, {absl::StrCat("learning-", area.code),
                      static_cast<int>(tutoring),
                      absl::StrCat(area.name, "学習支援教室"),
                      kLearning,
                      "大学生ボランティアによる学習支援",
                      {area.code},
                      Hours({2, 4}, Minutes(18), Minutes(20)),
                      {}});
  }
  for (size_t first = 0; first < city.areas.size(); first += kAreasPerHub) {
    const SampleArea& home = city.areas[first];
    const size_t operator_org = AddOrganization(
        city, {absl::StrCat("hub-", home.code),
               absl::StrCat("NPO法人 ", home.name, "こどもの居場所"), kLocal,
               home.code, absl::StrCat(home.name, "緑町4-5-6")});
    SampleSupport hub{
        absl::StrCat("hub-", home.code),
        static_cast<int>(operator_org),
        absl::StrCat(home.name, "児童育成支援拠点 ひだまりハウス"),
        kDropInHub,
        "食事の提供、学習支援、居場所、生活習慣の形成、個別相談",
        {},
        Hours({2, 3, 4, 5}, Minutes(16), Minutes(21)),
        SampleHub{}};
    hub.weekly.push_back({6, Minutes(11), Minutes(21)});
    for (size_t a = first; a < city.areas.size() && a < first + kAreasPerHub;
         ++a) {
      hub.area_codes.push_back(city.areas[a].code);
    }
    SampleHub& details = *hub.hub;
    details.hub_code = absl::StrCat("hub-", home.code);
    details.daily_capacity = kCapacity;
    details.holiday_hours = Hours({2, 3, 4, 5, 6}, Minutes(11), Minutes(21));
    details.holidays = Holidays(fiscal_year - 1, fiscal_year + 1);
    details.services = {{"meal", "食事の提供"},
                        {"learning", "学習支援"},
                        {"free_space", "居場所の提供"},
                        {"life_habits", "生活習慣の形成"},
                        {"consultation", "個別相談"},
                        {"guardian_support", "保護者への相談支援"},
                        {"liaison", "学校・関係機関・地域団体との連携"}};
    AddSupport(city, std::move(hub));
  }
}

bool Serves(const SampleSupport& support, const std::string& area) {
  return support.area_codes.empty() ||
         std::find(support.area_codes.begin(), support.area_codes.end(),
                   area) != support.area_codes.end();
}

// The support a connected case's referral went to: a public system most
// often, then a local resource of its area or an agency.
void AssignReferralTargets(SampleCity& city, Random& random) {
  // Weights by category, in percent.
  const std::pair<int, int> kWeights[] = {
      {kSchoolExpenseAid, 22}, {kChildAllowance, 10},    {kPublicAssistance, 9},
      {kSingleParent, 9},      {kConsultationCentre, 6}, {kWelfareCouncil, 10},
      {kCafeteria, 18},        {kLearning, 16}};
  for (SampleCase& c : city.cases) {
    if (!c.connected.has_value()) {
      continue;
    }
    int roll = static_cast<int>(random.Below(100));
    int category = kSchoolExpenseAid;
    for (const auto& [candidate, weight] : kWeights) {
      if (roll < weight) {
        category = candidate;
        break;
      }
      roll -= weight;
    }
    for (size_t s = 0; s < city.supports.size(); ++s) {
      if (city.supports[s].category == category &&
          Serves(city.supports[s], c.area_code)) {
        c.support = static_cast<int>(s);
        break;
      }
    }
  }
}

bool InHoliday(const SampleHub& hub, absl::CivilDay day) {
  for (const SampleHoliday& holiday : hub.holidays) {
    if (day >= holiday.start && day <= holiday.end) {
      return true;
    }
  }
  return false;
}

// The hub's opening period of `day`, if it opens (one period a day here);
// closed over the new year.
std::optional<SampleHours> OpenOn(const SampleSupport& hub,
                                  absl::CivilDay day) {
  if ((day.month() == 12 && day.day() >= 29) ||
      (day.month() == 1 && day.day() <= 3)) {
    return std::nullopt;
  }
  const std::vector<SampleHours>& hours =
      InHoliday(*hub.hub, day) ? hub.hub->holiday_hours : hub.weekly;
  for (const SampleHours& h : hours) {
    if (h.weekday == WeekdayOf(day)) {
      return h;
    }
  }
  return std::nullopt;
}

SampleVisit Visit(Random& random, const SampleSupport& hub, absl::CivilDay day,
                  const SampleHours& hours) {
  SampleVisit visit;
  visit.day = day;
  // Arrive in the first 90 minutes (5-minute steps), stay 1-4 hours.
  visit.arrival = hours.opens + 5 * static_cast<int>(random.Below(19));
  visit.departure =
      std::min(hours.closes - 10,
               visit.arrival + 60 + 5 * static_cast<int>(random.Below(37)));
  for (const SampleContractService& service : hub.hub->services) {
    bool delivered = false;
    if (service.code == "free_space") {
      delivered = true;
    } else if (service.code == "meal") {
      delivered = visit.departure >= Minutes(18, 30) ||
                  (visit.arrival <= Minutes(12) && hours.opens <= Minutes(12));
    } else if (service.code == "learning") {
      delivered = random.Percent(60);
    } else if (service.code == "life_habits") {
      delivered = random.Percent(40);
    } else if (service.code == "consultation") {
      delivered = random.Percent(10);
    } else {
      delivered = random.Percent(5);
    }
    if (delivered) {
      visit.services.push_back(service.code);
    }
  }
  return visit;
}

// Hub usage for up to kRegisteredPerHub connected, open cases of the
// hub's areas in `fiscal_year`: applications before the hub period, starts
// in its first quarter, visits on about a third of the open days, the
// hub full on kFullDays days in its middle half, and about a quarter of the
// usages ending in its last quarter.
void AddHubUsages(SampleCity& city, int hub, int fiscal_year,
                  absl::CivilDay horizon, Random& random) {
  SampleSupport& support = city.supports[static_cast<size_t>(hub)];
  const absl::CivilDay year_start(fiscal_year, 4, 1);
  const int64_t span = std::min<int64_t>(120, (horizon - year_start) / 2);
  if (span < 28) {
    return;  // too early in the year for a hub period
  }
  const absl::CivilDay period_start = horizon - span;
  std::vector<size_t> candidates;
  for (size_t i = 0; i < city.cases.size(); ++i) {
    const SampleCase& c = city.cases[i];
    if (c.fiscal_year == fiscal_year && c.connected.has_value() &&
        !c.resolved.has_value() && *c.connected <= period_start - 10 &&
        Serves(support, c.area_code)) {
      candidates.push_back(i);
    }
  }
  // A deterministic sample of the candidates, in case order.
  for (size_t k = 0; k < candidates.size() && k < kRegisteredPerHub; ++k) {
    std::swap(
        candidates[k],
        candidates[k + static_cast<size_t>(random.Below(
                           static_cast<int64_t>(candidates.size() - k)))]);
  }
  candidates.resize(std::min(candidates.size(), kRegisteredPerHub));
  std::sort(candidates.begin(), candidates.end());
  if (candidates.empty()) {
    return;
  }
  const size_t n = candidates.size();
  SampleHub& details = *support.hub;
  details.daily_capacity =
      std::clamp(static_cast<int>(n * 5 / 6), 1, kCapacity);
  const absl::CivilDay starts_until = period_start + span / 4;
  const absl::CivilDay ends_from = period_start + span * 3 / 4 + 1;
  const size_t first_usage = city.hub_usages.size();
  for (size_t index : candidates) {
    const SampleCase& c = city.cases[index];
    SampleHubUsage usage;
    usage.case_index = index;
    usage.support = hub;
    usage.applied = DayBetween(
        random, std::max(*c.connected, period_start - 40), period_start - 8);
    usage.hearing = usage.applied + 1 + random.Below(3);
    usage.decided = usage.hearing + 1 + random.Below(3);
    usage.interview = usage.decided + random.Below(2);
    usage.planned = usage.interview;
    usage.start = DayBetween(random, period_start, starts_until);
    if (random.Percent(25)) {
      usage.ended = DayBetween(random, ends_from, horizon);
      usage.end_reason = 1 + static_cast<int>(random.Below(4));
    }
    const absl::CivilDay last = usage.ended.value_or(horizon);
    for (absl::CivilDay day = usage.start; day <= last; ++day) {
      const auto hours = OpenOn(support, day);
      if (hours.has_value() &&
          random.Percent(InHoliday(details, day) ? 45 : 33)) {
        usage.visits.push_back(Visit(random, support, day, *hours));
      }
    }
    city.hub_usages.push_back(std::move(usage));
  }
  // The full days: open days in the middle half, when every usage has
  // started and none has ended, spread over it.
  std::vector<absl::CivilDay> middle;
  for (absl::CivilDay day = starts_until + 1; day < ends_from; ++day) {
    if (OpenOn(support, day).has_value()) {
      middle.push_back(day);
    }
  }
  std::set<absl::CivilDay> full;
  if (n >= static_cast<size_t>(details.daily_capacity) && !middle.empty()) {
    for (int k = 1; k <= kFullDays; ++k) {
      full.insert(
          middle[middle.size() * static_cast<size_t>(k) / (kFullDays + 1)]);
    }
  }
  std::map<absl::CivilDay, int> counts;
  for (size_t u = first_usage; u < city.hub_usages.size(); ++u) {
    SampleHubUsage& usage = city.hub_usages[u];
    std::vector<SampleVisit> kept;
    for (SampleVisit& visit : usage.visits) {
      // Full days get their children below; other days stay below the
      // capacity.
      if (full.count(visit.day) == 0 &&
          counts[visit.day] + 1 < details.daily_capacity) {
        ++counts[visit.day];
        kept.push_back(std::move(visit));
      }
    }
    usage.visits = std::move(kept);
  }
  for (absl::CivilDay day : full) {
    // Exactly `capacity` children, taken in turn from a random one.
    const size_t offset =
        static_cast<size_t>(random.Below(static_cast<int64_t>(n)));
    const auto hours = OpenOn(support, day);
    for (int k = 0; k < details.daily_capacity; ++k) {
      SampleHubUsage& usage =
          city.hub_usages[first_usage + (offset + static_cast<size_t>(k)) % n];
      const SampleVisit visit = Visit(random, support, day, *hours);
      auto at = std::lower_bound(
          usage.visits.begin(), usage.visits.end(), day,
          [](const SampleVisit& v, absl::CivilDay d) { return v.day < d; });
      usage.visits.insert(at, visit);
    }
  }
  // A usage whose start was left without a visit starts on its first one.
  for (size_t u = first_usage; u < city.hub_usages.size(); ++u) {
    SampleHubUsage& usage = city.hub_usages[u];
    if (usage.visits.empty()) {
      usage.ended.reset();  // approved, not yet come
      usage.end_reason = 0;
    }
  }
}

void AddUrgentReports(SampleCity& city, Random& random) {
  const struct {
    int category;
    const char* description;
  } kReports[] = {
      {1, "腕にあざがあり、家で叩かれたと話した。"},
      {2, "来所中に高熱とぐったりした様子があり、救急受診につないだ。"},
      {3, "約束の時間に帰宅しておらず、保護者と連絡が取れない。"},
      {4, "長期休暇中、数日食事をとれていない様子。"},
  };
  for (size_t u = 0; u < city.hub_usages.size(); ++u) {
    const SampleHubUsage& usage = city.hub_usages[u];
    // The operator raises while the child still comes (enrolled at the
    // hub); about one child in eight, more in long holidays.
    if (usage.visits.empty() || usage.ended.has_value() ||
        !random.Percent(12)) {
      continue;
    }
    const auto& report = kReports[random.Below(std::size(kReports))];
    city.urgent_reports.push_back(
        {u, report.category, report.description, random.Percent(67)});
  }
  if (city.urgent_reports.empty()) {
    for (size_t u = 0; u < city.hub_usages.size(); ++u) {
      if (!city.hub_usages[u].visits.empty() &&
          !city.hub_usages[u].ended.has_value()) {
        city.urgent_reports.push_back(
            {u, kReports[0].category, kReports[0].description, true});
        break;
      }
    }
  }
}

// Meeting II (a conference naming the persons in charge), an assessment
// and a few contacts for every case at a hub and about one in fifty of the
// year's other cases.
void AddCaseWork(SampleCity& city, int fiscal_year, absl::CivilDay horizon,
                 Random& random) {
  std::set<size_t> at_hub;
  for (const SampleHubUsage& usage : city.hub_usages) {
    at_hub.insert(usage.case_index);
  }
  for (size_t i = 0; i < city.cases.size(); ++i) {
    SampleCase& c = city.cases[i];
    if (c.fiscal_year != fiscal_year ||
        (at_hub.count(i) == 0 && !random.Percent(2))) {
      continue;
    }
    const absl::CivilDay reached =
        c.approach == Approach::kInPreparation ? horizon : c.approach_date;
    SampleCaseWork work;
    work.conference = DayBetween(random, c.opened, std::min(reached, horizon));
    work.assessed = work.conference;
    const absl::CivilDay until = c.resolved.value_or(horizon);
    for (int k = 1 + static_cast<int>(random.Below(3)); k > 0; --k) {
      work.contacts.push_back(DayBetween(random, work.conference, until));
    }
    std::sort(work.contacts.begin(), work.contacts.end());
    c.work = std::move(work);
  }
}

}  // namespace

void AddExtras(SampleCity& city, absl::CivilDay horizon, uint64_t seed) {
  if (city.areas.empty()) {
    return;
  }
  Random random(seed ^ 0x6B6F7361706F2D78ULL);
  int fiscal_year = 0;
  for (const SampleCase& c : city.cases) {
    fiscal_year = std::max(fiscal_year, c.fiscal_year);
  }
  if (fiscal_year == 0) {
    fiscal_year = horizon.month() >= 4 ? static_cast<int>(horizon.year())
                                       : static_cast<int>(horizon.year()) - 1;
  }
  BuildDirectory(city, fiscal_year);
  AssignReferralTargets(city, random);
  for (size_t s = 0; s < city.supports.size(); ++s) {
    if (city.supports[s].hub.has_value()) {
      AddHubUsages(city, static_cast<int>(s), fiscal_year, horizon, random);
    }
  }
  AddUrgentReports(city, random);
  AddCaseWork(city, fiscal_year, horizon, random);
}

std::map<absl::CivilDay, int> HubDayCounts(const SampleCity& city, int hub) {
  std::map<absl::CivilDay, int> counts;
  for (const SampleHubUsage& usage : city.hub_usages) {
    if (usage.support == hub) {
      for (const SampleVisit& visit : usage.visits) {
        ++counts[visit.day];
      }
    }
  }
  return counts;
}

}  // namespace kosapo::sample
