// The gRPC adapter of the reporting service: checks the caller, reads the
// projections, assembles the reports. Aggregates only.
#ifndef KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_
#define KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_

#include "common/server/call_context.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/reporting/store/projection_store.h"

namespace kosapo::reporting {

class ReportingServiceImpl final : public v1::ReportingService::Service {
 public:
  ReportingServiceImpl(const server::CallRegistry& calls,
                       ProjectionStore& projections)
      : calls_(calls), projections_(projections) {}

  grpc::Status GetWardComparison(grpc::ServerContext* context,
                                 const v1::GetWardComparisonRequest* request,
                                 v1::WardComparison* response) override;
  grpc::Status GetProjectionStatus(
      grpc::ServerContext* context,
      const v1::GetProjectionStatusRequest* request,
      v1::ProjectionStatus* response) override;

 private:
  const server::CallRegistry& calls_;
  ProjectionStore& projections_;
};

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_
