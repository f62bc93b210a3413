// Text for a terminal: the display width of Japanese text, tables whose
// columns line up with wide characters, highlighted cells, and a progress
// display that is a redrawn bar on a terminal and plain lines in a log.
#ifndef KOSAPO_TOOLS_CLI_TERMINAL_H_
#define KOSAPO_TOOLS_CLI_TERMINAL_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kosapo::cli {

// Columns `utf8` takes on a terminal: 2 for East Asian Wide and Fullwidth
// characters (kanji, kana, full-width forms; UAX #11), 0 for combining marks
// and zero-width characters, 1 otherwise. East Asian Ambiguous characters
// (①, ○, Greek) count 1, as in terminals' default settings. ANSI escape
// sequences count 0; invalid UTF-8 counts 1 per byte.
int DisplayWidth(absl::string_view utf8);

// Breaks `text` into lines of at most `width` columns, between any two
// characters (Japanese has no spaces), except that a closing bracket or
// punctuation mark (）」、。・ー and the like) never starts a line: the
// character before it moves down with it. A character wider than `width`
// gets a line of its own.
std::vector<std::string> WrapToWidth(absl::string_view text, int width);

// How flagged cells are shown.
enum class Highlight {
  // "*" after the value, in a column reserved for it (pipes, files).
  kMarker,
  // Black on yellow (ANSI), like the city's yellow cells (terminals).
  kAnsi,
};

// A text table: a header of one or more lines per column, rows of cells,
// and separator lines; columns sized to their widest cell.
class TextTable {
 public:
  struct Cell {
    Cell(std::string text = "", bool highlight = false)  // NOLINT: implicit
        : text(std::move(text)), highlight(highlight) {}
    std::string text;
    bool highlight;
  };

  // `wrap_width` > 0 wraps the header to that many columns (or the column's
  // data width, if wider); 0 keeps it on one line. A "\n" in the header
  // always breaks the line.
  void AddColumn(std::string header, bool right_align, int wrap_width = 0);
  void AddRow(std::vector<Cell> cells);
  void AddSeparator();
  bool empty() const { return rows_.empty(); }

  std::string Render(Highlight highlight) const;

 private:
  struct Column {
    std::string header;
    bool right_align = false;
    int wrap_width = 0;
  };
  struct Row {
    bool separator = false;
    std::vector<Cell> cells;
  };
  std::vector<Column> columns_;
  std::vector<Row> rows_;
};

// The progress of a long command on stderr. On a terminal a bar redrawn in
// place ("sheets  [#####-----]  2000/4000  50%"); otherwise a plain line at
// each tenth of the way, so logs stay short.
class ProgressDisplay {
 public:
  ProgressDisplay(std::ostream& out, bool terminal, std::string label,
                  int64_t total);
  void Update(int64_t done);
  // Ends the bar's line (a terminal) or prints the final count.
  void Finish();

 private:
  std::ostream& out_;
  const bool terminal_;
  const std::string label_;
  const int64_t total_;
  int64_t done_ = 0;
  int last_tenth_ = 0;
  bool finished_ = false;
};

// Prints `message` as JSON with the proto's field names: one line (for
// lists, a message per line) or, `pretty`, indented.
absl::Status PrintJson(const google::protobuf::Message& message,
                       std::ostream& out, bool pretty = false);

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_TERMINAL_H_
