#include "services/screening/api/screening_service.h"

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/csv/csv.h"
#include "common/server/paging.h"
#include "services/screening/api/call_checks.h"
#include "services/screening/domain/registry_rules.h"

namespace kosapo::screening {
namespace {

using server::CallContext;

constexpr int kMaxListedErrors = 20;

absl::Status RowErrorsStatus(const std::vector<v1::RowError>& errors) {
  std::string message =
      absl::StrCat(errors.size(), " problem(s), nothing stored");
  int listed = 0;
  for (const v1::RowError& error : errors) {
    if (++listed > kMaxListedErrors) {
      absl::StrAppend(&message, "; ...");
      break;
    }
    absl::StrAppend(&message, "; ");
    if (error.line() > 0) {
      absl::StrAppend(&message, "line ", error.line(), " ");
    }
    if (!error.field().empty()) {
      absl::StrAppend(&message, error.field(), ": ");
    }
    absl::StrAppend(&message, error.message());
  }
  return absl::InvalidArgumentError(message);
}

csv::Encoding ToCsvEncoding(v1::CsvEncoding encoding) {
  switch (encoding) {
    case v1::CSV_ENCODING_UTF8:
      return csv::Encoding::kUtf8;
    case v1::CSV_ENCODING_CP932:
      return csv::Encoding::kCp932;
    default:
      return csv::Encoding::kAuto;
  }
}

// The position of ImportSheets among the service's methods: the generated
// service adds them in the order of the .proto.
int ImportSheetsIndex() {
  const google::protobuf::ServiceDescriptor* service =
      v1::ImportSheetsRequest::descriptor()->file()->FindServiceByName(
          "ScreeningService");
  return service->FindMethodByName("ImportSheets")->index();
}

}  // namespace

ScreeningServiceImpl::ScreeningServiceImpl(
    const server::CallRegistry& calls, RegistryStore& registry,
    TemplateStore& templates, RoundStore& rounds, SheetStore& sheets,
    MeetingStore& meetings, AuditStore& audit,
    std::shared_ptr<const Clock> clock)
    : calls_(calls),
      registry_(registry),
      templates_(templates),
      rounds_(rounds),
      sheets_(sheets),
      meetings_(meetings),
      audit_(audit),
      clock_(std::move(clock)) {
  // The synchronous API parses each streamed message before the handler
  // sees it, and its Read answers false alike for a message that does not
  // parse and for the end of the stream (CallOpRecvMessage::FinishOp), so
  // an upload cut short by a corrupt message would be stored as if
  // complete. Reading the messages as bytes lets ImportSheetsRaw parse them
  // itself and refuse the bad one by its position. The handler stays a
  // synchronous one on the same threads, behind the same interceptors, with
  // the same deadline and cancellation; gRPC registers a replaced handler
  // as bidirectional, which the interceptor's labels do not follow (they
  // name the .proto's kind). Not chosen: an interceptor, which gets a null
  // message for both cases alike (POST_RECV_MESSAGE), and the generated raw
  // async or callback variants, which would take this one method off the
  // synchronous threads and make it a state machine.
  MarkMethodStreamed(
      ImportSheetsIndex(),
      new grpc::internal::ClientStreamingHandler<
          ScreeningServiceImpl, grpc::ByteBuffer, v1::ImportSheetsResponse>(
          [](ScreeningServiceImpl* service, grpc::ServerContext* context,
             grpc::ServerReader<grpc::ByteBuffer>* reader,
             v1::ImportSheetsResponse* response) {
            return service->ImportSheetsRaw(context, reader, response);
          },
          this));
}

grpc::Status ScreeningServiceImpl::UpsertMunicipality(
    grpc::ServerContext* context, const v1::UpsertMunicipalityRequest* request,
    v1::Municipality* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    v1::Municipality municipality = request->municipality();
    KOSAPO_RETURN_IF_ERROR(NormalizeMunicipality(municipality));
    KOSAPO_RETURN_IF_ERROR(RequireOperations(call, municipality.code(),
                                             "register municipalities"));
    KOSAPO_ASSIGN_OR_RETURN(*response,
                            registry_.UpsertMunicipality(municipality));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::GetMunicipality(
    grpc::ServerContext* context, const v1::GetMunicipalityRequest* request,
    v1::Municipality* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            CallerMunicipality(call, request->name()));
    KOSAPO_ASSIGN_OR_RETURN(*response, registry_.GetMunicipality(code));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::UpsertArea(
    grpc::ServerContext* context, const v1::UpsertAreaRequest* request,
    v1::Area* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            ParseMunicipalityName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(RequireOperations(call, code, "register areas"));
    KOSAPO_RETURN_IF_ERROR(ValidateArea(request->area()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response, registry_.UpsertArea(code, request->area(), ActorOf(call)));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListAreas(
    grpc::ServerContext* context, const v1::ListAreasRequest* request,
    v1::ListAreasResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            CallerMunicipality(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::Area> areas,
                            registry_.ListAreas(code));
    for (v1::Area& area : areas) {
      *response->add_areas() = std::move(area);
    }
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::UpsertSchool(
    grpc::ServerContext* context, const v1::UpsertSchoolRequest* request,
    v1::School* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            ParseMunicipalityName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(RequireOperations(call, code, "register schools"));
    KOSAPO_RETURN_IF_ERROR(ValidateSchool(request->school()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        registry_.UpsertSchool(code, request->school(), ActorOf(call)));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListSchools(
    grpc::ServerContext* context, const v1::ListSchoolsRequest* request,
    v1::ListSchoolsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            CallerMunicipality(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(const int limit,
                            server::PageSize(request->page_size(), 500, 1000));
    // The token is the last code of the previous page; codes are public
    // registry identifiers, so it needs no sealing.
    KOSAPO_ASSIGN_OR_RETURN(
        RegistryStore::SchoolPage page,
        registry_.ListSchools(code, request->area_code(), request->page_token(),
                              limit));
    for (v1::School& school : page.schools) {
      *response->add_schools() = std::move(school);
    }
    if (page.more) {
      response->set_next_page_token(
          response->schools(response->schools_size() - 1).code());
    }
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ImportEnrollment(
    grpc::ServerContext* context, const v1::ImportEnrollmentRequest* request,
    v1::ImportEnrollmentResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            ParseMunicipalityName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(RequireOperations(call, code, "load enrollment"));
    KOSAPO_RETURN_IF_ERROR(
        ValidateFiscalYear(request->fiscal_year(), "fiscal_year"));
    EnrollmentInput input;
    switch (request->source_case()) {
      case v1::ImportEnrollmentRequest::kCsv: {
        KOSAPO_ASSIGN_OR_RETURN(
            csv::Decoded decoded,
            csv::DecodeToUtf8(request->csv(),
                              ToCsvEncoding(request->encoding())));
        input = ParseEnrollmentCsv(decoded.utf8);
        break;
      }
      case v1::ImportEnrollmentRequest::kRows: {
        int64_t position = 0;
        for (const v1::EnrollmentRow& row : request->rows().rows()) {
          input.rows.push_back(NumberedRow{++position, row});
        }
        break;
      }
      default:
        return absl::InvalidArgumentError("csv or rows: one is required");
    }
    KOSAPO_ASSIGN_OR_RETURN(const auto schools, registry_.SchoolKinds(code));
    ValidateEnrollment(input.rows, schools, input.errors);
    if (!input.errors.empty()) {
      return RowErrorsStatus(input.errors);
    }
    if (input.rows.empty()) {
      return absl::InvalidArgumentError("no enrollment rows given");
    }
    std::vector<v1::EnrollmentRow> rows;
    rows.reserve(input.rows.size());
    for (NumberedRow& numbered : input.rows) {
      rows.push_back(std::move(numbered.row));
    }
    KOSAPO_ASSIGN_OR_RETURN(
        const EnrollmentResult result,
        registry_.ReplaceEnrollment(code, request->fiscal_year(), rows,
                                    ActorOf(call)));
    response->set_unchanged(result.unchanged);
    response->set_rows(static_cast<int32_t>(rows.size()));
    response->set_schools(result.schools);
    response->set_pupils(result.pupils);
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::GetEnrollment(
    grpc::ServerContext* context, const v1::GetEnrollmentRequest* request,
    v1::Enrollment* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            CallerMunicipality(call, request->parent()));
    KOSAPO_RETURN_IF_ERROR(
        ValidateFiscalYear(request->fiscal_year(), "fiscal_year"));
    KOSAPO_ASSIGN_OR_RETURN(
        *response, registry_.GetEnrollment(code, request->fiscal_year()));
    return absl::OkStatus();
  });
}

}  // namespace kosapo::screening
