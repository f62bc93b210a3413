#include "services/referral/referral_server.h"

#include "common/events/feed.h"
#include "common/events/outbox.h"

namespace kosapo::referral {

const std::vector<pg::Migration>& EmbeddedMigrations();  // generated

server::ServiceDescriptor Descriptor() {
  server::ServiceDescriptor descriptor;
  descriptor.name = "referral";
  descriptor.grpc_service_name = "kosapo.referral.v1.ReferralService";
  descriptor.default_schema = "referral";
  descriptor.default_port = 50053;
  descriptor.default_metrics_port = 9453;
  descriptor.peers = {{"case", "localhost:50052"}};
  return descriptor;
}

std::vector<pg::MigrationSet> Migrations() {
  return {events::PlatformMigrations(), {"referral", EmbeddedMigrations()}};
}

absl::Status Setup(server::ServiceRuntime& runtime) {
  events::ServeEventFeed(runtime);
  return absl::OkStatus();
}

}  // namespace kosapo::referral
