// kosapo-reporting: see services/reporting/reporting_server.h and README.md.
#include "common/service/service_main.h"
#include "services/reporting/reporting_server.h"

int main(int argc, char** argv) {
  return kosapo::ServiceMain(argc, argv, kosapo::reporting::Definition());
}
