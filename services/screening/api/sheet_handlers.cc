// ScreeningServiceImpl: pupils' sheets.
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/csv/csv.h"
#include "common/server/input_wall.h"
#include "common/server/paging.h"
#include "services/screening/api/call_checks.h"
#include "services/screening/api/screening_service.h"
#include "services/screening/api/sheet_intake.h"
#include "services/screening/domain/round_rules.h"
#include "services/screening/domain/scoring.h"
#include "services/screening/domain/sheet_rules.h"

namespace kosapo::screening {
namespace {

using server::CallContext;

struct SheetKey {
  std::string round_parent;
  std::string school_code;
  std::string pupil_id;
};

// "municipalities/{m}/rounds/{r}/schools/{s}/sheets/{p}".
absl::StatusOr<SheetKey> ParseSheetName(absl::string_view name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 8 || parts[4] != "schools" || parts[6] != "sheets" ||
      parts[5].empty() || parts[7].empty()) {
    return absl::InvalidArgumentError(
        "name: expected municipalities/{m}/rounds/{r}/schools/{s}/sheets/{p}");
  }
  return SheetKey{
      absl::StrCat(parts[0], "/", parts[1], "/", parts[2], "/", parts[3]),
      std::string(parts[5]), std::string(parts[7])};
}

absl::Status RowStatus(const v1::SheetRowResult& row) {
  const std::string message = absl::StrCat(row.field(), ": ", row.message());
  if (row.message().find("not the caller's school") != std::string::npos ||
      row.message().find("may not") != std::string::npos) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InvalidArgumentError(message);
}

// The messages of a client stream read as bytes, so that a message that
// does not parse is told from the end of the stream.
class RequestStream {
 public:
  explicit RequestStream(grpc::ServerReader<grpc::ByteBuffer>& reader)
      : reader_(reader) {}

  // The next message into `message`: true, or false at the end of the
  // stream; INVALID_ARGUMENT naming the message's position when its bytes
  // are not a valid message.
  template <typename Message>
  absl::StatusOr<bool> Next(Message& message) {
    grpc::ByteBuffer bytes;
    if (!reader_.Read(&bytes)) {
      return false;
    }
    ++count_;
    // The same parser, with the same limits, as the generated handler's.
    if (!grpc::SerializationTraits<Message>::Deserialize(&bytes, &message)
             .ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("message ", count_, " of the stream is not a valid ",
                       Message::descriptor()->full_name(), " message"));
    }
    return true;
  }
  // Messages read so far.
  int64_t count() const { return count_; }

 private:
  grpc::ServerReader<grpc::ByteBuffer>& reader_;
  int64_t count_ = 0;
};

Score ScoreOf(const v1::SheetScore& proto) {
  Score score;
  score.total = proto.total();
  score.candidate = proto.candidate();
  for (const v1::TriggeredItem& item : proto.triggered()) {
    score.triggered.push_back(
        Trigger{item.item(), item.points(), item.always_review()});
  }
  return score;
}

}  // namespace

absl::StatusOr<RoundContext> ScreeningServiceImpl::RoundFor(
    const CallContext& call, absl::string_view parent) {
  KOSAPO_ASSIGN_OR_RETURN(const auto name, ParseRoundName(parent, "parent"));
  KOSAPO_RETURN_IF_ERROR(
      auth::RequireMunicipality(*call.principal, name.first));
  return sheets_.LoadRound(name.first, name.second);
}

absl::StatusOr<absl::CivilDay> ScreeningServiceImpl::Today(
    absl::string_view municipality) {
  KOSAPO_ASSIGN_OR_RETURN(const v1::Municipality stored,
                          registry_.GetMunicipality(municipality));
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(stored.time_zone(), &zone)) {
    return absl::InternalError("municipality time zone does not load");
  }
  return absl::ToCivilDay(clock_->Now(), zone);
}

grpc::Status ScreeningServiceImpl::UpsertSheet(
    grpc::ServerContext* context, const v1::UpsertSheetRequest* request,
    v1::UpsertSheetResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(
        RequireSchoolStaff(call, request->sheet().school_code()));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today,
                            Today(round.municipality));
    SheetIntake intake(sheets_, round, call, who, today);
    KOSAPO_RETURN_IF_ERROR(intake.Add(1, request->sheet()));
    KOSAPO_RETURN_IF_ERROR(intake.Finish());
    const v1::SheetRowResult& row = intake.results().front();
    if (row.outcome() == v1::ROW_OUTCOME_REJECTED) {
      return RowStatus(row);
    }
    response->set_outcome(row.outcome());
    // A read of its own, audited as one: by now another writer may have
    // replaced the sheet.
    KOSAPO_ASSIGN_OR_RETURN(*response->mutable_sheet(),
                            sheets_.Get(round, request->sheet().school_code(),
                                        request->sheet().pupil_id(), who));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ImportSheetsRaw(
    grpc::ServerContext* context, grpc::ServerReader<grpc::ByteBuffer>* reader,
    v1::ImportSheetsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        *call.principal, {auth::Role::kSchoolStaff, auth::Role::kSchoolManager},
        "write screening sheets"));
    Accessor who = AccessorOf(call);
    RequestStream stream(*reader);
    v1::ImportSheetsRequest message;
    KOSAPO_ASSIGN_OR_RETURN(bool more, stream.Next(message));
    if (!more) {
      return absl::InvalidArgumentError("the stream sent no message");
    }
    // The interceptor checks only requests that arrive before the handler
    // runs; a stream's messages go through the input wall here.
    KOSAPO_RETURN_IF_ERROR(server::CheckRequest(message));
    const std::string parent = message.parent();
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round, RoundFor(call, parent));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today,
                            Today(round.municipality));
    SheetIntake intake(sheets_, round, call, std::move(who), today);
    int64_t line = 0;
    while (more) {
      if (stream.count() > 1) {
        KOSAPO_RETURN_IF_ERROR(server::CheckRequest(message));
      }
      if (!message.parent().empty() && message.parent() != parent) {
        return absl::InvalidArgumentError(
            "parent: must not change within one stream");
      }
      for (v1::Sheet& sheet : *message.mutable_sheets()) {
        KOSAPO_RETURN_IF_ERROR(intake.Add(++line, std::move(sheet)));
      }
      absl::StatusOr<bool> next = stream.Next(message);
      if (!next.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(next.status().message(),
                         "; nothing was stored: send the whole stream again"));
      }
      more = *next;
    }
    // A stream the client cancelled (or whose deadline passed) ends like
    // a whole one; what it sent is not stored (the intake, unfinished,
    // rolls back as it goes out of scope).
    if (context->IsCancelled()) {
      return absl::CancelledError(
          "the call was cancelled before the stream ended: nothing was "
          "stored");
    }
    KOSAPO_RETURN_IF_ERROR(intake.Finish());
    *response = intake.Response();
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ImportSheetsCsv(
    grpc::ServerContext* context, const v1::ImportSheetsCsvRequest* request,
    v1::ImportSheetsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        *call.principal, {auth::Role::kSchoolStaff, auth::Role::kSchoolManager},
        "write screening sheets"));
    Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today,
                            Today(round.municipality));
    const csv::Encoding encoding =
        request->encoding() == v1::CSV_ENCODING_UTF8    ? csv::Encoding::kUtf8
        : request->encoding() == v1::CSV_ENCODING_CP932 ? csv::Encoding::kCp932
                                                        : csv::Encoding::kAuto;
    KOSAPO_ASSIGN_OR_RETURN(const csv::Decoded decoded,
                            csv::DecodeToUtf8(request->csv(), encoding));
    SheetCsv parsed = ParseSheetsCsv(decoded.utf8, round.tmpl);
    if (parsed.sheets.empty() && !parsed.rejected.empty() &&
        parsed.rejected.front().line() == 1) {
      const std::string& message = parsed.rejected.front().message();
      return absl::InvalidArgumentError(  // the header is unusable
          message.rfind("line ", 0) == 0 ? message
                                         : absl::StrCat("line 1: ", message));
    }
    SheetIntake intake(sheets_, round, call, std::move(who), today);
    for (v1::SheetRowResult& rejected : parsed.rejected) {
      intake.Reject(std::move(rejected));
    }
    for (NumberedSheet& numbered : parsed.sheets) {
      KOSAPO_RETURN_IF_ERROR(
          intake.Add(numbered.line, std::move(numbered.sheet)));
    }
    KOSAPO_RETURN_IF_ERROR(intake.Finish());
    *response = intake.Response();
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::GetSheet(grpc::ServerContext* context,
                                            const v1::GetSheetRequest* request,
                                            v1::Sheet* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const SheetKey key,
                            ParseSheetName(request->name()));
    KOSAPO_RETURN_IF_ERROR(RequireSchoolStaff(call, key.school_code));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, key.round_parent));
    KOSAPO_ASSIGN_OR_RETURN(
        *response, sheets_.Get(round, key.school_code, key.pupil_id, who));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListSheets(
    grpc::ServerContext* context, const v1::ListSheetsRequest* request,
    v1::ListSheetsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireSchoolStaff(call, request->school_code()));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(const int limit,
                            server::PageSize(request->page_size(), 200, 1000));
    KOSAPO_ASSIGN_OR_RETURN(SheetPage page,
                            sheets_.List(round, request->school_code(),
                                         request->page_token(), limit, who));
    for (v1::Sheet& sheet : page.sheets) {
      *response->add_sheets() = std::move(sheet);
    }
    if (page.more) {
      // The last pupil id of the page: the school's own identifier, shown
      // only to that school.
      response->set_next_page_token(
          response->sheets(response->sheets_size() - 1).pupil_id());
    }
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::GetRoundProgress(
    grpc::ServerContext* context, const v1::GetRoundProgressRequest* request,
    v1::RoundProgress* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->name()));
    KOSAPO_ASSIGN_OR_RETURN(*response, sheets_.Progress(round));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListCandidates(
    grpc::ServerContext* context, const v1::ListCandidatesRequest* request,
    v1::ListCandidatesResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireSchoolStaff(call, request->school_code()));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(
        const std::vector<v1::Sheet> sheets,
        sheets_.Candidates(round, request->school_code(), who));
    std::vector<Candidate> order;
    std::map<std::string, const v1::Sheet*> by_pupil;
    for (const v1::Sheet& sheet : sheets) {
      order.push_back(Candidate{sheet.pupil_id(), ScoreOf(sheet.score())});
      by_pupil[sheet.pupil_id()] = &sheet;
    }
    SortCandidates(order);
    for (const Candidate& candidate : order) {
      const v1::Sheet& sheet = *by_pupil[candidate.pupil_key];
      v1::Candidate* out = response->add_candidates();
      out->set_sheet(sheet.name());
      out->set_pupil_id(sheet.pupil_id());
      out->set_grade(sheet.grade());
      *out->mutable_score() = sheet.score();
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::screening
