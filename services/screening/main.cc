// kosapo-screening: see services/screening/screening_server.h and README.md.
#include "common/service/service_main.h"
#include "services/screening/screening_server.h"

int main(int argc, char** argv) {
  return kosapo::ServiceMain(argc, argv, kosapo::screening::Definition());
}
