// Calls to the case service, with deadlines and the mapping of its errors.
#include "services/referral/api/case_client.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "common/server/grpc_status.h"

namespace kosapo::referral {
namespace {

// The case service's answer as this service passes it on: its refusals as
// they are, and an unreachable or slow case service as UNAVAILABLE saying
// so (the caller may retry).
absl::Status FromCaseService(const grpc::Status& status,
                             absl::string_view doing) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrCat("the case service is unreachable (",
                     server::GrpcCodeName(status.error_code()), ") while ",
                     doing, "; try again"));
  }
  return server::FromGrpcStatus(status);
}

// Prepares a call to the case service on behalf of the caller of
// `incoming`: its deadline, trace and stated purpose, and the caller's own
// bearer token.
absl::Status OnBehalfOf(const grpc::ServerContextBase& incoming,
                        const server::CallContext& call, absl::Duration timeout,
                        grpc::ClientContext& context) {
  const auto& metadata = incoming.client_metadata();
  const auto authorization = metadata.find("authorization");
  if (authorization == metadata.end()) {
    return absl::UnauthenticatedError("missing bearer token");
  }
  server::PrepareOutgoingCall(context, &call, timeout);
  context.AddMetadata(
      "authorization",
      std::string(authorization->second.data(), authorization->second.size()));
  return absl::OkStatus();
}

}  // namespace

CaseClient::CaseClient(std::shared_ptr<grpc::Channel> channel,
                       const server::PeerChannels& peers,
                       absl::Duration timeout)
    : stub_(cases::v1::CaseService::NewStub(std::move(channel))),
      peers_(peers),
      timeout_(timeout) {}

absl::StatusOr<cases::v1::CaseAccess> CaseClient::CheckAccess(
    const grpc::ServerContextBase& incoming, const server::CallContext& call,
    const std::string& case_name) const {
  grpc::ClientContext context;
  if (absl::Status prepared = OnBehalfOf(incoming, call, timeout_, context);
      !prepared.ok()) {
    return prepared;
  }
  cases::v1::CheckCaseAccessRequest request;
  request.set_name(case_name);
  cases::v1::CaseAccess access;
  const grpc::Status status =
      stub_->CheckCaseAccess(&context, request, &access);
  if (!status.ok()) {
    return FromCaseService(status,
                           absl::StrCat("checking your access to ", case_name));
  }
  return access;
}

absl::StatusOr<cases::v1::Case> CaseClient::CreateCase(
    const grpc::ServerContextBase& incoming, const server::CallContext& call,
    const std::string& parent, const cases::v1::Case& new_case,
    const std::string& duplicate_override,
    const std::string& request_id) const {
  grpc::ClientContext context;
  if (absl::Status prepared = OnBehalfOf(incoming, call, timeout_, context);
      !prepared.ok()) {
    return prepared;
  }
  cases::v1::CreateCaseRequest request;
  request.set_parent(parent);
  *request.mutable_case_() = new_case;
  request.set_duplicate_override(duplicate_override);
  request.set_request_id(request_id);
  cases::v1::Case created;
  const grpc::Status status = stub_->CreateCase(&context, request, &created);
  if (!status.ok()) {
    return FromCaseService(status, "opening the child's case");
  }
  return created;
}

absl::Status CaseClient::SetHubEnrollment(
    const std::string& case_name, const std::string& hub_code, bool enrolled,
    const server::CallContext* call) const {
  grpc::ClientContext context;
  if (absl::Status prepared = peers_.Prepare(context, call, timeout_);
      !prepared.ok()) {
    return prepared;
  }
  cases::v1::SetHubEnrollmentRequest request;
  request.set_name(case_name);
  request.set_hub_code(hub_code);
  request.set_enrolled(enrolled);
  cases::v1::Case answer;
  return FromCaseService(stub_->SetHubEnrollment(&context, request, &answer),
                         absl::StrCat("recording the enrollment of ", case_name,
                                      " at hub ", hub_code));
}

}  // namespace kosapo::referral
