#include "services/reporting/export/ward_export.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/types/api_types.h"
#include "services/reporting/domain/ward_table.h"

namespace kosapo::reporting::exports {
namespace {

absl::Status UnknownFormat(v1::ExportFormat format) {
  return absl::InvalidArgumentError(
      format == v1::EXPORT_FORMAT_UNSPECIFIED
          ? std::string("format: required (CSV, XLSX or HTML)")
          : absl::StrCat("format: unknown value ", static_cast<int>(format),
                         " (CSV, XLSX or HTML)"));
}

}  // namespace

absl::Status CheckFormat(v1::ExportFormat format) {
  switch (format) {
    case v1::EXPORT_FORMAT_CSV:
    case v1::EXPORT_FORMAT_XLSX:
    case v1::EXPORT_FORMAT_HTML:
      return absl::OkStatus();
    default:
      return UnknownFormat(format);
  }
}

std::string Title(const v1::WardComparison& comparison) {
  constexpr char kName[] = "こどもサポートネット 区別実施状況 ";
  const absl::StatusOr<absl::CivilDay> as_of =
      DateFromProto(comparison.as_of(), "as_of");
  if (!as_of.ok()) {
    return absl::StrCat(kName, FiscalYearLabel(comparison.fiscal_year()));
  }
  return absl::StrCat(kName, CityTotalLabel(comparison.fiscal_year(), *as_of));
}

absl::StatusOr<FileInfo> InfoOf(const v1::WardComparison& comparison,
                                v1::ExportFormat format) {
  FileInfo info;
  std::string extension;
  switch (format) {
    case v1::EXPORT_FORMAT_CSV:
      info.content_type = "text/csv; charset=utf-8";
      extension = "csv";
      break;
    case v1::EXPORT_FORMAT_XLSX:
      info.content_type =
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
      extension = "xlsx";
      break;
    case v1::EXPORT_FORMAT_HTML:
      info.content_type = "text/html; charset=utf-8";
      extension = "html";
      break;
    default:
      return UnknownFormat(format);
  }
  const kosapo::type::Date& as_of = comparison.as_of();
  info.file_name = absl::StrFormat("ward-comparison-fy%d-%04d-%02d-%02d.%s",
                                   comparison.fiscal_year(), as_of.year(),
                                   as_of.month(), as_of.day(), extension);
  return info;
}

absl::Status Write(const v1::WardComparison& comparison,
                   v1::ExportFormat format, ChunkSink& sink) {
  switch (format) {
    case v1::EXPORT_FORMAT_CSV:
      return WriteCsv(comparison, sink);
    case v1::EXPORT_FORMAT_XLSX:
      return WriteXlsx(comparison, sink);
    case v1::EXPORT_FORMAT_HTML:
      return WriteHtml(comparison, sink);
    default:
      return UnknownFormat(format);
  }
}

}  // namespace kosapo::reporting::exports
