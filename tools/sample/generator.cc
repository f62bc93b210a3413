#include "tools/sample/generator.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/sample/random.h"

namespace kosapo::sample {
namespace {

struct Name {
  const char* kanji;
  const char* kana;
};

constexpr Name kFamily[] = {
    {"佐藤", "さとう"},   {"鈴木", "すずき"},   {"高橋", "たかはし"},
    {"田中", "たなか"},   {"伊藤", "いとう"},   {"渡辺", "わたなべ"},
    {"山本", "やまもと"}, {"中村", "なかむら"}, {"小林", "こばやし"},
    {"加藤", "かとう"},   {"吉田", "よしだ"},   {"山田", "やまだ"},
    {"佐々木", "ささき"}, {"山口", "やまぐち"}, {"松本", "まつもと"},
    {"井上", "いのうえ"}, {"木村", "きむら"},   {"林", "はやし"},
    {"斎藤", "さいとう"}, {"清水", "しみず"},   {"山崎", "やまざき"},
    {"森", "もり"},       {"池田", "いけだ"},   {"橋本", "はしもと"},
    {"阿部", "あべ"},     {"石川", "いしかわ"}, {"山下", "やました"},
    {"中島", "なかじま"}, {"石井", "いしい"},   {"小川", "おがわ"},
    {"前田", "まえだ"},   {"岡田", "おかだ"},   {"長谷川", "はせがわ"},
    {"藤田", "ふじた"},   {"後藤", "ごとう"},   {"近藤", "こんどう"},
    {"村上", "むらかみ"}, {"遠藤", "えんどう"}, {"青木", "あおき"},
    {"坂本", "さかもと"}};

constexpr Name kGiven[] = {
    {"蓮", "れん"},       {"陽翔", "はると"}, {"湊", "みなと"},
    {"蒼", "あおい"},     {"樹", "いつき"},   {"大和", "やまと"},
    {"悠真", "ゆうま"},   {"陽太", "ようた"}, {"朝陽", "あさひ"},
    {"律", "りつ"},       {"颯", "はやて"},   {"結翔", "ゆいと"},
    {"翔太", "しょうた"}, {"健太", "けんた"}, {"大翔", "ひろと"},
    {"陽菜", "ひな"},     {"凛", "りん"},     {"結愛", "ゆあ"},
    {"葵", "あおい"},     {"紬", "つむぎ"},   {"芽依", "めい"},
    {"莉子", "りこ"},     {"結菜", "ゆいな"}, {"咲良", "さくら"},
    {"美咲", "みさき"},   {"杏", "あん"},     {"花", "はな"},
    {"詩", "うた"},       {"心春", "こはる"}, {"柚葉", "ゆずは"}};

// Splits `total` over `weights` by largest remainder: the parts add up to
// `total` exactly, each as close to its share as integers allow.
std::vector<int64_t> Split(int64_t total, const std::vector<int64_t>& weights) {
  std::vector<int64_t> parts(weights.size(), 0);
  int64_t sum = 0;
  for (int64_t w : weights) {
    sum += w;
  }
  if (weights.empty()) {
    return parts;
  }
  if (sum == 0) {
    parts[0] = total;
    return parts;
  }
  std::vector<std::pair<int64_t, size_t>> remainders;
  int64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const int64_t share = total * weights[i];  // counts: far from overflow
    parts[i] = static_cast<int64_t>(share / sum);
    remainders.emplace_back(static_cast<int64_t>(share % sum), i);
    given += parts[i];
  }
  std::stable_sort(
      remainders.begin(), remainders.end(),
      [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < total; ++k, ++given) {
    ++parts[remainders[k % remainders.size()].second];
  }
  return parts;
}

// The kinds of case a row's counts are made of.
enum Kind {
  kResolvedConnected,
  kConnected,
  kResolvedOnly,
  kDoneOnly,
  kPreparing,
  kUnable,
  kKinds
};

std::array<int64_t, kKinds> KindsOf(const SpecRow& row) {
  std::array<int64_t, kKinds> kinds{};
  kinds[kResolvedConnected] = std::min(row.resolved, row.connected);
  kinds[kConnected] = row.connected - kinds[kResolvedConnected];
  kinds[kResolvedOnly] = row.resolved - kinds[kResolvedConnected];
  kinds[kDoneOnly] = row.outreach_done - row.connected - kinds[kResolvedOnly];
  kinds[kPreparing] = row.preparing;
  kinds[kUnable] = row.unable;
  return kinds;
}

class Builder {
 public:
  Builder(SampleCity& city, uint64_t seed) : city_(city), random_(seed) {}

  void AddSchools(const SampleArea& area) {
    for (int i = 1; i <= 6; ++i) {
      SampleSchool school;
      school.junior_high = i > 4;
      school.code = absl::StrFormat("%s%s%02d", area.code,
                                    school.junior_high ? "J" : "E", i);
      school.area_code = area.code;
      school.name = absl::StrCat(area.name, "第", i,
                                 school.junior_high ? "中学校" : "小学校");
      city_.schools.push_back(school);
    }
  }

  // Pupils of an area in a year, over its schools.
  void AddEnrollment(int fiscal_year, const std::string& area, int64_t pupils) {
    static const std::vector<int64_t> kWeights = {20, 18, 17, 15, 16, 14};
    const std::vector<int64_t> parts = Split(pupils, kWeights);
    for (int i = 0; i < 6; ++i) {
      city_.enrollment.push_back({fiscal_year, SchoolOf(area, i)->code,
                                  parts[static_cast<size_t>(i)]});
    }
  }

  // The screening rounds of `years` (ascending), each with meetings I of
  // every school about every two months up to the year's as-of date.
  void AddScreenings(const std::map<int, absl::CivilDay>& years) {
    for (const auto& [year, as_of] : years) {
      screening_of_[year] = static_cast<int>(city_.screenings.size());
      city_.screenings.push_back({year, {}, {}});
      SampleScreening& screening = city_.screenings.back();
      for (const SampleSchool& school : city_.schools) {
        std::vector<int>& meetings = meetings_[{year, school.code}];
        for (absl::CivilMonth month(year, 5);
             month <= absl::CivilMonth(year + 1, 3); month += 2) {
          const absl::CivilDay day(month.year(), month.month(),
                                   10 + static_cast<int>(random_.Below(15)));
          if (day > as_of) {
            break;
          }
          meetings.push_back(static_cast<int>(screening.meetings.size()));
          screening.meetings.push_back({school.code, day});
        }
      }
    }
  }

  void AddCases(int fiscal_year, absl::CivilDay as_of, const std::string& area,
                Kind kind, int64_t count) {
    const absl::CivilDay start(fiscal_year, 4, 1);
    const int s = screening_of_.at(fiscal_year);
    for (int64_t n = 0; n < count; ++n) {
      SampleCase c;
      c.area_code = area;
      c.fiscal_year = fiscal_year;
      c.child = Child(fiscal_year, area);
      // Extractions come through the year; leave room for what follows
      // them before the as-of date.
      const absl::CivilDay last_open =
          std::max(start, as_of - std::min<int64_t>(30, as_of - start));
      const int meeting =
          MeetingFor(fiscal_year, c.child.school_code, start, last_open);
      SampleScreening& screening = city_.screenings[static_cast<size_t>(s)];
      c.opened = screening.meetings[static_cast<size_t>(meeting)].date;
      c.screening = s;
      c.pupil = AddPupil(screening, c.child, 2, meeting);
      if (kind == kPreparing) {
        c.approach = Approach::kInPreparation;
      } else if (kind == kUnable) {
        c.approach = Approach::kNotPossible;
        c.approach_date = DayBetween(random_, c.opened, as_of);
        c.not_possible_reason = 1 + static_cast<int>(random_.Below(3));
      } else {
        c.approach = Approach::kOutreachDone;
        c.approach_date = DayBetween(random_, c.opened, as_of);
        absl::CivilDay since = c.approach_date;
        if (kind == kResolvedConnected || kind == kConnected) {
          c.connected = DayBetween(random_, since, as_of);
          since = *c.connected;
        }
        if (kind == kResolvedConnected || kind == kResolvedOnly) {
          c.resolved = DayBetween(random_, since, as_of);
        }
      }
      city_.cases.push_back(std::move(c));
    }
  }

  // Completes each year's sheets, after the cases: per school, the
  // candidates the meetings watched in school (about 15 for every 85
  // extracted) and pupils with some signs (2% of the enrolled), never more
  // sheets than pupils beyond the extracted ones. The sheets without any
  // sign stay on paper.
  void AddRecordedSheets() {
    std::map<std::pair<int, std::string>, int64_t> enrolled;
    for (const SampleEnrollment& e : city_.enrollment) {
      enrolled[{e.fiscal_year, e.school_code}] += e.pupils;
    }
    for (SampleScreening& screening : city_.screenings) {
      std::map<std::string, int64_t> sheets;
      for (const SamplePupil& pupil : screening.pupils) {
        ++sheets[pupil.child.school_code];
      }
      for (const SampleSchool& school : city_.schools) {
        const int64_t pupils = enrolled[{screening.fiscal_year, school.code}];
        const int64_t extracted = sheets[school.code];
        const int64_t room = std::max<int64_t>(0, pupils - extracted);
        const int64_t watched = std::min(room, (extracted * 15 + 42) / 85);
        const int64_t signs = std::min(room - watched, pupils * 2 / 100);
        const std::vector<int>& meetings =
            meetings_[{screening.fiscal_year, school.code}];
        for (int64_t k = 0; k < watched + signs; ++k) {
          const int grade = school.junior_high
                                ? 7 + static_cast<int>(random_.Below(3))
                                : 1 + static_cast<int>(random_.Below(6));
          const bool candidate = k < watched && !meetings.empty();
          AddPupil(screening, Pupil(screening.fiscal_year, school, grade),
                   candidate ? 2 : 1,
                   candidate ? meetings[static_cast<size_t>(random_.Below(
                                   static_cast<int64_t>(meetings.size())))]
                             : -1);
        }
      }
    }
  }

 private:
  // A meeting I of `school` in [first, last] for an extraction; a new one
  // when the school has none then.
  int MeetingFor(int fiscal_year, const std::string& school,
                 absl::CivilDay first, absl::CivilDay last) {
    std::vector<int>& meetings = meetings_[{fiscal_year, school}];
    SampleScreening& screening =
        city_.screenings[static_cast<size_t>(screening_of_.at(fiscal_year))];
    std::vector<int> fitting;
    for (int m : meetings) {
      const absl::CivilDay day =
          screening.meetings[static_cast<size_t>(m)].date;
      if (day >= first && day <= last) {
        fitting.push_back(m);
      }
    }
    if (!fitting.empty()) {
      return fitting[static_cast<size_t>(
          random_.Below(static_cast<int64_t>(fitting.size())))];
    }
    meetings.push_back(static_cast<int>(screening.meetings.size()));
    screening.meetings.push_back({school, DayBetween(random_, first, last)});
    return meetings.back();
  }

  // Adds the pupil's sheet; returns its index.
  int AddPupil(SampleScreening& screening, const SampleChild& child,
               int concern, int meeting) {
    SamplePupil pupil;
    pupil.pupil_id = absl::StrFormat(
        "%s-%05d", child.school_code,
        ++pupils_of_[{screening.fiscal_year, child.school_code}]);
    pupil.child = child;
    pupil.concern = concern;
    pupil.answer_seed = random_.Next();
    pupil.meeting = meeting;
    screening.pupils.push_back(std::move(pupil));
    return static_cast<int>(screening.pupils.size() - 1);
  }

  const SampleSchool* SchoolOf(const std::string& area, int index) {
    int seen = 0;
    for (const SampleSchool& school : city_.schools) {
      if (school.area_code == area && seen++ == index) {
        return &school;
      }
    }
    return nullptr;
  }

  // A pupil of grade 1-9 with a kana name and birth date no other child
  // of the city shares (search-before-create would take them for one).
  SampleChild Child(int fiscal_year, const std::string& area) {
    SampleChild child = Named(
        fiscal_year, [this] { return 1 + static_cast<int>(random_.Below(9)); });
    child.male = random_.Below(2) == 0;
    child.school_code =
        SchoolOf(area, child.grade >= 7 ? 4 + static_cast<int>(random_.Below(2))
                                        : static_cast<int>(random_.Below(4)))
            ->code;
    return child;
  }

 public:
  // A pupil of `school` in `grade` (1-9, counted from elementary grade 1).
  SampleChild Pupil(int fiscal_year, const SampleSchool& school, int grade) {
    SampleChild child = Named(fiscal_year, [grade] { return grade; });
    child.male = random_.Below(2) == 0;
    child.school_code = school.code;
    return child;
  }

  Random& random() { return random_; }

 private:
  template <typename GradeFn>
  SampleChild Named(int fiscal_year, GradeFn grade) {
    SampleChild child;
    while (true) {
      const Name& family = kFamily[random_.Below(std::size(kFamily))];
      const Name& given = kGiven[random_.Below(std::size(kGiven))];
      child.grade = grade();
      // Grade g in fiscal year Y: born 2 April (Y-6-g) to 1 April (Y-5-g).
      const absl::CivilDay first(fiscal_year - 6 - child.grade, 4, 2);
      child.birth_date = first + random_.Below(365);
      child.name = absl::StrCat(family.kanji, " ", given.kanji);
      child.kana = absl::StrCat(family.kana, " ", given.kana);
      if (used_.insert({child.kana, child.birth_date}).second) {
        return child;
      }
    }
  }

  SampleCity& city_;
  Random random_;
  std::set<std::pair<std::string, absl::CivilDay>> used_;
  std::map<int, int> screening_of_;  // fiscal year -> index
  // (fiscal year, school) -> its meetings, indices into the screening's.
  std::map<std::pair<int, std::string>, std::vector<int>> meetings_;
  std::map<std::pair<int, std::string>, int> pupils_of_;
};

}  // namespace

absl::StatusOr<SampleCity> CityFromSpec(const WardSpec& spec, uint64_t seed) {
  SampleCity city;
  city.municipality = spec.municipality;
  std::vector<const SpecRow*> area_rows;
  for (const SpecRow& row : spec.rows) {
    if (!row.city_total && row.fiscal_year == spec.area_year) {
      area_rows.push_back(&row);
    }
  }
  std::sort(area_rows.begin(), area_rows.end(),
            [](const SpecRow* a, const SpecRow* b) {
              return a->display_order < b->display_order;
            });
  if (area_rows.empty()) {
    return absl::InvalidArgumentError(
        "the table has no area rows to name the city's areas");
  }
  Builder builder(city, seed);
  std::vector<int64_t> pupil_weights;
  std::vector<int64_t> case_weights;
  for (const SpecRow* row : area_rows) {
    city.areas.push_back({row->area_code, row->label, row->display_order});
    builder.AddSchools(city.areas.back());
    pupil_weights.push_back(row->pupils);
    case_weights.push_back(row->target);
  }
  // Meetings up to the latest date any row of the year is taken.
  std::map<int, absl::CivilDay> years;
  for (const SpecRow& row : spec.rows) {
    auto [at, added] = years.emplace(row.fiscal_year, row.as_of);
    if (!added) {
      at->second = std::max(at->second, row.as_of);
    }
  }
  builder.AddScreenings(years);
  for (const SpecRow& row : spec.rows) {
    if (!row.city_total && row.fiscal_year == spec.area_year) {
      builder.AddEnrollment(row.fiscal_year, row.area_code, row.pupils);
      const auto kinds = KindsOf(row);
      for (int kind = 0; kind < kKinds; ++kind) {
        builder.AddCases(row.fiscal_year, row.as_of, row.area_code,
                         static_cast<Kind>(kind), kinds[kind]);
      }
    } else if (row.city_total && row.fiscal_year != spec.area_year) {
      // Only the city total is published: spread it like the area year.
      const std::vector<int64_t> pupils = Split(row.pupils, pupil_weights);
      for (size_t a = 0; a < city.areas.size(); ++a) {
        builder.AddEnrollment(row.fiscal_year, city.areas[a].code, pupils[a]);
      }
      const auto kinds = KindsOf(row);
      for (int kind = 0; kind < kKinds; ++kind) {
        const std::vector<int64_t> parts = Split(kinds[kind], case_weights);
        for (size_t a = 0; a < city.areas.size(); ++a) {
          builder.AddCases(row.fiscal_year, row.as_of, city.areas[a].code,
                           static_cast<Kind>(kind), parts[a]);
        }
      }
    }
  }
  builder.AddRecordedSheets();
  // The extras end where the area year's table is taken.
  absl::CivilDay horizon = area_rows.front()->as_of;
  for (const SpecRow* row : area_rows) {
    horizon = std::max(horizon, row->as_of);
  }
  AddExtras(city, horizon, seed);
  return city;
}

namespace {

constexpr const char* kAreaNames[] = {
    "北区",   "中央区", "東区",   "西区",   "南区",   "港区",
    "緑区",   "旭区",   "山手区", "浜区",   "青葉区", "桜区",
    "若葉区", "泉区",   "栄区",   "松原区", "川辺区", "丘陵区",
    "朝日区", "花園区", "城東区", "城西区", "湊区",   "森区"};

// Pupils per school, about: elementary schools of 400, junior highs of 500.
constexpr int64_t kPupilsPerSchool = 450;

int FiscalYearOfDay(absl::CivilDay day) {
  return static_cast<int>(day.month() >= 4 ? day.year() : day.year() - 1);
}

// What became of an extracted pupil's case by `horizon`: the approach
// about three weeks after the extraction (6% still in preparation, 3% not
// possible), a support for 88% of those reached, and 30% of them improved
// a few months on. Steps that would fall after the horizon have not
// happened yet.
void Follow(Random& random, absl::CivilDay horizon, SampleCase& c) {
  const int64_t roll = random.Below(100);
  if (roll < 6) {
    return;
  }
  const absl::CivilDay approach = c.opened + 3 + random.Below(43);
  if (approach > horizon) {
    return;
  }
  c.approach_date = approach;
  if (roll < 9) {
    c.approach = Approach::kNotPossible;
    c.not_possible_reason = 1 + static_cast<int>(random.Below(3));
    return;
  }
  c.approach = Approach::kOutreachDone;
  absl::CivilDay since = approach;
  if (random.Percent(88)) {
    const absl::CivilDay connected = approach + 3 + random.Below(43);
    if (connected > horizon) {
      return;
    }
    c.connected = connected;
    since = connected;
  }
  if (random.Percent(30)) {
    const absl::CivilDay resolved = since + 20 + random.Below(131);
    if (resolved <= horizon) {
      c.resolved = resolved;
    }
  }
}

}  // namespace

absl::StatusOr<SampleCity> CityOfSize(int64_t pupils, int areas,
                                      absl::CivilDay today, uint64_t seed,
                                      const std::string& municipality) {
  if (pupils < 10 || pupils > 2000000) {
    return absl::InvalidArgumentError("pupils: 10 to 2,000,000");
  }
  if (areas < 0 || areas > 100) {
    return absl::InvalidArgumentError("areas: 0 (by size) to 100");
  }
  if (municipality.size() != 5 ||
      !std::all_of(municipality.begin(), municipality.end(),
                   [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return absl::InvalidArgumentError("municipality: a 5-digit code");
  }
  const int fiscal_year = FiscalYearOfDay(today);
  const absl::CivilDay year_start(fiscal_year, 4, 1);
  // Everything happened before today (on the first day, today).
  const absl::CivilDay horizon = std::max(today - 1, year_start);
  SampleCity city;
  city.municipality = municipality;
  city.request_prefix =
      absl::StrCat("sample-", municipality, "-fy", fiscal_year, "-");
  if (areas == 0) {
    areas = static_cast<int>(
        std::clamp<int64_t>((pupils + 5999) / 6000, 1, std::size(kAreaNames)));
  }
  Builder builder(city, seed);
  Random& random = builder.random();
  std::vector<int64_t> weights;
  for (int a = 0; a < areas; ++a) {
    const std::string name = a < static_cast<int>(std::size(kAreaNames))
                                 ? kAreaNames[a]
                                 : absl::StrCat("第", a + 1, "区");
    city.areas.push_back(
        {absl::StrFormat("%s%02d", municipality, a + 1), name, a + 1});
    weights.push_back(80 + random.Below(41));
  }
  SampleScreening screening;
  screening.fiscal_year = fiscal_year;
  const std::vector<int64_t> area_pupils = Split(pupils, weights);
  for (size_t a = 0; a < city.areas.size(); ++a) {
    const SampleArea& area = city.areas[a];
    // Two thirds of the pupils (grades 1-6) in elementary schools.
    const int64_t elementary_pupils = area_pupils[a] * 2 / 3;
    const int64_t elementary = std::clamp<int64_t>(
        (elementary_pupils + kPupilsPerSchool / 2) / kPupilsPerSchool, 1, 60);
    const int64_t junior = std::clamp<int64_t>(
        (area_pupils[a] - elementary_pupils + kPupilsPerSchool / 2) /
            kPupilsPerSchool,
        1, 30);
    for (int kind = 0; kind < 2; ++kind) {
      const bool junior_high = kind == 1;
      const int64_t schools = junior_high ? junior : elementary;
      const std::vector<int64_t> parts = Split(
          junior_high ? area_pupils[a] - elementary_pupils : elementary_pupils,
          std::vector<int64_t>(static_cast<size_t>(schools), 1));
      for (int64_t k = 0; k < schools; ++k) {
        SampleSchool school;
        school.junior_high = junior_high;
        school.code = absl::StrFormat("%s%s%02d", area.code,
                                      junior_high ? "J" : "E", k + 1);
        school.area_code = area.code;
        school.name = absl::StrCat(area.name, "第", k + 1,
                                   junior_high ? "中学校" : "小学校");
        city.schools.push_back(school);
        const int64_t count = parts[static_cast<size_t>(k)];
        city.enrollment.push_back({fiscal_year, school.code, count});
        // Meeting I every month or two from May, so cases open through the
        // year; the first at the latest on the horizon.
        std::vector<int> meetings;
        for (absl::CivilMonth month(fiscal_year, 5);; month += 2) {
          const absl::CivilDay day(month.year(), month.month(),
                                   10 + static_cast<int>(random.Below(15)));
          if (day > horizon) {
            if (meetings.empty()) {
              screening.meetings.push_back({school.code, horizon});
              meetings.push_back(
                  static_cast<int>(screening.meetings.size() - 1));
            }
            break;
          }
          screening.meetings.push_back({school.code, day});
          meetings.push_back(static_cast<int>(screening.meetings.size() - 1));
        }
        for (int64_t p = 0; p < count; ++p) {
          SamplePupil pupil;
          pupil.pupil_id = absl::StrFormat("%s-%05d", school.code, p + 1);
          const int grade = junior_high ? 7 + static_cast<int>(p * 3 / count)
                                        : 1 + static_cast<int>(p * 6 / count);
          pupil.child = builder.Pupil(fiscal_year, city.schools.back(), grade);
          const int64_t roll = random.Below(1000);
          pupil.concern = roll < 15 ? 2 : roll < 95 ? 1 : 0;
          pupil.answer_seed = random.Next();
          if (pupil.concern == 2) {
            pupil.meeting = meetings[static_cast<size_t>(
                random.Below(static_cast<int64_t>(meetings.size())))];
            // Most candidates are extracted; the others are watched in
            // school.
            if (random.Percent(85)) {
              SampleCase c;
              c.area_code = area.code;
              c.fiscal_year = fiscal_year;
              c.opened =
                  screening.meetings[static_cast<size_t>(pupil.meeting)].date;
              c.child = pupil.child;
              c.screening = 0;
              c.pupil = static_cast<int>(screening.pupils.size());
              Follow(random, horizon, c);
              city.cases.push_back(std::move(c));
            }
          }
          screening.pupils.push_back(std::move(pupil));
        }
      }
    }
  }
  city.screenings.push_back(std::move(screening));
  AddExtras(city, horizon, seed);
  return city;
}

std::vector<SheetAnswer> DrawAnswers(
    const std::vector<TemplateItemShape>& items, double review_threshold,
    int concern, uint64_t seed) {
  std::vector<SheetAnswer> answers;
  if (concern == 0 || items.empty()) {
    return answers;
  }
  Random random(seed);
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  for (size_t k = 0; k + 1 < order.size(); ++k) {
    std::swap(order[k],
              order[k + static_cast<size_t>(random.Below(
                            static_cast<int64_t>(order.size() - k)))]);
  }
  // Some signs: items at their lowest value while the total stays below
  // the threshold; a candidate: items at their highest until it is reached.
  double total = 0;
  const int wanted = concern == 1 ? 1 + static_cast<int>(random.Below(2)) : 8;
  for (size_t i : order) {
    const TemplateItemShape& item = items[i];
    if (static_cast<int>(answers.size()) >= wanted ||
        (concern == 2 && total >= review_threshold)) {
      break;
    }
    const int max_level = item.flag ? 1 : std::max(1, item.max_level);
    const int value = concern == 1 ? 1 : max_level;
    const double points = item.weight * value / max_level;
    if (concern == 1 &&
        (item.always_review || total + points >= review_threshold)) {
      continue;
    }
    total += points;
    answers.push_back({item.code, value});
  }
  return answers;
}

reporting::WardCounts CountAsOf(const SampleCity& city, int fiscal_year,
                                absl::CivilDay as_of,
                                const std::string& area_code) {
  reporting::WardCounts counts;
  std::map<std::string, std::string> area_of_school;
  for (const SampleSchool& school : city.schools) {
    area_of_school[school.code] = school.area_code;
  }
  for (const SampleEnrollment& e : city.enrollment) {
    if (e.fiscal_year == fiscal_year &&
        (area_code.empty() || area_of_school[e.school_code] == area_code)) {
      counts.pupils += e.pupils;
    }
  }
  // A hub usage connects its case from its first visit (HubUsageStarted).
  std::map<size_t, absl::CivilDay> hub_started;
  for (const SampleHubUsage& usage : city.hub_usages) {
    if (!usage.visits.empty()) {
      auto [at, added] =
          hub_started.emplace(usage.case_index, usage.visits.front().day);
      if (!added) {
        at->second = std::min(at->second, usage.visits.front().day);
      }
    }
  }
  for (size_t i = 0; i < city.cases.size(); ++i) {
    const SampleCase& c = city.cases[i];
    if (c.fiscal_year != fiscal_year || c.opened > as_of ||
        (!area_code.empty() && c.area_code != area_code)) {
      continue;
    }
    ++counts.target;
    const bool reached =
        c.approach != Approach::kInPreparation && c.approach_date <= as_of;
    if (reached && c.approach == Approach::kOutreachDone) {
      ++counts.outreach_done;
      const auto hub = hub_started.find(i);
      if ((c.connected.has_value() && *c.connected <= as_of) ||
          (hub != hub_started.end() && hub->second <= as_of)) {
        ++counts.connected;
      }
    } else if (reached && c.approach == Approach::kNotPossible) {
      ++counts.unable;
    } else {
      ++counts.preparing;
    }
    if (c.resolved.has_value() && *c.resolved <= as_of) {
      ++counts.resolved;
    }
  }
  return counts;
}

}  // namespace kosapo::sample
