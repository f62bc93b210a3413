// Field checks: UTF-8 text by characters, codes, resource names, dates.
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

// Decodes the UTF-8 code point at `*pos` and advances past it; -1 on a
// malformed sequence (overlong forms, surrogates, past U+10FFFF).
int32_t NextCodePoint(absl::string_view text, size_t* pos) {
  const unsigned char lead = static_cast<unsigned char>(text[*pos]);
  int length = 0;
  int32_t code = 0;
  if (lead < 0x80) {
    length = 1;
    code = lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return -1;
  }
  if (*pos + length > text.size()) {
    return -1;
  }
  for (int i = 1; i < length; ++i) {
    const unsigned char next = static_cast<unsigned char>(text[*pos + i]);
    if ((next & 0xC0) != 0x80) {
      return -1;
    }
    code = (code << 6) | (next & 0x3F);
  }
  static constexpr int32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || (code >= 0xD800 && code <= 0xDFFF) ||
      code > 0x10FFFF) {
    return -1;
  }
  *pos += length;
  return code;
}

bool IsSpace(int32_t code) {
  return code == ' ' || code == '\t' || code == '\n' || code == '\r' ||
         code == 0x3000;  // ideographic space
}

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

absl::Status ValidateText(absl::string_view text, size_t max_chars,
                          bool required, absl::string_view field) {
  size_t chars = 0;
  bool blank = true;
  for (size_t pos = 0; pos < text.size(); ++chars) {
    const int32_t code = NextCodePoint(text, &pos);
    if (code < 0) {
      return Invalid(field, "not valid UTF-8");
    }
    blank = blank && IsSpace(code);
  }
  if (required && blank) {
    return Invalid(field, "required");
  }
  if (chars > max_chars) {
    return Invalid(field, absl::StrCat("at most ", max_chars, " characters"));
  }
  return absl::OkStatus();
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
