#include "services/reporting/reporting_server.h"

#include "common/events/feed.h"
#include "common/events/outbox.h"

namespace kosapo::reporting {

const std::vector<pg::Migration>& EmbeddedMigrations();  // generated

server::ServiceDescriptor Descriptor() {
  server::ServiceDescriptor descriptor;
  descriptor.name = "reporting";
  descriptor.grpc_service_name = "kosapo.reporting.v1.ReportingService";
  descriptor.default_schema = "reporting";
  descriptor.default_port = 50054;
  descriptor.default_metrics_port = 9454;
  descriptor.peers = {{"screening", "localhost:50051"},
                      {"case", "localhost:50052"},
                      {"referral", "localhost:50053"}};
  return descriptor;
}

std::vector<pg::MigrationSet> Migrations() {
  return {events::PlatformMigrations(), {"reporting", EmbeddedMigrations()}};
}

absl::Status Setup(server::ServiceRuntime& runtime) {
  events::ServeEventFeed(runtime);
  return absl::OkStatus();
}

}  // namespace kosapo::reporting
