#include "services/screening/screening_server.h"

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
  // The domain handlers register here as the screening capability is built.
  return service;
}

}  // namespace kosapo::screening
