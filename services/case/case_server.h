// The case service as the runtime sees it: name, ports, schema, peers,
// migrations, and the components it builds and registers.
#ifndef KOSAPO_SERVICES_CASE_CASE_SERVER_H_
#define KOSAPO_SERVICES_CASE_CASE_SERVER_H_

#include "common/server/runtime.h"

namespace kosapo::cases {

server::ServiceDefinition Definition();

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_CASE_SERVER_H_
