#include "tools/cli/csv_pieces.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/csv/csv.h"

namespace kosapo::cli {
namespace {

int64_t NewlinesIn(const csv::Record& record) {
  int64_t count = 0;
  for (const std::string& field : record.fields) {
    count += std::count(field.begin(), field.end(), '\n');
  }
  return count;
}

}  // namespace

absl::StatusOr<CsvPieces> CsvPieces::Split(
    std::string utf8, size_t max_rows, size_t max_bytes,
    const std::vector<std::string>& key_columns) {
  CsvPieces out;
  out.text_ = std::move(utf8);
  const absl::string_view text = out.text_;
  // line_starts[n] = byte offset of line n (1-based); one past the last
  // line = the text's end.
  std::vector<size_t> line_starts = {0, 0};
  for (size_t pos = text.find('\n'); pos != absl::string_view::npos;
       pos = text.find('\n', pos + 1)) {
    line_starts.push_back(pos + 1);
  }
  const auto offset_of = [&](int64_t line) {
    return line < static_cast<int64_t>(line_starts.size())
               ? line_starts[static_cast<size_t>(line)]
               : text.size();
  };

  csv::Reader reader(text);
  std::optional<csv::Table> table;
  while (std::optional<absl::StatusOr<csv::Record>> next = reader.Next()) {
    if (!next->ok()) {
      if (!table.has_value()) {
        return next->status();  // the header itself is malformed
      }
      continue;  // the service reports it, with the piece it sits in
    }
    csv::Record& record = **next;
    // Quoted fields keep their line breaks, so they tell how many lines
    // the record spans.
    const int64_t lines = 1 + NewlinesIn(record);
    if (!table.has_value()) {
      absl::StatusOr<csv::Table> header = csv::Table::FromHeader(record, {});
      if (!header.ok()) {
        return header.status();
      }
      table = *std::move(header);
      out.header_lines_ = record.line + lines - 1;
      out.header_end_ = offset_of(record.line + lines);
      continue;
    }
    CsvRecordSpan span;
    span.line = record.line;
    span.lines = lines;
    span.begin = offset_of(record.line);
    span.end = offset_of(record.line + lines);
    for (const std::string& column : key_columns) {
      const std::string value(
          absl::StripAsciiWhitespace(table->Get(record, column)));
      if (value.empty() || !table->Has(column)) {
        span.key.clear();
        break;
      }
      absl::StrAppend(&span.key, span.key.empty() ? "" : "\x1f", value);
    }
    out.records_.push_back(std::move(span));
  }
  if (!table.has_value()) {
    return absl::InvalidArgumentError(
        "line 1: the file is empty; it needs a header line");
  }

  // Pieces: greedy, by rows and bytes.
  const size_t n = out.records_.size();
  size_t first = 0;
  while (first < n || (first == 0 && out.pieces_.empty())) {
    size_t end = first;
    const size_t begin =
        out.pieces_.empty() ? out.header_end_ : out.records_[first].begin;
    while (end < n && end - first < std::max<size_t>(max_rows, 1) &&
           (end == first ||
            out.records_[end].end - begin <= std::max<size_t>(max_bytes, 1))) {
      ++end;
    }
    CsvPiece piece;
    piece.first_record = first;
    piece.end_record = end;
    piece.begin = begin;
    piece.end = end < n ? out.records_[end].begin : text.size();
    piece.first_line =
        out.pieces_.empty() ? out.header_lines_ + 1 : out.records_[first].line;
    out.pieces_.push_back(piece);
    if (end == n) {
      break;
    }
    first = end;
  }
  return out;
}

std::string CsvPieces::PieceText(const CsvPiece& piece,
                                 const std::vector<size_t>& left_out) const {
  const absl::string_view text = text_;
  std::string out(text.substr(0, header_end_));
  if (!out.empty() && out.back() != '\n') {
    out.push_back('\n');  // a header without a line end, and records after
  }
  size_t pos = piece.begin;
  for (size_t index : left_out) {
    const CsvRecordSpan& record = records_[index];
    if (index < piece.first_record || index >= piece.end_record) {
      continue;
    }
    absl::StrAppend(&out, text.substr(pos, record.begin - pos),
                    std::string(static_cast<size_t>(record.lines), '\n'));
    pos = record.end;
  }
  absl::StrAppend(&out, text.substr(pos, piece.end - pos));
  return out;
}

int64_t CsvPieces::FileLine(const CsvPiece& piece, int64_t service_line) const {
  if (service_line <= header_lines_) {
    return service_line;
  }
  return service_line - (header_lines_ + 1) + piece.first_line;
}

int64_t CsvPieces::RecordAt(int64_t line) const {
  const auto it =
      std::lower_bound(records_.begin(), records_.end(), line,
                       [](const CsvRecordSpan& record, int64_t value) {
                         return record.line < value;
                       });
  if (it == records_.end() || it->line != line) {
    return -1;
  }
  return it - records_.begin();
}

}  // namespace kosapo::cli
