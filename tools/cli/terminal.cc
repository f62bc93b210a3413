#include "tools/cli/terminal.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/types/text.h"

namespace kosapo::cli {
namespace {

struct Range {
  int32_t first;
  int32_t last;
};

// East Asian Wide (W) and Fullwidth (F) blocks, UAX #11, coarsened to the
// blocks Japanese text and common symbols use.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},
    {0x23E9, 0x23EC},   {0x23F0, 0x23F0},   {0x23F3, 0x23F3},
    {0x25FD, 0x25FE},   {0x2614, 0x2615},   {0x2648, 0x2653},
    {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},
    {0x26CE, 0x26CE},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},
    {0x26F2, 0x26F3},   {0x26F5, 0x26F5},   {0x26FA, 0x26FA},
    {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},
    {0x2753, 0x2755},   {0x2757, 0x2757},   {0x2795, 0x2797},
    {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF},   {0xA960, 0xA97F},   {0xAC00, 0xD7A3},
    {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004},
    {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A},
    {0x1F200, 0x1F251}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF},
    {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};

// Combining marks and zero-width characters.
constexpr Range kZero[] = {
    {0x0000, 0x001F},   {0x007F, 0x009F}, {0x0300, 0x036F}, {0x200B, 0x200F},
    {0x2028, 0x202E},   {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x3099, 0x309A},
    {0xFE00, 0xFE0F},   {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0000, 0xE007F},
    {0xE0100, 0xE01EF},
};

template <size_t N>
bool In(const Range (&ranges)[N], int32_t code_point) {
  const Range* end = ranges + N;
  const Range* it = std::upper_bound(
      ranges, end, code_point,
      [](int32_t value, const Range& range) { return value < range.first; });
  return it != ranges && (it - 1)->last >= code_point;
}

int CodePointWidth(int32_t code_point) {
  if (In(kZero, code_point)) {
    return 0;
  }
  return In(kWide, code_point) ? 2 : 1;
}

// Characters that must not start a line (行頭禁則), as JIS X 4051 keeps
// closing brackets, punctuation, the prolonged sound mark, iteration marks
// and small kana off the start of a line.
bool NoLineStart(int32_t c) {
  static constexpr int32_t kChars[] = {
      ')',    ']',    '}',    ',',    '.',    ':',    ';',    '!',    '?',
      0x3001, 0x3002, 0x3005, 0x3009, 0x300B, 0x300D, 0x300F, 0x3011, 0x3015,
      0x3017, 0x3019, 0x301F, 0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063,
      0x3083, 0x3085, 0x3087, 0x308E, 0x309D, 0x309E, 0x30A1, 0x30A3, 0x30A5,
      0x30A7, 0x30A9, 0x30C3, 0x30E3, 0x30E5, 0x30E7, 0x30EE, 0x30F5, 0x30F6,
      0x30FB, 0x30FC, 0x30FD, 0x30FE, 0xFF09, 0xFF0C, 0xFF0E, 0xFF1A, 0xFF1B,
      0xFF1F, 0xFF01, 0xFF3D, 0xFF5D};
  return std::find(std::begin(kChars), std::end(kChars), c) != std::end(kChars);
}

struct Glyph {
  absl::string_view bytes;
  int32_t code_point = 0;
  int width = 0;
};

std::vector<Glyph> Glyphs(absl::string_view text) {
  std::vector<Glyph> glyphs;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    if (text[pos] == '\x1b' && pos + 1 < text.size() && text[pos + 1] == '[') {
      // An ANSI control sequence: ESC [ parameters final-byte.
      pos += 2;
      while (pos < text.size() && !(text[pos] >= 0x40 && text[pos] <= 0x7E)) {
        ++pos;
      }
      pos = std::min(pos + 1, text.size());
      glyphs.push_back({text.substr(start, pos - start), 0x1b, 0});
      continue;
    }
    const int32_t code_point = NextCodePoint(text, &pos);
    if (code_point < 0) {
      ++pos;
      glyphs.push_back({text.substr(start, 1), 0xFFFD, 1});
      continue;
    }
    glyphs.push_back({text.substr(start, pos - start), code_point,
                      CodePointWidth(code_point)});
  }
  return glyphs;
}

std::string Pad(absl::string_view text, int width, bool right_align) {
  const int fill = std::max(0, width - DisplayWidth(text));
  return right_align ? absl::StrCat(std::string(fill, ' '), text)
                     : absl::StrCat(text, std::string(fill, ' '));
}

constexpr char kGap[] = "  ";
constexpr char kAnsiHighlight[] = "\x1b[30;43m";
constexpr char kAnsiReset[] = "\x1b[0m";

}  // namespace

int DisplayWidth(absl::string_view utf8) {
  int width = 0;
  for (const Glyph& glyph : Glyphs(utf8)) {
    width += glyph.width;
  }
  return width;
}

std::vector<std::string> WrapToWidth(absl::string_view text, int width) {
  std::vector<std::vector<Glyph>> lines(1);
  int used = 0;
  for (const Glyph& glyph : Glyphs(text)) {
    std::vector<Glyph>& line = lines.back();
    if (used + glyph.width <= width || line.empty()) {
      line.push_back(glyph);
      used += glyph.width;
      continue;
    }
    std::vector<Glyph> next;
    if (NoLineStart(glyph.code_point) && line.size() > 1) {
      next.push_back(line.back());
      line.pop_back();
    }
    next.push_back(glyph);
    used = 0;
    for (const Glyph& moved : next) {
      used += moved.width;
    }
    lines.push_back(std::move(next));
  }
  std::vector<std::string> out;
  for (const std::vector<Glyph>& line : lines) {
    std::string joined;
    for (const Glyph& glyph : line) {
      absl::StrAppend(&joined, glyph.bytes);
    }
    out.push_back(std::move(joined));
  }
  return out;
}

void TextTable::AddColumn(std::string header, bool right_align,
                          int wrap_width) {
  columns_.push_back({std::move(header), right_align, wrap_width});
}

void TextTable::AddRow(std::vector<Cell> cells) {
  cells.resize(columns_.size());
  rows_.push_back({false, std::move(cells)});
}

void TextTable::AddSeparator() { rows_.push_back({true, {}}); }

std::string TextTable::Render(Highlight highlight) const {
  const size_t n = columns_.size();
  std::vector<int> widths(n, 0);
  std::vector<bool> marker_slot(n, false);
  for (const Row& row : rows_) {
    for (size_t c = 0; c < row.cells.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row.cells[c].text));
      if (row.cells[c].highlight && highlight == Highlight::kMarker) {
        marker_slot[c] = true;
      }
    }
  }
  std::vector<std::vector<std::string>> headers(n);
  size_t header_lines = 0;
  for (size_t c = 0; c < n; ++c) {
    const Column& column = columns_[c];
    const int data_width = widths[c] + (marker_slot[c] ? 1 : 0);
    for (absl::string_view part : absl::StrSplit(column.header, '\n')) {
      if (column.wrap_width > 0) {
        for (std::string& line :
             WrapToWidth(part, std::max(column.wrap_width, data_width))) {
          headers[c].push_back(std::move(line));
        }
      } else {
        headers[c].emplace_back(part);
      }
    }
    for (const std::string& line : headers[c]) {
      widths[c] =
          std::max(widths[c], DisplayWidth(line) - (marker_slot[c] ? 1 : 0));
    }
    header_lines = std::max(header_lines, headers[c].size());
  }
  int total = 0;
  for (size_t c = 0; c < n; ++c) {
    total += widths[c] + (marker_slot[c] ? 1 : 0) + (c > 0 ? 2 : 0);
  }

  std::string out;
  // Headers sit on the data: shorter ones are padded at the top.
  for (size_t line = 0; line < header_lines; ++line) {
    for (size_t c = 0; c < n; ++c) {
      const size_t blank = header_lines - headers[c].size();
      const std::string text =
          line < blank ? std::string() : headers[c][line - blank];
      absl::StrAppend(&out, c > 0 ? kGap : "",
                      Pad(text, widths[c] + (marker_slot[c] ? 1 : 0),
                          columns_[c].right_align));
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, std::string(total, '-'), "\n");
  for (const Row& row : rows_) {
    if (row.separator) {
      absl::StrAppend(&out, std::string(total, '-'), "\n");
      continue;
    }
    for (size_t c = 0; c < n; ++c) {
      const Cell& cell = row.cells[c];
      std::string text = Pad(cell.text, widths[c], columns_[c].right_align);
      if (marker_slot[c]) {
        absl::StrAppend(&text, cell.highlight ? "*" : " ");
      }
      if (cell.highlight && highlight == Highlight::kAnsi) {
        text = absl::StrCat(kAnsiHighlight, text, kAnsiReset);
      }
      absl::StrAppend(&out, c > 0 ? kGap : "", text);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

ProgressDisplay::ProgressDisplay(std::ostream& out, bool terminal,
                                 std::string label, int64_t total)
    : out_(out),
      terminal_(terminal),
      label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)) {}

void ProgressDisplay::Update(int64_t done) {
  done_ = std::min(std::max<int64_t>(done, 0), total_);
  const int percent =
      total_ == 0 ? 100 : static_cast<int>(done_ * 100 / total_);
  if (terminal_) {
    constexpr int kBar = 30;
    const int filled = percent * kBar / 100;
    out_ << "\r" << label_ << "  [" << std::string(filled, '#')
         << std::string(kBar - filled, '-') << "]  " << done_ << "/" << total_
         << "  " << percent << "%\x1b[K" << std::flush;
    return;
  }
  const int tenth = percent / 10;
  if (tenth > last_tenth_) {
    last_tenth_ = tenth;
    out_ << label_ << ": " << done_ << "/" << total_ << " (" << percent
         << "%)\n"
         << std::flush;
  }
}

void ProgressDisplay::Finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  if (terminal_) {
    out_ << "\n" << std::flush;
  } else if (last_tenth_ < 10) {
    out_ << label_ << ": " << done_ << "/" << total_ << "\n" << std::flush;
  }
}

absl::Status PrintJson(const google::protobuf::Message& message,
                       std::ostream& out, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return absl::InternalError("cannot print the answer as JSON");
  }
  out << json << (pretty ? "" : "\n");
  return absl::OkStatus();
}

}  // namespace kosapo::cli
