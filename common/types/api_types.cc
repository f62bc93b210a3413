#include "common/types/api_types.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kosapo {

absl::StatusOr<absl::CivilDay> DateFromProto(const kosapo::type::Date& date,
                                             absl::string_view field) {
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 1 || date.year() > 9999 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a valid calendar date"));
  }
  return day;
}

kosapo::type::Date DateToProto(absl::CivilDay day) {
  kosapo::type::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

std::string DateToSql(const kosapo::type::Date& date) {
  return DayToSql(absl::CivilDay(date.year(), date.month(), date.day()));
}

std::string DayToSql(absl::CivilDay day) { return absl::FormatCivilTime(day); }

absl::CivilDay DayFromSql(absl::string_view text) {
  absl::CivilDay day;
  absl::ParseCivilTime(text, &day);
  return day;
}

kosapo::type::Date DateFromSql(absl::string_view text) {
  return DateToProto(DayFromSql(text));
}

int FiscalYearOf(absl::CivilDay day) {
  return static_cast<int>(day.month() >= 4 ? day.year() : day.year() - 1);
}

absl::StatusOr<absl::CivilDay> DayIn(absl::Time now,
                                     absl::string_view zone_name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(std::string(zone_name), &zone)) {
    return absl::InternalError(
        absl::StrCat("time zone ", zone_name, " does not load"));
  }
  return absl::ToCivilDay(now, zone);
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.empty() || request_id.size() > 100) {
    return absl::InvalidArgumentError(
        "request_id: required, 1-100 characters, so a retry cannot duplicate");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseMunicipalityName(absl::string_view name,
                                                  absl::string_view field) {
  absl::string_view code = name;
  if (!absl::ConsumePrefix(&code, "municipalities/") || code.size() != 5 ||
      !std::all_of(code.begin(), code.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected municipalities/{5-digit JIS code}"));
  }
  return std::string(code);
}

}  // namespace kosapo
