#include "tools/sample/generator.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kosapo::sample {
namespace {

// SplitMix64: small, fast and the same everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n > 0 (the bias of % is negligible here).
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % n); }

 private:
  uint64_t state_;
};

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

// A day in [from, to].
absl::CivilDay DayBetween(Random& random, absl::CivilDay from,
                          absl::CivilDay to) {
  return to <= from ? from : from + random.Below(to - from + 1);
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

  void AddCases(int fiscal_year, absl::CivilDay as_of, const std::string& area,
                Kind kind, int64_t count) {
    const absl::CivilDay start(fiscal_year, 4, 1);
    for (int64_t n = 0; n < count; ++n) {
      SampleCase c;
      c.area_code = area;
      c.fiscal_year = fiscal_year;
      // Extractions and referrals come through the year; leave room for
      // what follows them before the as-of date.
      const absl::CivilDay last_open =
          std::max(start, as_of - std::min<int64_t>(30, as_of - start));
      c.opened = DayBetween(random_, start, last_open);
      c.child = Child(fiscal_year, area);
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

 private:
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
    SampleChild child;
    while (true) {
      const Name& family = kFamily[random_.Below(std::size(kFamily))];
      const Name& given = kGiven[random_.Below(std::size(kGiven))];
      child.grade = 1 + static_cast<int>(random_.Below(9));
      // Grade g in fiscal year Y: born 2 April (Y-6-g) to 1 April (Y-5-g).
      const absl::CivilDay first(fiscal_year - 6 - child.grade, 4, 2);
      child.birth_date = first + random_.Below(365);
      child.name = absl::StrCat(family.kanji, " ", given.kanji);
      child.kana = absl::StrCat(family.kana, " ", given.kana);
      if (used_.insert({child.kana, child.birth_date}).second) {
        break;
      }
    }
    child.male = random_.Below(2) == 0;
    child.school_code =
        SchoolOf(area, child.grade >= 7 ? 4 + static_cast<int>(random_.Below(2))
                                        : static_cast<int>(random_.Below(4)))
            ->code;
    return child;
  }

  SampleCity& city_;
  Random random_;
  std::set<std::pair<std::string, absl::CivilDay>> used_;
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
  return city;
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
  for (const SampleCase& c : city.cases) {
    if (c.fiscal_year != fiscal_year || c.opened > as_of ||
        (!area_code.empty() && c.area_code != area_code)) {
      continue;
    }
    ++counts.target;
    const bool reached =
        c.approach != Approach::kInPreparation && c.approach_date <= as_of;
    if (reached && c.approach == Approach::kOutreachDone) {
      ++counts.outreach_done;
      if (c.connected.has_value() && *c.connected <= as_of) {
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
