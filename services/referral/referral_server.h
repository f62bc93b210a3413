// The referral service as the runtime sees it: name, ports, schema, peers,
// migrations, and the components it builds and registers.
#ifndef KOSAPO_SERVICES_REFERRAL_REFERRAL_SERVER_H_
#define KOSAPO_SERVICES_REFERRAL_REFERRAL_SERVER_H_

#include "common/server/runtime.h"

namespace kosapo::referral {

server::ServiceDefinition Definition();

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_REFERRAL_SERVER_H_
