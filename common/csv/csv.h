// CSV for the files school systems exchange: decoding UTF-8 or Shift_JIS
// (CP932) exports to UTF-8, an RFC 4180 reader that reports a malformed
// record by its line and goes on with the next one, a header-aware view so
// importers look fields up by column name, and a writer for exports that
// Excel opens correctly and that cannot smuggle formulas into a spreadsheet.
//
// Everything here works on whole in-memory buffers: the files are a few
// megabytes at most, and a buffer lets every error name its line.
#ifndef KOSAPO_COMMON_CSV_CSV_H_
#define KOSAPO_COMMON_CSV_CSV_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::csv {

enum class Encoding { kAuto, kUtf8, kCp932 };

struct Decoded {
  std::string utf8;
  // The encoding the input was read as: kUtf8 or kCp932, never kAuto.
  Encoding encoding = Encoding::kUtf8;
};

// Converts `bytes` to UTF-8, without a byte order mark.
//
// kUtf8: strips a UTF-8 BOM and checks the rest is valid UTF-8.
// kCp932: converts from CP932 (Windows-31J, Shift_JIS with the NEC and IBM
// extensions such as ① and 髙).
// kAuto: UTF-8 when the input has a BOM or is valid UTF-8 (so plain ASCII is
// UTF-8), otherwise CP932.
//
// Invalid input is INVALID_ARGUMENT naming the 1-based line and the 0-based
// byte offset in `bytes` where the first bad sequence starts, e.g.
// "line 12: invalid CP932 byte sequence at byte offset 345".
absl::StatusOr<Decoded> DecodeToUtf8(absl::string_view bytes,
                                     Encoding encoding);

struct Record {
  // 1-based line the record starts on; a quoted newline makes a record span
  // several lines.
  int64_t line = 0;
  std::vector<std::string> fields;
};

// RFC 4180 reader over UTF-8 text: comma separator; fields optionally in
// double quotes, with "" for a quote, and quoted fields may hold commas and
// line breaks; CRLF or LF line ends; the last line may lack one. A leading
// UTF-8 BOM is skipped. Empty lines are skipped wherever they are (their
// lines still count); a record of one empty field is written `""`.
//
// The reader does not copy `utf8_text`, which must outlive it. Reading is
// linear in the size of the text, malformed lines included: recovery only
// moves back after an unterminated quote, and then no quote follows.
class Reader {
 public:
  explicit Reader(absl::string_view utf8_text);

  // The next record, or std::nullopt at the end. A malformed record (an
  // unterminated quote, a quote inside an unquoted field, text after a
  // closing quote) is INVALID_ARGUMENT "line N: ..." for that record only:
  // the next call resumes on the line after the one holding the fault, so
  // one bad line never hides the others.
  std::optional<absl::StatusOr<Record>> Next();

 private:
  absl::StatusOr<Record> ReadRecord();
  // Leaves pos_ and line_ at the start of the line after the one holding
  // `pos`, which is on line `line`.
  void ResumeAfterLineOf(size_t pos, int64_t line);

  absl::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  // Field count of the previous record, to reserve the next one's.
  size_t last_width_ = 0;
};

// A header-aware view of records: column names (ASCII whitespace trimmed, a
// UTF-8 BOM dropped) mapped to field indexes.
class Table {
 public:
  // INVALID_ARGUMENT "line 1: missing column 'school_code'" when a required
  // column is absent, "line 1: duplicate column 'name'" when a name occurs
  // twice. Empty column names are allowed (trailing commas) but cannot be
  // looked up.
  static absl::StatusOr<Table> FromHeader(
      const Record& header, const std::vector<std::string>& required_columns);

  bool Has(absl::string_view column) const;

  // INVALID_ARGUMENT "line N: expected 7 fields, found 6" unless `record`
  // has as many fields as the header.
  absl::Status CheckWidth(const Record& record) const;

  // The field of `record` in `column`; "" when the header has no such column
  // (an optional one) or the record is too short. Points into `record`.
  absl::string_view Get(const Record& record, absl::string_view column) const;

  const std::vector<std::string>& columns() const { return columns_; }

 private:
  Table() = default;

  std::vector<std::string> columns_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// Builds a CSV export: CRLF line ends (what Excel expects) and, by default,
// a UTF-8 BOM so that Excel in Japan opens it as UTF-8 rather than CP932.
//
// A field is quoted when it holds a comma, quote, CR or LF, or starts or
// ends with a space or tab; quotes are doubled. Against CSV (formula)
// injection, a field starting with =, +, -, @, tab or CR gets a leading
// single quote (OWASP), unless its column is flagged numeric and the field
// is a plain number such as "-12" or "+3.5e2", or a lone "-", the mark
// published tables print for "no value" (a zero denominator, a suppressed
// cell), which Excel and LibreOffice read as text. A numeric flag never lets
// a formula through.
class Writer {
 public:
  explicit Writer(bool utf8_bom = true);

  // `numeric[i]` flags column i as numeric; missing entries mean false.
  void AddRow(const std::vector<std::string>& fields,
              const std::vector<bool>& numeric = {});

  const std::string& data() const { return data_; }

 private:
  void AppendField(absl::string_view field, bool numeric);

  std::string data_;
};

}  // namespace kosapo::csv

#endif  // KOSAPO_COMMON_CSV_CSV_H_
