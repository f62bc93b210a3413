#include "services/reporting/domain/ward_table.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kosapo::reporting {
namespace {

Rate MakeRate(int64_t numerator, int64_t denominator) {
  Rate rate;
  rate.numerator = numerator;
  rate.denominator = denominator;
  if (denominator != 0) {
    rate.tenths = RoundedTenths(numerator, denominator);
  }
  return rate;
}

// A published complement: 100.0 minus already rounded rates, as the city's
// sheet computes it; its fraction is the complement of theirs.
Rate Complement(std::initializer_list<const Rate*> parts, int64_t numerator,
                int64_t denominator) {
  Rate rate;
  rate.numerator = numerator;
  rate.denominator = denominator;
  int64_t tenths = 1000;
  for (const Rate* part : parts) {
    if (!part->tenths.has_value()) {
      return rate;
    }
    tenths -= *part->tenths;
  }
  rate.tenths = tenths;
  return rate;
}

// Era year: 元 for the first.
std::string EraYear(int year) { return year == 1 ? "元" : absl::StrCat(year); }

std::string EraOfDate(absl::CivilDay day) {
  if (day >= absl::CivilDay(2019, 5, 1)) {
    return absl::StrCat("令和", EraYear(static_cast<int>(day.year()) - 2018),
                        "年");
  }
  if (day >= absl::CivilDay(1989, 1, 8)) {
    return absl::StrCat("平成", EraYear(static_cast<int>(day.year()) - 1988),
                        "年");
  }
  return absl::StrCat(day.year(), "年");
}

}  // namespace

absl::Status CheckInvariants(const WardCounts& c) {
  if (c.pupils < 0 || c.target < 0 || c.outreach_done < 0 || c.connected < 0 ||
      c.preparing < 0 || c.unable < 0 || c.resolved < 0) {
    return absl::InvalidArgumentError("a count is negative");
  }
  if (c.target != c.outreach_done + c.preparing + c.unable) {
    return absl::InvalidArgumentError(
        absl::StrCat("target cases (", c.target,
                     ") must equal outreach done + in preparation + not "
                     "possible (",
                     c.outreach_done + c.preparing + c.unable, ")"));
  }
  if (c.connected > c.outreach_done) {
    return absl::InvalidArgumentError(
        "connected cases must be among the cases with outreach done");
  }
  return absl::OkStatus();
}

std::string Rate::Published() const {
  if (!tenths.has_value()) {
    return "-";
  }
  const int64_t value = *tenths;
  const int64_t magnitude = value < 0 ? -value : value;
  return absl::StrCat(value < 0 ? "-" : "", magnitude / 10, ".",
                      magnitude % 10);
}

bool WardRow::IsRate(int column) {
  switch (column) {
    case 3:
    case 5:
    case 7:
    case 8:
    case 10:
    case 12:
    case 14:
    case 16:
    case 17:
    case 18:
      return true;
    default:
      return false;
  }
}

int64_t RoundedTenths(int64_t numerator, int64_t denominator) {
  // floor(1000 n / d + 1/2) = floor((2000 n + d) / 2d) for n, d >= 0.
  return (2000 * numerator + denominator) / (2 * denominator);
}

WardRow ComputeRow(const WardCounts& c) {
  WardRow row;
  row.count[1] = c.pupils;
  row.count[2] = c.target;
  row.count[4] = c.outreach_done;
  row.count[6] = c.connected;
  row.count[9] = c.outreach_done - c.connected;
  row.count[11] = c.preparing;
  row.count[13] = c.unable;
  row.count[15] = c.resolved;
  row.rate[3] = MakeRate(c.target, c.pupils);
  row.rate[5] = MakeRate(c.outreach_done, c.target);
  row.rate[7] = MakeRate(c.connected, c.target);
  row.rate[8] = MakeRate(c.connected, c.outreach_done);
  row.rate[10] = Complement({&row.rate[8]}, row.count[9], c.outreach_done);
  row.rate[12] = MakeRate(c.preparing, c.target);
  row.rate[14] = Complement({&row.rate[5], &row.rate[12]}, c.unable, c.target);
  row.rate[16] = MakeRate(c.resolved, c.target);
  row.rate[17] = MakeRate(c.resolved, c.outreach_done);
  row.rate[18] = MakeRate(c.resolved, c.connected);
  return row;
}

FlagRules FlagRules::Defaults() {
  FlagRules rules;
  for (int column : {3, 5, 7, 8, 16, 17, 18}) {
    rules.direction[column] = Worse::kLower;
  }
  for (int column : {10, 12, 14}) {
    rules.direction[column] = Worse::kHigher;
  }
  return rules;
}

absl::StatusOr<FlagRules> ParseFlagRules(absl::string_view spec) {
  FlagRules rules = FlagRules::Defaults();
  std::set<int> seen;
  for (absl::string_view item :
       absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const std::vector<absl::string_view> parts =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    int column = 0;
    if (parts.size() != 2 ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(parts[0]), &column) ||
        !WardRow::IsRate(column)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "flag directions: \"", item,
          "\" is not column=lower|higher|none with a rate column (3, 5, 7, "
          "8, 10, 12, 14, 16, 17, 18)"));
    }
    if (!seen.insert(column).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag directions: column ", column, " is given twice"));
    }
    const std::string direction =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[1]));
    if (direction == "lower") {
      rules.direction[column] = Worse::kLower;
    } else if (direction == "higher") {
      rules.direction[column] = Worse::kHigher;
    } else if (direction == "none") {
      rules.direction[column].reset();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag directions: column ", column, ": \"", parts[1],
                       "\" is not lower, higher or none (which way is worse)"));
    }
  }
  return rules;
}

std::string FormatFlagRules(const FlagRules& rules) {
  std::vector<std::string> items;
  for (int column = 1; column <= 18; ++column) {
    if (!WardRow::IsRate(column)) {
      continue;
    }
    const std::optional<Worse>& worse = rules.direction[column];
    items.push_back(absl::StrCat(column, "=",
                                 !worse.has_value()        ? "none"
                                 : *worse == Worse::kLower ? "lower"
                                                           : "higher"));
  }
  return absl::StrJoin(items, ",");
}

bool Flagged(const WardRow& ward, const WardRow& city, int column,
             const FlagRules& rules) {
  if (column < 1 || column > 18 || !WardRow::IsRate(column) ||
      !rules.direction[column].has_value()) {
    return false;
  }
  const std::optional<int64_t>& mine = ward.rate[column].tenths;
  const std::optional<int64_t>& theirs = city.rate[column].tenths;
  if (!mine.has_value() || !theirs.has_value()) {
    return false;
  }
  return *rules.direction[column] == Worse::kLower ? *mine < *theirs
                                                   : *mine > *theirs;
}

std::string FiscalYearLabel(int fiscal_year) {
  if (fiscal_year >= 2019) {
    return absl::StrCat("令和", EraYear(fiscal_year - 2018), "年度");
  }
  if (fiscal_year >= 1989) {
    return absl::StrCat("平成", EraYear(fiscal_year - 1988), "年度");
  }
  return absl::StrCat(fiscal_year, "年度");
}

std::string AsOfLabel(absl::CivilDay as_of) {
  const bool month_end = (as_of + 1).day() == 1;
  return absl::StrCat(EraOfDate(as_of), as_of.month(), "月",
                      month_end ? "末" : absl::StrCat(as_of.day(), "日"));
}

std::string CityTotalLabel(int fiscal_year, absl::CivilDay as_of) {
  return absl::StrCat(FiscalYearLabel(fiscal_year), " (", AsOfLabel(as_of),
                      ")");
}

}  // namespace kosapo::reporting
