#include "tools/cli/report_exports.h"

#include <grpcpp/client_context.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/types/api_types.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"

namespace kosapo::cli {
namespace {

namespace rv1 = ::kosapo::reporting::v1;

absl::StatusOr<rv1::ExportFormat> FormatOf(const ExportFormat& format) {
  if (format.name == "csv") {
    return rv1::EXPORT_FORMAT_CSV;
  }
  if (format.name == "xlsx") {
    return rv1::EXPORT_FORMAT_XLSX;
  }
  if (format.name == "html") {
    return rv1::EXPORT_FORMAT_HTML;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--format: ", format.name, " is not csv, xlsx or html"));
}

std::string Day(const kosapo::type::Date& date) { return DateToSql(date); }

std::string Count(int64_t value) { return absl::StrCat(value); }

// The enum value's name without its prefix, lower case: "moved_away".
template <typename Enum>
std::string EnumText(const google::protobuf::EnumDescriptor* descriptor,
                     Enum value, absl::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* found =
      descriptor->FindValueByNumber(static_cast<int>(value));
  if (found == nullptr) {
    return absl::StrCat(static_cast<int>(value));
  }
  std::string name = found->name();
  if (name.compare(0, prefix.size(), std::string(prefix)) == 0) {
    name = name.substr(prefix.size());
  }
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string RenderHubReport(const rv1::HubMonthlyReport& report,
                            Highlight highlight) {
  std::string out = absl::StrFormat(
      "%s %s (%s): %s - %s, daily capacity %d\n\n", report.hub_code(),
      report.hub_display_name(), report.month(), Day(report.first_day()),
      Day(report.last_day()), report.daily_capacity());
  TextTable totals;
  totals.AddColumn("", false);
  totals.AddColumn("", true);
  auto total = [&totals](const std::string& label, int64_t value,
                         bool notable = false) {
    totals.AddRow({TextTable::Cell(label, notable && value > 0),
                   TextTable::Cell(Count(value))});
  };
  total("visits / 延べ利用", report.visits());
  total("children / 実利用児童", report.children());
  total("days open with visits", report.visit_days());
  total("days at or over capacity / 定員超過日",
        report.days_at_or_over_capacity(), true);
  total("registered at month end", report.registered_children());
  total("new registrations", report.registration_count());
  total("ends", report.end_count());
  total("urgent reports / 緊急通告", report.urgent_report_count(), true);
  total("children with problems noted", report.flagged_child_count(), true);
  absl::StrAppend(&out, totals.Render(highlight), "\n");

  TextTable services;
  services.AddColumn("service / 支援内容", false);
  services.AddColumn("visits", true);
  services.AddColumn("children", true);
  for (const rv1::HubServiceDelivered& service : report.services()) {
    services.AddRow(
        {absl::StrCat(service.display_name().empty() ? service.code()
                                                     : service.display_name(),
                      service.in_contract() ? "" : " (not in contract)"),
         Count(service.visits()), Count(service.children())});
  }
  absl::StrAppend(&out, services.Render(highlight), "\n");

  if (!report.full_days().empty()) {
    TextTable full;
    full.AddColumn("full day", false);
    full.AddColumn("children", true);
    full.AddColumn("capacity", true);
    full.AddColumn("over capacity", true);
    for (const rv1::HubFullDay& day : report.full_days()) {
      full.AddRow({Day(day.date()), Count(day.children()),
                   Count(day.daily_capacity()),
                   TextTable::Cell(Count(day.over_capacity_visits()),
                                   day.over_capacity_visits() > 0)});
    }
    absl::StrAppend(&out, full.Render(highlight), "\n");
  }
  if (!report.children_listed()) {
    absl::StrAppend(&out,
                    "(children are not listed for your role: counts only)\n");
    return out;
  }
  if (!report.flagged_children().empty()) {
    TextTable flagged;
    flagged.AddColumn("child with problems noted", false);
    flagged.AddColumn("case", false);
    flagged.AddColumn("noted on", false);
    flagged.AddColumn("visits", true);
    flagged.AddColumn("urgent", true);
    for (const rv1::HubFlaggedChild& child : report.flagged_children()) {
      std::string dates;
      for (const auto& date : child.problem_dates()) {
        absl::StrAppend(&dates, dates.empty() ? "" : " ", Day(date));
      }
      flagged.AddRow({child.usage(), child.case_(), dates,
                      Count(child.visits()),
                      TextTable::Cell(Count(child.urgent_reports()),
                                      child.urgent_reports() > 0)});
    }
    absl::StrAppend(&out, flagged.Render(highlight), "\n");
  }
  if (!report.ends().empty()) {
    TextTable ends;
    ends.AddColumn("ended", false);
    ends.AddColumn("case", false);
    ends.AddColumn("on", false);
    ends.AddColumn("reason", false);
    for (const rv1::HubUsageEnding& end : report.ends()) {
      ends.AddRow({end.usage(), end.case_(), Day(end.end_date()),
                   EnumText(referral::v1::HubUsageEndReason_descriptor(),
                            end.reason(), "HUB_USAGE_END_REASON_")});
    }
    absl::StrAppend(&out, ends.Render(highlight), "\n");
  }
  if (!report.urgent_reports().empty()) {
    TextTable urgent;
    urgent.AddColumn("urgent report", false);
    urgent.AddColumn("case", false);
    urgent.AddColumn("raised", false);
    urgent.AddColumn("category", false);
    for (const rv1::HubUrgentReport& raised : report.urgent_reports()) {
      urgent.AddRow({raised.report(), raised.case_(), Day(raised.raise_date()),
                     EnumText(cases::v1::UrgentCategory_descriptor(),
                              raised.category(), "URGENT_CATEGORY_")});
    }
    absl::StrAppend(&out, urgent.Render(highlight), "\n");
  }
  return out;
}

}  // namespace

absl::Status ExportWardComparison(const Session& session,
                                  const WardComparisonQuery& query,
                                  const ExportFormat& format,
                                  std::ostream& out) {
  absl::StatusOr<rv1::ExportFormat> wire = FormatOf(format);
  if (!wire.ok()) {
    return wire.status();
  }
  rv1::ExportWardComparisonRequest request;
  request.set_parent(query.parent);
  request.set_fiscal_year(query.fiscal_year);
  if (query.as_of.has_value()) {
    *request.mutable_as_of() = DateToProto(*query.as_of);
  }
  request.set_suppress_below(query.suppress_below);
  request.set_format(*wire);
  grpc::ClientContext context;
  session.Prepare(&context);
  std::unique_ptr<grpc::ClientReader<rv1::ExportChunk>> reader =
      rv1::ReportingService::NewStub(session.Channel(Service::kReporting))
          ->ExportWardComparison(&context, request);
  rv1::ExportChunk chunk;
  while (reader->Read(&chunk)) {
    out.write(chunk.data().data(),
              static_cast<std::streamsize>(chunk.data().size()));
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return session.Explain(status, Service::kReporting,
                           "export the ward comparison");
  }
  if (!out) {
    return absl::UnavailableError("cannot write the exported file");
  }
  return absl::OkStatus();
}

absl::Status PrintHubMonthlyReport(const Session& session,
                                   const HubMonthlyQuery& query,
                                   Highlight highlight, std::ostream& out) {
  rv1::GetHubMonthlyReportRequest request;
  request.set_parent(query.parent);
  request.set_hub_code(query.hub);
  request.set_month(absl::StrFormat("%04d-%02d", query.year, query.month));
  grpc::ClientContext context;
  session.Prepare(&context);
  rv1::HubMonthlyReport report;
  const grpc::Status status =
      rv1::ReportingService::NewStub(session.Channel(Service::kReporting))
          ->GetHubMonthlyReport(&context, request, &report);
  if (!status.ok()) {
    return session.Explain(status, Service::kReporting,
                           "get the hub monthly report");
  }
  if (query.format == "json") {
    return PrintJson(report, out, true);
  }
  out << RenderHubReport(report, highlight);
  return absl::OkStatus();
}

}  // namespace kosapo::cli
