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
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "services/referral/store/directory_store.h"

namespace kosapo::referral {

struct ReferralSettings {
  std::shared_ptr<const Clock> clock = Clock::Real();
  // Business dates ("not after today") and opening hours are in this zone.
  std::string time_zone = "Asia/Tokyo";
};

class ReferralServiceImpl final : public v1::ReferralService::Service {
 public:
  ReferralServiceImpl(const server::CallRegistry& calls,
                      DirectoryStore& directory, ReferralSettings settings)
      : calls_(calls), directory_(directory), settings_(std::move(settings)) {}

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

 private:
  // Today, and the local time of an instant, in the service's time zone.
  absl::StatusOr<absl::CivilDay> Today() const;
  absl::StatusOr<absl::CivilSecond> LocalTime(absl::Time time) const;

  const server::CallRegistry& calls_;
  DirectoryStore& directory_;
  const ReferralSettings settings_;
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_API_REFERRAL_SERVICE_H_
