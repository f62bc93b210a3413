// The referral service's definition: options, stores, handlers, worker.
#include "services/referral/referral_server.h"

#include <memory>

#include "common/base/status.h"
#include "common/types/api_types.h"
#include "services/referral/api/case_client.h"
#include "services/referral/api/enrollment_sync.h"
#include "services/referral/api/referral_service.h"
#include "services/referral/store/audit_store.h"
#include "services/referral/store/directory_store.h"
#include "services/referral/store/hub_store.h"
#include "services/referral/store/referral_store.h"

namespace kosapo::referral {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

server::ServiceDefinition Definition(std::shared_ptr<const Clock> clock) {
  server::ServiceDefinition service;
  service.descriptor.name = "referral";
  service.descriptor.grpc_service_name = "kosapo.referral.v1.ReferralService";
  service.descriptor.default_schema = "referral";
  service.descriptor.default_port = 50053;
  service.descriptor.default_metrics_port = 9453;
  service.descriptor.default_health_port = 8453;
  service.descriptor.peers = {{"case", "localhost:50052"}};
  service.descriptor.field_keys = true;
  service.descriptor.add_options = [](ConfigSpec& spec) {
    spec.AddString("time_zone", "KOSAPO_TIME_ZONE", "Asia/Tokyo",
                   "Time zone of business dates (\"not after today\") and of "
                   "opening hours.")
        .AddInt("answer_due_days", "KOSAPO_ANSWER_DUE_DAYS", 14, 1, 365,
                "Days after sending that a referral's answer is due, unless "
                "the sender names another day.")
        .AddDuration("enrollment_retry_interval",
                     "KOSAPO_ENROLLMENT_RETRY_INTERVAL", absl::Seconds(30),
                     absl::Milliseconds(100),
                     "How often hub enrollments the case service has not yet "
                     "recorded (it was unreachable) are sent again.");
  };
  service.migrations = {{"referral", EmbeddedMigrations()}};
  service.setup = [clock](server::ServiceRuntime& runtime) -> absl::Status {
    const Config& options = runtime.config().options;
    ReferralSettings settings;
    settings.clock = clock;
    settings.time_zone = options.GetString("time_zone");
    settings.answer_due_days =
        static_cast<int>(options.GetInt("answer_due_days"));
    KOSAPO_RETURN_IF_ERROR(DayIn(clock->Now(), settings.time_zone).status());
    auto* directory =
        runtime.Keep(std::make_shared<DirectoryStore>(runtime.pool()));
    const crypto::FieldCipher& cipher = *runtime.config().field_cipher;
    auto* referrals =
        runtime.Keep(std::make_shared<ReferralStore>(runtime.pool(), cipher));
    KOSAPO_ASSIGN_OR_RETURN(auto channel, runtime.peers().Channel("case"));
    auto* hubs =
        runtime.Keep(std::make_shared<HubStore>(runtime.pool(), cipher));
    auto* audit = runtime.Keep(std::make_shared<AuditStore>(runtime.pool()));
    auto* cases = runtime.Keep(std::make_shared<CaseClient>(
        channel, runtime.peers(), runtime.config().peer_timeout));
    auto* enrollment = runtime.Keep(std::make_shared<EnrollmentSync>(
        *hubs, *cases, options.GetDuration("enrollment_retry_interval")));
    runtime.AddService(std::make_shared<ReferralServiceImpl>(
        runtime.calls(), *directory, *referrals, *hubs, *audit, *cases,
        *enrollment, std::move(settings)));
    enrollment->Start();
    runtime.OnDrain([enrollment] { enrollment->Stop(); });
    return absl::OkStatus();
  };
  return service;
}

}  // namespace kosapo::referral
