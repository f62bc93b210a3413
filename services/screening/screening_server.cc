#include "services/screening/screening_server.h"

#include "common/events/feed.h"
#include "common/events/outbox.h"

namespace kosapo::screening {

const std::vector<pg::Migration>& EmbeddedMigrations();  // generated

server::ServiceDescriptor Descriptor() {
  server::ServiceDescriptor descriptor;
  descriptor.name = "screening";
  descriptor.grpc_service_name = "kosapo.screening.v1.ScreeningService";
  descriptor.default_schema = "screening";
  descriptor.default_port = 50051;
  descriptor.default_metrics_port = 9451;
  return descriptor;
}

std::vector<pg::MigrationSet> Migrations() {
  return {events::PlatformMigrations(), {"screening", EmbeddedMigrations()}};
}

absl::Status Setup(server::ServiceRuntime& runtime) {
  events::ServeEventFeed(runtime);
  return absl::OkStatus();
}

}  // namespace kosapo::screening
