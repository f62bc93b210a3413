#include "tools/sample/generator.h"

#include <set>

#include "gtest/gtest.h"
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

}  // namespace
}  // namespace kosapo::sample
