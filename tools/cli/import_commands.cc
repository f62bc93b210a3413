// kosapo import schools|enrollment|sheets: files from school systems and
// the city's registers into the screening service, through its public
// intake calls. The service parses and checks every row; the CLI reads the
// file, sends it in pieces with progress, and lists what was rejected by
// the file's own line numbers.
#include <grpcpp/client_context.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/status.h"
#include "common/csv/csv.h"
#include "common/types/enum_text.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "tools/cli/cli.h"
#include "tools/cli/client.h"
#include "tools/cli/csv_pieces.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal.h"

namespace kosapo::cli {
namespace {

namespace sv1 = ::kosapo::screening::v1;

// Well under the services' 4 MiB receive limit, and small enough that the
// progress moves.
constexpr size_t kMaxPieceBytes = 1 << 20;
constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

// One rejected line, as reported.
struct LineError {
  int64_t line = 0;
  std::string field;
  std::string message;
};

// A problem the CSV reader or decoder reported as "line 12: what": line 12
// and what; line 0 when the message names no line.
LineError ErrorOf(absl::string_view message) {
  LineError error;
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "line ")) {
    const size_t colon = rest.find(':');
    if (colon != absl::string_view::npos &&
        absl::SimpleAtoi(rest.substr(0, colon), &error.line)) {
      message = absl::StripLeadingAsciiWhitespace(rest.substr(colon + 1));
    }
  }
  error.message = std::string(message);
  return error;
}

void PrintErrors(std::vector<LineError> errors, std::ostream& out) {
  std::stable_sort(
      errors.begin(), errors.end(),
      [](const LineError& a, const LineError& b) { return a.line < b.line; });
  for (const LineError& error : errors) {
    out << "line " << error.line << ": ";
    if (!error.field.empty()) {
      out << error.field << ": ";
    }
    out << error.message << "\n";
  }
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open ", path, ": check the path"));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  std::string bytes = contents.str();
  if (static_cast<int64_t>(bytes.size()) > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than 1 GiB: split it"));
  }
  return bytes;
}

std::vector<Flag> EncodingFlag() {
  return {{"encoding", "auto|utf8|cp932",
           "the file's text encoding; auto takes UTF-8 (with or without BOM) "
           "when the file is valid UTF-8, else Shift_JIS/CP932",
           "", "auto"}};
}

absl::StatusOr<csv::Encoding> EncodingOf(const Args& args) {
  KOSAPO_ASSIGN_OR_RETURN(
      std::string name, GetChoice(args, "encoding", {"auto", "utf8", "cp932"}));
  return name == "utf8"    ? csv::Encoding::kUtf8
         : name == "cp932" ? csv::Encoding::kCp932
                           : csv::Encoding::kAuto;
}

sv1::CsvEncoding WireEncoding(csv::Encoding encoding) {
  switch (encoding) {
    case csv::Encoding::kUtf8:
      return sv1::CSV_ENCODING_UTF8;
    case csv::Encoding::kCp932:
      return sv1::CSV_ENCODING_CP932;
    default:
      return sv1::CSV_ENCODING_UNSPECIFIED;
  }
}

// The file decoded, or a rejection naming the line of the bad bytes.
struct DecodedFile {
  std::string utf8;
  std::optional<LineError> error;
};

absl::StatusOr<DecodedFile> ReadAndDecode(const std::string& path,
                                          csv::Encoding encoding) {
  KOSAPO_ASSIGN_OR_RETURN(std::string bytes, ReadInput(path));
  DecodedFile out;
  absl::StatusOr<csv::Decoded> decoded = csv::DecodeToUtf8(bytes, encoding);
  if (!decoded.ok()) {
    // "line 12: invalid CP932 byte sequence at byte offset 345".
    out.error = ErrorOf(decoded.status().message());
    return out;
  }
  out.utf8 = std::move(decoded->utf8);
  return out;
}

int Rejected(Io& io, const std::string& what, const LineError& error) {
  io.out << what << " refused, nothing stored:\n";
  PrintErrors({error}, io.out);
  return kExitRejected;
}

// --- schools ---------------------------------------------------------------

absl::StatusOr<sv1::SchoolKind> ParseKind(absl::string_view text) {
  static const auto* const kJapanese =
      new std::map<std::string, sv1::SchoolKind>{
          {"小学校", sv1::SCHOOL_KIND_ELEMENTARY},
          {"中学校", sv1::SCHOOL_KIND_JUNIOR_HIGH},
          {"義務教育学校", sv1::SCHOOL_KIND_COMPULSORY},
          {"幼稚園", sv1::SCHOOL_KIND_KINDERGARTEN},
          {"保育所", sv1::SCHOOL_KIND_NURSERY},
          {"認定こども園", sv1::SCHOOL_KIND_CERTIFIED_CHILDCARE}};
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  if (const auto it = kJapanese->find(trimmed); it != kJapanese->end()) {
    return it->second;
  }
  const auto kind = EnumOfText<sv1::SchoolKind>(trimmed, "SCHOOL_KIND_");
  if (kind == sv1::SCHOOL_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "unknown kind; one of elementary, junior_high, compulsory, "
        "kindergarten, nursery, certified_childcare (or 小学校, 中学校, "
        "義務教育学校, 幼稚園, 保育所, 認定こども園)");
  }
  return kind;
}

CommandResult RunImportSchools(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(csv::Encoding encoding, EncodingOf(args));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  const std::string& path = args.positional()[0];
  KOSAPO_ASSIGN_OR_RETURN(DecodedFile file, ReadAndDecode(path, encoding));
  if (file.error.has_value()) {
    return Rejected(io, "schools", *file.error);
  }
  std::vector<csv::Record> records;
  std::vector<LineError> errors;
  csv::Reader reader(file.utf8);
  std::optional<csv::Table> table;
  while (std::optional<absl::StatusOr<csv::Record>> next = reader.Next()) {
    if (!next->ok()) {
      LineError error = ErrorOf(next->status().message());
      if (!table.has_value()) {
        return Rejected(io, "schools", error);
      }
      errors.push_back(std::move(error));
      continue;
    }
    if (!table.has_value()) {
      absl::StatusOr<csv::Table> header = csv::Table::FromHeader(
          **next, {"school_code", "display_name", "kind", "area_code"});
      if (!header.ok()) {
        return Rejected(io, "schools",
                        {1, "",
                         std::string(absl::StripPrefix(
                             header.status().message(), "line 1: "))});
      }
      table = *std::move(header);
      continue;
    }
    records.push_back(**std::move(next));
  }
  if (!table.has_value()) {
    return Rejected(io, "schools", {1, "", "the file is empty"});
  }
  auto stub =
      sv1::ScreeningService::NewStub(session.Channel(Service::kScreening));
  ProgressDisplay progress(io.err, io.err_is_terminal, "schools",
                           static_cast<int64_t>(records.size()));
  int64_t stored = 0;
  int64_t done = 0;
  for (const csv::Record& record : records) {
    progress.Update(done++);
    if (absl::Status width = table->CheckWidth(record); !width.ok()) {
      errors.push_back(
          {record.line, "",
           std::string(absl::StripPrefix(
               width.message(), absl::StrCat("line ", record.line, ": ")))});
      continue;
    }
    absl::StatusOr<sv1::SchoolKind> kind =
        ParseKind(table->Get(record, "kind"));
    if (!kind.ok()) {
      errors.push_back(
          {record.line, "kind", std::string(kind.status().message())});
      continue;
    }
    sv1::UpsertSchoolRequest request;
    request.set_parent(parent);
    sv1::School* school = request.mutable_school();
    school->set_code(std::string(
        absl::StripAsciiWhitespace(table->Get(record, "school_code"))));
    school->set_display_name(std::string(
        absl::StripAsciiWhitespace(table->Get(record, "display_name"))));
    school->set_kind(*kind);
    school->set_area_code(std::string(
        absl::StripAsciiWhitespace(table->Get(record, "area_code"))));
    grpc::ClientContext context;
    session.Prepare(&context);
    sv1::School response;
    const grpc::Status status =
        stub->UpsertSchool(&context, request, &response);
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        ++stored;
        break;
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::FAILED_PRECONDITION:
      case grpc::StatusCode::NOT_FOUND:
      case grpc::StatusCode::ALREADY_EXISTS:
      case grpc::StatusCode::OUT_OF_RANGE:
        errors.push_back({record.line, "", status.error_message()});
        break;
      default: {
        // The service or the caller's access is the problem, not the line:
        // stop instead of repeating it for every line.
        progress.Finish();
        const absl::Status explained =
            session.Explain(status, Service::kScreening, "register schools");
        return absl::Status(
            explained.code(),
            absl::StrCat(explained.message(), ". Stopped at line ", record.line,
                         " of ", path, "; ", stored,
                         " school(s) before it are stored, and importing "
                         "the file again is safe"));
      }
    }
  }
  progress.Update(done);
  progress.Finish();
  PrintErrors(errors, io.out);
  io.out << "schools: " << stored << " stored, " << errors.size()
         << " rejected (" << path << ")\n";
  return errors.empty() ? kExitOk : kExitRejected;
}

// --- enrollment ------------------------------------------------------------

// The service's "line 4 pupils: ..." as the other imports print a line:
// "line 4: pupils: ...". Anything else is kept.
std::string LineFirst(absl::string_view problem) {
  absl::string_view rest = problem;
  if (!absl::ConsumePrefix(&rest, "line ")) {
    return std::string(problem);
  }
  const size_t end = rest.find_first_not_of("0123456789");
  if (end == 0 || end == absl::string_view::npos || rest[end] != ' ') {
    return std::string(problem);
  }
  return absl::StrCat("line ", rest.substr(0, end), ": ", rest.substr(end + 1));
}

CommandResult RunImportEnrollment(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(int64_t fiscal_year, GetInt(args, "fy", 2000, 2100));
  KOSAPO_ASSIGN_OR_RETURN(csv::Encoding encoding, EncodingOf(args));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  const std::string& path = args.positional()[0];
  KOSAPO_ASSIGN_OR_RETURN(std::string bytes, ReadInput(path));
  // One call: the service takes a year's counts all or nothing.
  sv1::ImportEnrollmentRequest request;
  request.set_parent(parent);
  request.set_fiscal_year(static_cast<int32_t>(fiscal_year));
  request.set_csv(std::move(bytes));
  request.set_encoding(WireEncoding(encoding));
  grpc::ClientContext context;
  session.Prepare(&context);
  sv1::ImportEnrollmentResponse response;
  const grpc::Status status =
      sv1::ScreeningService::NewStub(session.Channel(Service::kScreening))
          ->ImportEnrollment(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    // "3 problem(s), nothing stored; line 4 pupils: ...; line 9 ...", or
    // one problem of the whole file ("line 1: missing column 'pupils'").
    std::vector<std::string> parts =
        absl::StrSplit(status.error_message(), "; ");
    io.out << "enrollment FY" << fiscal_year << " refused, nothing stored";
    if (absl::StrContains(parts[0], "problem(s)")) {
      io.out << " (" << parts[0].substr(0, parts[0].find(',')) << ")";
      parts.erase(parts.begin());
    }
    io.out << ":\n";
    for (const std::string& part : parts) {
      io.out << LineFirst(part) << "\n";
    }
    return kExitRejected;
  }
  if (!status.ok()) {
    return session.Explain(status, Service::kScreening, "load enrollment");
  }
  io.out << "enrollment FY" << fiscal_year << ": "
         << (response.unchanged() ? "unchanged" : "stored") << ", "
         << response.rows() << " rows, " << response.schools() << " schools, "
         << response.pupils() << " pupils (" << path << ")\n";
  return kExitOk;
}

// --- sheets ----------------------------------------------------------------

absl::StatusOr<std::string> RoundName(const Args& args,
                                      const Session& session) {
  KOSAPO_ASSIGN_OR_RETURN(std::string round, GetRequired(args, "round"));
  if (absl::StartsWith(round, "municipalities/")) {
    return round;
  }
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  return absl::StrCat(parent, "/rounds/", round);
}

CommandResult RunImportSheets(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(csv::Encoding encoding, EncodingOf(args));
  KOSAPO_ASSIGN_OR_RETURN(int64_t batch_rows,
                          GetInt(args, "batch-rows", 1, 100000));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string round, RoundName(args, session));
  const std::string& path = args.positional()[0];
  KOSAPO_ASSIGN_OR_RETURN(DecodedFile file, ReadAndDecode(path, encoding));
  if (file.error.has_value()) {
    return Rejected(io, "sheets", *file.error);
  }
  absl::StatusOr<CsvPieces> pieces =
      CsvPieces::Split(std::move(file.utf8), static_cast<size_t>(batch_rows),
                       kMaxPieceBytes, {"school_code", "pupil_id"});
  if (!pieces.ok()) {
    LineError error{
        1, "",
        std::string(absl::StripPrefix(pieces.status().message(), "line 1: "))};
    return Rejected(io, "sheets", error);
  }

  auto stub =
      sv1::ScreeningService::NewStub(session.Channel(Service::kScreening));
  ProgressDisplay progress(io.err, io.err_is_terminal, "sheets",
                           static_cast<int64_t>(pieces->rows()));
  std::vector<LineError> errors;
  // Pupils stored from earlier pieces (key -> line): within one call the
  // service rejects a pupil given twice; across calls the CLI does, with
  // the service's words, so the file means the same however it is cut.
  std::map<std::string, int64_t> stored_keys;
  int64_t accepted = 0;
  int64_t unchanged = 0;
  int64_t rows_done = 0;
  progress.Update(0);
  for (const CsvPiece& piece : pieces->pieces()) {
    std::vector<size_t> left_out;
    for (size_t i = piece.first_record; i < piece.end_record; ++i) {
      const CsvRecordSpan& record = pieces->records()[i];
      if (record.key.empty()) {
        continue;
      }
      if (const auto it = stored_keys.find(record.key);
          it != stored_keys.end()) {
        left_out.push_back(i);
        errors.push_back({record.line, "sheet.pupil_id",
                          absl::StrCat("given twice in this import (first at "
                                       "line ",
                                       it->second, ")")});
      }
    }
    sv1::ImportSheetsCsvRequest request;
    request.set_parent(round);
    request.set_csv(pieces->PieceText(piece, left_out));
    request.set_encoding(sv1::CSV_ENCODING_UTF8);
    grpc::ClientContext context;
    session.Prepare(&context);
    sv1::ImportSheetsResponse response;
    const grpc::Status status =
        stub->ImportSheetsCsv(&context, request, &response);
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
        absl::StartsWith(status.error_message(), "line ")) {
      // The header (the same in every piece) is unusable.
      progress.Finish();
      absl::string_view message = status.error_message();
      absl::ConsumePrefix(&message, "line 1: ");
      return Rejected(io, "sheets", {1, "", std::string(message)});
    }
    if (!status.ok()) {
      progress.Finish();
      const absl::Status explained =
          session.Explain(status, Service::kScreening, "import sheets");
      if (piece.first_record == 0) {
        return explained;
      }
      return absl::Status(
          explained.code(),
          absl::StrCat(explained.message(), ". Stopped at line ",
                       piece.first_line, " of ", path,
                       "; the lines before it are stored, and importing the "
                       "file again is safe (stored sheets come back "
                       "UNCHANGED)"));
    }
    for (const sv1::SheetRowResult& row : response.rows()) {
      const int64_t line = pieces->FileLine(piece, row.line());
      switch (row.outcome()) {
        case sv1::ROW_OUTCOME_ACCEPTED:
        case sv1::ROW_OUTCOME_UNCHANGED: {
          (row.outcome() == sv1::ROW_OUTCOME_ACCEPTED ? accepted : unchanged) +=
              1;
          const int64_t index = pieces->RecordAt(line);
          if (index >= 0) {
            const std::string& key =
                pieces->records()[static_cast<size_t>(index)].key;
            if (!key.empty()) {
              stored_keys.emplace(key, line);
            }
          }
          break;
        }
        default:
          if (row.line() == 0) {
            // A line the service's CSV reader could not read: its message
            // names the line of the piece.
            LineError error = ErrorOf(row.message());
            error.line = error.line > 0 ? pieces->FileLine(piece, error.line)
                                        : piece.first_line;
            errors.push_back(std::move(error));
          } else {
            // The message may repeat the piece's line ("line 5: ..."): the
            // file's line is printed instead.
            LineError error = ErrorOf(row.message());
            errors.push_back({line, row.field(), error.message});
          }
          break;
      }
    }
    rows_done += static_cast<int64_t>(piece.end_record - piece.first_record);
    progress.Update(rows_done);
  }
  progress.Finish();
  PrintErrors(errors, io.out);
  io.out << "sheets: " << accepted << " accepted, " << unchanged
         << " unchanged, " << errors.size() << " rejected (" << path << ")\n";
  return errors.empty() ? kExitOk : kExitRejected;
}

}  // namespace

std::vector<Command> ImportCommands() {
  const std::vector<Flag> caller = CallerFlags("2m");
  const std::vector<Flag> screening = AddressFlags({Service::kScreening});
  const std::vector<Flag> encoding = EncodingFlag();
  auto flags = [&](std::vector<Flag> own) {
    for (const std::vector<Flag>* more : {&encoding, &screening, &caller}) {
      own.insert(own.end(), more->begin(), more->end());
    }
    return own;
  };

  Command schools;
  schools.group = "import";
  schools.name = "schools";
  schools.synopsis = "FILE.csv [flags]";
  schools.summary = "register schools and preschool facilities from CSV";
  schools.details =
      "Columns (header line, any order): school_code, display_name, kind,\n"
      "area_code. kind is elementary, junior_high, compulsory, kindergarten,\n"
      "nursery or certified_childcare (or 小学校, 中学校, 義務教育学校, "
      "幼稚園,\n"
      "保育所, 認定こども園). Each line creates or updates one school\n"
      "(UpsertSchool): importing a file again changes nothing. The area must\n"
      "exist. Needs a city_operations token of the municipality.\n"
      "Rejected lines are listed by line number; exit 1 when there is any.\n";
  schools.flags = flags({});
  schools.min_positional = schools.max_positional = 1;
  schools.run = RunImportSchools;

  Command enrollment;
  enrollment.group = "import";
  enrollment.name = "enrollment";
  enrollment.synopsis = "FILE.csv --fy=YEAR [flags]";
  enrollment.summary =
      "load a fiscal year's enrollment (学校基本調査) from CSV";
  enrollment.details =
      "Columns: school_code, pupils and optionally grade. The service takes\n"
      "the year all or nothing (ImportEnrollment): a file with any bad line\n"
      "stores nothing and every problem is listed by line (exit 1); a load\n"
      "replaces the year's counts, and loading the same counts again changes\n"
      "nothing. Needs a city_operations token of the municipality.\n";
  enrollment.flags = flags(
      {{"fy", "YEAR", "the fiscal year (April-March) of the counts, e.g. 2023",
        "", ""}});
  enrollment.min_positional = enrollment.max_positional = 1;
  enrollment.run = RunImportEnrollment;

  Command sheets;
  sheets.group = "import";
  sheets.name = "sheets";
  sheets.synopsis = "FILE.csv --round=ROUND [flags]";
  sheets.summary = "upload pupils' screening sheets from CSV (UTF-8 or CP932)";
  sheets.details =
      "Columns: school_code, pupil_id, grade, class_name, pupil_name,\n"
      "pupil_kana, birth_date (YYYY-MM-DD), sex (male, female, not_stated),\n"
      "note, and one column per template item named by its code (flags 0/1,\n"
      "levels 0..max, empty = 0). The file goes to ImportSheetsCsv in pieces\n"
      "of --batch-rows lines (and at most 1 MiB) with the header in front of\n"
      "each; every line is ACCEPTED, UNCHANGED (sent before) or REJECTED with\n"
      "its field, and a rejected line never blocks the others. Rejected\n"
      "lines are listed by their line in the file; exit 1 when there is\n"
      "any. Importing the same file again is safe. Needs a school_staff or\n"
      "school_manager token whose schools include every school_code.\n";
  sheets.flags =
      flags({{"round", "ROUND",
              "the round: its id, or municipalities/CODE/rounds/ID", "", ""},
             {"batch-rows", "N", "lines per call", "", "2000"}});
  sheets.min_positional = sheets.max_positional = 1;
  sheets.run = RunImportSheets;

  return {schools, enrollment, sheets};
}

}  // namespace kosapo::cli
