// kosapo-reporting: see services/reporting/reporting_server.h and README.md.
#include "services/reporting/reporting_server.h"

int main(int argc, char** argv) {
  return kosapo::server::ServiceMain(
      argc, argv, kosapo::reporting::Descriptor(),
      kosapo::reporting::Migrations(), kosapo::reporting::Setup);
}
