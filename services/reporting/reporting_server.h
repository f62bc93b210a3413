// The reporting service as the runtime sees it: name, ports, schema, peers,
// migrations, the consumers of the screening, case and referral feeds that
// keep its projections, and the report handlers.
#ifndef KOSAPO_SERVICES_REPORTING_REPORTING_SERVER_H_
#define KOSAPO_SERVICES_REPORTING_REPORTING_SERVER_H_

#include "common/server/runtime.h"

namespace kosapo::reporting {

server::ServiceDefinition Definition();

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_REPORTING_SERVER_H_
