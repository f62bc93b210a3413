// Free text as the APIs take it: valid UTF-8 (RFC 3629), measured in
// characters (code points), not bytes.
#ifndef KOSAPO_COMMON_TYPES_TEXT_H_
#define KOSAPO_COMMON_TYPES_TEXT_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kosapo {

// Decodes the UTF-8 code point at `*pos` (< text.size()) and advances past
// it; -1, leaving `*pos`, on a malformed sequence: a bad lead or
// continuation byte, a truncated sequence, an overlong form, a surrogate or
// a code point past U+10FFFF.
int32_t NextCodePoint(absl::string_view text, size_t* pos);

// The code points in `text`, or -1 when it is not valid UTF-8.
int64_t CodePoints(absl::string_view text);

// Free text of at most `max_chars` characters (UTF-8 code points); when
// `required`, not blank (not only spaces, ASCII or ideographic U+3000, tabs
// and line breaks). INVALID_ARGUMENT "field: not valid UTF-8",
// "field: required" or "field: at most N characters", checked in that order.
absl::Status ValidateText(absl::string_view text, size_t max_chars,
                          bool required, absl::string_view field);

}  // namespace kosapo

#endif  // KOSAPO_COMMON_TYPES_TEXT_H_
