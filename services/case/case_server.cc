#include "services/case/case_server.h"

#include "common/events/feed.h"
#include "common/events/outbox.h"

namespace kosapo::cases {

const std::vector<pg::Migration>& EmbeddedMigrations();  // generated

server::ServiceDescriptor Descriptor() {
  server::ServiceDescriptor descriptor;
  descriptor.name = "case";
  descriptor.grpc_service_name = "kosapo.cases.v1.CaseService";
  descriptor.default_schema = "cases";
  descriptor.default_port = 50052;
  descriptor.default_metrics_port = 9452;
  descriptor.peers = {{"screening", "localhost:50051"}};
  return descriptor;
}

std::vector<pg::MigrationSet> Migrations() {
  return {events::PlatformMigrations(), {"case", EmbeddedMigrations()}};
}

absl::Status Setup(server::ServiceRuntime& runtime) {
  events::ServeEventFeed(runtime);
  return absl::OkStatus();
}

}  // namespace kosapo::cases
