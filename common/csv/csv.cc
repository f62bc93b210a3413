#include "common/csv/csv.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace kosapo::csv {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr size_t kNpos = absl::string_view::npos;

// 1-based line of the byte at `offset`.
int64_t LineAt(absl::string_view bytes, size_t offset) {
  const absl::string_view before = bytes.substr(0, offset);
  return 1 + std::count(before.begin(), before.end(), '\n');
}

// A located decoding failure, so that kAuto can report the likelier one.
struct DecodeError {
  size_t offset = 0;
  std::string what;
};

absl::Status ToStatus(absl::string_view bytes, const DecodeError& error) {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", LineAt(bytes, error.offset), ": ", error.what));
}

// Offset of the first byte of the first ill-formed UTF-8 sequence (overlong
// forms, surrogates and code points above U+10FFFF included), or kNpos.
size_t FirstInvalidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    // Bounds of the second byte (RFC 3629, table 3-7 of Unicode).
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c == 0xE0) {
      length = 3;
      low = 0xA0;
    } else if (c == 0xED) {
      length = 3;
      high = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
      length = 3;
    } else if (c == 0xF0) {
      length = 4;
      low = 0x90;
    } else if (c == 0xF4) {
      length = 4;
      high = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3) {
      length = 4;
    } else {
      return i;
    }
    if (i + 1 >= n || p[i + 1] < low || p[i + 1] > high) {
      return i;
    }
    for (size_t k = 2; k < length; ++k) {
      if (i + k >= n || (p[i + k] & 0xC0) != 0x80) {
        return i;
      }
    }
    i += length;
  }
  return kNpos;
}

std::optional<DecodeError> CheckUtf8(absl::string_view bytes, size_t skipped) {
  const size_t bad = FirstInvalidUtf8(bytes.substr(skipped));
  if (bad == kNpos) {
    return std::nullopt;
  }
  return DecodeError{skipped + bad, absl::StrCat("invalid UTF-8 byte sequence "
                                                 "at byte offset ",
                                                 skipped + bad)};
}

// Closes an iconv descriptor on every path.
class IconvHandle {
 public:
  explicit IconvHandle(iconv_t cd) : cd_(cd) {}
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;
  ~IconvHandle() {
    if (ok()) {
      iconv_close(cd_);
    }
  }
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

// CP932 to UTF-8 through glibc iconv. On bad input returns the located
// error in `error` (and OK); a non-OK status means iconv itself failed.
absl::Status ConvertCp932(absl::string_view bytes, std::string* utf8,
                          std::optional<DecodeError>* error) {
  IconvHandle cd(iconv_open("UTF-8", "CP932"));
  if (!cd.ok()) {
    return absl::InternalError(
        absl::StrCat("iconv_open(UTF-8, CP932): ", std::strerror(errno)));
  }
  // A CP932 character takes 1 or 2 bytes and its UTF-8 form 1 to 3 (3 for
  // kanji and half-width kana), so typical text fits in 1.5x; grow if not.
  utf8->resize(bytes.size() + bytes.size() / 2 + 64);
  // iconv's interface is not const-correct; it does not write the input.
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  size_t written = 0;
  while (true) {
    char* out = utf8->data() + written;
    size_t out_left = utf8->size() - written;
    const size_t result =
        in_left == 0 ? iconv(cd.get(), nullptr, nullptr, &out, &out_left)
                     : iconv(cd.get(), &in, &in_left, &out, &out_left);
    const int saved_errno = errno;
    written = utf8->size() - out_left;
    if (result != static_cast<size_t>(-1)) {
      if (in_left == 0) {
        break;
      }
      continue;
    }
    const size_t offset = bytes.size() - in_left;
    switch (saved_errno) {
      case E2BIG:
        utf8->resize(utf8->size() * 2);
        break;
      case EILSEQ:
        *error = DecodeError{offset, absl::StrCat("invalid CP932 byte "
                                                  "sequence at byte offset ",
                                                  offset)};
        return absl::OkStatus();
      case EINVAL:
        *error = DecodeError{
            offset, absl::StrCat("invalid CP932 byte sequence at byte offset ",
                                 offset, " (truncated at end of input)")};
        return absl::OkStatus();
      default:
        return absl::InternalError(
            absl::StrCat("iconv: ", std::strerror(saved_errno)));
    }
  }
  utf8->resize(written);
  return absl::OkStatus();
}

bool IsFormulaTrigger(char c) {
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
bool IsPlainNumber(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    ++i;
  }
  size_t digits = 0;
  while (i < n && IsDigit(s[i])) {
    ++i;
    ++digits;
  }
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && IsDigit(s[i])) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) {
    return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    const size_t exponent_start = i;
    while (i < n && IsDigit(s[i])) {
      ++i;
    }
    if (i == exponent_start) {
      return false;
    }
  }
  return i == n;
}

}  // namespace

absl::StatusOr<Decoded> DecodeToUtf8(absl::string_view bytes,
                                     Encoding encoding) {
  const bool has_bom = absl::StartsWith(bytes, kUtf8Bom);
  const size_t bom_size = has_bom ? kUtf8Bom.size() : 0;
  std::optional<DecodeError> utf8_error;
  if (encoding == Encoding::kUtf8 || encoding == Encoding::kAuto) {
    utf8_error = CheckUtf8(bytes, bom_size);
    if (!utf8_error.has_value()) {
      return Decoded{std::string(bytes.substr(bom_size)), Encoding::kUtf8};
    }
    // A BOM says UTF-8 outright; so does the caller with kUtf8.
    if (encoding == Encoding::kUtf8 || has_bom) {
      return ToStatus(bytes, *utf8_error);
    }
  }
  Decoded decoded;
  decoded.encoding = Encoding::kCp932;
  std::optional<DecodeError> cp932_error;
  if (absl::Status status = ConvertCp932(bytes, &decoded.utf8, &cp932_error);
      !status.ok()) {
    return status;
  }
  if (cp932_error.has_value()) {
    // Under kAuto the input is neither; the encoding that got further is the
    // likelier one, so its error is the one worth fixing.
    if (utf8_error.has_value() && utf8_error->offset > cp932_error->offset) {
      return ToStatus(bytes, *utf8_error);
    }
    return ToStatus(bytes, *cp932_error);
  }
  return decoded;
}

Reader::Reader(absl::string_view utf8_text) : text_(utf8_text) {
  if (absl::StartsWith(text_, kUtf8Bom)) {
    pos_ = kUtf8Bom.size();
  }
}

std::optional<absl::StatusOr<Record>> Reader::Next() {
  const size_t size = text_.size();
  while (pos_ < size) {
    if (text_[pos_] == '\n') {
      ++pos_;
    } else if (text_[pos_] == '\r' && pos_ + 1 < size &&
               text_[pos_ + 1] == '\n') {
      pos_ += 2;
    } else {
      break;
    }
    ++line_;
  }
  if (pos_ >= size) {
    return std::nullopt;
  }
  return ReadRecord();
}

void Reader::ResumeAfterLineOf(size_t pos, int64_t line) {
  const size_t newline = text_.find('\n', pos);
  if (newline == kNpos) {
    pos_ = text_.size();
    line_ = line;
  } else {
    pos_ = newline + 1;
    line_ = line + 1;
  }
}

absl::StatusOr<Record> Reader::ReadRecord() {
  const size_t size = text_.size();
  Record record;
  record.line = line_;
  record.fields.reserve(last_width_);
  // The record's start line, and the fault's own line when it differs.
  auto error = [&record](int64_t fault_line, absl::string_view what) {
    if (fault_line == record.line) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", record.line, ": ", what));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", record.line, ": ", what, " (on line ", fault_line, ")"));
  };
  while (true) {
    std::string& field = record.fields.emplace_back();
    if (pos_ < size && text_[pos_] == '"') {
      const size_t open_pos = pos_;
      const int64_t open_line = line_;
      ++pos_;
      while (true) {
        const size_t quote = text_.find('"', pos_);
        if (quote == kNpos) {
          // No quote follows, so the lines after the opening one parse as
          // unquoted fields: this backtracking happens once at most.
          ResumeAfterLineOf(open_pos, open_line);
          return error(open_line, "unterminated quoted field");
        }
        const absl::string_view chunk = text_.substr(pos_, quote - pos_);
        line_ += std::count(chunk.begin(), chunk.end(), '\n');
        field.append(chunk.data(), chunk.size());
        pos_ = quote + 1;
        if (pos_ < size && text_[pos_] == '"') {
          field.push_back('"');
          ++pos_;
          continue;
        }
        break;
      }
      if (pos_ == size) {
        break;
      }
      const char next = text_[pos_];
      if (next == ',') {
        ++pos_;
        continue;
      }
      if (next == '\n') {
        ++pos_;
        ++line_;
        break;
      }
      if (next == '\r' && pos_ + 1 < size && text_[pos_ + 1] == '\n') {
        pos_ += 2;
        ++line_;
        break;
      }
      const int64_t fault_line = line_;
      ResumeAfterLineOf(pos_, fault_line);
      return error(fault_line, "unexpected text after closing quote");
    }
    const size_t start = pos_;
    while (pos_ < size) {
      const char c = text_[pos_];
      if (c == ',' || c == '\n' || c == '"') {
        break;
      }
      ++pos_;
    }
    if (pos_ == size) {
      field.assign(text_.data() + start, pos_ - start);
      break;
    }
    const char stop = text_[pos_];
    if (stop == '"') {
      const int64_t fault_line = line_;
      ResumeAfterLineOf(pos_, fault_line);
      return error(fault_line, "quote inside an unquoted field");
    }
    size_t end = pos_;
    if (stop == '\n' && end > start && text_[end - 1] == '\r') {
      --end;
    }
    field.assign(text_.data() + start, end - start);
    ++pos_;
    if (stop == '\n') {
      ++line_;
      break;
    }
  }
  last_width_ = record.fields.size();
  return record;
}

absl::StatusOr<Table> Table::FromHeader(
    const Record& header, const std::vector<std::string>& required_columns) {
  Table table;
  table.columns_.reserve(header.fields.size());
  for (size_t i = 0; i < header.fields.size(); ++i) {
    absl::string_view name = header.fields[i];
    if (i == 0) {
      absl::ConsumePrefix(&name, kUtf8Bom);
    }
    name = absl::StripAsciiWhitespace(name);
    table.columns_.emplace_back(name);
    if (name.empty()) {
      continue;
    }
    if (!table.index_.try_emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", header.line, ": duplicate column '", name, "'"));
    }
  }
  std::vector<absl::string_view> missing;
  for (const std::string& column : required_columns) {
    if (!table.Has(column)) {
      missing.push_back(column);
    }
  }
  if (missing.size() == 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line, ": missing column '", missing.front(), "'"));
  }
  if (missing.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", header.line, ": missing columns '",
                     absl::StrJoin(missing, "', '"), "'"));
  }
  return table;
}

bool Table::Has(absl::string_view column) const {
  return index_.contains(column);
}

absl::Status Table::CheckWidth(const Record& record) const {
  if (record.fields.size() == columns_.size()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("line ", record.line, ": expected ", columns_.size(),
                   " fields, found ", record.fields.size()));
}

absl::string_view Table::Get(const Record& record,
                             absl::string_view column) const {
  const auto it = index_.find(column);
  if (it == index_.end() || it->second >= record.fields.size()) {
    return "";
  }
  return record.fields[it->second];
}

Writer::Writer(bool utf8_bom) {
  if (utf8_bom) {
    data_.append(kUtf8Bom.data(), kUtf8Bom.size());
  }
}

void Writer::AddRow(const std::vector<std::string>& fields,
                    const std::vector<bool>& numeric) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      data_.push_back(',');
    }
    AppendField(fields[i], i < numeric.size() && numeric[i]);
  }
  // A lone empty field would be an empty line, which readers skip.
  if (fields.size() == 1 && fields.front().empty()) {
    data_.append("\"\"");
  }
  data_.append("\r\n");
}

void Writer::AppendField(absl::string_view field, bool numeric) {
  const bool guard = !field.empty() && IsFormulaTrigger(field.front()) &&
                     !(numeric && (IsPlainNumber(field) || field == "-"));
  const bool quote =
      field.find_first_of(",\"\r\n") != kNpos ||
      (!field.empty() && (IsBlank(field.front()) || IsBlank(field.back())));
  if (quote) {
    data_.push_back('"');
  }
  if (guard) {
    data_.push_back('\'');
  }
  if (quote) {
    size_t start = 0;
    for (size_t q = field.find('"'); q != kNpos; q = field.find('"', q + 1)) {
      data_.append(field.data() + start, q + 1 - start);
      data_.push_back('"');
      start = q + 1;
    }
    data_.append(field.data() + start, field.size() - start);
    data_.push_back('"');
  } else {
    data_.append(field.data(), field.size());
  }
}

}  // namespace kosapo::csv
