// Field checks: codes, resource names, dates (free text: common/types/text.h).
#include "services/referral/domain/fields.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/types/api_types.h"

namespace kosapo::referral {
namespace {

bool ParseId(absl::string_view text, int64_t* id) {
  if (text.empty() || text[0] == '0' ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return absl::SimpleAtoi(text, id) && *id > 0;
}

}  // namespace

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status ValidateCode(absl::string_view code, size_t max_chars,
                          absl::string_view field) {
  if (code.empty()) {
    return Invalid(field, "required");
  }
  if (code.size() > max_chars ||
      !std::all_of(code.begin(), code.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
               c == '_';
      })) {
    return Invalid(field, absl::StrCat("1-", max_chars,
                                       " letters, digits, \"-\" or \"_\""));
  }
  return absl::OkStatus();
}

std::string ResourceName(absl::string_view collection, int64_t id) {
  return absl::StrCat(collection, "/", id);
}

absl::Status NoSuchHub(absl::string_view field, absl::string_view hub_code) {
  return absl::NotFoundError(
      absl::StrCat(field, ": no hub ", hub_code, " in the directory"));
}

absl::StatusOr<int64_t> ParseResourceName(absl::string_view name,
                                          absl::string_view collection,
                                          absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int64_t id = 0;
  if (parts.size() != 2 || parts[0] != collection || !ParseId(parts[1], &id)) {
    return Invalid(field, absl::StrCat("expected ", collection, "/{id}"));
  }
  return id;
}

std::string VisitName(int64_t usage_id, int64_t n) {
  return absl::StrCat(kHubUsages, "/", usage_id, "/visits/", n);
}

absl::StatusOr<absl::CivilDay> EffectiveDate(
    const kosapo::type::Date& date, absl::string_view field,
    absl::CivilDay today, absl::CivilDay not_before,
    absl::string_view not_before_what) {
  auto day = EffectiveDate(date, field, today);
  if (!day.ok()) {
    return day.status();
  }
  if (*day < not_before) {
    return Invalid(field,
                   absl::StrCat("must not be before ", not_before_what, " (",
                                absl::FormatCivilTime(not_before), ")"));
  }
  return *day;
}

absl::StatusOr<absl::CivilDay> EffectiveDate(const kosapo::type::Date& date,
                                             absl::string_view field,
                                             absl::CivilDay today) {
  auto day = DateFromProto(date, field);
  if (!day.ok()) {
    return day.status();
  }
  if (*day > today) {
    return Invalid(field, absl::StrCat("must not be after today (",
                                       absl::FormatCivilTime(today), ")"));
  }
  return *day;
}

}  // namespace kosapo::referral
