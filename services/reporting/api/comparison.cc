#include "services/reporting/api/comparison.h"

#include "absl/strings/str_cat.h"
#include "common/types/api_types.h"

namespace kosapo::reporting {
namespace {

struct Header {
  const char* ja;
  const char* en;
};

// DESIGN.md section 3, columns 1 to 18.
constexpr Header kHeaders[19] = {
    {"", ""},
    {"児童生徒数", "pupils"},
    {"対象ケース数", "target cases"},
    {"対象者抽出割合", "extraction rate"},
    {"アウトリーチができたケース数", "outreach done"},
    {"アウトリーチができた割合", "outreach rate"},
    {"支援等につながったケース数", "connected"},
    {"支援等につながった割合（対象ケース）", "connected, of target"},
    {"支援等につながった割合（アウトリーチ）", "connected, of outreach"},
    {"支援につながっていないケース数", "not connected"},
    {"支援につながっていない割合", "not connected rate"},
    {"アプローチが準備中のケース数", "approach in preparation"},
    {"アプローチが準備中の割合", "in preparation rate"},
    {"アプローチができていないケース数", "approach not possible"},
    {"アプローチができていない割合", "not possible rate"},
    {"好転・解決（こサポ支援終了）ケース数", "improved or resolved"},
    {"好転・解決の割合（対象ケース）", "resolved, of target"},
    {"好転・解決の割合（アウトリーチ）", "resolved, of outreach"},
    {"好転・解決の割合（支援等につながった）", "resolved, of connected"},
};

// The count columns each rate is built on, for suppression.
bool Hidden(int64_t count, int threshold) {
  return threshold > 0 && count > 0 && count < threshold;
}

// A hidden cell carries no number at all: a "-" over an intact count would
// hide nothing from a client that reads the fields.
void Suppress(v1::Cell& cell) {
  cell.set_suppressed(true);
  cell.set_published("-");
  cell.clear_count();
  cell.clear_numerator();
  cell.clear_denominator();
}

v1::WardRow MakeRow(v1::RowKind kind, int fiscal_year, absl::CivilDay as_of,
                    const WardRow& row, int suppress_below) {
  v1::WardRow out;
  out.set_kind(kind);
  out.set_fiscal_year(fiscal_year);
  *out.mutable_as_of() = DateToProto(as_of);
  for (int column = 1; column <= 18; ++column) {
    v1::Cell* cell = out.add_cells();
    cell->set_column(column);
    if (WardRow::IsRate(column)) {
      const Rate& rate = row.rate[column];
      cell->set_numerator(rate.numerator);
      cell->set_denominator(rate.denominator);
      cell->set_published(rate.Published());
      if (Hidden(rate.numerator, suppress_below) ||
          Hidden(rate.denominator, suppress_below)) {
        Suppress(*cell);
      }
    } else {
      cell->set_count(row.count[column]);
      cell->set_published(absl::StrCat(row.count[column]));
      if (Hidden(row.count[column], suppress_below)) {
        Suppress(*cell);
      }
    }
  }
  return out;
}

v1::WardRow CityRow(v1::RowKind kind, const std::string& municipality,
                    int fiscal_year, absl::CivilDay as_of,
                    const WardCounts& counts, int suppress_below) {
  v1::WardRow row =
      MakeRow(kind, fiscal_year, as_of, ComputeRow(counts), suppress_below);
  row.set_area_code(municipality);
  row.set_label_ja(CityTotalLabel(fiscal_year, as_of));
  row.set_label_en(absl::StrCat("FY", fiscal_year, " (as of ",
                                absl::FormatCivilTime(as_of), ")"));
  return row;
}

void AddColumns(google::protobuf::RepeatedPtrField<v1::Column>* columns) {
  for (int column = 1; column <= 18; ++column) {
    v1::Column* header = columns->Add();
    header->set_column(column);
    header->set_header_ja(kHeaders[column].ja);
    header->set_header_en(kHeaders[column].en);
    header->set_is_rate(WardRow::IsRate(column));
  }
}

// An area's row, its rate cells flagged against the city row of the same
// year and date.
v1::WardRow AreaRow(const AreaInfo& area, int fiscal_year, absl::CivilDay as_of,
                    const WardCounts& counts, const WardRow& city,
                    int suppress_below, const FlagRules& rules) {
  const WardRow ward = ComputeRow(counts);
  v1::WardRow row =
      MakeRow(v1::ROW_KIND_AREA, fiscal_year, as_of, ward, suppress_below);
  row.set_area_code(area.code);
  row.set_label_ja(area.display_name);
  row.set_label_en(area.display_name_en.empty() ? area.code
                                                : area.display_name_en);
  row.set_display_order(area.display_order);
  for (v1::Cell& cell : *row.mutable_cells()) {
    cell.set_flagged(!cell.suppressed() &&
                     Flagged(ward, city, cell.column(), rules));
  }
  return row;
}

WardCounts CountsOf(const std::map<std::string, WardCounts>& counts,
                    const std::string& area) {
  const auto found = counts.find(area);
  return found == counts.end() ? WardCounts{} : found->second;
}

}  // namespace

WardCounts Sum(const std::map<std::string, WardCounts>& counts) {
  WardCounts total;
  for (const auto& [area, c] : counts) {
    total.pupils += c.pupils;
    total.target += c.target;
    total.outreach_done += c.outreach_done;
    total.connected += c.connected;
    total.preparing += c.preparing;
    total.unable += c.unable;
    total.resolved += c.resolved;
  }
  return total;
}

v1::WardComparison BuildComparison(const ComparisonInput& input) {
  v1::WardComparison out;
  out.set_municipality_code(input.municipality);
  out.set_fiscal_year(input.fiscal_year);
  *out.mutable_as_of() = DateToProto(input.as_of);
  out.set_suppress_below(input.suppress_below);
  AddColumns(out.mutable_columns());
  for (const YearTotal& year : input.earlier) {
    *out.add_rows() = CityRow(v1::ROW_KIND_EARLIER_CITY_TOTAL,
                              input.municipality, year.fiscal_year, year.as_of,
                              year.counts, input.suppress_below);
  }
  const WardRow city = ComputeRow(Sum(input.counts));
  *out.add_rows() =
      CityRow(v1::ROW_KIND_CITY_TOTAL, input.municipality, input.fiscal_year,
              input.as_of, Sum(input.counts), input.suppress_below);
  for (const AreaInfo& area : input.areas) {
    *out.add_rows() = AreaRow(area, input.fiscal_year, input.as_of,
                              CountsOf(input.counts, area.code), city,
                              input.suppress_below, input.rules);
  }
  return out;
}

v1::WardTrends BuildTrends(const TrendsInput& input) {
  v1::WardTrends out;
  out.set_municipality_code(input.municipality);
  out.set_from_fiscal_year(input.from_fiscal_year);
  out.set_to_fiscal_year(input.to_fiscal_year);
  if (input.area.has_value()) {
    out.set_area_code(input.area->code);
  }
  out.set_suppress_below(input.suppress_below);
  AddColumns(out.mutable_columns());
  for (const TrendYear& year : input.years) {
    const WardCounts city = Sum(year.counts);
    *out.add_rows() =
        CityRow(v1::ROW_KIND_CITY_TOTAL, input.municipality, year.fiscal_year,
                year.as_of, city, input.suppress_below);
    if (input.area.has_value()) {
      *out.add_rows() =
          AreaRow(*input.area, year.fiscal_year, year.as_of,
                  CountsOf(year.counts, input.area->code), ComputeRow(city),
                  input.suppress_below, input.rules);
    }
  }
  return out;
}

}  // namespace kosapo::reporting
