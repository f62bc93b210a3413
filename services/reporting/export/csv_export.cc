// The CSV export (ward_export.h): the shared RFC 4180 writer, one row at a
// time, with the published values' columns flagged numeric so that their
// lone "-" stays bare.
#include <string>
#include <vector>

#include "common/csv/csv.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting::exports {

absl::Status WriteCsv(const v1::WardComparison& comparison, ChunkSink& sink) {
  csv::Writer header(/*utf8_bom=*/true);
  std::vector<std::string> fields = {"区分"};
  for (const v1::Column& column : comparison.columns()) {
    fields.push_back(column.header_ja());
  }
  header.AddRow(fields);
  if (absl::Status sent = sink.Append(header.data()); !sent.ok()) {
    return sent;
  }
  for (const v1::WardRow& row : comparison.rows()) {
    fields.assign({row.label_ja()});
    // The label is text from the city's data; every other field is a
    // published value: a number or "-".
    std::vector<bool> numeric = {false};
    for (const v1::Cell& cell : row.cells()) {
      fields.push_back(cell.published());
      numeric.push_back(true);
    }
    csv::Writer line(/*utf8_bom=*/false);
    line.AddRow(fields, numeric);
    if (absl::Status sent = sink.Append(line.data()); !sent.ok()) {
      return sent;
    }
  }
  return absl::OkStatus();
}

}  // namespace kosapo::reporting::exports
