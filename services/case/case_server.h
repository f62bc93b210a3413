// The case service as the runtime sees it: name, ports, schema, peers,
// migrations, its own options, and the components it builds and registers:
// the stores, the gRPC handlers and the consumer of the screening feed that
// opens a case for every extracted pupil.
#ifndef KOSAPO_SERVICES_CASE_CASE_SERVER_H_
#define KOSAPO_SERVICES_CASE_CASE_SERVER_H_

#include <memory>

#include "common/base/clock.h"
#include "common/server/runtime.h"

namespace kosapo::cases {

// `clock` is the service's "now" (tests pass a FakeClock).
server::ServiceDefinition Definition(
    std::shared_ptr<const Clock> clock = Clock::Real());

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_CASE_SERVER_H_
