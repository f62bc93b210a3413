#include "services/reporting/domain/ward_table.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::reporting {
namespace {

// The city's published table (../shared/data, copied beside the tests),
// every cell by its column name.
std::vector<std::map<std::string, std::string>> PublishedTable() {
  auto spec = sample::ReadWardSpec(KOSAPO_WARD_TABLE_TSV);
  EXPECT_TRUE(spec.ok()) << spec.status();
  std::vector<std::map<std::string, std::string>> rows;
  for (const sample::SpecRow& row : spec.value_or(sample::WardSpec{}).rows) {
    rows.push_back(row.published);
  }
  return rows;
}

int64_t Int(const std::map<std::string, std::string>& row,
            const std::string& column) {
  int64_t value = 0;
  EXPECT_TRUE(absl::SimpleAtoi(row.at(column), &value)) << column;
  return value;
}

WardCounts CountsOf(const std::map<std::string, std::string>& row) {
  WardCounts counts;
  counts.pupils = Int(row, "c01_pupils");
  counts.target = Int(row, "c02_target_cases");
  counts.outreach_done = Int(row, "c04_outreach_done");
  counts.connected = Int(row, "c06_connected");
  counts.preparing = Int(row, "c11_preparing");
  counts.unable = Int(row, "c13_unable");
  counts.resolved = Int(row, "c15_resolved");
  return counts;
}

TEST(WardTableTest, ReproducesEveryPublishedCellFromTheCounts) {
  const auto table = PublishedTable();
  ASSERT_EQ(table.size(), 28u);  // 4 city totals + 24 wards
  const std::map<int, std::string> rate_columns = {
      {3, "c03_extraction_rate"},
      {5, "c05_outreach_rate"},
      {7, "c07_connected_rate_of_target"},
      {8, "c08_connected_rate_of_outreach"},
      {10, "c10_not_connected_rate"},
      {12, "c12_preparing_rate"},
      {14, "c14_unable_rate"},
      {16, "c16_resolved_rate_of_target"},
      {17, "c17_resolved_rate_of_outreach"},
      {18, "c18_resolved_rate_of_connected"}};
  int cells = 0;
  for (const auto& published : table) {
    SCOPED_TRACE(published.at("label"));
    const WardCounts counts = CountsOf(published);
    EXPECT_TRUE(CheckInvariants(counts).ok());
    const WardRow row = ComputeRow(counts);
    EXPECT_EQ(row.count[9], Int(published, "c09_not_connected"));
    ++cells;
    for (const auto& [column, name] : rate_columns) {
      EXPECT_EQ(row.rate[column].Published(), published.at(name)) << name;
      ++cells;
    }
  }
  EXPECT_EQ(cells, 28 * 11);
}

TEST(WardTableTest, CityTotalLabelsInTheEraForm) {
  for (const auto& published : PublishedTable()) {
    if (published.at("row_kind") != "city_total") {
      continue;
    }
    absl::CivilDay as_of;
    ASSERT_TRUE(absl::ParseCivilTime(published.at("as_of"), &as_of));
    EXPECT_EQ(
        CityTotalLabel(static_cast<int>(Int(published, "fiscal_year")), as_of),
        published.at("label"));
  }
  EXPECT_EQ(FiscalYearLabel(2019), "令和元年度");
  EXPECT_EQ(FiscalYearLabel(2018), "平成30年度");
  EXPECT_EQ(AsOfLabel(absl::CivilDay(2019, 4, 30)), "平成31年4月末");
  EXPECT_EQ(AsOfLabel(absl::CivilDay(2019, 5, 1)), "令和元年5月1日");
  EXPECT_EQ(AsOfLabel(absl::CivilDay(2023, 12, 15)), "令和5年12月15日");
  EXPECT_EQ(AsOfLabel(absl::CivilDay(2024, 2, 29)), "令和6年2月末");
}

TEST(WardTableTest, RoundsHalfUpOnExactTenths) {
  EXPECT_EQ(RoundedTenths(1, 8), 125);   // 12.5 exactly
  EXPECT_EQ(RoundedTenths(1, 16), 63);   // 6.25 -> 6.3 (half up)
  EXPECT_EQ(RoundedTenths(1, 2000), 1);  // 0.05 -> 0.1
  EXPECT_EQ(RoundedTenths(1, 2001), 0);  // 0.04997... -> 0.0
  EXPECT_EQ(RoundedTenths(2, 3), 667);
  EXPECT_EQ(RoundedTenths(0, 5), 0);
  EXPECT_EQ(RoundedTenths(5, 5), 1000);
}

TEST(WardTableTest, ComplementsFollowThePublishedFormula) {
  // ⑧ = 2/3 = 66.7, so ⑩ = 33.3 (the direct 1/3 would also be 33.3);
  // ⑤ = 1/6 = 16.7, ⑫ = 1/6 = 16.7, ⑭ = 100 - 16.7 - 16.7 = 66.6 while the
  // direct 4/6 is 66.7: the published value is the complement.
  WardCounts counts;
  counts.pupils = 100;
  counts.target = 6;
  counts.outreach_done = 1;
  counts.connected = 1;
  counts.preparing = 1;
  counts.unable = 4;
  const WardRow row = ComputeRow(counts);
  EXPECT_EQ(row.rate[14].Published(), "66.6");
  EXPECT_EQ(row.rate[14].numerator, 4);
  EXPECT_EQ(row.rate[14].denominator, 6);
  EXPECT_EQ(row.rate[10].Published(), "0.0");
}

TEST(WardTableTest, ZeroDenominatorIsADash) {
  WardCounts counts;
  counts.pupils = 120;
  counts.target = 3;
  counts.preparing = 3;  // no outreach yet: ④ = 0
  const WardRow row = ComputeRow(counts);
  EXPECT_EQ(row.rate[5].Published(), "0.0");
  EXPECT_EQ(row.rate[8].Published(), "-");
  EXPECT_EQ(row.rate[10].Published(), "-");  // complement of a dash
  EXPECT_EQ(row.rate[17].Published(), "-");
  EXPECT_EQ(row.rate[18].Published(), "-");
  EXPECT_EQ(row.rate[8].denominator, 0);
}

TEST(WardTableTest, InvariantsNameWhatIsBroken) {
  WardCounts counts;
  counts.target = 5;
  counts.outreach_done = 3;
  counts.preparing = 1;
  EXPECT_FALSE(CheckInvariants(counts).ok());
  counts.unable = 1;
  EXPECT_TRUE(CheckInvariants(counts).ok());
  counts.connected = 4;
  EXPECT_FALSE(CheckInvariants(counts).ok());
}

TEST(WardTableTest, FlagsWardCellsWorseThanTheCity) {
  const auto table = PublishedTable();
  const std::map<std::string, std::string>* city = nullptr;
  for (const auto& row : table) {
    if (row.at("row_kind") == "city_total" && row.at("fiscal_year") == "2023") {
      city = &row;
    }
  }
  ASSERT_NE(city, nullptr);
  const WardRow city_row = ComputeRow(CountsOf(*city));
  const FlagRules rules = FlagRules::Defaults();
  int flagged = 0;
  for (const auto& published : table) {
    if (published.at("row_kind") != "ward") {
      continue;
    }
    const WardRow ward = ComputeRow(CountsOf(published));
    for (int column = 1; column <= 18; ++column) {
      const bool flag = Flagged(ward, city_row, column, rules);
      if (!WardRow::IsRate(column)) {
        EXPECT_FALSE(flag) << "counts are never flagged";
        continue;
      }
      // The rule on the published values, column by column.
      const int64_t mine = *ward.rate[column].tenths;
      const int64_t theirs = *city_row.rate[column].tenths;
      const bool higher_is_worse = column == 10 || column == 12 || column == 14;
      EXPECT_EQ(flag, higher_is_worse ? mine > theirs : mine < theirs)
          << published.at("label") << " column " << column;
      flagged += flag;
    }
  }
  EXPECT_GT(flagged, 0);
  // A ward equal to the city is not flagged; directions are configurable.
  EXPECT_FALSE(Flagged(city_row, city_row, 3, rules));
  FlagRules none;
  EXPECT_FALSE(Flagged(ComputeRow(WardCounts{}), city_row, 3, none));
}

TEST(WardTableTest, FlagDirectionsAreParsedOnTopOfTheDefaults) {
  const FlagRules defaults = FlagRules::Defaults();
  EXPECT_EQ(FormatFlagRules(defaults),
            "3=lower,5=lower,7=lower,8=lower,10=higher,12=higher,14=higher,"
            "16=lower,17=lower,18=lower");
  absl::StatusOr<FlagRules> empty = ParseFlagRules("");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(FormatFlagRules(*empty), FormatFlagRules(defaults));

  absl::StatusOr<FlagRules> changed =
      ParseFlagRules(" 12=none, 17 = HIGHER ,3=higher");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(FormatFlagRules(*changed),
            "3=higher,5=lower,7=lower,8=lower,10=higher,12=none,14=higher,"
            "16=lower,17=higher,18=lower");
  // A round trip gives the same rules.
  absl::StatusOr<FlagRules> again = ParseFlagRules(FormatFlagRules(*changed));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(FormatFlagRules(*again), FormatFlagRules(*changed));

  // The changed rules decide: a ward below the city in column 3 is flagged
  // by default, not when higher is worse, and never with none.
  WardRow city;
  city.rate[3].tenths = 50;
  city.rate[12].tenths = 10;
  WardRow ward;
  ward.rate[3].tenths = 40;
  ward.rate[12].tenths = 20;
  EXPECT_TRUE(Flagged(ward, city, 3, defaults));
  EXPECT_FALSE(Flagged(ward, city, 3, *changed));
  EXPECT_TRUE(Flagged(city, ward, 3, *changed));
  EXPECT_TRUE(Flagged(ward, city, 12, defaults));
  EXPECT_FALSE(Flagged(ward, city, 12, *changed));

  for (const auto& [spec, named] :
       std::vector<std::pair<std::string, std::string>>{
           {"4=lower", "\"4=lower\""},  // a count, not a rate
           {"19=lower", "\"19=lower\""},
           {"x=lower", "\"x=lower\""},
           {"3", "\"3\""},
           {"3=down", "\"down\""},
           {"3=lower,3=higher", "column 3 is given twice"}}) {
    const absl::StatusOr<FlagRules> bad = ParseFlagRules(spec);
    ASSERT_FALSE(bad.ok()) << spec;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find(named), std::string::npos)
        << bad.status();
  }
}

}  // namespace
}  // namespace kosapo::reporting
