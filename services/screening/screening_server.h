// The screening service as the runtime sees it: name, ports, schema, peers,
// migrations, and the components it builds and registers.
#ifndef KOSAPO_SERVICES_SCREENING_SCREENING_SERVER_H_
#define KOSAPO_SERVICES_SCREENING_SCREENING_SERVER_H_

#include <memory>

#include "common/base/clock.h"
#include "common/server/runtime.h"

namespace kosapo::screening {

// `clock` is the service's "now": rounds open and close by it (tests pass a
// FakeClock).
server::ServiceDefinition Definition(
    std::shared_ptr<const Clock> clock = Clock::Real());

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_SCREENING_SERVER_H_
