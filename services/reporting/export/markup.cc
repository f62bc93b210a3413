#include "services/reporting/export/markup.h"

#include <cstddef>
#include <cstdint>

#include "common/types/text.h"

namespace kosapo::reporting::exports {
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool Forbidden(int32_t code_point) {
  if (code_point == '\t' || code_point == '\n' || code_point == '\r') {
    return false;
  }
  return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F) ||
         code_point == 0xFFFE || code_point == 0xFFFF;
}

// East Asian Wide and Fullwidth ranges (UAX #11), enough for Japanese.
bool Wide(int32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD) ||
         (c >= 0x2460 && c <= 0x24FF);  // circled numbers print wide in CJK
}

}  // namespace

void AppendEscaped(absl::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const int32_t code_point = NextCodePoint(text, &pos);
    if (code_point < 0) {
      out->append(kReplacement.data(), kReplacement.size());
      ++pos;  // skip one bad byte and resynchronise on the next
      continue;
    }
    switch (code_point) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      default:
        if (Forbidden(code_point)) {
          out->append(kReplacement.data(), kReplacement.size());
        } else {
          out->append(text.data() + start, pos - start);
        }
    }
  }
}

std::string Escaped(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscaped(text, &out);
  return out;
}

int DisplayWidth(absl::string_view text) {
  int width = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t code_point = NextCodePoint(text, &pos);
    if (code_point < 0) {
      ++pos;
      ++width;
      continue;
    }
    width += Wide(code_point) ? 2 : 1;
  }
  return width;
}

}  // namespace kosapo::reporting::exports
