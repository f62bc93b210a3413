// The screening service as the runtime sees it: name, ports, schema, peers,
// migrations, and the components it builds and registers.
#ifndef KOSAPO_SERVICES_SCREENING_SCREENING_SERVER_H_
#define KOSAPO_SERVICES_SCREENING_SCREENING_SERVER_H_

#include "common/server/runtime.h"

namespace kosapo::screening {

server::ServiceDefinition Definition();

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_SCREENING_SERVER_H_
