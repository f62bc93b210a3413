#include "services/reporting/reporting_server.h"

namespace kosapo::reporting {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

server::ServiceDefinition Definition() {
  server::ServiceDefinition service;
  service.descriptor.name = "reporting";
  service.descriptor.grpc_service_name = "kosapo.reporting.v1.ReportingService";
  service.descriptor.default_schema = "reporting";
  service.descriptor.default_port = 50054;
  service.descriptor.default_metrics_port = 9454;
  service.descriptor.peers = {{"screening", "localhost:50051"},
                              {"case", "localhost:50052"},
                              {"referral", "localhost:50053"}};
  service.migrations = {{"reporting", EmbeddedMigrations()}};
  // The domain handlers register here as the reporting capability is built.
  return service;
}

}  // namespace kosapo::reporting
