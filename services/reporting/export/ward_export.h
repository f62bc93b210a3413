// The ward comparison (kosapo.reporting.v1.WardComparison) as a file people
// open: CSV for Excel, an XLSX workbook like the city's own sheet, or a
// self-contained HTML page. Pure functions of the comparison: no gRPC, no
// SQL, no clock, so the same comparison always gives the same bytes.
//
// Every writer streams into a ChunkSink as it goes and returns the sink's
// first error unchanged (e.g. a client that went away).
#ifndef KOSAPO_SERVICES_REPORTING_EXPORT_WARD_EXPORT_H_
#define KOSAPO_SERVICES_REPORTING_EXPORT_WARD_EXPORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kosapo/reporting/v1/reporting.pb.h"
#include "services/reporting/export/sink.h"

namespace kosapo::reporting::exports {

// What a client needs to save the file.
struct FileInfo {
  std::string content_type;
  // "ward-comparison-fy2023-2024-03-31.xlsx"
  std::string file_name;
};

// INVALID_ARGUMENT naming `format` for EXPORT_FORMAT_UNSPECIFIED or a value
// this build does not know.
absl::Status CheckFormat(v1::ExportFormat format);

// As CheckFormat for a bad format.
absl::StatusOr<FileInfo> InfoOf(const v1::WardComparison& comparison,
                                v1::ExportFormat format);

// Writes `comparison` in `format` (INVALID_ARGUMENT as InfoOf).
absl::Status Write(const v1::WardComparison& comparison,
                   v1::ExportFormat format, ChunkSink& sink);

// RFC 4180 with CRLF line ends, UTF-8 with a byte order mark (so Excel in
// Japan does not read it as CP932). A header line: "区分" and the columns'
// header_ja; then one line per row in the comparison's order: label_ja and
// the 18 published values.
//
// Formula injection (OWASP): a field starting with = + - @, tab or CR gets a
// leading single quote. The one exception is a published value that is a
// lone "-" (zero denominator, or hidden by suppression): it stays bare, as
// the city prints it, because no spreadsheet reads a lone "-" as a formula.
// A label "-" is still quoted.
absl::Status WriteCsv(const v1::WardComparison& comparison, ChunkSink& sink);

// An Office Open XML workbook with one sheet "区別実施状況": a title row
// ("こどもサポートネット 区別実施状況 令和5年度 (令和6年3月末)"), a legend
// row, the header row (frozen with the label column), then one row per
// comparison row. Counts are integer numbers ("#,##0"), rates numbers shown
// with one decimal ("0.0"), "-" is text (grey italic when suppressed);
// flagged cells are filled yellow (FFFFFF00), as on the city's sheet.
// Strings are inline (no shared string table).
absl::Status WriteXlsx(const v1::WardComparison& comparison, ChunkSink& sink);

// One HTML5 page, lang="ja", UTF-8, with its style inline and no scripts or
// external resources: a table with a caption, th scope on headers and row
// labels, flagged cells yellow (and said so in text for screen readers), a
// legend, suppressed cells marked "※". All text is escaped.
absl::Status WriteHtml(const v1::WardComparison& comparison, ChunkSink& sink);

// "こどもサポートネット 区別実施状況 令和5年度 (令和6年3月末)".
std::string Title(const v1::WardComparison& comparison);

}  // namespace kosapo::reporting::exports

#endif  // KOSAPO_SERVICES_REPORTING_EXPORT_WARD_EXPORT_H_
