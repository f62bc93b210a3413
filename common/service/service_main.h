// The entry point of every kosapo service binary. Adds to a service's own
// definition what every service has: the platform tables (outbox, consumer
// checkpoints) migrated before its own, and its event feed served.
#ifndef KOSAPO_COMMON_SERVICE_SERVICE_MAIN_H_
#define KOSAPO_COMMON_SERVICE_SERVICE_MAIN_H_

#include "common/server/runtime.h"

namespace kosapo {

// `service` plus the platform migrations and the event feed.
server::ServiceDefinition WithPlatform(server::ServiceDefinition service);

// Runs WithPlatform(service) as a process; see server::RunService for its
// life and exit codes.
int ServiceMain(int argc, char** argv, server::ServiceDefinition service);

}  // namespace kosapo

#endif  // KOSAPO_COMMON_SERVICE_SERVICE_MAIN_H_
