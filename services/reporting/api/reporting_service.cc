#include "services/reporting/api/reporting_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/authorize.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/reporting/api/access.h"
#include "services/reporting/api/comparison.h"
#include "services/reporting/export/sink.h"
#include "services/reporting/export/ward_export.h"

namespace kosapo::reporting {

absl::StatusOr<ReportingServiceImpl::ComparisonQuery>
ReportingServiceImpl::CheckQuery(const server::CallContext& call,
                                 const std::string& parent, int fiscal_year,
                                 const kosapo::type::Date* as_of,
                                 int suppress_below) const {
  const auth::Principal& principal = *call.principal;
  ComparisonQuery query;
  KOSAPO_ASSIGN_OR_RETURN(query.municipality,
                          ParseMunicipalityName(parent, "parent"));
  KOSAPO_RETURN_IF_ERROR(
      auth::RequireMunicipality(principal, query.municipality));
  KOSAPO_RETURN_IF_ERROR(
      RequireAggregateReader(principal, "read the ward comparison"));
  if (fiscal_year < 2000 || fiscal_year > 9998) {
    return absl::InvalidArgumentError(
        "fiscal_year: required, e.g. 2023 for April 2023 to March 2024");
  }
  query.fiscal_year = fiscal_year;
  KOSAPO_ASSIGN_OR_RETURN(
      query.suppress_below,
      SuppressionThreshold(principal, suppress_below, analyst_suppress_below_,
                           "suppress_below"));
  query.as_of = absl::CivilDay(fiscal_year + 1, 3, 31);
  if (as_of != nullptr) {
    KOSAPO_ASSIGN_OR_RETURN(query.as_of, DateFromProto(*as_of, "as_of"));
    if (query.as_of < absl::CivilDay(fiscal_year, 4, 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("as_of: must not be before the fiscal year begins (",
                       fiscal_year, "-04-01)"));
    }
  }
  return query;
}

absl::StatusOr<v1::WardComparison> ReportingServiceImpl::ReadComparison(
    const ComparisonQuery& query) {
  ComparisonInput input;
  input.municipality = query.municipality;
  input.fiscal_year = query.fiscal_year;
  input.as_of = query.as_of;
  input.suppress_below = query.suppress_below;
  input.rules = flag_rules_;
  KOSAPO_ASSIGN_OR_RETURN(input.areas, projections_.Areas(query.municipality));
  KOSAPO_ASSIGN_OR_RETURN(
      input.counts,
      projections_.Counts(query.municipality, query.fiscal_year, query.as_of));
  KOSAPO_ASSIGN_OR_RETURN(
      const auto earlier,
      projections_.EarlierYearTotals(query.municipality, query.fiscal_year));
  for (const auto& [earlier_year, counts] : earlier) {
    input.earlier.push_back(
        {earlier_year, absl::CivilDay(earlier_year + 1, 3, 31), counts});
  }
  return BuildComparison(input);
}

grpc::Status ReportingServiceImpl::GetWardComparison(
    grpc::ServerContext* context, const v1::GetWardComparisonRequest* request,
    v1::WardComparison* response) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(
        const ComparisonQuery query,
        CheckQuery(call, request->parent(), request->fiscal_year(),
                   request->has_as_of() ? &request->as_of() : nullptr,
                   request->suppress_below()));
    KOSAPO_ASSIGN_OR_RETURN(*response, ReadComparison(query));
    return absl::OkStatus();
  });
}

grpc::Status ReportingServiceImpl::ExportWardComparison(
    grpc::ServerContext* context,
    const v1::ExportWardComparisonRequest* request,
    grpc::ServerWriter<v1::ExportChunk>* writer) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_ASSIGN_OR_RETURN(
        const ComparisonQuery query,
        CheckQuery(call, request->parent(), request->fiscal_year(),
                   request->has_as_of() ? &request->as_of() : nullptr,
                   request->suppress_below()));
    KOSAPO_RETURN_IF_ERROR(exports::CheckFormat(request->format()));
    KOSAPO_ASSIGN_OR_RETURN(const v1::WardComparison comparison,
                            ReadComparison(query));
    KOSAPO_ASSIGN_OR_RETURN(exports::FileInfo info,
                            exports::InfoOf(comparison, request->format()));
    bool first = true;
    exports::ChunkingSink sink(
        kExportChunkBytes, [&](std::string data) -> absl::Status {
          v1::ExportChunk chunk;
          if (first) {
            chunk.set_content_type(std::move(info.content_type));
            chunk.set_file_name(std::move(info.file_name));
            first = false;
          }
          chunk.set_data(std::move(data));
          if (!writer->Write(chunk)) {
            return absl::CancelledError("export: the client went away");
          }
          return absl::OkStatus();
        });
    KOSAPO_RETURN_IF_ERROR(exports::Write(comparison, request->format(), sink));
    return sink.Close();
  });
}

grpc::Status ReportingServiceImpl::GetProjectionStatus(
    grpc::ServerContext* context, const v1::GetProjectionStatusRequest*,
    v1::ProjectionStatus* response) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(RequireAggregateReader(
        *call.principal, "read how far the projections are"));
    KOSAPO_ASSIGN_OR_RETURN(const auto positions, projections_.FeedPositions());
    // A feed's sequence counts the events of every city: only services,
    // which read the feeds anyway, learn it.
    const bool service = call.principal->role == auth::Role::kService;
    for (const events::CheckpointPosition& position : positions) {
      v1::FeedPosition* feed = response->add_feeds();
      feed->set_source(position.source);
      if (service) {
        feed->set_applied_sequence(position.last_sequence);
      }
      SetTimestampMicros(absl::ToUnixMicros(position.update_time),
                         feed->mutable_update_time());
    }
    return absl::OkStatus();
  });
}

}  // namespace kosapo::reporting
