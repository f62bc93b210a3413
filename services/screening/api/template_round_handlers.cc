// ScreeningServiceImpl: templates and rounds.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "services/screening/api/call_checks.h"
#include "services/screening/api/screening_service.h"
#include "services/screening/api/template_mapping.h"
#include "services/screening/domain/registry_rules.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

using server::CallContext;

v1::Template StoredToProto(const StoredTemplate& stored) {
  v1::Template proto = TemplateToProto(stored.model);
  SetTimestampMicros(absl::ToUnixMicros(stored.create_time),
                     proto.mutable_create_time());
  if (!stored.municipality.empty()) {
    proto.set_municipality(
        absl::StrCat("municipalities/", stored.municipality));
  }
  return proto;
}

}  // namespace

grpc::Status ScreeningServiceImpl::CreateTemplateVersion(
    grpc::ServerContext* context,
    const v1::CreateTemplateVersionRequest* request, v1::Template* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
        *call.principal, {auth::Role::kCityOperations}, "create templates"));
    // The template is published for the caller's municipality: the store
    // refuses a key that is another municipality's or shared.
    const std::string& municipality = call.principal->municipality;
    if (municipality.empty()) {
      return absl::PermissionDeniedError(
          "the caller acts for no municipality, and a template belongs to "
          "one");
    }
    KOSAPO_ASSIGN_OR_RETURN(Template model,
                            TemplateFromProto(request->template_()));
    model.version = 1;  // assigned by the store; valid for the rules
    if (absl::Status valid = ValidateTemplate(model); !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template.", valid.message()));
    }
    KOSAPO_ASSIGN_OR_RETURN(
        const StoredTemplate stored,
        templates_.CreateVersion(model, municipality, ActorOf(call)));
    *response = StoredToProto(stored);
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::GetTemplate(
    grpc::ServerContext* context, const v1::GetTemplateRequest* request,
    v1::Template* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(const auto name,
                            ParseTemplateName(request->name(), "name"));
    KOSAPO_ASSIGN_OR_RETURN(const StoredTemplate stored,
                            templates_.Get(name.first, name.second));
    *response = StoredToProto(stored);
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListTemplates(
    grpc::ServerContext* context, const v1::ListTemplatesRequest* request,
    v1::ListTemplatesResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(const std::vector<StoredTemplate> templates,
                            templates_.ListLatest());
    for (const StoredTemplate& stored : templates) {
      *response->add_templates() = StoredToProto(stored);
    }
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::CreateRound(
    grpc::ServerContext* context, const v1::CreateRoundRequest* request,
    v1::Round* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            ParseMunicipalityName(request->parent(), "parent"));
    KOSAPO_RETURN_IF_ERROR(RequireOperations(call, code, "open rounds"));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    // Only a past-record round depends on today.
    absl::CivilDay today;
    if (request->round().kind() == v1::ROUND_KIND_PAST_RECORD) {
      KOSAPO_ASSIGN_OR_RETURN(today, Today(code));
    }
    KOSAPO_RETURN_IF_ERROR(ValidateNewRound(request->round(), today));
    KOSAPO_ASSIGN_OR_RETURN(
        *response, rounds_.Create(code, request->round(), request->request_id(),
                                  ActorOf(call)));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::GetRound(grpc::ServerContext* context,
                                            const v1::GetRoundRequest* request,
                                            v1::Round* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const auto name,
                            ParseRoundName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(
        auth::RequireMunicipality(*call.principal, name.first));
    KOSAPO_ASSIGN_OR_RETURN(*response, rounds_.Get(name.first, name.second));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListRounds(
    grpc::ServerContext* context, const v1::ListRoundsRequest* request,
    v1::ListRoundsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string code,
                            CallerMunicipality(call, request->parent()));
    if (request->fiscal_year() != 0) {
      KOSAPO_RETURN_IF_ERROR(
          ValidateFiscalYear(request->fiscal_year(), "fiscal_year"));
    }
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::Round> rounds,
                            rounds_.List(code, request->fiscal_year()));
    for (v1::Round& round : rounds) {
      *response->add_rounds() = std::move(round);
    }
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::CloseRound(
    grpc::ServerContext* context, const v1::CloseRoundRequest* request,
    v1::Round* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const auto name,
                            ParseRoundName(request->name(), "name"));
    KOSAPO_RETURN_IF_ERROR(RequireOperations(call, name.first, "close rounds"));
    KOSAPO_ASSIGN_OR_RETURN(*response, rounds_.Close(name.first, name.second));
    return absl::OkStatus();
  });
}

}  // namespace kosapo::screening
