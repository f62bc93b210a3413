// The directory of supports: city operations write it, every authenticated
// caller reads it (it holds no personal data).
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/referral/api/call_checks.h"
#include "services/referral/api/referral_service.h"
#include "services/referral/domain/directory_rules.h"
#include "services/referral/domain/fields.h"

namespace kosapo::referral {

using server::CallContext;

namespace {

std::vector<std::string> MaskOf(
    const google::protobuf::RepeatedPtrField<std::string>& paths) {
  return {paths.begin(), paths.end()};
}

}  // namespace

grpc::Status ReferralServiceImpl::CreateOrganization(
    grpc::ServerContext* context, const v1::CreateOrganizationRequest* request,
    v1::Organization* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireDirectoryWriter(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            CallerMunicipality(call, request->parent()));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateOrganization(request->organization()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        directory_.CreateOrganization(municipality, request->organization(),
                                      CallerOf(call, request->request_id())));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::GetOrganization(
    grpc::ServerContext* context, const v1::GetOrganizationRequest* request,
    v1::Organization* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kOrganizations, "name"));
    KOSAPO_ASSIGN_OR_RETURN(*response, directory_.GetOrganization(id));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::UpdateOrganization(
    grpc::ServerContext* context, const v1::UpdateOrganizationRequest* request,
    v1::Organization* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireDirectoryWriter(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->organization().name(), kOrganizations,
                          "organization.name"));
    const std::vector<std::string> mask = MaskOf(request->update_mask());
    KOSAPO_RETURN_IF_ERROR(ValidateUpdateMask(mask, OrganizationUpdatePaths()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response, directory_.UpdateOrganization(
                       id, request->organization(), mask, CallerOf(call),
                       DirectoryWriter(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ListOrganizations(
    grpc::ServerContext* context, const v1::ListOrganizationsRequest* request,
    v1::ListOrganizationsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(const std::string municipality,
                            ParseMunicipalityName(request->parent(), "parent"));
    KOSAPO_ASSIGN_OR_RETURN(const int limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(const CreatedAfter after,
                            ParseCreatedPageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(
        std::vector<v1::Organization> organizations,
        directory_.ListOrganizations(municipality, after, limit));
    if (static_cast<int>(organizations.size()) > limit) {
      organizations.pop_back();
      response->set_next_page_token(CreatedPageToken(
          organizations.back().create_time(),
          *ParseResourceName(organizations.back().name(), kOrganizations, "")));
    }
    for (v1::Organization& organization : organizations) {
      *response->add_organizations() = std::move(organization);
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::CreateLocation(
    grpc::ServerContext* context, const v1::CreateLocationRequest* request,
    v1::Location* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireDirectoryWriter(*call.principal));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateLocation(request->location()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        directory_.CreateLocation(request->location(),
                                  CallerOf(call, request->request_id()),
                                  DirectoryWriter(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::GetLocation(
    grpc::ServerContext* context, const v1::GetLocationRequest* request,
    v1::Location* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kLocations, "name"));
    KOSAPO_ASSIGN_OR_RETURN(*response, directory_.GetLocation(id));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::UpdateLocation(
    grpc::ServerContext* context, const v1::UpdateLocationRequest* request,
    v1::Location* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireDirectoryWriter(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseResourceName(request->location().name(),
                                              kLocations, "location.name"));
    const std::vector<std::string> mask = MaskOf(request->update_mask());
    KOSAPO_RETURN_IF_ERROR(ValidateUpdateMask(mask, LocationUpdatePaths()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        directory_.UpdateLocation(id, request->location(), mask, CallerOf(call),
                                  DirectoryWriter(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::ListLocations(
    grpc::ServerContext* context, const v1::ListLocationsRequest* request,
    v1::ListLocationsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t organization,
        ParseResourceName(request->parent(), kOrganizations, "parent"));
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::Location> locations,
                            directory_.ListLocations(organization));
    for (v1::Location& location : locations) {
      *response->add_locations() = std::move(location);
    }
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::CreateSupport(
    grpc::ServerContext* context, const v1::CreateSupportRequest* request,
    v1::Support* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireDirectoryWriter(*call.principal));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_RETURN_IF_ERROR(ValidateSupport(request->support()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        directory_.CreateSupport(request->support(),
                                 CallerOf(call, request->request_id()),
                                 DirectoryWriter(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::GetSupport(
    grpc::ServerContext* context, const v1::GetSupportRequest* request,
    v1::Support* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    KOSAPO_ASSIGN_OR_RETURN(
        const int64_t id,
        ParseResourceName(request->name(), kSupports, "name"));
    KOSAPO_ASSIGN_OR_RETURN(*response, directory_.GetSupport(id));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::UpdateSupport(
    grpc::ServerContext* context, const v1::UpdateSupportRequest* request,
    v1::Support* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireDirectoryWriter(*call.principal));
    KOSAPO_ASSIGN_OR_RETURN(const int64_t id,
                            ParseResourceName(request->support().name(),
                                              kSupports, "support.name"));
    const std::vector<std::string> mask = MaskOf(request->update_mask());
    KOSAPO_RETURN_IF_ERROR(ValidateUpdateMask(mask, SupportUpdatePaths()));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        directory_.UpdateSupport(id, request->support(), mask, CallerOf(call),
                                 DirectoryWriter(*call.principal)));
    return absl::OkStatus();
  });
}

grpc::Status ReferralServiceImpl::SearchSupports(
    grpc::ServerContext* context, const v1::SearchSupportsRequest* request,
    v1::SearchSupportsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext&) {
    SupportFilter filter;
    KOSAPO_ASSIGN_OR_RETURN(filter.municipality,
                            ParseMunicipalityName(request->parent(), "parent"));
    if (!request->area_code().empty()) {
      KOSAPO_RETURN_IF_ERROR(
          ValidateCode(request->area_code(), 20, "area_code"));
      filter.area_code = request->area_code();
    }
    if (!v1::SupportCategory_IsValid(request->category())) {
      return Invalid("category", "unknown value");
    }
    filter.category = request->category();
    if (!request->hub_code().empty()) {
      KOSAPO_RETURN_IF_ERROR(ValidateCode(request->hub_code(), 40, "hub_code"));
      filter.hub_code = request->hub_code();
    }
    if (request->has_open_at()) {
      if (request->open_at().nanos() < 0 ||
          request->open_at().nanos() > 999999999) {
        return Invalid("open_at", "not a valid timestamp");
      }
      KOSAPO_ASSIGN_OR_RETURN(
          filter.open_at,
          LocalTime(absl::FromUnixSeconds(request->open_at().seconds())));
    }
    KOSAPO_ASSIGN_OR_RETURN(filter.limit,
                            PageSize(request->page_size(), 100, 500));
    KOSAPO_ASSIGN_OR_RETURN(filter.after,
                            ParseCreatedPageToken(request->page_token()));
    KOSAPO_ASSIGN_OR_RETURN(std::vector<v1::Support> supports,
                            directory_.SearchSupports(filter));
    if (static_cast<int>(supports.size()) > filter.limit) {
      supports.pop_back();
      response->set_next_page_token(CreatedPageToken(
          supports.back().create_time(),
          *ParseResourceName(supports.back().name(), kSupports, "")));
    }
    for (v1::Support& support : supports) {
      *response->add_supports() = std::move(support);
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::referral
