#include "services/screening/screening_server.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/screening/api/screening_service.h"
#include "services/screening/domain/template.h"
#include "services/screening/store/audit_store.h"
#include "services/screening/store/meeting_store.h"
#include "services/screening/store/registry_store.h"
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
  service.migrations = {{"screening", EmbeddedMigrations()}};
  service.setup = [clock](server::ServiceRuntime& runtime) {
    auto* registry =
        runtime.Keep(std::make_shared<RegistryStore>(runtime.pool()));
    auto* templates =
        runtime.Keep(std::make_shared<TemplateStore>(runtime.pool()));
    auto* rounds = runtime.Keep(std::make_shared<RoundStore>(runtime.pool()));
    auto* sheets = runtime.Keep(std::make_shared<SheetStore>(runtime.pool()));
    auto* meetings =
        runtime.Keep(std::make_shared<MeetingStore>(runtime.pool()));
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
    return absl::OkStatus();
  };
  return service;
}

}  // namespace kosapo::screening
