#include "services/case/case_server.h"

namespace kosapo::cases {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

server::ServiceDefinition Definition() {
  server::ServiceDefinition service;
  service.descriptor.name = "case";
  service.descriptor.grpc_service_name = "kosapo.cases.v1.CaseService";
  service.descriptor.default_schema = "cases";
  service.descriptor.default_port = 50052;
  service.descriptor.default_metrics_port = 9452;
  service.descriptor.peers = {{"screening", "localhost:50051"}};
  service.migrations = {{"case", EmbeddedMigrations()}};
  // The domain handlers register here as the case capability is built.
  return service;
}

}  // namespace kosapo::cases
