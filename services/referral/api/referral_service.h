// The gRPC adapter of the referral service: checks the caller and the
// input, asks the case service what the caller may do with a case, calls
// the domain rules and the stores, maps results to the API. No SQL here.
#ifndef KOSAPO_SERVICES_REFERRAL_API_REFERRAL_SERVICE_H_
#define KOSAPO_SERVICES_REFERRAL_API_REFERRAL_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/base/clock.h"
#include "common/server/call_context.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "services/referral/api/case_client.h"
#include "services/referral/api/enrollment_sync.h"
#include "services/referral/store/audit_store.h"
#include "services/referral/store/directory_store.h"
#include "services/referral/store/hub_store.h"
#include "services/referral/store/referral_store.h"

namespace kosapo::referral {

struct ReferralSettings {
  std::shared_ptr<const Clock> clock = Clock::Real();
  // Business dates ("not after today") and opening hours are in this zone.
  std::string time_zone = "Asia/Tokyo";
  // A sent referral's answer is due this many days after sending, unless
  // the sender names another day.
  int answer_due_days = 14;
};

class ReferralServiceImpl final : public v1::ReferralService::Service {
 public:
  ReferralServiceImpl(const server::CallRegistry& calls,
                      DirectoryStore& directory, ReferralStore& referrals,
                      HubStore& hubs, AuditStore& audit,
                      const CaseClient& cases, EnrollmentSync& enrollment,
                      ReferralSettings settings)
      : calls_(calls),
        directory_(directory),
        referrals_(referrals),
        hubs_(hubs),
        audit_(audit),
        cases_(cases),
        enrollment_(enrollment),
        settings_(std::move(settings)) {}

  // The directory: directory_handlers.cc.
  grpc::Status CreateOrganization(grpc::ServerContext* context,
                                  const v1::CreateOrganizationRequest* request,
                                  v1::Organization* response) override;
  grpc::Status GetOrganization(grpc::ServerContext* context,
                               const v1::GetOrganizationRequest* request,
                               v1::Organization* response) override;
  grpc::Status UpdateOrganization(grpc::ServerContext* context,
                                  const v1::UpdateOrganizationRequest* request,
                                  v1::Organization* response) override;
  grpc::Status ListOrganizations(
      grpc::ServerContext* context, const v1::ListOrganizationsRequest* request,
      v1::ListOrganizationsResponse* response) override;
  grpc::Status CreateLocation(grpc::ServerContext* context,
                              const v1::CreateLocationRequest* request,
                              v1::Location* response) override;
  grpc::Status GetLocation(grpc::ServerContext* context,
                           const v1::GetLocationRequest* request,
                           v1::Location* response) override;
  grpc::Status UpdateLocation(grpc::ServerContext* context,
                              const v1::UpdateLocationRequest* request,
                              v1::Location* response) override;
  grpc::Status ListLocations(grpc::ServerContext* context,
                             const v1::ListLocationsRequest* request,
                             v1::ListLocationsResponse* response) override;
  grpc::Status CreateSupport(grpc::ServerContext* context,
                             const v1::CreateSupportRequest* request,
                             v1::Support* response) override;
  grpc::Status GetSupport(grpc::ServerContext* context,
                          const v1::GetSupportRequest* request,
                          v1::Support* response) override;
  grpc::Status UpdateSupport(grpc::ServerContext* context,
                             const v1::UpdateSupportRequest* request,
                             v1::Support* response) override;
  grpc::Status SearchSupports(grpc::ServerContext* context,
                              const v1::SearchSupportsRequest* request,
                              v1::SearchSupportsResponse* response) override;

  // Referrals: referral_handlers.cc.
  grpc::Status CreateReferral(grpc::ServerContext* context,
                              const v1::CreateReferralRequest* request,
                              v1::Referral* response) override;
  grpc::Status GetReferral(grpc::ServerContext* context,
                           const v1::GetReferralRequest* request,
                           v1::Referral* response) override;
  grpc::Status ListReferrals(grpc::ServerContext* context,
                             const v1::ListReferralsRequest* request,
                             v1::ListReferralsResponse* response) override;
  grpc::Status RecordReferralConsent(
      grpc::ServerContext* context,
      const v1::RecordReferralConsentRequest* request,
      v1::Referral* response) override;
  grpc::Status ChangeReferralState(
      grpc::ServerContext* context,
      const v1::ChangeReferralStateRequest* request,
      v1::Referral* response) override;
  grpc::Status ListOverdueReferrals(
      grpc::ServerContext* context,
      const v1::ListOverdueReferralsRequest* request,
      v1::ListOverdueReferralsResponse* response) override;
  grpc::Status RevokeReferral(grpc::ServerContext* context,
                              const v1::RevokeReferralRequest* request,
                              v1::Referral* response) override;

  // Hub usage: hub_handlers.cc.
  grpc::Status CreateHubApplication(
      grpc::ServerContext* context,
      const v1::CreateHubApplicationRequest* request,
      v1::HubUsage* response) override;
  grpc::Status RecordHubAssessment(
      grpc::ServerContext* context,
      const v1::RecordHubAssessmentRequest* request,
      v1::HubUsage* response) override;
  grpc::Status DecideHubUsage(grpc::ServerContext* context,
                              const v1::DecideHubUsageRequest* request,
                              v1::HubUsage* response) override;
  grpc::Status RecordPreUseInterview(
      grpc::ServerContext* context,
      const v1::RecordPreUseInterviewRequest* request,
      v1::HubUsage* response) override;
  grpc::Status RecordHubSupportPlan(
      grpc::ServerContext* context,
      const v1::RecordHubSupportPlanRequest* request,
      v1::HubUsage* response) override;
  grpc::Status ReviewHubSupportPlan(
      grpc::ServerContext* context,
      const v1::ReviewHubSupportPlanRequest* request,
      v1::HubUsage* response) override;
  grpc::Status RecordHubVisit(grpc::ServerContext* context,
                              const v1::RecordHubVisitRequest* request,
                              v1::HubVisit* response) override;
  grpc::Status ListHubVisits(grpc::ServerContext* context,
                             const v1::ListHubVisitsRequest* request,
                             v1::ListHubVisitsResponse* response) override;
  grpc::Status EndHubUsage(grpc::ServerContext* context,
                           const v1::EndHubUsageRequest* request,
                           v1::HubUsage* response) override;
  grpc::Status GetHubUsage(grpc::ServerContext* context,
                           const v1::GetHubUsageRequest* request,
                           v1::HubUsage* response) override;
  grpc::Status ListHubUsages(grpc::ServerContext* context,
                             const v1::ListHubUsagesRequest* request,
                             v1::ListHubUsagesResponse* response) override;

  // The audit trail: audit_handlers.cc.
  grpc::Status ListReferralAudit(
      grpc::ServerContext* context, const v1::ListReferralAuditRequest* request,
      v1::ListReferralAuditResponse* response) override;

 private:
  // Today, and the local time of an instant, in the service's time zone.
  absl::StatusOr<absl::CivilDay> Today() const;
  absl::StatusOr<absl::CivilSecond> LocalTime(absl::Time time) const;

  // What the case service says the caller may do with `case_name`:
  // PERMISSION_DENIED unless they may act on it (not just see the child).
  absl::StatusOr<cases::v1::CaseAccess> ActOnCase(
      const grpc::ServerContext& context, const server::CallContext& call,
      const std::string& case_name) const;
  // ActOnCase on the case of a record found by its global id (a usage, a
  // referral): NOT_FOUND naming `record_name` first when the record is of
  // another municipality, as if it did not exist.
  absl::StatusOr<cases::v1::CaseAccess> ActOnCaseOf(
      const grpc::ServerContext& context, const server::CallContext& call,
      const std::string& municipality, const std::string& case_name,
      const std::string& record_name) const;
  // ActOnCaseOf the case of referrals/{id}.
  absl::Status ActOnReferral(const grpc::ServerContext& context,
                             const server::CallContext& call, int64_t id) const;

  const server::CallRegistry& calls_;
  DirectoryStore& directory_;
  ReferralStore& referrals_;
  HubStore& hubs_;
  AuditStore& audit_;
  const CaseClient& cases_;
  EnrollmentSync& enrollment_;
  const ReferralSettings settings_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_API_REFERRAL_SERVICE_H_
