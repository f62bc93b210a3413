// A CSV file cut at record boundaries into pieces that are sent one call
// each, with the header in front of every piece: a file of any size then
// goes to the service in calls under its message limit, and the progress
// can be shown between calls. The service parses every piece itself; this
// only finds where records start (with the shared reader in common/csv, so
// quoted line breaks stay inside their record) and maps the lines the
// service reports back to lines of the file.
#ifndef KOSAPO_TOOLS_CLI_CSV_PIECES_H_
#define KOSAPO_TOOLS_CLI_CSV_PIECES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::cli {

struct CsvRecordSpan {
  // 1-based first line and number of lines (more than 1 with quoted line
  // breaks).
  int64_t line = 0;
  int64_t lines = 1;
  // Byte range in the text.
  size_t begin = 0;
  size_t end = 0;
  // The record's key columns joined (see SplitCsv); "" when one is empty.
  std::string key;
};

struct CsvPiece {
  // Records [first_record, end_record).
  size_t first_record = 0;
  size_t end_record = 0;
  // Byte range in the text: from the end of the header (first piece) or
  // the first record, to the next piece's start; lines the reader rejected
  // travel with the piece they sit in.
  size_t begin = 0;
  size_t end = 0;
  // The file's line of the piece's first line.
  int64_t first_line = 0;
};

class CsvPieces {
 public:
  // Cuts `utf8` (decoded, without a byte order mark) into pieces of at most
  // `max_rows` records and, unless one record is larger, `max_bytes` bytes.
  // `key_columns` name the columns that identify a row (for duplicates
  // across pieces). INVALID_ARGUMENT "line 1: ..." when there is no header.
  static absl::StatusOr<CsvPieces> Split(
      std::string utf8, size_t max_rows, size_t max_bytes,
      const std::vector<std::string>& key_columns);

  const std::vector<CsvRecordSpan>& records() const { return records_; }
  const std::vector<CsvPiece>& pieces() const { return pieces_; }
  // Records the reader could read, the header excluded.
  size_t rows() const { return records_.size(); }

  // The CSV to send for `piece`: the header, then the piece's text with
  // the records whose index is in `left_out` (sorted) blanked to empty
  // lines, so the service's line numbers still map back.
  std::string PieceText(const CsvPiece& piece,
                        const std::vector<size_t>& left_out) const;
  // The file line of line `service_line` of PieceText(piece).
  int64_t FileLine(const CsvPiece& piece, int64_t service_line) const;
  // The index of the record starting on file line `line`, or -1.
  int64_t RecordAt(int64_t line) const;

 private:
  std::string text_;
  size_t header_end_ = 0;
  int64_t header_lines_ = 1;
  std::vector<CsvRecordSpan> records_;
  std::vector<CsvPiece> pieces_;
};

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_CSV_PIECES_H_
