// kosapo report ward-comparison | hub-monthly: the reporting service's
// reports, printed for a terminal or written to a file.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "tools/cli/cli.h"
#include "tools/cli/client.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/report_exports.h"
#include "tools/cli/ward_table.h"

namespace kosapo::cli {
namespace {

namespace rv1 = ::kosapo::reporting::v1;

Flag ColorFlag() {
  return {"color", "auto|always|never",
          "highlight flagged cells in colour: auto = when writing to a "
          "terminal (and NO_COLOR is not set)",
          "KOSAPO_COLOR", "auto"};
}

Flag OutFlag() {
  return {"out", "FILE", "write to FILE (replaced whole) instead of stdout", "",
          ""};
}

absl::StatusOr<Highlight> HighlightOf(const Args& args, const Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(
      std::string color, GetChoice(args, "color", {"auto", "always", "never"}));
  if (color == "auto") {
    const std::optional<std::string> no_color = io.env("NO_COLOR");
    const bool terminal = io.out_is_terminal && !args.Has("out") &&
                          !(no_color.has_value() && !no_color->empty());
    return terminal ? Highlight::kAnsi : Highlight::kMarker;
  }
  return color == "always" ? Highlight::kAnsi : Highlight::kMarker;
}

// Runs `write` on stdout, or on FILE written beside it and renamed into
// place only when `write` succeeds, so a failed report never leaves half a
// file.
absl::Status WriteOutput(
    const Args& args, Io& io,
    const std::function<absl::Status(std::ostream&)>& write) {
  if (!args.Has("out")) {
    absl::Status status = write(io.out);
    io.out.flush();
    return status;
  }
  const std::string path = args.Get("out");
  const std::string partial = absl::StrCat(path, ".partial");
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("--out: cannot write ", path, ": check the directory"));
  }
  absl::Status status = write(file);
  file.close();
  if (status.ok() && !file) {
    status = absl::InternalError(absl::StrCat("cannot write ", path));
  }
  if (!status.ok()) {
    std::remove(partial.c_str());
    return status;
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  io.err << "wrote " << path << "\n";
  return absl::OkStatus();
}

CommandResult RunWardComparison(const Args& args, Io& io) {
  WardComparisonQuery query;
  KOSAPO_ASSIGN_OR_RETURN(int64_t fiscal_year, GetInt(args, "fy", 2000, 2100));
  query.fiscal_year = static_cast<int>(fiscal_year);
  if (args.Has("as-of")) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(args.Get("as-of"), &day)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--as-of: '", args.Get("as-of"), "' is not a date YYYY-MM-DD"));
    }
    query.as_of = day;
  }
  KOSAPO_ASSIGN_OR_RETURN(int64_t suppress,
                          GetInt(args, "suppress-below", 0, 1000));
  query.suppress_below = static_cast<int>(suppress);
  KOSAPO_ASSIGN_OR_RETURN(
      std::string format,
      GetChoice(args, "format", {"table", "json", "csv", "xlsx", "html"}));
  KOSAPO_ASSIGN_OR_RETURN(Highlight highlight, HighlightOf(args, io));
  if (format == "xlsx" && !args.Has("out") && io.out_is_terminal) {
    return absl::InvalidArgumentError(
        "--format=xlsx is binary: pass --out=FILE.xlsx");
  }
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  query.parent = parent;

  if (format == "csv" || format == "xlsx" || format == "html") {
    KOSAPO_RETURN_IF_ERROR(WriteOutput(args, io, [&](std::ostream& out) {
      return ExportWardComparison(session, query, ExportFormat{format}, out);
    }));
    return kExitOk;
  }

  rv1::GetWardComparisonRequest request;
  request.set_parent(query.parent);
  request.set_fiscal_year(query.fiscal_year);
  if (query.as_of.has_value()) {
    *request.mutable_as_of() = DateToProto(*query.as_of);
  }
  request.set_suppress_below(query.suppress_below);
  grpc::ClientContext context;
  session.Prepare(&context);
  rv1::WardComparison comparison;
  const grpc::Status status =
      rv1::ReportingService::NewStub(session.Channel(Service::kReporting))
          ->GetWardComparison(&context, request, &comparison);
  if (!status.ok()) {
    return session.Explain(status, Service::kReporting,
                           "get the ward comparison");
  }
  KOSAPO_RETURN_IF_ERROR(WriteOutput(args, io, [&](std::ostream& out) {
    if (format == "json") {
      return PrintJson(comparison, out, true);
    }
    out << RenderWardComparison(comparison, highlight);
    return absl::OkStatus();
  }));
  return kExitOk;
}

CommandResult RunHubMonthly(const Args& args, Io& io) {
  HubMonthlyQuery query;
  KOSAPO_ASSIGN_OR_RETURN(std::string hub, GetRequired(args, "hub"));
  query.hub = hub;
  KOSAPO_ASSIGN_OR_RETURN(std::string month, GetRequired(args, "month"));
  absl::CivilMonth civil_month;
  if (!absl::ParseCivilTime(month, &civil_month)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--month: '", month, "' is not a month YYYY-MM, e.g. 2024-08"));
  }
  query.year = static_cast<int>(civil_month.year());
  query.month = civil_month.month();
  KOSAPO_ASSIGN_OR_RETURN(std::string format,
                          GetChoice(args, "format", {"table", "json"}));
  query.format = format;
  KOSAPO_ASSIGN_OR_RETURN(Highlight highlight, HighlightOf(args, io));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  query.parent = parent;
  KOSAPO_RETURN_IF_ERROR(WriteOutput(args, io, [&](std::ostream& out) {
    return PrintHubMonthlyReport(session, query, highlight, out);
  }));
  return kExitOk;
}

}  // namespace

std::vector<Command> ReportCommands() {
  std::vector<Flag> connection = AddressFlags({Service::kReporting});
  for (Flag& flag : CallerFlags()) {
    connection.push_back(std::move(flag));
  }

  Command ward;
  ward.group = "report";
  ward.name = "ward-comparison";
  ward.synopsis =
      "--fy=YEAR [--as-of=DATE] [--format=table|json|csv|xlsx|html] "
      "[--out=FILE]";
  ward.summary = "the city's per-ward comparison (区別実施状況) of a year";
  ward.details =
      "All 18 columns for the city totals of earlier years, the city total\n"
      "and every area in the city's order. Statuses are as of --as-of\n"
      "(default: 31 March after the fiscal year). Cells worse than the city\n"
      "are highlighted in yellow on a terminal (--color) and marked * in\n"
      "files and pipes; \"-\" is a zero denominator. The table is about 200\n"
      "columns wide: widen the terminal or pipe it to `less -S`.\n"
      "--format=json prints the reporting service's answer with every\n"
      "numerator and denominator. csv, xlsx and html are the reporting\n"
      "service's export (the same file for every client), streamed.\n"
      "Any staff or service token of the municipality may ask.\n";
  ward.flags = {
      {"fy", "YEAR", "the fiscal year (April-March) of the cohort, e.g. 2023",
       "", ""},
      {"as-of", "DATE", "statuses as of this date, YYYY-MM-DD", "", ""},
      {"format", "FORMAT", "table, json, csv, xlsx or html", "", "table"},
      OutFlag(),
      {"suppress-below", "N",
       "hide counts below N (and rates built on them), for public release", "",
       "0"},
      ColorFlag(),
  };
  ward.flags.insert(ward.flags.end(), connection.begin(), connection.end());
  ward.run = RunWardComparison;

  Command hub;
  hub.group = "report";
  hub.name = "hub-monthly";
  hub.synopsis =
      "--hub=CODE --month=YYYY-MM [--format=table|json] [--out=FILE]";
  hub.summary = "a drop-in hub's monthly report to the city";
  hub.details =
      "What the operator reports at the monthly meeting: each contract\n"
      "service, attendance, days at capacity, registrations and ends,\n"
      "urgent reports, and the children who showed problems.\n";
  hub.flags = {
      {"hub", "CODE", "the hub's code", "", ""},
      {"month", "YYYY-MM", "the month, e.g. 2024-08", "", ""},
      {"format", "FORMAT", "table or json", "", "table"},
      OutFlag(),
      ColorFlag(),
  };
  hub.flags.insert(hub.flags.end(), connection.begin(), connection.end());
  hub.run = RunHubMonthly;
  return {ward, hub};
}

}  // namespace kosapo::cli
