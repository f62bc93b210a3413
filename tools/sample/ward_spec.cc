#include "tools/sample/ward_spec.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kosapo::sample {
namespace {

constexpr const char* kRequired[] = {"row_kind",
                                     "fiscal_year",
                                     "as_of",
                                     "area_code",
                                     "label",
                                     "display_order",
                                     "c01_pupils",
                                     "c02_target_cases",
                                     "c04_outreach_done",
                                     "c06_connected",
                                     "c11_preparing",
                                     "c13_unable",
                                     "c15_resolved"};

}  // namespace

absl::StatusOr<WardSpec> ParseWardSpec(absl::string_view tsv) {
  std::vector<absl::string_view> lines = absl::StrSplit(tsv, '\n');
  std::vector<std::string> header;
  WardSpec spec;
  for (size_t n = 0; n < lines.size(); ++n) {
    absl::string_view line = absl::StripSuffix(lines[n], "\r");
    if (line.empty()) {
      continue;
    }
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    if (header.empty()) {
      header = cells;
      for (const char* name : kRequired) {
        if (std::find(header.begin(), header.end(), name) == header.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("line 1: missing column ", name));
        }
      }
      continue;
    }
    const std::string where = absl::StrCat("line ", n + 1);
    if (cells.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": ", cells.size(), " cells, header has ", header.size()));
    }
    SpecRow row;
    for (size_t i = 0; i < header.size(); ++i) {
      row.published[header[i]] = cells[i];
    }
    auto integer = [&](const char* column, int64_t* out) -> absl::Status {
      if (!absl::SimpleAtoi(row.published[column], out) || *out < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", column, ": not a count"));
      }
      return absl::OkStatus();
    };
    int64_t year = 0;
    int64_t order = 0;
    for (const auto& [column, out] :
         std::vector<std::pair<const char*, int64_t*>>{
             {"fiscal_year", &year},
             {"display_order", &order},
             {"c01_pupils", &row.pupils},
             {"c02_target_cases", &row.target},
             {"c04_outreach_done", &row.outreach_done},
             {"c06_connected", &row.connected},
             {"c11_preparing", &row.preparing},
             {"c13_unable", &row.unable},
             {"c15_resolved", &row.resolved}}) {
      if (absl::Status s = integer(column, out); !s.ok()) {
        return s;
      }
    }
    row.fiscal_year = static_cast<int>(year);
    row.display_order = static_cast<int>(order);
    if (!absl::ParseCivilTime(row.published["as_of"], &row.as_of)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": as_of: not a date (YYYY-MM-DD)"));
    }
    const std::string& kind = row.published["row_kind"];
    if (kind != "city_total" && kind != "ward") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": row_kind: city_total or ward"));
    }
    row.city_total = kind == "city_total";
    row.area_code = row.published["area_code"];
    row.label = row.published["label"];
    if (row.target != row.outreach_done + row.preparing + row.unable) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": c02 must equal c04 + c11 + c13"));
    }
    if (row.connected > row.outreach_done || row.resolved > row.outreach_done) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": c06 and c15 must not exceed c04 (outreach done)"));
    }
    if (row.city_total) {
      spec.municipality = row.area_code;
    } else {
      spec.area_year = std::max(spec.area_year, row.fiscal_year);
    }
    spec.rows.push_back(std::move(row));
  }
  if (spec.rows.empty()) {
    return absl::InvalidArgumentError("no rows");
  }
  // The areas of the area year add up to that year's city total.
  SpecRow sum;
  const SpecRow* total = nullptr;
  for (const SpecRow& row : spec.rows) {
    if (row.fiscal_year != spec.area_year) {
      continue;
    }
    if (row.city_total) {
      total = &row;
      continue;
    }
    sum.pupils += row.pupils;
    sum.target += row.target;
    sum.outreach_done += row.outreach_done;
    sum.connected += row.connected;
    sum.preparing += row.preparing;
    sum.unable += row.unable;
    sum.resolved += row.resolved;
  }
  if (total != nullptr &&
      (sum.pupils != total->pupils || sum.target != total->target ||
       sum.outreach_done != total->outreach_done ||
       sum.connected != total->connected || sum.preparing != total->preparing ||
       sum.unable != total->unable || sum.resolved != total->resolved)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the areas of FY", spec.area_year,
                     " do not add up to the city total of that year"));
  }
  return spec;
}

absl::StatusOr<WardSpec> ReadWardSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseWardSpec(text.str());
}

}  // namespace kosapo::sample
