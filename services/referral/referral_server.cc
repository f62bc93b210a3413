#include "services/referral/referral_server.h"

#include <memory>

#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/referral/api/referral_service.h"
#include "services/referral/store/directory_store.h"

namespace kosapo::referral {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

server::ServiceDefinition Definition(std::shared_ptr<const Clock> clock) {
  server::ServiceDefinition service;
  service.descriptor.name = "referral";
  service.descriptor.grpc_service_name = "kosapo.referral.v1.ReferralService";
  service.descriptor.default_schema = "referral";
  service.descriptor.default_port = 50053;
  service.descriptor.default_metrics_port = 9453;
  service.descriptor.peers = {{"case", "localhost:50052"}};
  service.descriptor.add_options = [](ConfigSpec& spec) {
    spec.AddString("time_zone", "KOSAPO_TIME_ZONE", "Asia/Tokyo",
                   "Time zone of business dates (\"not after today\") and of "
                   "opening hours.");
  };
  service.migrations = {{"referral", EmbeddedMigrations()}};
  service.setup = [clock](server::ServiceRuntime& runtime) -> absl::Status {
    const Config& options = runtime.config().options;
    ReferralSettings settings;
    settings.clock = clock;
    settings.time_zone = options.GetString("time_zone");
    KOSAPO_RETURN_IF_ERROR(DayIn(clock->Now(), settings.time_zone).status());
    auto* directory =
        runtime.Keep(std::make_shared<DirectoryStore>(runtime.pool()));
    runtime.AddService(std::make_shared<ReferralServiceImpl>(
        runtime.calls(), *directory, std::move(settings)));
    return absl::OkStatus();
  };
  return service;
}

}  // namespace kosapo::referral
