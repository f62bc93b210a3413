#include "common/service/service_main.h"

#include <utility>

#include "common/events/feed.h"
#include "common/events/outbox.h"

namespace kosapo {

server::ServiceDefinition WithPlatform(server::ServiceDefinition service) {
  service.migrations.insert(service.migrations.begin(),
                            events::PlatformMigrations());
  auto own_setup = std::move(service.setup);
  service.setup = [own_setup](server::ServiceRuntime& runtime) {
    events::ServeEventFeed(runtime);
    return own_setup ? own_setup(runtime) : absl::OkStatus();
  };
  return service;
}

int ServiceMain(int argc, char** argv, server::ServiceDefinition service) {
  return server::RunService(argc, argv, WithPlatform(std::move(service)));
}

}  // namespace kosapo
