// The gRPC adapter of the reporting service: checks the caller, reads the
// projections, assembles the reports. Aggregates only.
#ifndef KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_
#define KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/server/call_context.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "services/reporting/domain/ward_table.h"
#include "services/reporting/store/projection_store.h"

namespace kosapo::reporting {

class ReportingServiceImpl final : public v1::ReportingService::Service {
 public:
  // `time_zone` is the municipality's: it decides the month an urgent
  // report's instant falls in. `flag_rules` say which way is worse per rate
  // column, for the flags of the comparison, the trends and the exports.
  // Analysts' reports suppress counts below `analyst_suppress_below` at
  // least (0: only what they ask for).
  ReportingServiceImpl(const server::CallRegistry& calls,
                       ProjectionStore& projections, absl::TimeZone time_zone,
                       FlagRules flag_rules, int analyst_suppress_below)
      : calls_(calls),
        projections_(projections),
        time_zone_(time_zone),
        flag_rules_(flag_rules),
        analyst_suppress_below_(analyst_suppress_below) {}

  grpc::Status GetWardComparison(grpc::ServerContext* context,
                                 const v1::GetWardComparisonRequest* request,
                                 v1::WardComparison* response) override;
  grpc::Status GetProjectionStatus(
      grpc::ServerContext* context,
      const v1::GetProjectionStatusRequest* request,
      v1::ProjectionStatus* response) override;

  // Streams the export in chunks of kExportChunkBytes, each sent as soon as
  // it is full; the whole file is never held.
  grpc::Status ExportWardComparison(
      grpc::ServerContext* context,
      const v1::ExportWardComparisonRequest* request,
      grpc::ServerWriter<v1::ExportChunk>* writer) override;

  static constexpr size_t kExportChunkBytes = 64 * 1024;

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
  // What a ward comparison request asks for, checked.
  struct ComparisonQuery {
    std::string municipality;
    int fiscal_year = 0;
    absl::CivilDay as_of;
    int suppress_below = 0;
  };
  // The caller may read the municipality's comparison, and the fields are
  // valid: INVALID_ARGUMENT names the field.
  absl::StatusOr<ComparisonQuery> CheckQuery(const server::CallContext& call,
                                             const std::string& parent,
                                             int fiscal_year,
                                             const kosapo::type::Date* as_of,
                                             int suppress_below) const;
  absl::StatusOr<v1::WardComparison> ReadComparison(
      const ComparisonQuery& query);

  const server::CallRegistry& calls_;
  ProjectionStore& projections_;
  absl::TimeZone time_zone_;
  FlagRules flag_rules_;
  int analyst_suppress_below_;
};

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_API_REPORTING_SERVICE_H_
