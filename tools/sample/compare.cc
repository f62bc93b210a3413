// The comparison of a served ward comparison with its table.
#include "tools/sample/compare.h"

#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/types/api_types.h"
#include "services/reporting/domain/ward_table.h"

namespace kosapo::sample {
namespace {

namespace rv1 = ::kosapo::reporting::v1;

const std::array<std::string, 18>& ColumnNames() {
  static const auto* const kNames =
      new std::array<std::string, 18>{"c01_pupils",
                                      "c02_target_cases",
                                      "c03_extraction_rate",
                                      "c04_outreach_done",
                                      "c05_outreach_rate",
                                      "c06_connected",
                                      "c07_connected_rate_of_target",
                                      "c08_connected_rate_of_outreach",
                                      "c09_not_connected",
                                      "c10_not_connected_rate",
                                      "c11_preparing",
                                      "c12_preparing_rate",
                                      "c13_unable",
                                      "c14_unable_rate",
                                      "c15_resolved",
                                      "c16_resolved_rate_of_target",
                                      "c17_resolved_rate_of_outreach",
                                      "c18_resolved_rate_of_connected"};
  return *kNames;
}

const rv1::WardRow* FindRow(const rv1::WardComparison& comparison,
                            const SpecRow& want) {
  for (const rv1::WardRow& row : comparison.rows()) {
    if (row.fiscal_year() == want.fiscal_year &&
        row.area_code() == want.area_code &&
        (row.kind() == rv1::ROW_KIND_AREA) != want.city_total) {
      return &row;
    }
  }
  return nullptr;
}

// Worse than the city by the default directions, from the published
// values (a "-" is never worse).
bool WorseThanCity(const reporting::FlagRules& rules, int column,
                   const std::string& mine, const std::string& city) {
  double ours = 0;
  double theirs = 0;
  if (!reporting::WardRow::IsRate(column) || !rules.direction[column] ||
      !absl::SimpleAtod(mine, &ours) || !absl::SimpleAtod(city, &theirs)) {
    return false;
  }
  return *rules.direction[column] == reporting::Worse::kLower ? ours < theirs
                                                              : ours > theirs;
}

}  // namespace

const std::string& ColumnName(int column) {
  return ColumnNames().at(static_cast<size_t>(column - 1));
}

SpecComparison CompareWithSpec(const WardSpec& spec,
                               const rv1::WardComparison& comparison) {
  SpecComparison result;
  auto differ = [&result](const std::string& label, absl::string_view what,
                          absl::string_view got, absl::string_view want) {
    result.differences.push_back(absl::StrCat(label, " ", what, ": service \"",
                                              got, "\", table \"", want, "\""));
  };
  const rv1::WardRow* city_row = nullptr;
  for (const SpecRow& want : spec.rows) {
    const rv1::WardRow* got = FindRow(comparison, want);
    if (got == nullptr) {
      result.differences.push_back(
          absl::StrCat(want.label, ": no such row in the service's answer"));
      continue;
    }
    if (got->label_ja() != want.label) {
      differ(want.label, "label", got->label_ja(), want.label);
    }
    if (DateToSql(got->as_of()) != DayToSql(want.as_of)) {
      differ(want.label, "as of", DateToSql(got->as_of()),
             DayToSql(want.as_of));
    }
    if (got->cells_size() != 18) {
      differ(want.label, "columns", absl::StrCat(got->cells_size()), "18");
      continue;
    }
    for (int column = 1; column <= 18; ++column) {
      const std::string& name = ColumnName(column);
      const auto published = want.published.find(name);
      const std::string& expected =
          published == want.published.end() ? "" : published->second;
      ++result.cells;
      if (got->cells(column - 1).published() != expected) {
        differ(want.label, name, got->cells(column - 1).published(), expected);
      }
    }
    if (got->kind() == rv1::ROW_KIND_CITY_TOTAL) {
      city_row = got;
    }
  }
  if (city_row == nullptr) {
    result.differences.push_back(
        absl::StrCat("no city-total row for fiscal year ", spec.area_year));
    return result;
  }
  const reporting::FlagRules rules = reporting::FlagRules::Defaults();
  for (const rv1::WardRow& row : comparison.rows()) {
    if (row.kind() != rv1::ROW_KIND_AREA || row.cells_size() != 18) {
      continue;
    }
    for (int column = 1; column <= 18; ++column) {
      const rv1::Cell& cell = row.cells(column - 1);
      const bool worse = WorseThanCity(rules, column, cell.published(),
                                       city_row->cells(column - 1).published());
      ++result.flags;
      if (cell.flagged() != worse) {
        differ(row.label_ja(), absl::StrCat(ColumnName(column), " flag"),
               cell.flagged() ? "flagged" : "not flagged",
               worse ? "worse than the city" : "not worse than the city");
      } else if (worse) {
        ++result.flagged;
      }
    }
  }
  return result;
}

}  // namespace kosapo::sample
