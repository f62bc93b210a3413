// The gRPC adapter of the reporting service: checks the caller, reads the
// projections, assembles the reports. Aggregates only.
#ifndef KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_
#define KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_

#include "absl/time/time.h"
#include "common/server/call_context.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/reporting/store/projection_store.h"

namespace kosapo::reporting {

class ReportingServiceImpl final : public v1::ReportingService::Service {
 public:
  // `time_zone` is the municipality's: it decides the month an urgent
  // report's instant falls in.
  ReportingServiceImpl(const server::CallRegistry& calls,
                       ProjectionStore& projections, absl::TimeZone time_zone)
      : calls_(calls), projections_(projections), time_zone_(time_zone) {}

  grpc::Status GetWardComparison(grpc::ServerContext* context,
                                 const v1::GetWardComparisonRequest* request,
                                 v1::WardComparison* response) override;

  // api/hub_handlers.cc
  grpc::Status GetHubMonthlyReport(
      grpc::ServerContext* context,
      const v1::GetHubMonthlyReportRequest* request,
      v1::HubMonthlyReport* response) override;

  // api/trend_handlers.cc
  grpc::Status GetWardTrends(grpc::ServerContext* context,
                             const v1::GetWardTrendsRequest* request,
                             v1::WardTrends* response) override;

 private:
  const server::CallRegistry& calls_;
  ProjectionStore& projections_;
  absl::TimeZone time_zone_;
};

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_
