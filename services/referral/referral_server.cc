#include "services/referral/referral_server.h"

namespace kosapo::referral {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

server::ServiceDefinition Definition() {
  server::ServiceDefinition service;
  service.descriptor.name = "referral";
  service.descriptor.grpc_service_name = "kosapo.referral.v1.ReferralService";
  service.descriptor.default_schema = "referral";
  service.descriptor.default_port = 50053;
  service.descriptor.default_metrics_port = 9453;
  service.descriptor.peers = {{"case", "localhost:50052"}};
  service.migrations = {{"referral", EmbeddedMigrations()}};
  // The domain handlers register here as the referral capability is built.
  return service;
}

}  // namespace kosapo::referral
