#include "services/screening/screening_server.h"

#include <memory>

#include "services/screening/api/screening_service.h"
#include "services/screening/store/registry_store.h"

namespace kosapo::screening {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

server::ServiceDefinition Definition() {
  server::ServiceDefinition service;
  service.descriptor.name = "screening";
  service.descriptor.grpc_service_name = "kosapo.screening.v1.ScreeningService";
  service.descriptor.default_schema = "screening";
  service.descriptor.default_port = 50051;
  service.descriptor.default_metrics_port = 9451;
  service.migrations = {{"screening", EmbeddedMigrations()}};
  service.setup = [](server::ServiceRuntime& runtime) {
    auto* registry =
        runtime.Keep(std::make_shared<RegistryStore>(runtime.pool()));
    runtime.AddService(
        std::make_shared<ScreeningServiceImpl>(runtime.calls(), *registry));
    return absl::OkStatus();
  };
  return service;
}

}  // namespace kosapo::screening
