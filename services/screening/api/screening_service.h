// The gRPC adapter of the screening service: checks the caller and the input,
// calls the domain rules and the stores, maps results to the API. No SQL here.
#ifndef KOSAPO_SERVICES_SCREENING_API_SCREENING_SERVICE_H_
#define KOSAPO_SERVICES_SCREENING_API_SCREENING_SERVICE_H_

#include <memory>

#include "common/base/clock.h"
#include "common/server/call_context.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "services/screening/store/audit_store.h"
#include "services/screening/store/meeting_store.h"
#include "services/screening/store/registry_store.h"
#include "services/screening/store/sheet_store.h"
#include "services/screening/store/template_store.h"

namespace kosapo::screening {

class ScreeningServiceImpl final : public v1::ScreeningService::Service {
 public:
  ScreeningServiceImpl(const server::CallRegistry& calls,
                       RegistryStore& registry, TemplateStore& templates,
                       RoundStore& rounds, SheetStore& sheets,
                       MeetingStore& meetings, AuditStore& audit,
                       std::shared_ptr<const Clock> clock = Clock::Real());

  // Registry and enrollment: screening_service.cc.

  grpc::Status UpsertMunicipality(grpc::ServerContext* context,
                                  const v1::UpsertMunicipalityRequest* request,
                                  v1::Municipality* response) override;
  grpc::Status GetMunicipality(grpc::ServerContext* context,
                               const v1::GetMunicipalityRequest* request,
                               v1::Municipality* response) override;
  grpc::Status UpsertArea(grpc::ServerContext* context,
                          const v1::UpsertAreaRequest* request,
                          v1::Area* response) override;
  grpc::Status ListAreas(grpc::ServerContext* context,
                         const v1::ListAreasRequest* request,
                         v1::ListAreasResponse* response) override;
  grpc::Status UpsertSchool(grpc::ServerContext* context,
                            const v1::UpsertSchoolRequest* request,
                            v1::School* response) override;
  grpc::Status ListSchools(grpc::ServerContext* context,
                           const v1::ListSchoolsRequest* request,
                           v1::ListSchoolsResponse* response) override;
  grpc::Status ImportEnrollment(
      grpc::ServerContext* context, const v1::ImportEnrollmentRequest* request,
      v1::ImportEnrollmentResponse* response) override;
  grpc::Status GetEnrollment(grpc::ServerContext* context,
                             const v1::GetEnrollmentRequest* request,
                             v1::Enrollment* response) override;

  // Templates and rounds: template_round_handlers.cc.
  grpc::Status CreateTemplateVersion(
      grpc::ServerContext* context,
      const v1::CreateTemplateVersionRequest* request,
      v1::Template* response) override;
  grpc::Status GetTemplate(grpc::ServerContext* context,
                           const v1::GetTemplateRequest* request,
                           v1::Template* response) override;
  grpc::Status ListTemplates(grpc::ServerContext* context,
                             const v1::ListTemplatesRequest* request,
                             v1::ListTemplatesResponse* response) override;
  grpc::Status CreateRound(grpc::ServerContext* context,
                           const v1::CreateRoundRequest* request,
                           v1::Round* response) override;
  grpc::Status GetRound(grpc::ServerContext* context,
                        const v1::GetRoundRequest* request,
                        v1::Round* response) override;
  grpc::Status ListRounds(grpc::ServerContext* context,
                          const v1::ListRoundsRequest* request,
                          v1::ListRoundsResponse* response) override;
  grpc::Status CloseRound(grpc::ServerContext* context,
                          const v1::CloseRoundRequest* request,
                          v1::Round* response) override;
  grpc::Status GetRoundProgress(grpc::ServerContext* context,
                                const v1::GetRoundProgressRequest* request,
                                v1::RoundProgress* response) override;

  // Sheets: sheet_handlers.cc.
  grpc::Status UpsertSheet(grpc::ServerContext* context,
                           const v1::UpsertSheetRequest* request,
                           v1::UpsertSheetResponse* response) override;
  // Registered in place of the generated handler (see the constructor):
  // reads the stream's messages as bytes and parses each itself.
  grpc::Status ImportSheetsRaw(grpc::ServerContext* context,
                               grpc::ServerReader<grpc::ByteBuffer>* reader,
                               v1::ImportSheetsResponse* response);
  grpc::Status ImportSheetsCsv(grpc::ServerContext* context,
                               const v1::ImportSheetsCsvRequest* request,
                               v1::ImportSheetsResponse* response) override;
  grpc::Status GetSheet(grpc::ServerContext* context,
                        const v1::GetSheetRequest* request,
                        v1::Sheet* response) override;
  grpc::Status ListSheets(grpc::ServerContext* context,
                          const v1::ListSheetsRequest* request,
                          v1::ListSheetsResponse* response) override;
  grpc::Status ListCandidates(grpc::ServerContext* context,
                              const v1::ListCandidatesRequest* request,
                              v1::ListCandidatesResponse* response) override;

  // Meeting I: meeting_handlers.cc.
  grpc::Status RecordMeeting(grpc::ServerContext* context,
                             const v1::RecordMeetingRequest* request,
                             v1::Meeting* response) override;
  grpc::Status RecordDecision(grpc::ServerContext* context,
                              const v1::RecordDecisionRequest* request,
                              v1::RecordDecisionResponse* response) override;
  grpc::Status ListDecisions(grpc::ServerContext* context,
                             const v1::ListDecisionsRequest* request,
                             v1::ListDecisionsResponse* response) override;
  grpc::Status ListExtractions(grpc::ServerContext* context,
                               const v1::ListExtractionsRequest* request,
                               v1::ListExtractionsResponse* response) override;

  // The audit trail: audit_handlers.cc.
  grpc::Status ListAuditRecords(
      grpc::ServerContext* context, const v1::ListAuditRecordsRequest* request,
      v1::ListAuditRecordsResponse* response) override;

 private:
  // The round named by `parent`, for a caller of its municipality.
  absl::StatusOr<RoundContext> RoundFor(const server::CallContext& call,
                                        absl::string_view parent);
  // Today in the municipality's time zone: rounds open and close by it.
  absl::StatusOr<absl::CivilDay> Today(absl::string_view municipality);

  const server::CallRegistry& calls_;
  RegistryStore& registry_;
  TemplateStore& templates_;
  RoundStore& rounds_;
  SheetStore& sheets_;
  MeetingStore& meetings_;
  AuditStore& audit_;
  const std::shared_ptr<const Clock> clock_;
};

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_API_SCREENING_SERVICE_H_
