// The referral service as the runtime sees it: name, ports, schema, its
// peer (the case service), migrations, its own options, and the components
// it builds and registers: the stores, the gRPC handlers and the worker
// that keeps the case service's hub enrollments in line with decisions.
#ifndef KOSAPO_SERVICES_REFERRAL_REFERRAL_SERVER_H_
#define KOSAPO_SERVICES_REFERRAL_REFERRAL_SERVER_H_

#include <memory>

#include "common/base/clock.h"
#include "common/server/runtime.h"

namespace kosapo::referral {

// `clock` is the service's "now" (tests pass a FakeClock).
server::ServiceDefinition Definition(
    std::shared_ptr<const Clock> clock = Clock::Real());

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_REFERRAL_SERVER_H_
