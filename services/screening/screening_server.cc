#include "services/screening/screening_server.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/screening/api/screening_service.h"
#include "services/screening/domain/template.h"
#include "services/screening/store/audit_store.h"
#include "services/screening/store/meeting_store.h"
#include "services/screening/store/registry_store.h"
#include "services/screening/store/retention_store.h"
#include "services/screening/store/sheet_store.h"
#include "services/screening/store/template_store.h"

namespace kosapo::screening {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/
absl::string_view DefaultTemplateJson();  // data/default_template.json

server::ServiceDefinition Definition(std::shared_ptr<const Clock> clock) {
  server::ServiceDefinition service;
  service.descriptor.name = "screening";
  service.descriptor.grpc_service_name = "kosapo.screening.v1.ScreeningService";
  service.descriptor.default_schema = "screening";
  service.descriptor.default_port = 50051;
  service.descriptor.default_metrics_port = 9451;
  service.descriptor.default_health_port = 8451;
  // Sheet notes and decision reasons are free text about children.
  service.descriptor.field_keys = true;
  service.descriptor.add_options = [](ConfigSpec& spec) {
    spec.AddDuration("retention_period", "KOSAPO_RETENTION_PERIOD",
                     absl::Hours(24 * 1826), absl::ZeroDuration(),
                     "How long the pupils' personal data of a round is kept "
                     "after the round's fiscal year ended (31 March, in the "
                     "municipality's time zone) before it is erased; set it "
                     "to the city's records-retention rule (default 5 "
                     "years); 0 keeps it forever.")
        .AddDuration("retention_interval", "KOSAPO_RETENTION_INTERVAL",
                     absl::Hours(1), absl::Milliseconds(100),
                     "How often the retention sweep looks for rounds due.")
        .AddDuration("intake_idle_timeout", "KOSAPO_INTAKE_IDLE_TIMEOUT",
                     absl::Seconds(60), absl::Seconds(1),
                     "A sheet intake that sends nothing for this long is "
                     "ended and stores nothing (it holds the round's lock "
                     "and a database connection while it runs).");
  };
  service.migrations = {{"screening", EmbeddedMigrations()}};
  service.setup = [clock](server::ServiceRuntime& runtime) -> absl::Status {
    const Config& options = runtime.config().options;
    const crypto::FieldCipher& cipher = *runtime.config().field_cipher;
    auto* registry =
        runtime.Keep(std::make_shared<RegistryStore>(runtime.pool()));
    auto* templates =
        runtime.Keep(std::make_shared<TemplateStore>(runtime.pool()));
    auto* rounds = runtime.Keep(std::make_shared<RoundStore>(runtime.pool()));
    auto* sheets = runtime.Keep(std::make_shared<SheetStore>(
        runtime.pool(), cipher, options.GetDuration("intake_idle_timeout")));
    auto* meetings =
        runtime.Keep(std::make_shared<MeetingStore>(runtime.pool(), cipher));
    auto* audit = runtime.Keep(std::make_shared<AuditStore>(runtime.pool()));
    // The shipped sheet is data: parsed and stored (once) at every start.
    auto shipped = ParseTemplateJson(DefaultTemplateJson());
    if (!shipped.ok()) {
      return absl::InternalError(absl::StrCat(
          "shipped default template is invalid: ", shipped.status().message()));
    }
    KOSAPO_RETURN_IF_ERROR(templates->EnsureShipped(*shipped));
    runtime.AddService(std::make_shared<ScreeningServiceImpl>(
        runtime.calls(), *registry, *templates, *rounds, *sheets, *meetings,
        *audit, clock));

    RetentionSettings retention_settings;
    retention_settings.period = options.GetDuration("retention_period");
    retention_settings.interval = options.GetDuration("retention_interval");
    retention_settings.clock = clock;
    auto* retention =
        runtime.Keep(std::make_shared<RetentionStore>(runtime.pool()));
    auto* sweeper = runtime.Keep(std::make_shared<RetentionSweeper>(
        *retention, std::move(retention_settings)));
    sweeper->Start();
    runtime.OnDrain([sweeper] { sweeper->Stop(); });
    return absl::OkStatus();
  };
  return service;
}

}  // namespace kosapo::screening
