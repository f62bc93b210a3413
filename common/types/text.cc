// UTF-8 decoding and the free-text check.
#include "common/types/text.h"

#include "absl/strings/str_cat.h"

namespace kosapo {
namespace {

// Blank text holds only these.
bool IsSpace(int32_t code) {
  return code == ' ' || code == '\t' || code == '\n' || code == '\r' ||
         code == 0x3000;  // ideographic space
}

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

}  // namespace

int32_t NextCodePoint(absl::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  const unsigned char lead = byte(*pos);
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
    if ((byte(*pos + i) & 0xC0) != 0x80) {
      return -1;
    }
    code = (code << 6) | (byte(*pos + i) & 0x3F);
  }
  // The shortest form only, no surrogates, nothing past U+10FFFF.
  static constexpr int32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || (code >= 0xD800 && code <= 0xDFFF) ||
      code > 0x10FFFF) {
    return -1;
  }
  *pos += length;
  return code;
}

int64_t CodePoints(absl::string_view text) {
  int64_t count = 0;
  for (size_t pos = 0; pos < text.size(); ++count) {
    if (NextCodePoint(text, &pos) < 0) {
      return -1;
    }
  }
  return count;
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

}  // namespace kosapo
