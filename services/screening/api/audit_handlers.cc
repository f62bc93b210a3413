// ScreeningServiceImpl: the audit trail of pupils' personal data.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "common/server/paging.h"
#include "common/types/api_types.h"
#include "services/screening/api/call_checks.h"
#include "services/screening/api/screening_service.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

using server::CallContext;

constexpr char kParentForms[] =
    "parent: expected municipalities/{m}/rounds/{r}/schools/{s}/sheets/{p}"
    " or municipalities/{m}/schools/{s}/pupils/{p}";

// A sheet's name (one round) or a pupil's (every round).
absl::StatusOr<TrailQuery> ParseTrailParent(absl::string_view parent) {
  const std::vector<absl::string_view> parts = absl::StrSplit(parent, '/');
  TrailQuery query;
  absl::string_view school;
  absl::string_view pupil;
  if (parts.size() == 8 && parts[4] == "schools" && parts[6] == "sheets") {
    KOSAPO_ASSIGN_OR_RETURN(
        const auto round,
        ParseRoundName(
            absl::StrCat(parts[0], "/", parts[1], "/", parts[2], "/", parts[3]),
            "parent"));
    query.scope = AuditScope{round.first, round.second};
    school = parts[5];
    pupil = parts[7];
  } else if (parts.size() == 6 && parts[2] == "schools" &&
             parts[4] == "pupils") {
    KOSAPO_ASSIGN_OR_RETURN(
        std::string municipality,
        ParseMunicipalityName(absl::StrCat(parts[0], "/", parts[1]), "parent"));
    query.scope = AuditScope{std::move(municipality), std::nullopt};
    school = parts[3];
    pupil = parts[5];
  } else {
    return absl::InvalidArgumentError(kParentForms);
  }
  if (school.empty() || pupil.empty()) {
    return absl::InvalidArgumentError(kParentForms);
  }
  query.pupil = PupilKey{std::string(school), std::string(pupil)};
  return query;
}

// City operations see the municipality's trails; a school manager those of
// the school's pupils.
absl::Status RequireAuditReader(const auth::Principal& principal,
                                const TrailQuery& query) {
  KOSAPO_RETURN_IF_ERROR(auth::RequireRole(
      principal, {auth::Role::kSchoolManager, auth::Role::kCityOperations},
      "read the screening audit trail"));
  KOSAPO_RETURN_IF_ERROR(
      auth::RequireMunicipality(principal, query.scope.municipality));
  if (principal.role == auth::Role::kCityOperations) {
    return absl::OkStatus();
  }
  for (const std::string& school : principal.schools) {
    if (school == query.pupil.school_code) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "school ", query.pupil.school_code, " is not the caller's school"));
}

}  // namespace

grpc::Status ScreeningServiceImpl::ListAuditRecords(
    grpc::ServerContext* context, const v1::ListAuditRecordsRequest* request,
    v1::ListAuditRecordsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(TrailQuery query,
                            ParseTrailParent(request->parent()));
    KOSAPO_RETURN_IF_ERROR(RequireAuditReader(*call.principal, query));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(query.limit,
                            server::PageSize(request->page_size(), 100, 1000));
    KOSAPO_ASSIGN_OR_RETURN(const auto token,
                            server::ParseTimePageToken(request->page_token()));
    query.before_us = token.first;
    query.before_id = token.second;
    // One more than the page: whether another page follows.
    ++query.limit;
    KOSAPO_ASSIGN_OR_RETURN(std::vector<TrailEntry> page,
                            audit_.Trail(query, who));
    if (static_cast<int>(page.size()) == query.limit) {
      page.pop_back();
      response->set_next_page_token(
          server::TimePageToken(page.back().second.time(), page.back().first));
    }
    for (TrailEntry& entry : page) {
      *response->add_records() = std::move(entry.second);
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::screening
