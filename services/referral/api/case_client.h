// The case service as the referral service needs it: whether a user may
// act on a case, asked with that user's own bearer token so the case
// service alone decides; and the hub enrollments that the centre director's
// decisions make, recorded with this service's own token. Every call has a
// deadline; a case service that does not answer is UNAVAILABLE, never
// taken for a yes or a no.
#ifndef KOSAPO_SERVICES_REFERRAL_API_CASE_CLIENT_H_
#define KOSAPO_SERVICES_REFERRAL_API_CASE_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/call_context.h"
#include "common/server/peer.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"

namespace kosapo::referral {

class CaseClient {
 public:
  // `peers` adds this service's token to enrollment calls; `timeout` is the
  // deadline of every call.
  CaseClient(std::shared_ptr<grpc::Channel> channel,
             const server::PeerChannels& peers, absl::Duration timeout);

  // CaseService.CheckCaseAccess for the caller of `incoming` (served as
  // `call`), forwarding the caller's bearer token. PERMISSION_DENIED and
  // NOT_FOUND as the case service answers them; UNAVAILABLE when it cannot
  // be reached in time.
  absl::StatusOr<cases::v1::CaseAccess> CheckAccess(
      const grpc::ServerContextBase& incoming, const server::CallContext& call,
      const std::string& case_name) const;

  // CaseService.CreateCase for the caller of `incoming`, forwarding the
  // caller's bearer token: the case service decides who may open a case in
  // which area and checks for duplicates. `request_id` makes a retry return
  // the same case.
  absl::StatusOr<cases::v1::Case> CreateCase(
      const grpc::ServerContextBase& incoming, const server::CallContext& call,
      const std::string& parent, const cases::v1::Case& new_case,
      const std::string& duplicate_override,
      const std::string& request_id) const;

  // CaseService.SetHubEnrollment as this service. `call` is the call being
  // served, or null from the background retry.
  absl::Status SetHubEnrollment(const std::string& case_name,
                                const std::string& hub_code, bool enrolled,
                                const server::CallContext* call) const;

 private:
  std::unique_ptr<cases::v1::CaseService::Stub> stub_;
  const server::PeerChannels& peers_;
  const absl::Duration timeout_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_API_CASE_CLIENT_H_
