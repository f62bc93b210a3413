// ScreeningServiceImpl: screening meeting I, its decisions and extractions.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"
#include "services/screening/api/call_checks.h"
#include "services/screening/api/screening_service.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {
namespace {

using server::CallContext;

struct MeetingKey {
  std::string round_parent;
  std::string school_code;
  int64_t id = 0;
};

// "municipalities/{m}/rounds/{r}/schools/{s}/meetings/{id}".
absl::StatusOr<MeetingKey> ParseMeetingName(absl::string_view name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  MeetingKey key;
  if (parts.size() != 8 || parts[4] != "schools" || parts[6] != "meetings" ||
      parts[5].empty() || !absl::SimpleAtoi(parts[7], &key.id)) {
    return absl::InvalidArgumentError(
        "meeting: expected "
        "municipalities/{m}/rounds/{r}/schools/{s}/meetings/{id}");
  }
  key.round_parent =
      absl::StrCat(parts[0], "/", parts[1], "/", parts[2], "/", parts[3]);
  key.school_code = std::string(parts[5]);
  return key;
}

}  // namespace

grpc::Status ScreeningServiceImpl::RecordMeeting(
    grpc::ServerContext* context, const v1::RecordMeetingRequest* request,
    v1::Meeting* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(
        RequireSchoolStaff(call, request->meeting().school_code()));
    KOSAPO_RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    if (round.schools.count(request->meeting().school_code()) == 0) {
      return absl::FailedPreconditionError(
          "meeting.school_code: not a registered school");
    }
    KOSAPO_ASSIGN_OR_RETURN(const absl::CivilDay today,
                            Today(round.municipality));
    KOSAPO_RETURN_IF_ERROR(
        ValidateMeeting(request->meeting(), round.fiscal_year, today));
    KOSAPO_ASSIGN_OR_RETURN(
        *response,
        meetings_.RecordMeeting(round, request->meeting(),
                                request->request_id(), ActorOf(call)));
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::RecordDecision(
    grpc::ServerContext* context, const v1::RecordDecisionRequest* request,
    v1::RecordDecisionResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(const MeetingKey key,
                            ParseMeetingName(request->meeting()));
    KOSAPO_RETURN_IF_ERROR(RequireSchoolStaff(call, key.school_code));
    KOSAPO_RETURN_IF_ERROR(
        ValidateDecision(request->outcome(), request->reason()));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, key.round_parent));
    KOSAPO_ASSIGN_OR_RETURN(
        const MeetingRef meeting,
        meetings_.GetMeeting(round, key.school_code, key.id));
    KOSAPO_ASSIGN_OR_RETURN(
        const DecisionResult result,
        meetings_.RecordDecision(round, meeting, request->pupil_id(),
                                 request->outcome(), request->reason(), who));
    *response->mutable_decision() = result.decision;
    response->set_outcome(result.changed ? v1::ROW_OUTCOME_ACCEPTED
                                         : v1::ROW_OUTCOME_UNCHANGED);
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListDecisions(
    grpc::ServerContext* context, const v1::ListDecisionsRequest* request,
    v1::ListDecisionsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireSchoolStaff(call, request->school_code()));
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(
        std::vector<v1::Decision> decisions,
        meetings_.ListDecisions(round, request->school_code(), who));
    for (v1::Decision& decision : decisions) {
      *response->add_decisions() = std::move(decision);
    }
    return absl::OkStatus();
  });
}

grpc::Status ScreeningServiceImpl::ListExtractions(
    grpc::ServerContext* context, const v1::ListExtractionsRequest* request,
    v1::ListExtractionsResponse* response) {
  return server::Serve(calls_, context, [&](const CallContext& call) {
    const auth::Principal& principal = *call.principal;
    KOSAPO_RETURN_IF_ERROR(
        auth::RequireRole(principal,
                          {auth::Role::kSsw, auth::Role::kSupportPromoter,
                           auth::Role::kWardOfficer},
                          "see extracted pupils"));
    bool in_scope = false;
    for (const std::string& area : principal.areas) {
      in_scope = in_scope || area == request->area_code();
    }
    if (!in_scope) {
      return absl::PermissionDeniedError(absl::StrCat(
          "area ", request->area_code(), " is not the caller's area"));
    }
    const Accessor who = AccessorOf(call);
    KOSAPO_ASSIGN_OR_RETURN(const RoundContext round,
                            RoundFor(call, request->parent()));
    KOSAPO_ASSIGN_OR_RETURN(
        std::vector<v1::Extraction> extractions,
        meetings_.ListExtractions(round, request->area_code(), who));
    for (v1::Extraction& extraction : extractions) {
      *response->add_extractions() = std::move(extraction);
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::screening
