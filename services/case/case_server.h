// Wiring of the case service: its identity, its schema migrations and the
// handlers it registers with the shared runtime.
#ifndef KOSAPO_SERVICES_CASE_CASE_SERVER_H_
#define KOSAPO_SERVICES_CASE_CASE_SERVER_H_

#include <vector>

#include "absl/status/status.h"
#include "common/pg/migrations.h"
#include "common/server/runtime.h"
#include "common/server/service_config.h"

namespace kosapo::cases {

// Name, default ports and schema, and the services it calls.
server::ServiceDescriptor Descriptor();

// The platform tables, then the service's own migrations.
std::vector<pg::MigrationSet> Migrations();

// Builds the service's components on `runtime` and registers its handlers.
absl::Status Setup(server::ServiceRuntime& runtime);

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_CASE_SERVER_H_
