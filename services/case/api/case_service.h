// The gRPC adapter of the case service: checks the caller and the input,
// calls the domain rules and the stores, maps results to the API. No SQL
// here.
#ifndef KOSAPO_SERVICES_CASE_API_CASE_SERVICE_H_
#define KOSAPO_SERVICES_CASE_API_CASE_SERVICE_H_

#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/server/call_context.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "services/case/store/case_store.h"
#include "services/case/store/urgent_store.h"
#include "services/case/store/work_store.h"

namespace kosapo::cases {

struct CaseSettings {
  std::shared_ptr<const Clock> clock = Clock::Real();
  // Business dates ("not after today") are days of this zone.
  std::string time_zone = "Asia/Tokyo";
  // An urgent report is due for acknowledgement this long after it is
  // raised.
  absl::Duration urgent_ack_within = absl::Hours(2);
};

class CaseServiceImpl final : public v1::CaseService::Service {
 public:
  CaseServiceImpl(const server::CallRegistry& calls, CaseStore& cases,
                  WorkStore& work, UrgentStore& urgent, CaseSettings settings)
      : calls_(calls),
        cases_(cases),
        work_(work),
        urgent_(urgent),
        settings_(std::move(settings)) {}

  // Cases, approach, outcomes, hubs, audit: case_handlers.cc.
  grpc::Status CreateCase(grpc::ServerContext* context,
                          const v1::CreateCaseRequest* request,
                          v1::Case* response) override;
  grpc::Status GetCase(grpc::ServerContext* context,
                       const v1::GetCaseRequest* request,
                       v1::Case* response) override;
  grpc::Status UpdateCase(grpc::ServerContext* context,
                          const v1::UpdateCaseRequest* request,
                          v1::Case* response) override;
  grpc::Status WithdrawCase(grpc::ServerContext* context,
                            const v1::WithdrawCaseRequest* request,
                            v1::Case* response) override;
  grpc::Status SearchCases(grpc::ServerContext* context,
                           const v1::SearchCasesRequest* request,
                           v1::SearchCasesResponse* response) override;
  grpc::Status ListCases(grpc::ServerContext* context,
                         const v1::ListCasesRequest* request,
                         v1::ListCasesResponse* response) override;
  grpc::Status ChangeApproachStatus(
      grpc::ServerContext* context,
      const v1::ChangeApproachStatusRequest* request,
      v1::Case* response) override;
  grpc::Status GetApproachHistory(grpc::ServerContext* context,
                                  const v1::GetApproachHistoryRequest* request,
                                  v1::ApproachHistory* response) override;
  grpc::Status RecordOutcome(grpc::ServerContext* context,
                             const v1::RecordOutcomeRequest* request,
                             v1::Case* response) override;
  grpc::Status ReopenCase(grpc::ServerContext* context,
                          const v1::ReopenCaseRequest* request,
                          v1::Case* response) override;
  grpc::Status SetHubEnrollment(grpc::ServerContext* context,
                                const v1::SetHubEnrollmentRequest* request,
                                v1::Case* response) override;
  grpc::Status ListCaseAudit(grpc::ServerContext* context,
                             const v1::ListCaseAuditRequest* request,
                             v1::ListCaseAuditResponse* response) override;
  grpc::Status CheckCaseAccess(grpc::ServerContext* context,
                               const v1::CheckCaseAccessRequest* request,
                               v1::CaseAccess* response) override;

  // Conferences, assessments, plans, contacts: work_handlers.cc.
  grpc::Status RecordConference(grpc::ServerContext* context,
                                const v1::RecordConferenceRequest* request,
                                v1::Conference* response) override;
  grpc::Status ListConferences(grpc::ServerContext* context,
                               const v1::ListConferencesRequest* request,
                               v1::ListConferencesResponse* response) override;
  grpc::Status RecordAssessment(grpc::ServerContext* context,
                                const v1::RecordAssessmentRequest* request,
                                v1::Assessment* response) override;
  grpc::Status ListAssessments(grpc::ServerContext* context,
                               const v1::ListAssessmentsRequest* request,
                               v1::ListAssessmentsResponse* response) override;
  grpc::Status RecordSupportPlan(grpc::ServerContext* context,
                                 const v1::RecordSupportPlanRequest* request,
                                 v1::SupportPlan* response) override;
  grpc::Status ListSupportPlans(
      grpc::ServerContext* context, const v1::ListSupportPlansRequest* request,
      v1::ListSupportPlansResponse* response) override;
  grpc::Status ListOverdueReviews(
      grpc::ServerContext* context,
      const v1::ListOverdueReviewsRequest* request,
      v1::ListOverdueReviewsResponse* response) override;
  grpc::Status RecordContact(grpc::ServerContext* context,
                             const v1::RecordContactRequest* request,
                             v1::Contact* response) override;
  grpc::Status ListContacts(grpc::ServerContext* context,
                            const v1::ListContactsRequest* request,
                            v1::ListContactsResponse* response) override;

  // Urgent reports: urgent_handlers.cc.
  grpc::Status RaiseUrgentReport(grpc::ServerContext* context,
                                 const v1::RaiseUrgentReportRequest* request,
                                 v1::UrgentReport* response) override;
  grpc::Status AcknowledgeUrgentReport(
      grpc::ServerContext* context,
      const v1::AcknowledgeUrgentReportRequest* request,
      v1::UrgentReport* response) override;
  grpc::Status ListUrgentReports(
      grpc::ServerContext* context, const v1::ListUrgentReportsRequest* request,
      v1::ListUrgentReportsResponse* response) override;

 private:
  // Today in the service's time zone, by its clock.
  absl::StatusOr<absl::CivilDay> Today() const;

  const server::CallRegistry& calls_;
  CaseStore& cases_;
  WorkStore& work_;
  UrgentStore& urgent_;
  const CaseSettings settings_;
};

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_API_CASE_SERVICE_H_
